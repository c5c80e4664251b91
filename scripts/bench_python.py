#!/usr/bin/env python3
"""shrink's Python face on the Lasso benchmark problems (scripts/make_lasso_problems.py), in one run:

  engine     the library's own time for the path (LassoPath::seconds, measured inside the C++ call)
  python     the estimators' path call into shrink._core, wall time from Python (input checks, the
             call, the arrays back): its overhead over `engine` is the figure (target <= 5%)
  peers      scikit-learn, celer and skglm over the same grid with warm starts, each at the loosest
             tol of its ladder whose suboptimality against our certified dual bound is <= 1e-6
             (bench_lasso_peers.py's protocol, one thread each; target: shrink >= 20x scikit-learn)
  batch      a 2-D Y (k responses) at one alpha: shrink.Lasso.fit(X, Y) (the batched solver) against
             scikit-learn's Lasso.fit(X, Y) (one coordinate descent per column), matched the same way
             per column against our certificates

Medians of --repeat runs. usage: scripts/bench_python.py DATA_DIR [--problems a,b] [--repeat 3]
                 [--threads 0] [--peers sklearn,celer,skglm] [--batch 64] [--batch-problem a]
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
import json

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_lasso_peers as peers  # noqa: E402

import shrink  # noqa: E402
from shrink._linear import _as_engine_input, _fit_path  # noqa: E402


def path_table(a, entries):
    names = a.peers.split(",") if a.peers else []
    print("| problem | engine (s) | Python call (s) | overhead | " + " | ".join(f"{p} (s, tol, subopt)" for p in names) +
          " | speed-up |")
    print("|---|---|---|---|" + "---|" * len(names) + "---|")
    for problem in a.problems.split(","):
        entry = entries[problem]
        X, y = peers.load(a.data, entry)
        X = _as_engine_input(X)
        base = {"threads": a.threads, "backend": "cpu", "l1_ratio": entry["l1_ratio"],
                "standardize": entry["standardize"]}
        ref = _fit_path(X, y, dict(base, tol=a.ref_tol))
        lambdas, dual = np.asarray(ref["lambdas"]), np.asarray(ref["objective"]) - np.asarray(ref["duality_gap"])
        engine, wall = [], []
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            result = _fit_path(X, y, dict(base, tol=a.tol, lambdas=list(lambdas)))
            wall.append(time.perf_counter() - t0)
            engine.append(result["seconds"])
        e, w = statistics.median(engine), statistics.median(wall)
        cells, ratios = [], []
        s = peers.column_scale(X, entry["standardize"])
        Xs = peers.scaled(X, s)
        with tempfile.TemporaryDirectory() as tmp:
            lambdas_file = os.path.join(tmp, "lambdas")
            np.savetxt(lambdas_file, lambdas, fmt="%.17g")
            for peer in names:
                best = peers.peer_at_matched_accuracy(a, entry, peer, lambdas_file, lambdas, dual, s, Xs, y, tmp)
                if best is None:
                    cells.append("did not finish")
                    continue
                mark = "" if best["matched"] else " (not matched)"
                cells.append(f"{best['seconds']:.3f}, {best['tol']:g}, {best['suboptimality']:.1e}{mark}")
                ratios.append(f"{best['seconds'] / w:.1f}x {peer}")
        print(f"| {problem} ({X.shape[0]} x {X.shape[1]}, {result['solver']}) | {e:.3f} | {w:.3f} | "
              f"{100 * (w - e) / e:+.1f}% | " + " | ".join(cells) + " | " + ", ".join(ratios) + " |", flush=True)


def batch_table(a, entries):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import Lasso as SkLasso
    import warnings
    entry = entries[a.batch_problem]
    X, y = peers.load(a.data, entry)
    X = _as_engine_input(X)
    rng = np.random.default_rng(0)
    Y = np.column_stack([y] + [y + rng.standard_normal(len(y)) * np.std(y) * (0.1 + 0.9 * k / a.batch)
                               for k in range(1, a.batch)])
    lam_max = float(np.max(np.abs(X.T @ (y - y.mean())))) / len(y)
    alpha = lam_max * a.batch_ratio
    times, model = [], None
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        model = shrink.Lasso(alpha=alpha, tol=a.tol, threads=a.threads).fit(X, Y)
        times.append(time.perf_counter() - t0)
    ours = statistics.median(times)
    dual = np.asarray(model.objective_) - np.asarray(model.dual_gap_)
    n = X.shape[0]

    def sk_objectives(coef, intercept):
        R = Y - X @ coef.T - intercept
        return 0.5 * np.sum(R * R, axis=0) / n + alpha * np.abs(coef).sum(axis=1)

    best = None
    for tol in peers.TOL_LADDER:
        sk = SkLasso(alpha=alpha, tol=tol, max_iter=10**6)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            t0 = time.perf_counter()
            sk.fit(X, Y)
            seconds = time.perf_counter() - t0
        obj = sk_objectives(np.asarray(sk.coef_), np.asarray(sk.intercept_))
        sub = float(np.max((obj - dual) / obj))
        print(f"  scikit-learn batch tol {tol:g}: {seconds:.3f} s, suboptimality {sub:.1e}", file=sys.stderr)
        best = {"tol": tol, "seconds": seconds, "sub": sub}
        if sub <= a.target:
            break
    mark = "" if best["sub"] <= a.target else " (not matched)"
    print()
    print("| batch | shrink Lasso.fit(X, Y) (s) | scikit-learn Lasso.fit(X, Y) (s, tol, subopt) | speed-up |")
    print("|---|---|---|---|")
    print(f"| {a.batch_problem} ({X.shape[0]} x {X.shape[1]}), k = {a.batch}, alpha = {a.batch_ratio} alpha_max | "
          f"{ours:.3f} | {best['seconds']:.3f}, {best['tol']:g}, {best['sub']:.1e}{mark} | "
          f"{best['seconds'] / ours:.1f}x |", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--problems", default="a,b")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--tol", type=float, default=1e-6)
    ap.add_argument("--ref-tol", type=float, default=1e-9)
    ap.add_argument("--target", type=float, default=1e-6)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--peers", default="sklearn,celer,skglm")
    ap.add_argument("--batch", type=int, default=64, help="responses in the batch table (0: no batch table)")
    ap.add_argument("--batch-problem", default="a")
    ap.add_argument("--batch-ratio", type=float, default=0.05)
    a = ap.parse_args()
    entries = {e["name"]: e for e in json.load(open(os.path.join(a.data, "suite.json")))["problems"]}
    if a.problems:
        path_table(a, entries)
    if a.batch > 0:
        batch_table(a, entries)
    print(f"(shrink {shrink.version()}, threads {a.threads or 'default'}, tol {a.tol})", file=sys.stderr)


if __name__ == "__main__":
    main()
