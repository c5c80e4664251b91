#!/usr/bin/env python3
"""Times a full Lasso path on the problems of scripts/make_lasso_problems.py, side by side in one run:
shrink (`shrink lasso --json`), glmnet (R), scikit-learn, and celer / skglm when they import.

Every peer gets the same 100-lambda grid (shrink's, from its lambda_max) and the same problem
(intercept, no standardization). Each peer's accuracy is measured, not assumed: its objective at every
lambda is compared with shrink's certified dual bound D (P* >= D), giving an upper bound on its
relative suboptimality (P_peer - D) / P_peer, reported as the worst over the path.

Usage: python3 scripts/bench_lasso_peers.py DATA_DIR PROBLEM [--shrink PATH] [--threads N]
         [--glmnet-thresh 1e-9] [--skip sklearn,celer,...]
Run with a Python that has scikit-learn (Debian's /usr/bin/python3, or a venv with
--system-site-packages where celer/skglm were pip-installed).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy.io
import scipy.sparse as sp


def load(data, problem):
    if os.path.exists(os.path.join(data, f"{problem}_X.npy")):
        x_path = os.path.join(data, f"{problem}_X.npy")
        X = np.load(x_path)
    else:
        x_path = os.path.join(data, f"{problem}_X.mtx")
        X = scipy.io.mmread(x_path).tocsc()
    y_path = os.path.join(data, f"{problem}_y.txt")
    return x_path, y_path, X, np.loadtxt(y_path)


def objectives(X, y, coefs, intercepts, lambdas):
    n = X.shape[0]
    out = []
    for b, b0, lam in zip(coefs, intercepts, lambdas):
        r = y - X @ b - b0
        out.append(0.5 * float(r @ r) / n + lam * float(np.abs(b).sum()))
    return np.array(out)


def run_shrink(binary, x_path, y_path, threads, tol):
    cmd = [binary, "lasso", x_path, y_path, "--json", "--threads", str(threads), "--tol", str(tol),
           "--backend", "cpu"]
    start = time.perf_counter()
    res = subprocess.run(cmd, check=False, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if res.returncode not in (0, 4):
        sys.exit(f"shrink failed ({res.returncode}): {res.stderr}")
    j = json.loads(res.stdout)
    j["wall_s"] = wall
    return j


def run_glmnet(x_path, y_path, lambdas, thresh, threads):
    script = r"""
suppressMessages({library(glmnet); library(Matrix)})
a <- commandArgs(trailingOnly = TRUE)
if (grepl("\\.npy$", a[1])) {
  con <- file(a[1], "rb"); magic <- readBin(con, "raw", 6); ver <- readBin(con, "raw", 2)
  hlen <- readBin(con, "integer", size = 2, signed = FALSE, endian = "little")
  header <- rawToChar(readBin(con, "raw", hlen))
  shape <- as.integer(strsplit(sub(".*\\((\\d+), (\\d+)\\).*", "\\1 \\2", header), " ")[[1]])
  v <- readBin(con, "double", n = prod(shape), size = 8, endian = "little"); close(con)
  X <- if (grepl("'fortran_order': True", header)) matrix(v, shape[1], shape[2])
       else matrix(v, shape[1], shape[2], byrow = TRUE)
} else {
  X <- as(readMM(a[1]), "CsparseMatrix")
}
y <- scan(a[2], quiet = TRUE)
lam <- scan(a[3], quiet = TRUE)
t <- system.time(fit <- glmnet(X, y, lambda = lam, standardize = FALSE, thresh = as.numeric(a[4]),
                               maxit = 1e8))[["elapsed"]]
co <- as.matrix(coef(fit))
write.table(t(co), a[5], row.names = FALSE, col.names = FALSE)
cat(t, "\n", file = a[6])
cat(as.character(packageVersion("glmnet")), "\n", file = a[6], append = TRUE)
"""
    with tempfile.TemporaryDirectory() as d:
        lam = os.path.join(d, "lam")
        np.savetxt(lam, lambdas, fmt="%.17g")
        rs, co, tm = os.path.join(d, "s.R"), os.path.join(d, "coef"), os.path.join(d, "time")
        open(rs, "w").write(script)
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
        subprocess.run(["Rscript", rs, x_path, y_path, lam, str(thresh), co, tm], check=True, env=env)
        coef = np.loadtxt(co, ndmin=2)
        lines = open(tm).read().split()
    return float(lines[0]), coef[:, 1:], coef[:, 0], "glmnet " + lines[1]


def run_warm_path(estimator, X, y, lambdas, label):
    """Fits the grid in order with warm starts (the way these libraries fit a path with an intercept)."""
    coefs, intercepts = [], []
    start = time.perf_counter()
    for lam in lambdas:
        estimator.alpha = lam
        estimator.fit(X, y)
        coefs.append(np.asarray(estimator.coef_).ravel().copy())
        intercepts.append(float(np.ravel(estimator.intercept_)[0]))
    return time.perf_counter() - start, coefs, intercepts, label


def run_sklearn(X, y, lambdas, tol):
    import sklearn
    from sklearn.linear_model import Lasso
    model = Lasso(alpha=lambdas[0], tol=tol, max_iter=10**6, warm_start=True, selection="cyclic")
    return run_warm_path(model, X, y, lambdas, "scikit-learn " + sklearn.__version__)


def run_celer(X, y, lambdas, tol):
    import celer
    model = celer.Lasso(alpha=lambdas[0], tol=tol, max_iter=10**4, warm_start=True, fit_intercept=True)
    return run_warm_path(model, X, y, lambdas, "celer " + celer.__version__)


def run_skglm(X, y, lambdas, tol):
    import skglm
    model = skglm.Lasso(alpha=lambdas[0], tol=tol, max_iter=10**4, warm_start=True, fit_intercept=True)
    return run_warm_path(model, X, y, lambdas, "skglm " + skglm.__version__)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("problem")
    ap.add_argument("--shrink", default="build/default/tools/shrink")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--tol", type=float, default=1e-6)
    ap.add_argument("--glmnet-thresh", type=float, default=1e-9)
    ap.add_argument("--skip", default="")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs per solver (every solver alike); the median time is reported")
    args = ap.parse_args()
    skip = set(args.skip.split(",")) if args.skip else set()

    x_path, y_path, X, y = load(args.data, args.problem)
    n, p = X.shape
    runs = [run_shrink(args.shrink, x_path, y_path, args.threads, args.tol) for _ in range(args.repeat)]
    ours = runs[0]
    ours["time_s"] = float(np.median([r["time_s"] for r in runs]))
    ours["wall_s"] = float(np.median([r["wall_s"] for r in runs]))
    lambdas = np.array(ours["lambdas"])
    dual = np.array(ours["objective"]) - np.array(ours["duality_gap"])  # certified lower bounds on P*
    rows = [("shrink " + ours["solver"], ours["time_s"], np.max(np.array(ours["duality_gap"]) / np.array(ours["objective"])))]
    print(f"# problem {args.problem}: {n} x {p}, nnz {X.nnz if sp.issparse(X) else n * p}, "
          f"{len(lambdas)} lambdas, threads {args.threads}", file=sys.stderr)
    print(f"shrink: {ours['time_s']:.3f} s (process wall {ours['wall_s']:.3f} s; median of {args.repeat}), "
          f"not converged {ours['n_not_converged']}", file=sys.stderr)

    peers = []
    if "glmnet" not in skip:
        peers.append(("glmnet", lambda: run_glmnet(x_path, y_path, lambdas, args.glmnet_thresh, args.threads)))
    # sklearn stops at gap < tol * ||y - mean||^2 / n in our scaling; the tightest objective on the path
    # sets the tol that gives gap <= 1e-6 * P at every lambda.
    yc = y - y.mean()
    sk_tol = args.tol * float(np.min(ours["objective"])) / (float(yc @ yc) / n)
    if "sklearn" not in skip:
        peers.append(("sklearn", lambda: run_sklearn(X, y, lambdas, sk_tol)))
    if "celer" not in skip:
        peers.append(("celer", lambda: run_celer(X, y, lambdas, sk_tol)))
    if "skglm" not in skip:
        peers.append(("skglm", lambda: run_skglm(X, y, lambdas, sk_tol)))
    for name, fn in peers:
        try:
            times = []
            for _ in range(args.repeat):
                seconds, coefs, intercepts, label = fn()
                times.append(seconds)
            seconds = float(np.median(times))
        except ImportError as e:
            print(f"{name}: not available ({e})", file=sys.stderr)
            continue
        obj = objectives(X, y, coefs, intercepts, lambdas)
        subopt = float(np.max((obj - dual) / obj))
        rows.append((label, seconds, subopt))
        print(f"{label}: {seconds:.3f} s, worst relative suboptimality {subopt:.2e}", file=sys.stderr)

    ref = rows[0][1]
    print(f"| solver | path time (s) | ratio to shrink | worst relative gap/suboptimality |")
    print(f"|---|---|---|---|")
    for label, seconds, sub in rows:
        print(f"| {label} | {seconds:.3f} | {seconds / ref:.1f}x | {sub:.1e} |")


if __name__ == "__main__":
    main()
