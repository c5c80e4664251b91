#!/usr/bin/env python3
"""shrink's Python face on the Lasso benchmark problems (scripts/make_lasso_problems.py), in one run:

  engine     the library's own time for the path (LassoPath::seconds, measured inside the C++ call)
  python     the estimators' path call into shrink._core, wall time from Python (input checks, the
             call, the arrays back): its overhead over `engine` is the figure (target <= 5%)
  sklearn    scikit-learn's Lasso over the same grid with warm starts (its lasso_path fits no
             intercept), at the tol that gives gap <= 1e-6 x objective in our scaling, with its
             suboptimality measured against our certified dual bound (target: shrink >= 20x faster)

Medians of --repeat runs. usage: scripts/bench_python.py DATA_DIR [--problems a,b] [--repeat 3]
                                                          [--threads 0] [--skip-sklearn]
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_lasso_peers as peers  # noqa: E402

import shrink  # noqa: E402
from shrink._linear import _as_engine_input, _fit_path  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--problems", default="a,b")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--tol", type=float, default=1e-6)
    ap.add_argument("--skip-sklearn", action="store_true")
    a = ap.parse_args()
    print("| problem | engine (s) | Python call (s) | overhead | scikit-learn (s) | its worst suboptimality"
          " | shrink speed-up |")
    print("|---|---|---|---|---|---|---|")
    for problem in a.problems.split(","):
        _, _, X, y = peers.load(a.data, problem)
        X = _as_engine_input(X)
        options = {"tol": a.tol, "threads": a.threads, "backend": "cpu"}
        engine, wall, result = [], [], None
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            result = _fit_path(X, y, options)
            wall.append(time.perf_counter() - t0)
            engine.append(result["seconds"])
        e, w = statistics.median(engine), statistics.median(wall)
        sk_cell, sub_cell, ratio_cell = "skipped", "", ""
        if not a.skip_sklearn:
            lambdas = list(result["lambdas"])
            n = X.shape[0]
            yc = y - y.mean()
            sk_tol = a.tol * float(np.min(result["objective"])) / (float(yc @ yc) / n)
            seconds, coefs, intercepts, _ = peers.run_sklearn(X, y, lambdas, sk_tol)
            obj = peers.objectives(X, y, coefs, intercepts, lambdas)
            dual = result["objective"] - result["duality_gap"]
            sub = float(np.max((obj - dual) / obj))
            sk_cell, sub_cell, ratio_cell = f"{seconds:.3f}", f"{sub:.1e}", f"{seconds / w:.1f}x"
        print(f"| {problem} ({X.shape[0]} x {X.shape[1]}, {result['solver']}) | {e:.3f} | {w:.3f} | "
              f"{100 * (w - e) / e:+.1f}% | {sk_cell} | {sub_cell} | {ratio_cell} |", flush=True)
    print(f"(shrink {shrink.version()}, threads {a.threads or 'default'}, tol {a.tol})", file=sys.stderr)


if __name__ == "__main__":
    main()
