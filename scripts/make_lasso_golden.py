#!/usr/bin/python3
"""Writes the Lasso / Elastic-Net reference fixtures in tests/data/lasso/ from scikit-learn and glmnet.

Each fixture is a JSON file with the problem (X dense, y, weights, penalty factors, options), the
lambdas, and for each lambda the reference coefficients, intercept and the objective

    P = 1/(2n) sum_i w_i (y_i - x_i.b - b0)^2 + lambda sum_j v_j (alpha |s_j b_j| + (1-alpha)/2 (s_j b_j)^2)

evaluated here in float64 (w normalized to sum n; s_j the weighted 1/n standard deviation with
standardize, else 1). The references are solved to tight tolerances (sklearn tol=1e-13, glmnet
thresh=1e-15), so their objective is the optimum to far better than the 1e-6 the tests ask for.

Run with Debian's python3 (python3-sklearn, python3-scipy) and R with r-cran-glmnet:
    /usr/bin/python3 scripts/make_lasso_golden.py
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.linear_model import ElasticNet, Lasso

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "lasso")
# Many responses at once (the batched solver): scikit-learn's multi-output fit(X, Y).
OUT_BATCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "lasso_batch")


def objective(X, y, b, b0, lam, alpha, w=None, v=None, standardize=False):
    X = np.asarray(X.todense() if sp.issparse(X) else X, dtype=np.float64)
    n, p = X.shape
    w = np.ones(n) if w is None else np.asarray(w, float) * n / np.sum(w)
    v = np.ones(p) if v is None else np.asarray(v, float)
    s = np.ones(p)
    if standardize:
        mu = w @ X / n
        s = np.sqrt(w @ (X - mu) ** 2 / n)
    r = y - X @ b - b0
    bs = s * b
    return 0.5 * np.sum(w * r * r) / n + lam * np.sum(v * (alpha * np.abs(bs) + 0.5 * (1 - alpha) * bs * bs))


def ar1_design(rng, n, p, rho=0.5):
    X = rng.standard_normal((n, p))
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho * rho) * X[:, j]
    return X


def response(rng, X, k):
    n, p = X.shape
    beta = np.zeros(p)
    beta[rng.choice(p, k, replace=False)] = rng.standard_normal(k) * 2
    Xd = np.asarray(X.todense()) if sp.issparse(X) else X
    return Xd @ beta + 0.5 * rng.standard_normal(n) + 3.0


def lambda_grid(X, y, alpha, intercept, count=6, ratio=0.05):
    Xd = np.asarray(X.todense()) if sp.issparse(X) else X
    n = Xd.shape[0]
    yc = y - y.mean() if intercept else y
    Xc = Xd - Xd.mean(axis=0) if intercept else Xd
    lmax = np.max(np.abs(Xc.T @ yc)) / n / alpha
    return list(lmax * np.geomspace(1.2, ratio, count))


def sklearn_case(name, X, y, lambdas, alpha=1.0, intercept=True, positive=False, sparse=False):
    results = []
    for lam in lambdas:
        if alpha == 1.0:
            model = Lasso(alpha=lam, fit_intercept=intercept, positive=positive, tol=1e-13, max_iter=10**7)
        else:
            model = ElasticNet(alpha=lam, l1_ratio=alpha, fit_intercept=intercept, positive=positive,
                               tol=1e-13, max_iter=10**7)
        model.fit(sp.csc_matrix(X) if sparse else X, y)
        b, b0 = model.coef_.astype(float), float(model.intercept_)
        results.append({"lambda": lam, "coef": list(b), "intercept": b0,
                        "objective": objective(X, y, b, b0, lam, alpha)})
    return {"name": name, "reference": f"scikit-learn {sklearn.__version__}", "sparse": sparse,
            "l1_ratio": alpha, "fit_intercept": intercept, "positive": positive, "standardize": False,
            "X": [list(r) for r in np.asarray(X)], "y": list(y), "sample_weights": [],
            "penalty_factors": [], "solutions": results}


def sklearn_batch_case(name, X, Y, lam, alpha=1.0, intercept=True, positive=False):
    """One lambda for every column of Y, as Lasso(precompute=True).fit(X, Y) takes it."""
    if alpha == 1.0:
        model = Lasso(alpha=lam, fit_intercept=intercept, positive=positive, precompute=True, tol=1e-13,
                      max_iter=10**7)
    else:
        model = ElasticNet(alpha=lam, l1_ratio=alpha, fit_intercept=intercept, positive=positive,
                           precompute=True, tol=1e-13, max_iter=10**7)
    model.fit(X, Y)
    coefs = np.atleast_2d(model.coef_).astype(float)
    intercepts = np.broadcast_to(np.asarray(model.intercept_, dtype=float), (Y.shape[1],)).copy()
    return {"name": name, "reference": f"scikit-learn {sklearn.__version__} multi-output fit(X, Y)",
            "l1_ratio": alpha, "fit_intercept": intercept, "positive": positive, "lambda": lam,
            "X": [list(r) for r in np.asarray(X)], "Y": [list(r) for r in np.asarray(Y)],
            "coef": [list(c) for c in coefs], "intercept": list(intercepts),
            "objective": [objective(X, Y[:, b], coefs[b], intercepts[b], lam, alpha) for b in range(Y.shape[1])]}


R_SCRIPT = r"""
suppressMessages(library(glmnet))
args <- commandArgs(trailingOnly = TRUE)
X <- as.matrix(read.csv(args[1], header = FALSE))
y <- scan(args[2], quiet = TRUE)
w <- scan(args[3], quiet = TRUE)
v <- scan(args[4], quiet = TRUE)
lam <- scan(args[5], quiet = TRUE)
opt <- scan(args[6], quiet = TRUE)  # alpha, standardize, intercept, positive
fit <- glmnet(X, y, weights = w, alpha = opt[1], lambda = lam, standardize = opt[2] == 1,
              intercept = opt[3] == 1, penalty.factor = v,
              lower.limits = if (opt[4] == 1) 0 else -Inf, thresh = 1e-15, maxit = 1e8)
co <- as.matrix(coef(fit))
write.table(t(co), args[7], row.names = FALSE, col.names = FALSE)
cat(as.character(packageVersion("glmnet")), file = args[8])
"""


def glmnet_case(name, X, y, lambdas, alpha, w, v, standardize, intercept=True, positive=False):
    n, p = X.shape
    # glmnet scales y to unit (weighted, 1/n) standard deviation before fitting; for alpha < 1 that
    # changes the problem, so hand it a y that already has unit deviation (its vignette's advice).
    wn = np.asarray(w, float) / np.sum(w)
    y = y / np.sqrt(wn @ (y - wn @ y) ** 2)
    # glmnet rescales penalty factors to sum to p; give it factors that already do, so that the
    # problem it solves is the one written above.
    v = np.asarray(v, float) * p / np.sum(v)
    with tempfile.TemporaryDirectory() as d:
        paths = [os.path.join(d, f) for f in ("x.csv", "y", "w", "v", "lam", "opt", "coef", "ver", "s.R")]
        np.savetxt(paths[0], X, delimiter=",", fmt="%.17g")
        for path, data in zip(paths[1:5], (y, w, v, lambdas)):
            np.savetxt(path, np.asarray(data), fmt="%.17g")
        np.savetxt(paths[5], [alpha, int(standardize), int(intercept), int(positive)], fmt="%.17g")
        with open(paths[8], "w") as f:
            f.write(R_SCRIPT)
        subprocess.run(["Rscript", paths[8]] + paths[:8], check=True)
        coef = np.loadtxt(paths[6], ndmin=2)
        version = open(paths[7]).read().strip()
    results = []
    for lam, row in zip(lambdas, coef):
        b0, b = float(row[0]), row[1:].astype(float)
        results.append({"lambda": lam, "coef": list(b), "intercept": b0,
                        "objective": objective(X, y, b, b0, lam, alpha, w, v, standardize)})
    return {"name": name, "reference": f"glmnet {version}", "sparse": False, "l1_ratio": alpha,
            "fit_intercept": intercept, "positive": positive, "standardize": standardize,
            "X": [list(r) for r in X], "y": list(y), "sample_weights": list(w),
            "penalty_factors": list(v), "solutions": results}


def main():
    rng = np.random.default_rng(20261122)
    os.makedirs(OUT, exist_ok=True)
    cases = []

    X = ar1_design(rng, 60, 25)
    y = response(rng, X, 5)
    cases.append(sklearn_case("dense_lasso", X, y, lambda_grid(X, y, 1.0, True)))

    X = ar1_design(rng, 30, 70)  # p > n
    y = response(rng, X, 6)
    cases.append(sklearn_case("wide_elastic_net", X, y, lambda_grid(X, y, 0.5, True), alpha=0.5))

    S = sp.random(90, 50, density=0.15, random_state=7, format="csr")
    S.data = np.abs(S.data) * 3
    y = response(rng, S, 5)
    cases.append(sklearn_case("sparse_lasso", S.toarray(), y, lambda_grid(S, y, 1.0, True), sparse=True))

    X = ar1_design(rng, 50, 20)
    y = response(rng, X, 4)
    cases.append(sklearn_case("positive_lasso", X, y, lambda_grid(X, y, 1.0, True), positive=True))
    cases.append(sklearn_case("no_intercept", X, y, lambda_grid(X, y, 1.0, False), intercept=False))

    X = ar1_design(rng, 70, 15) * np.geomspace(0.01, 100, 15)  # mixed scales
    y = response(rng, X, 4)
    w = rng.uniform(0.2, 2.0, 70)
    v = rng.uniform(0.5, 2.0, 15)
    v[3] = 0.0  # one unpenalized feature
    Xs = X / X.std(axis=0)  # grids for the standardized cases
    cases.append(glmnet_case("glmnet_standardize_weights_factors", X, y,
                             lambda_grid(Xs, y, 1.0, True, ratio=0.02), 1.0, w, v, True))
    cases.append(glmnet_case("glmnet_elastic_net_weights", X, y,
                             lambda_grid(X, y, 0.3, True, ratio=0.02), 0.3, w, np.ones(15), False))
    cases.append(glmnet_case("glmnet_positive_standardize", X, y,
                             lambda_grid(Xs, y, 1.0, True, ratio=0.02), 1.0, w, np.ones(15), True,
                             positive=True))
    # Positivity with unpenalized features: feature 3's true effect is negative, so its bound binds.
    X = ar1_design(rng, 80, 12)
    beta = np.zeros(12)
    beta[[1, 3, 7, 9]] = [1.5, -2.0, 1.0, 0.8]
    y = X @ beta + 0.5 * rng.standard_normal(80) + 3.0
    w = rng.uniform(0.2, 2.0, 80)
    v = np.ones(12)
    v[[3, 7]] = 0.0
    cases.append(glmnet_case("glmnet_positive_unpenalized", X, y,
                             lambda_grid(X, y, 1.0, True, ratio=0.02), 1.0, w, v, False, positive=True))

    for case in cases:
        with open(os.path.join(OUT, case["name"] + ".json"), "w") as f:
            json.dump(case, f, indent=None)
        print(case["name"], case["reference"], len(case["solutions"]), "lambdas", file=sys.stderr)

    # Batched: k responses over one X (a zero response and a constant one among them).
    os.makedirs(OUT_BATCH, exist_ok=True)
    X = ar1_design(rng, 45, 18)
    Y = np.column_stack([response(rng, X, 1 + b % 4) for b in range(7)])
    Y[:, 2] = 0.0
    Y[:, 5] = 4.0
    batch = [sklearn_batch_case("batch_lasso", X, Y, 0.08),
             sklearn_batch_case("batch_elastic_net_positive", X, Y, 0.05, alpha=0.6, positive=True),
             sklearn_batch_case("batch_no_intercept", X, Y, 0.1, intercept=False)]
    for case in batch:
        with open(os.path.join(OUT_BATCH, case["name"] + ".json"), "w") as f:
            json.dump(case, f, indent=None)
        print(case["name"], case["reference"], len(case["intercept"]), "problems", file=sys.stderr)


if __name__ == "__main__":
    main()
