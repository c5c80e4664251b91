#!/usr/bin/env python3
"""Batched Lasso against scikit-learn, side by side in one run (issue: batched Lasso, CPU target).

Problem: X n x p Gaussian (seeded), Y = X B + noise with k columns, B with a few non-zeros per column.
Two comparisons, both timed in this run:
  1. per-problem lambda_b = ratio * lambda_max_b (the target case): shrink `lasso X Y --lambda-ratio`
     against scikit-learn's Lasso fitted column by column on centered data with the Gram matrix
     computed once and passed in (precompute=G, check_input=False): what Lasso(precompute=True).fit(X, Y)
     does inside, but with each column's own alpha, which fit(X, Y) cannot take.
  2. one lambda for all (ratio * the median lambda_max): shrink `--lambda` against the literal
     Lasso(precompute=True).fit(X, Y).
Accuracy is measured, not assumed: each scikit-learn objective P is compared with shrink's certified
dual bound D = objective - gap (P* >= D): (P - D) / P bounds its relative suboptimality; the worst
over all problems is reported next to shrink's own certified worst gap / objective.

Usage: python3 scripts/bench_batch_peers.py [--n 500 --p 200 --k 20000 --ratio 0.1] [--shrink PATH]
         [--threads N] [--sklearn-tol 1e-7] [--repeat 1]
Run with a Python that has scikit-learn (Debian's python3-sklearn, or /opt/lassopeers/bin/python).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np


def make_problem(n, p, k, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    B = np.zeros((p, k))
    for b in range(k):
        idx = rng.choice(p, size=8, replace=False)
        B[idx, b] = rng.standard_normal(8) * 2
    Y = X @ B + 0.5 * rng.standard_normal((n, k)) + rng.standard_normal(k)
    return X, Y


def run_shrink(binary, x_path, y_path, threads, tol, lam_args):
    cmd = [binary, "lasso", x_path, y_path, "--json", "--threads", str(threads), "--tol", str(tol),
           "--backend", "cpu"] + lam_args
    res = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if res.returncode not in (0, 4):
        sys.exit(f"shrink failed ({res.returncode}): {res.stderr}")
    return json.loads(res.stdout)


def objectives(Xc, Yc, W, lambdas):
    R = Yc - Xc @ W
    n = Xc.shape[0]
    return 0.5 * np.einsum("ij,ij->j", R, R) / n + lambdas * np.abs(W).sum(axis=0)


def sklearn_per_problem(Xc, Yc, lambdas, tol):
    from sklearn.linear_model import Lasso
    start = time.perf_counter()
    G = Xc.T @ Xc
    W = np.empty((Xc.shape[1], Yc.shape[1]))
    Xf = np.asfortranarray(Xc)
    for b in range(Yc.shape[1]):
        m = Lasso(alpha=lambdas[b], precompute=G, fit_intercept=False, tol=tol, max_iter=100000)
        m.fit(Xf, np.ascontiguousarray(Yc[:, b]), check_input=False)
        W[:, b] = m.coef_
    return time.perf_counter() - start, W


def sklearn_literal(X, Y, lam, tol):
    from sklearn.linear_model import Lasso
    start = time.perf_counter()
    m = Lasso(alpha=lam, precompute=True, tol=tol, max_iter=100000).fit(X, Y)
    return time.perf_counter() - start, m.coef_.T


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--p", type=int, default=200)
    ap.add_argument("--k", type=int, default=20000)
    ap.add_argument("--ratio", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--shrink", default="build/default/tools/shrink")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--tol", type=float, default=1e-6, help="shrink's relative gap")
    ap.add_argument("--sklearn-tol", type=float, default=1e-7)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each; medians are compared")
    ap.add_argument("--skip-literal", action="store_true")
    a = ap.parse_args()
    import sklearn

    X, Y = make_problem(a.n, a.p, a.k, a.seed)
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    with tempfile.TemporaryDirectory() as tmp:
        x_path, y_path = os.path.join(tmp, "X.npy"), os.path.join(tmp, "Y.npy")
        np.save(x_path, X)
        np.save(y_path, Y)

        def compare(label, lam_args, peer):
            runs = [run_shrink(a.shrink, x_path, y_path, a.threads, a.tol, lam_args) for _ in range(a.repeat)]
            t_shrink = float(np.median([r["time_s"] for r in runs]))
            j = runs[0]
            lambdas = np.array(j["lambdas"])
            obj, gap = np.array(j["objective"]), np.array(j["duality_gap"])
            lower = obj - gap
            peer_runs = [peer(lambdas) for _ in range(a.repeat)]
            t_peer = float(np.median([t for t, _ in peer_runs]))
            W = peer_runs[0][1]
            p_obj = objectives(Xc, Yc, W, lambdas)
            sub = float(np.max((p_obj - lower) / p_obj))
            own = float(np.max(gap / obj))
            # Sharper: how far above shrink's own objective the peer stops (negative: below it).
            vs = float(np.max((p_obj - obj) / p_obj))
            print(f"{label}: n={a.n} p={a.p} k={a.k} threads={a.threads}")
            print(f"  shrink       {t_shrink:8.3f} s  ({a.k / t_shrink:,.0f} problems/s; worst certified gap/objective "
                  f"{own:.2e}; not converged {j['n_not_converged']})")
            print(f"  scikit-learn {t_peer:8.3f} s  (sklearn {sklearn.__version__}, tol {a.sklearn_tol}; worst "
                  f"suboptimality bound {sub:.2e}; worst (P - P_shrink) / P {vs:.2e})")
            print(f"  speed-up     {t_peer / t_shrink:8.1f}x")
            return {"label": label, "shrink_s": t_shrink, "sklearn_s": t_peer, "speedup": t_peer / t_shrink,
                    "shrink_worst_gap": own, "sklearn_worst_suboptimality": sub, "sklearn_vs_shrink": vs,
                    "not_converged": j["n_not_converged"]}

        out = [compare(f"per-problem lambda = {a.ratio} * lambda_max_b", ["--lambda-ratio", str(a.ratio)],
                       lambda lam: sklearn_per_problem(Xc, Yc, lam, a.sklearn_tol))]
        if not a.skip_literal:
            lmax = np.abs(Xc.T @ Yc).max(axis=0) / a.n
            lam = float(a.ratio * np.median(lmax))
            out.append(compare(f"one lambda = {lam:.6g}, Lasso(precompute=True).fit(X, Y)", ["--lambda", repr(lam)],
                               lambda _: sklearn_literal(X, Y, lam, a.sklearn_tol)))
        print(json.dumps(out))


if __name__ == "__main__":
    main()
