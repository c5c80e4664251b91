#!/usr/bin/env python3
"""Calibrates the cost model behind `--solver auto` (host/lasso/path.cpp, gram_is_cheaper) on the
dense problems of the Lasso suite (scripts/make_lasso_problems.py).

It times `cd` and `gram` on every dense problem, then searches the model's constants (epochs per
lambda E, full passes per lambda F, the cost of a sparse entry S against a dense one for an X that cd
runs on its sparse copy; the support fraction stays 1/4) for the ones whose choices lose least
against the faster solver: the worst ratio (chosen / fastest) first, then the mean. It prints
the measured table, the constants, and each problem's choice under them. Ties go to the constants whose choices hold
with the widest margin. Copy the constants into
path.cpp when they change.

Usage: python3 scripts/calibrate_lasso_auto.py DATA_DIR [--threads 2] [--shrink PATH] [--repeat 3]
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


def column_entries(entry, sparse_cost):
    """What a cd update reads of its column: n, or sparse_cost times the non-zeros per column."""
    n, p, nnz = entry["n"], entry["p"], entry["nnz"]
    return sparse_cost * nnz / p if nnz <= SPARSE_DENSITY * n * p else n


def costs(entry, lambdas, epochs, passes, sparse_cost):
    n, p = entry["n"], entry["p"]
    e = column_entries(entry, sparse_cost)
    updates = lambdas * epochs * SUPPORT_FRACTION * min(n, p)
    return n * p * p / 2 + updates * p, lambdas * passes * e * p + updates * e


def gram_is_cheaper(entry, lambdas, epochs, passes, sparse_cost):
    gram, cd = costs(entry, lambdas, epochs, passes, sparse_cost)
    return gram < cd


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
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--shrink", default="build/default/tools/shrink")
    args = ap.parse_args()
    suite = [(args.data, e) for e in json.load(open(os.path.join(args.data, "suite.json")))["problems"]
             if not e["sparse"]]
    suite += thinned_copies(args.data, suite)
    rows = []
    for data, e in suite:
        cd, gram = time_solver(args, data, e, "cd"), time_solver(args, data, e, "gram")
        rows.append((e, cd, gram))
        print(f"{e['name']}: {e['n']} x {e['p']}: cd {cd:.3f} s, gram {gram:.3f} s", file=sys.stderr)

    def score(epochs, passes, sparse_cost):
        losses = []
        for e, cd, gram in rows:
            pick = gram if gram_is_cheaper(e, 100, epochs, passes, sparse_cost) else cd
            losses.append(pick / min(cd, gram))
        # Among constants that lose equally, the ones whose choices hold with the widest margin
        # (the smallest |log(model gram / model cd)| over the problems where the solvers differ by 10%+).
        margins = [abs(np.log(np.divide(*costs(e, 100, epochs, passes, sparse_cost))))
                   for e, cd, gram in rows if max(cd, gram) > 1.1 * min(cd, gram)]
        return max(losses), float(np.mean(losses)), -min(margins, default=0.0)

    grid = itertools.product([5, 10, 20, 30, 50, 100, 200], [0.5, 1, 2, 3, 5, 10], [1, 2, 3, 4, 6, 8])
    epochs, passes, sparse_cost = min(grid, key=lambda c: score(*c))
    worst, mean, _ = score(epochs, passes, sparse_cost)
    print(f"constants: kEpochsPerLambda = {epochs}, kFullPassesPerLambda = {passes}, "
          f"kSparseEntryCost = {sparse_cost} (worst loss {worst:.2f}x, mean {mean:.3f}x)")
    print("| problem | n x p | non-zeros | cd (s) | gram (s) | auto picks | auto / fastest |")
    print("|---|---|---|---|---|---|---|")
    for e, cd, gram in rows:
        g = gram_is_cheaper(e, 100, epochs, passes, sparse_cost)
        pick = gram if g else cd
        print(f"| {e['name']} | {e['n']} x {e['p']} | {e['nnz'] / (e['n'] * e['p']):.0%} | {cd:.3f} | {gram:.3f} | "
              f"{'gram' if g else 'cd'} | {pick / min(cd, gram):.2f}x |")


if __name__ == "__main__":
    main()
