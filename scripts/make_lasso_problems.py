#!/usr/bin/python3
"""Generates the Lasso benchmark problems of docs/PERF.md (seeded; same files every run).

  a: dense 5000 x 1000, AR(1)-correlated Gaussian features (rho 0.5), 20 true non-zeros  -> a_X.npy, a_y.txt
  b: sparse 20000 x 10000, 1M non-zeros, tf-idf-like positive values, 50 true non-zeros   -> b_X.mtx, b_y.txt
  c: sparse 100000 x 50000, 10M non-zeros (same generator)                               -> c_X.mtx, c_y.txt

Usage: /usr/bin/python3 scripts/make_lasso_problems.py OUT_DIR [a] [b] [c]   (default: a b)
"""
import os
import sys

import numpy as np
import scipy.io
import scipy.sparse as sp


def response(rng, X, k):
    p = X.shape[1]
    beta = np.zeros(p)
    support = rng.choice(p, k, replace=False)
    beta[support] = rng.choice([-1.0, 1.0], k) * rng.uniform(0.5, 2.0, k)
    signal = X @ beta
    noise = rng.standard_normal(X.shape[0]) * 0.5 * np.std(signal)
    return signal + noise + 1.0


def dense_ar1(rng, n, p, rho=0.5):
    X = np.empty((n, p))
    X[:, 0] = rng.standard_normal(n)
    scale = np.sqrt(1 - rho * rho)
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + scale * rng.standard_normal(n)
    return X


def tfidf(rng, n, p, nnz):
    """Rows ('documents') of Poisson lengths; terms drawn with a Zipf-like popularity; value =
    log(1 + count) * idf, each row scaled to unit l2 norm."""
    popularity = 1.0 / np.arange(1, p + 1) ** 0.8
    popularity /= popularity.sum()
    # Draws repeat popular terms, and repeats merge into one entry: oversample so that about `nnz`
    # distinct entries remain.
    lengths = np.maximum(1, rng.poisson(1.068 * nnz / n, n))
    rows = np.repeat(np.arange(n), lengths)
    cols = rng.choice(p, size=rows.size, p=popularity)
    counts = sp.coo_matrix((np.ones(rows.size), (rows, cols)), shape=(n, p)).tocsr()
    counts.sum_duplicates()
    df = np.bincount(counts.indices, minlength=p)
    idf = np.log((1 + n) / (1 + df)) + 1
    counts.data = np.log1p(counts.data) * idf[counts.indices]
    norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
    norms[norms == 0] = 1
    return sp.diags(1 / norms) @ counts


def main():
    out = sys.argv[1]
    which = sys.argv[2:] or ["a", "b"]
    os.makedirs(out, exist_ok=True)
    if "a" in which:
        rng = np.random.default_rng(1)
        X = dense_ar1(rng, 5000, 1000)
        np.save(os.path.join(out, "a_X.npy"), X)
        np.savetxt(os.path.join(out, "a_y.txt"), response(rng, X, 20), fmt="%.17g")
    for name, n, p, nnz, k in (("b", 20000, 10000, 1_000_000, 50), ("c", 100000, 50000, 10_000_000, 50)):
        if name not in which:
            continue
        rng = np.random.default_rng(2 if name == "b" else 3)
        X = tfidf(rng, n, p, nnz).tocsr()
        scipy.io.mmwrite(os.path.join(out, f"{name}_X.mtx"), X, precision=17)
        np.savetxt(os.path.join(out, f"{name}_y.txt"), response(rng, X, k), fmt="%.17g")
        print(f"{name}: {n} x {p}, {X.nnz} non-zeros", file=sys.stderr)


if __name__ == "__main__":
    main()
