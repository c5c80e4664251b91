#!/usr/bin/env python3
"""Runs the Lasso suite (scripts/make_lasso_problems.py) against glmnet, scikit-learn, celer and skglm
at matched accuracy, in one run, and prints the table of docs/PERF.md.

Every solver fits the same 100-lambda grid (shrink's, from its lambda_max) on the same problem
(intercept; l1_ratio and standardization from suite.json). Accuracy is measured, not assumed:
  - a reference shrink run at --ref-tol gives a certified dual bound D at every lambda (P* >= D);
  - a peer's suboptimality is max over the path of (P_peer - D) / P_peer;
  - each peer runs a ladder of tolerances, loosest first (glmnet thresh 1e-7 ... 1e-13; the others'
    tol 1e-2 ... 1e-12), and is timed at the loosest one whose suboptimality is <= --target (1e-6);
    a peer that never reaches it is reported with its best figure and marked.
shrink is timed at --tol (1e-6: its certified relative gap), on each of --threads. The peers are
single-threaded libraries (glmnet, scikit-learn's cd, celer, skglm); they run with BLAS/OpenMP limited
to one thread. Each peer run is a separate process with a time limit (--timeout).

Usage: python3 scripts/bench_lasso_peers.py DATA_DIR [--problems a,b,...] [--threads 1,2]
         [--peers glmnet,sklearn,celer,skglm] [--repeat 3] [--json OUT.json [--merge]] [--shrink PATH]
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

GLMNET_LADDER = [1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12, 1e-13]
TOL_LADDER = [1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12]

GLMNET_SCRIPT = r"""
suppressMessages({library(glmnet); library(Matrix)})
a <- commandArgs(trailingOnly = TRUE)
if (grepl("\\.npy$", a[1])) {
  con <- file(a[1], "rb"); magic <- readBin(con, "raw", 6); ver <- readBin(con, "raw", 2)
  hlen <- readBin(con, "integer", size = 2, signed = FALSE, endian = "little")
  header <- rawToChar(readBin(con, "raw", hlen))
  shape <- as.integer(strsplit(sub(".*\\((\\d+), (\\d+)\\).*", "\\1 \\2", header), " ")[[1]])
  width <- if (grepl("'<f4'", header)) 4 else 8  # NumPy float32 or float64
  v <- readBin(con, "double", n = prod(shape), size = width, endian = "little"); close(con)
  X <- if (grepl("'fortran_order': True", header)) matrix(v, shape[1], shape[2])
       else matrix(v, shape[1], shape[2], byrow = TRUE)
} else {
  X <- as(readMM(a[1]), "CsparseMatrix")
}
y <- scan(a[2], quiet = TRUE)
lam <- scan(a[3], quiet = TRUE)
# glmnet scales y to unit variance inside, which changes the Elastic Net's balance of l1 and l2. On
# y / sy (already unit variance), b / sy minimizes 1/(2n) RSS + lambda (alpha |b|_1 + (1-alpha)/2 |b|^2)
# when lambda2 alpha2 = lambda alpha / sy and lambda2 (1 - alpha2) = lambda (1 - alpha): one alpha2
# for the whole grid.
sy <- sqrt(mean((y - mean(y))^2))
alpha <- as.numeric(a[7])
l1 <- alpha / sy
t <- system.time(fit <- glmnet(X, y / sy, lambda = lam * (l1 + 1 - alpha), alpha = l1 / (l1 + 1 - alpha),
                               standardize = as.logical(a[8]), thresh = as.numeric(a[4]),
                               maxit = 1e8))[["elapsed"]]
co <- as.matrix(coef(fit)) * sy
write.table(t(co), a[5], row.names = FALSE, col.names = FALSE)
cat(t, "\n", file = a[6])
cat(as.character(packageVersion("glmnet")), "\n", file = a[6], append = TRUE)
"""


def load(data, entry):
    import scipy.io
    import scipy.sparse as sp
    path = os.path.join(data, entry["x"])
    X = np.load(path).astype(np.float64, copy=False) if path.endswith(".npy") else sp.csc_matrix(scipy.io.mmread(path))
    return X, np.loadtxt(os.path.join(data, entry["y"]))


def column_scale(X, standardize):
    """The population standard deviations the standardized problem divides by (1 without it)."""
    import scipy.sparse as sp
    if not standardize:
        return np.ones(X.shape[1])
    if sp.issparse(X):
        mean = np.asarray(X.mean(axis=0)).ravel()
        sq = np.asarray(X.multiply(X).mean(axis=0)).ravel()
        s = np.sqrt(np.maximum(sq - mean * mean, 0))
    else:
        s = X.std(axis=0)
    s[s == 0] = 1
    return s


def scaled(X, s):
    import scipy.sparse as sp
    return X @ sp.diags(1 / s) if sp.issparse(X) else X / s


def objectives(X, y, coefs, intercepts, lambdas, l1_ratio):
    n = X.shape[0]
    out = []
    for b, b0, lam in zip(coefs, intercepts, lambdas):
        r = y - X @ b - b0
        pen = l1_ratio * np.abs(b).sum() + 0.5 * (1 - l1_ratio) * float(b @ b)
        out.append(0.5 * float(r @ r) / n + lam * pen)
    return np.array(out)


def shrink_command(binary, data, entry, threads, *extra):
    """`shrink lasso --json` on a suite problem with its options (l1_ratio, --standardize), on the CPU."""
    cmd = [binary, "lasso", os.path.join(data, entry["x"]), os.path.join(data, entry["y"]), "--json",
           "--threads", str(threads), "--backend", "cpu", "--l1-ratio", str(entry["l1_ratio"]), *extra]
    return cmd + (["--standardize"] if entry["standardize"] else [])


def run_shrink(binary, data, entry, threads, tol):
    res = subprocess.run(shrink_command(binary, data, entry, threads, "--tol", str(tol)), check=False,
                         capture_output=True, text=True)
    if res.returncode not in (0, 4):
        sys.exit(f"shrink failed ({res.returncode}): {res.stderr}")
    return json.loads(res.stdout)


def worker(args):
    """One peer fit in this process: writes the coefficients (L x p, original scale of the fitted X)."""
    entry = json.loads(args.entry)
    X, y = load(args.data, entry)
    lambdas = np.loadtxt(args.lambdas, ndmin=1)
    s = column_scale(X, entry["standardize"])
    Xs = scaled(X, s)
    l1 = entry["l1_ratio"]
    if args.peer == "sklearn":
        import sklearn
        from sklearn.linear_model import ElasticNet
        model = ElasticNet(alpha=lambdas[0], l1_ratio=l1, tol=args.tol, max_iter=10**7, warm_start=True)
        label = "scikit-learn " + sklearn.__version__
    elif args.peer == "celer":
        import celer
        model = (celer.Lasso(alpha=lambdas[0], tol=args.tol, max_iter=10**4, warm_start=True) if l1 == 1 else
                 celer.ElasticNet(alpha=lambdas[0], l1_ratio=l1, tol=args.tol, max_iter=10**4, warm_start=True))
        label = "celer " + celer.__version__
    else:
        import skglm
        model = (skglm.Lasso(alpha=lambdas[0], tol=args.tol, max_iter=10**4, warm_start=True) if l1 == 1 else
                 skglm.ElasticNet(alpha=lambdas[0], l1_ratio=l1, tol=args.tol, max_iter=10**4, warm_start=True))
        label = "skglm " + skglm.__version__
    warm = min(X.shape[0], 50)  # compiles what a JIT compiles (skglm) before the clock starts
    model.fit(Xs[:warm], y[:warm])
    model.set_params(warm_start=False)
    model.fit(Xs[:warm], y[:warm])
    model = model.__class__(**model.get_params())
    model.set_params(warm_start=True)
    coefs, intercepts = [], []
    start = time.perf_counter()
    for lam in lambdas:  # the path in order with warm starts, the way these libraries fit one
        model.alpha = lam
        model.fit(Xs, y)
        coefs.append(np.asarray(model.coef_).ravel().copy())
        intercepts.append(float(np.ravel(model.intercept_)[0]))
    seconds = time.perf_counter() - start
    np.save(args.result, np.column_stack([intercepts, np.array(coefs)]))
    print(json.dumps({"seconds": seconds, "label": label}))


def one_thread_env():
    return dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
                NUMBA_NUM_THREADS="1")


def run_peer(peer, data, entry, lambdas_file, tol, timeout, tmp):
    """(seconds, intercepts, coefs on the standardized scale, label), or None past the time limit."""
    result = os.path.join(tmp, "coef")
    try:
        if peer == "glmnet":
            script, times = os.path.join(tmp, "s.R"), os.path.join(tmp, "time")
            open(script, "w").write(GLMNET_SCRIPT)
            subprocess.run(["Rscript", script, os.path.join(data, entry["x"]), os.path.join(data, entry["y"]),
                            lambdas_file, str(tol), result, times, str(entry["l1_ratio"]),
                            "TRUE" if entry["standardize"] else "FALSE"],
                           check=True, env=one_thread_env(), timeout=timeout, capture_output=True)
            table = np.loadtxt(result, ndmin=2)
            lines = open(times).read().split()
            seconds, label, scale_back = float(lines[0]), "glmnet " + lines[1], True
        else:
            res = subprocess.run([sys.executable, __file__, "--worker", peer, data, "--entry", json.dumps(entry),
                                  "--lambdas", lambdas_file, "--tol", str(tol), "--result", result + ".npy"],
                                 check=True, env=one_thread_env(), timeout=timeout, capture_output=True, text=True)
            table = np.load(result + ".npy")
            info = json.loads(res.stdout.strip().splitlines()[-1])
            seconds, label, scale_back = info["seconds"], info["label"], False
    except subprocess.TimeoutExpired:
        return None
    except subprocess.CalledProcessError as e:
        print(f"{peer} failed: {e.stderr[-2000:] if e.stderr else e}", file=sys.stderr)
        return None
    return seconds, table[:, 0], table[:, 1:], label, scale_back


def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def peer_at_matched_accuracy(args, entry, peer, lambdas_file, lambdas, dual, s, Xs, y, tmp):
    """The peer's time at the loosest tolerance of its ladder whose suboptimality against the certified
    dual bounds `dual` is <= args.target (median of args.repeat), or its best try, marked unmatched;
    None when it never finished. args carries timeout, repeat and target."""
    best = None
    ladder = GLMNET_LADDER if peer == "glmnet" else TOL_LADDER
    for tol in ladder:
        started = time.perf_counter()
        got = run_peer(peer, args.data, entry, lambdas_file, tol, args.timeout, tmp)
        if got is None:
            print(f"  {peer} tol {tol:g}: past {args.timeout} s", file=sys.stderr)
            break
        seconds, b0, coefs, label, scale_back = got
        if scale_back:
            coefs = coefs * s
        obj = objectives(Xs, y, coefs, b0, lambdas, entry["l1_ratio"])
        subopt = float(np.max((obj - dual) / obj))
        print(f"  {label} tol {tol:g}: {seconds:.3f} s, suboptimality {subopt:.1e}", file=sys.stderr)
        if best is None or subopt < best["suboptimality"]:
            best = {"label": label, "tol": tol, "seconds": seconds, "suboptimality": subopt}
        if subopt <= args.target:
            times = [seconds]
            for _ in range(args.repeat - 1):
                again = run_peer(peer, args.data, entry, lambdas_file, tol, args.timeout, tmp)
                if again:
                    times.append(again[0])
            best = {"label": label, "tol": tol, "seconds": float(np.median(times)),
                    "suboptimality": subopt, "matched": True}
            break
        if time.perf_counter() - started > args.timeout:
            break
    if best is not None:
        best.setdefault("matched", False)
    return best


def bench_problem(args, entry, peers):
    X, y = load(args.data, entry)
    s = column_scale(X, entry["standardize"])
    Xs = scaled(X, s)
    ref = run_shrink(args.shrink, args.data, entry, max(args.threads), args.ref_tol)
    lambdas = np.array(ref["lambdas"])
    dual = np.array(ref["objective"]) - np.array(ref["duality_gap"])
    row = {"problem": entry["name"], "n": entry["n"], "p": entry["p"], "nnz": entry["nnz"],
           "l1_ratio": entry["l1_ratio"], "standardize": entry["standardize"], "shrink": {}, "peers": {}}
    for t in args.threads:
        runs = [run_shrink(args.shrink, args.data, entry, t, args.tol) for _ in range(args.repeat)]
        gap = float(np.max(np.array(runs[0]["duality_gap"]) / np.array(runs[0]["objective"])))
        row["shrink"][str(t)] = {"seconds": float(np.median([r["time_s"] for r in runs])), "solver": runs[0]["solver"],
                                 "certified_gap": gap, "not_converged": runs[0]["n_not_converged"]}
        print(f"  shrink {t} thread(s): {row['shrink'][str(t)]['seconds']:.3f} s ({runs[0]['solver']}, "
              f"gap {gap:.1e})", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        lambdas_file = os.path.join(tmp, "lambdas")
        np.savetxt(lambdas_file, lambdas, fmt="%.17g")
        for peer in peers:
            best = peer_at_matched_accuracy(args, entry, peer, lambdas_file, lambdas, dual, s, Xs, y, tmp)
            if best is not None:
                row["peers"][peer] = best
    return row


def report(rows, threads, peers):
    out = []
    head = "| problem | n x p | shrink " + " | shrink ".join(f"{t}T (s)" for t in threads) + " | " + \
        " | ".join(f"{p} (s) | {p} / shrink {'/'.join(str(t) + 'T' for t in threads)}" for p in peers) + " |"
    out.append(head)
    out.append("|" + "---|" * (2 + len(threads) + 2 * len(peers)))
    ratios = {(p, t): [] for p in peers for t in threads}
    for r in rows:
        cells = [r["problem"] + (" (enet)" if r["l1_ratio"] < 1 else "") + (" (std)" if r["standardize"] else ""),
                 f"{r['n']} x {r['p']}"]
        cells += [f"{r['shrink'][str(t)]['seconds']:.3f} {r['shrink'][str(t)]['solver']}" for t in threads]
        for p in peers:
            peer = r["peers"].get(p)
            if peer is None:
                cells += ["past the limit", "-"]
                continue
            mark = "" if peer["matched"] else f" (never matched; best {peer['suboptimality']:.0e})"
            cells.append(f"{peer['seconds']:.3f} @{peer['tol']:g}{mark}")
            rs = []
            for t in threads:
                ratio = peer["seconds"] / r["shrink"][str(t)]["seconds"]
                if peer["matched"]:
                    ratios[(p, t)].append(ratio)
                rs.append(f"{ratio:.2f}x")
            cells.append(" / ".join(rs))
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    for p in peers:
        for t in threads:
            xs = ratios[(p, t)]
            if xs:
                out.append(f"- {p} / shrink at {t} thread(s): geometric mean {geomean(xs):.2f}x, worst {min(xs):.2f}x "
                           f"over {len(xs)} matched problems")
    return "\n".join(out)


def main():
    if "--worker" in sys.argv:
        ap = argparse.ArgumentParser()
        ap.add_argument("--worker", dest="peer")
        ap.add_argument("data")
        ap.add_argument("--entry")
        ap.add_argument("--lambdas")
        ap.add_argument("--tol", type=float)
        ap.add_argument("--result")
        return worker(ap.parse_args())
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data")
    ap.add_argument("--problems", default="", help="comma-separated names (default: every problem in suite.json)")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--peers", default="glmnet,sklearn,celer,skglm")
    ap.add_argument("--shrink", default="build/default/tools/shrink")
    ap.add_argument("--tol", type=float, default=1e-6)
    ap.add_argument("--ref-tol", type=float, default=1e-9)
    ap.add_argument("--target", type=float, default=1e-6)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--json", help="write every figure here")
    ap.add_argument("--merge", action="store_true", help="keep --json's other problems (re-run some of them)")
    args = ap.parse_args()
    args.threads = [int(t) for t in args.threads.split(",")]
    peers = [p for p in args.peers.split(",") if p]
    shown = peers or ["glmnet", "sklearn", "celer", "skglm"]
    suite = json.load(open(os.path.join(args.data, "suite.json")))["problems"]
    wanted = args.problems.split(",") if args.problems else [e["name"] for e in suite]
    entries = {e["name"]: e for e in suite}
    rows, earlier = [], {}
    if args.merge and args.json and os.path.exists(args.json):  # re-run some problems of an earlier run
        earlier = {r["problem"]: r for r in json.load(open(args.json))["rows"]}
        rows = [r for name, r in earlier.items() if name not in wanted]
    for name in wanted:
        print(f"# {name}", file=sys.stderr)
        row = bench_problem(args, entries[name], peers)
        if not peers and name in earlier:  # --peers '': shrink re-timed, the peers' figures kept
            row["peers"] = earlier[name]["peers"]
        rows.append(row)
        rows.sort(key=lambda r: list(entries).index(r["problem"]))
        if args.json:
            with open(args.json + ".tmp", "w") as f:
                json.dump({"rows": rows, "threads": args.threads, "peers": peers}, f, indent=1)
            os.replace(args.json + ".tmp", args.json)
    print(report(rows, args.threads, shown))


if __name__ == "__main__":
    main()
