#!/usr/bin/env python3
"""Calibrates the cost model behind `--solver auto` (host/lasso/path.cpp, gram_is_cheaper) on the
problems of the Lasso suite (scripts/make_lasso_problems.py) whose G fits (p <= 8192), dense and
sparse, and on those of any further suite directories given.

It times `cd` and `gram` on every such problem, then searches the model's constants (epochs per
lambda E, full passes per lambda F, what a cd update costs per entry of its column, D on a dense
one, S on a sparse one and SG on a sparse column of few values (ColumnGroups), against 1 per
gradient entry a Gram update moves; the support fraction stays 1/4) for the ones whose choices
lose least against the faster solver: the worst ratio (chosen / fastest) first, then the mean.
Ties go to the constants whose choices hold with the widest margin. It prints the measured table,
the constants, and each problem's choice under them. Copy the constants into path.cpp when they
change.

The sparse Gram build's costs per entry and per pair of entries in a row (kSparseRowCost and
kSparsePairCost, design.hpp) are not searched: the timed gram runs already build by pairs or by
dense blocks of rows as those constants decide, so they are measured on their own (docs/PERF.md:
the build alone, both ways, 20 to 95 dense multiply-adds a pair) and held here.

Usage: python3 scripts/calibrate_lasso_auto.py DATA_DIR [MORE_DIRS...] [--threads 2] [--shrink PATH]
       [--repeat 3]
"""
import argparse
import itertools
import json
import os
import subprocess
import sys

import numpy as np

from bench_lasso_peers import shrink_command  # scripts/ is on the path when this script runs

SUPPORT_FRACTION = 0.25
SPARSE_DENSITY = 0.4  # kSparseDensity (host/lasso/design.hpp): cd runs such an X on a sparse copy
GRAM_MAX_FEATURES = 8192  # kGramMaxFeatures (path.cpp)
ROW_COST = 300  # kSparseRowCost (design.hpp)
PAIR_COST = 40  # kSparsePairCost (design.hpp)
GROUP_VALUES = 4  # ColumnGroups::kMaxValues (design.hpp)


def weighed_sparse(entry):
    """Whether auto weighs X as sparse: given sparse, or dense and mostly zeros (its sparse copy)."""
    return entry["sparse"] or entry["nnz"] <= SPARSE_DENSITY * entry["n"] * entry["p"]


def column_entries(entry, dense_cost, sparse_cost, grouped_cost):
    """What a cd update costs: dense_cost times n, or per non-zero of a column sparse_cost (grouped_cost
    for the columns in ColumnGroups)."""
    n, p, nnz, grouped = entry["n"], entry["p"], entry["nnz"], entry.get("grouped", 0)
    return (sparse_cost * (nnz - grouped) + grouped_cost * grouped) / p if weighed_sparse(entry) else dense_cost * n


def costs(entry, lambdas, c):
    """The model's (gram, cd) for constants c = (E, F, D, S, SG)."""
    epochs, passes, dense_cost, sparse_cost, grouped_cost = c
    n, p = entry["n"], entry["p"]
    e = column_entries(entry, dense_cost, sparse_cost, grouped_cost)
    updates = lambdas * epochs * SUPPORT_FRACTION * min(n, p)
    build = n * p * p / 2
    if weighed_sparse(entry):
        build = min(build, ROW_COST * entry["nnz"] + PAIR_COST * entry["pairs"])
    return build + updates * p, lambdas * passes * e * p + updates * e


def gram_is_cheaper(entry, lambdas, c):
    gram, cd = costs(entry, lambdas, c)
    return gram < cd


def sparse_counts(path):
    """(pairs, grouped) of X (Matrix Market, or a dense .npy as its sparse copy): sum_i nnz_i^2 / 2 over
    its rows, the pairs the sparse Gram build multiplies; and the entries of its columns of at most
    GROUP_VALUES distinct values, or 0 where they are under half the entries (group_columns)."""
    import scipy.io
    import scipy.sparse
    X = np.load(path) if path.endswith(".npy") else scipy.io.mmread(path)
    X = scipy.sparse.csc_matrix(X)
    X.eliminate_zeros()
    rows = np.bincount(X.indices, minlength=X.shape[0]).astype(float)
    grouped = sum(int(X.indptr[j + 1] - X.indptr[j]) for j in range(X.shape[1])
                  if len(np.unique(X.data[X.indptr[j]:X.indptr[j + 1]])) <= GROUP_VALUES)
    return float(np.sum(rows * rows) / 2), (grouped if 2 * grouped >= X.nnz else 0)


def thinned_copies(data, suite, names=("a", "tall_ar09_std"), densities=(0.1, 0.4)):
    """Tall dense problems with most entries zeroed (seeded), written beside the suite (thin_*): where
    gram and cd on the sparse copy are close, they pin the sparse-entry cost from below."""
    out = []
    for _, e in suite:
        if e["name"] not in names:
            continue
        X = np.load(os.path.join(data, e["x"]))
        for density in densities:
            name = f"thin{int(density * 100)}_{e['name']}"
            thin = X * (np.random.default_rng(7).random(X.shape) < density)
            entry = dict(e, name=name, x=f"{name}_X.npy", nnz=int(np.count_nonzero(thin)))
            path = os.path.join(data, entry["x"])
            if not os.path.exists(path):
                np.save(path, thin)
            out.append((data, entry))
    return out


def time_solver(args, data, entry, solver):
    cmd = shrink_command(args.shrink, data, entry, args.threads, "--solver", solver)
    times = []
    for _ in range(args.repeat):
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, check=False)
        except subprocess.TimeoutExpired:
            return float("inf")
        times.append(json.loads(res.stdout)["time_s"])
    return float(np.median(times))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data")
    ap.add_argument("more", nargs="*", help="further suite directories (each with its suite.json)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--shrink", default="build/default/tools/shrink")
    args = ap.parse_args()
    suite = []
    for data in [args.data, *args.more]:
        for e in json.load(open(os.path.join(data, "suite.json")))["problems"]:
            if e["p"] > GRAM_MAX_FEATURES:
                continue
            suite.append((data, e))
    suite += thinned_copies(args.data, [(d, e) for d, e in suite if d == args.data and not e["sparse"]])
    for k, (data, e) in enumerate(suite):
        if weighed_sparse(e):
            pairs, grouped = sparse_counts(os.path.join(data, e["x"]))
            suite[k] = (data, dict(e, pairs=pairs, grouped=grouped))
    rows = []
    for data, e in suite:
        cd, gram = time_solver(args, data, e, "cd"), time_solver(args, data, e, "gram")
        rows.append((e, cd, gram))
        print(f"{e['name']}: {e['n']} x {e['p']}: cd {cd:.3f} s, gram {gram:.3f} s", file=sys.stderr)

    def score(c):
        losses = []
        for e, cd, gram in rows:
            pick = gram if gram_is_cheaper(e, 100, c) else cd
            losses.append(pick / min(cd, gram))
        # Among constants that lose equally, the ones whose choices hold with the widest margin
        # (the smallest |log(model gram / model cd)| over the problems where the solvers differ by 10%+).
        margins = [abs(np.log(np.divide(*costs(e, 100, c))))
                   for e, cd, gram in rows if max(cd, gram) > 1.1 * min(cd, gram)]
        return max(losses), float(np.mean(losses)), -min(margins, default=0.0)

    grid = itertools.product([5, 10, 20, 30, 50, 100, 200], [0.5, 1, 2, 3, 5, 10], [1, 1.5, 2, 3],
                             [1, 2, 3, 4, 6, 8], [1, 1.5, 2, 3, 4])
    c = min(grid, key=score)
    worst, mean, _ = score(c)
    print(f"constants: kEpochsPerLambda = {c[0]}, kFullPassesPerLambda = {c[1]}, kDenseEntryCost = {c[2]}, "
          f"kSparseEntryCost = {c[3]}, kGroupedEntryCost = {c[4]} (held: kSparseRowCost = {ROW_COST}, "
          f"kSparsePairCost = {PAIR_COST}; worst loss {worst:.2f}x, mean {mean:.3f}x)")
    print("| problem | n x p | non-zeros | cd (s) | gram (s) | auto picks | auto / fastest |")
    print("|---|---|---|---|---|---|---|")
    for e, cd, gram in rows:
        g = gram_is_cheaper(e, 100, c)
        pick = gram if g else cd
        print(f"| {e['name']} | {e['n']} x {e['p']} | {e['nnz'] / (e['n'] * e['p']):.0%} | {cd:.3f} | {gram:.3f} | "
              f"{'gram' if g else 'cd'} | {pick / min(cd, gram):.2f}x |")


if __name__ == "__main__":
    main()
