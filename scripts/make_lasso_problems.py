#!/usr/bin/env python3
"""Writes the Lasso benchmark suite of docs/PERF.md: seeded problems (the same files every run) that
span what users bring, and suite.json, which names each problem's files and options.

  a                 dense 5000 x 1000, AR(1) rho 0.5                       (n >> p)
  b                 sparse 20000 x 10000 tf-idf, 1M non-zeros
  c                 sparse 100000 x 50000 tf-idf, 10M non-zeros            (GPU pack; not in the suite)
  tall_indep        dense 20000 x 100, independent columns
  tall_ar09_std     dense 10000 x 400, AR(1) rho 0.9, --standardize
  mid_ar08          dense 1500 x 1000, AR(1) rho 0.8                       (p < n < 2p)
  mid_equi05_enet   dense 1500 x 1000, equicorrelated rho 0.5, l1_ratio 0.5
  square_ar05       dense 2000 x 2000, AR(1) rho 0.5                       (n = p)
  mid_wide_std      dense 1200 x 1500, independent columns, --standardize   (n < p < 2n)
  scaled            dense 2000 x 500, AR(1) rho 0.3, column norms 1e-3 .. 1e3
  wide_equi05       dense 300 x 3900, equicorrelated rho 0.5               (p >> n)
  wide_ar095        dense 400 x 4000, AR(1) rho 0.95
  wide_indep_std    dense 200 x 10000, independent columns, --standardize
  wide_equi095      dense 200 x 2000, equicorrelated rho 0.95
  zipf              sparse 50000 x 5000, 0/1 entries, Zipf column frequencies
  genotype          sparse 1500 x 4000, 0/1/2 genotype-like columns
  genotype_npy      dense 2000 x 5000, 0/1/2 genotype-like columns as .npy (28% non-zero)
  onehot_npy        dense 20000 x 1000, 20 categorical variables as 0/1 dummies, .npy (2% non-zero)
  text_wide         sparse 20000 x 100000 tf-idf, 1M non-zeros             (p >= 10^5)
  tfidf_enet_std    sparse 10000 x 5000 tf-idf, l1_ratio 0.5, --standardize
  tall_sparse       sparse 200000 x 2000, 0.5% Gaussian non-zeros           (n >> p sparse)
  counts_ones_std   sparse 30000 x 3001, counts, plus a user's all-ones column, --standardize
  narrow_sparse     sparse 100000 x 500, 1% Gaussian non-zeros             (n >> p sparse, five a row)
  counts_dense_std  sparse 10000 x 1000, counts, 10% non-zeros, --standardize
  dup_columns       dense 1000 x 1000, every column twice                  (exact collinearity)
  ar05_f32_npy      dense 3000 x 2000, AR(1) rho 0.5, float32 .npy
  diabetes          scikit-learn's diabetes data, 442 x 10, --standardize

Dense X is written as .npy, sparse X as Matrix Market; y as one value per line (NAME_y.txt).

`--probes` writes instead 21 shapes outside the suite (probe_*: a one-hot X with Zipf-distributed
levels, with and without each variable's first level; dense p >> n; an Elastic Net at l1_ratio 0.1
on a 400 x 2500 equicorrelated X; log-normal and binary sparse X; 50 x 1000; square 0/1/2
genotypes; block-correlated columns; ...), into their own directory.

`--calibration` writes instead the shapes that scripts/calibrate_lasso_auto.py weighs beside the
suite (cal_*: sparse X from 100000 x 500 to 5000 x 2000 at 0.1% to 20% non-zeros, and dense X with
n about p), into their own directory.

Usage: python3 scripts/make_lasso_problems.py OUT_DIR [NAME ...]   (default: the suite, every name but c)
       python3 scripts/make_lasso_problems.py OUT_DIR --calibration
       python3 scripts/make_lasso_problems.py OUT_DIR --probes
"""
import json
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


def dense_equicorrelated(rng, n, p, rho):
    common = rng.standard_normal((n, 1))
    return np.sqrt(rho) * common + np.sqrt(1 - rho) * rng.standard_normal((n, p))


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


def zipf_binary(rng, n, p, nnz):
    """0/1 entries; column j is present in a share of rows proportional to 1 / (j + 1): a few columns
    fill most rows, most columns are rare."""
    share = 1.0 / np.arange(1, p + 1)
    share *= nnz / (n * share.sum())
    share = np.minimum(share, 0.9)
    cols = []
    for j in range(p):
        rows = np.flatnonzero(rng.random(n) < share[j])
        cols.append(sp.csc_matrix((np.ones(rows.size), (rows, np.zeros(rows.size, dtype=int))), shape=(n, 1)))
    return sp.hstack(cols, format="csr")


def genotype(rng, n, p, dense=False):
    """Minor-allele counts 0/1/2 under Hardy-Weinberg, minor-allele frequencies uniform in [0.01, 0.3]
    (about 28% non-zero). dense: as a NumPy array, the way such data often arrives (.npy)."""
    maf = rng.uniform(0.01, 0.3, p)
    X = rng.binomial(2, maf, size=(n, p)).astype(np.float64)
    return X if dense else sp.csr_matrix(X)


def one_hot(rng, n, variables, levels):
    """Dummy columns of `variables` categorical variables with `levels` levels each (level k drawn
    with probability proportional to 1 / (k + 2)), dense as pandas' get_dummies gives them."""
    share = 1.0 / np.arange(2, levels + 2)
    share /= share.sum()
    X = np.zeros((n, variables * levels))
    for v in range(variables):
        X[np.arange(n), v * levels + rng.choice(levels, n, p=share)] = 1.0
    return X


def sparse_random(rng, n, p, density, values):
    """Entries at independent positions (each with probability `density`), values(rng, count)."""
    return sp.random(n, p, density=density, format="csr", random_state=rng, data_rvs=lambda k: values(rng, k))


def with_ones_column(X):
    """X with an all-ones first column, as users add one for the intercept."""
    return sp.hstack([sp.csr_matrix(np.ones((X.shape[0], 1))), X], format="csr")


def duplicated(X):
    """Every column twice: the Lasso solution is not unique, and G_AA singular."""
    return np.hstack([X, X])


# name: (seed, builder(rng) -> X, true non-zeros, options)
def problems():
    def scaled(rng):
        X = dense_ar1(rng, 2000, 500, 0.3)
        return X, 10.0 ** rng.uniform(-3, 3, X.shape[1])

    return {
        "a": (1, lambda r: dense_ar1(r, 5000, 1000), 20, {}),
        "b": (2, lambda r: tfidf(r, 20000, 10000, 1_000_000), 50, {}),
        "c": (3, lambda r: tfidf(r, 100000, 50000, 10_000_000), 50, {}),
        "tall_indep": (11, lambda r: r.standard_normal((20000, 100)), 10, {}),
        "tall_ar09_std": (12, lambda r: dense_ar1(r, 10000, 400, 0.9), 20, {"standardize": True}),
        "mid_ar08": (13, lambda r: dense_ar1(r, 1500, 1000, 0.8), 20, {}),
        "mid_equi05_enet": (14, lambda r: dense_equicorrelated(r, 1500, 1000, 0.5), 20, {"l1_ratio": 0.5}),
        "square_ar05": (32, lambda r: dense_ar1(r, 2000, 2000, 0.5), 20, {}),
        "mid_wide_std": (33, lambda r: r.standard_normal((1200, 1500)), 20, {"standardize": True}),
        "scaled": (15, scaled, 20, {}),
        "wide_equi05": (16, lambda r: dense_equicorrelated(r, 300, 3900, 0.5), 20, {}),
        "wide_ar095": (17, lambda r: dense_ar1(r, 400, 4000, 0.95), 20, {}),
        "wide_indep_std": (18, lambda r: r.standard_normal((200, 10000)), 10, {"standardize": True}),
        "wide_equi095": (19, lambda r: dense_equicorrelated(r, 200, 2000, 0.95), 10, {}),
        "zipf": (20, lambda r: zipf_binary(r, 50000, 5000, 1_000_000), 30, {}),
        "genotype": (21, lambda r: genotype(r, 1500, 4000), 30, {}),
        "genotype_npy": (24, lambda r: genotype(r, 2000, 5000, dense=True), 30, {}),
        "onehot_npy": (25, lambda r: one_hot(r, 20000, 20, 50), 40, {}),
        "text_wide": (22, lambda r: tfidf(r, 20000, 100000, 1_000_000), 50, {}),
        "tfidf_enet_std": (23, lambda r: tfidf(r, 10000, 5000, 500_000), 40,
                           {"l1_ratio": 0.5, "standardize": True}),
        "tall_sparse": (26, lambda r: sparse_random(r, 200000, 2000, 0.005, lambda g, k: g.standard_normal(k)), 40, {}),
        "counts_ones_std": (27, lambda r: with_ones_column(
            sparse_random(r, 30000, 3000, 0.003, lambda g, k: 1.0 + g.poisson(2, k))), 30, {"standardize": True}),
        "narrow_sparse": (30, lambda r: sparse_random(r, 100000, 500, 0.01, lambda g, k: g.standard_normal(k)), 20, {}),
        "counts_dense_std": (31, lambda r: sparse_random(r, 10000, 1000, 0.1, lambda g, k: 1.0 + g.poisson(2, k)), 30,
                             {"standardize": True}),
        "dup_columns": (28, lambda r: duplicated(r.standard_normal((1000, 500))), 20, {}),
        "ar05_f32_npy": (29, lambda r: dense_ar1(r, 3000, 2000).astype(np.float32), 40, {}),
        "diabetes": (None, None, None, {"standardize": True}),
    }


# The cost model's further shapes (calibrate_lasso_auto.py): where `gram` and `cd` trade places on a
# sparse X (rows of 5 to 150 entries, p from 300 to 5000), and dense X with n about p.
def calibration_problems():
    def counts(n, p, density):
        return lambda r: sparse_random(r, n, p, density, lambda g, k: 1.0 + g.poisson(2, k))

    return {
        "cal_sparse_100000x500": (41, counts(100000, 500, 0.02), 50, {}),
        "cal_sparse_50000x1000_std": (42, counts(50000, 1000, 0.01), 100, {"standardize": True}),
        "cal_sparse_20000x2000": (43, counts(20000, 2000, 0.005), 200, {}),
        "cal_sparse_100000x5000": (44, counts(100000, 5000, 0.001), 500, {}),
        "cal_sparse_50000x3000": (45, counts(50000, 3000, 0.05), 300, {}),
        "cal_sparse_10000x1000_std": (46, counts(10000, 1000, 0.1), 100, {"standardize": True}),
        "cal_sparse_30000x300": (47, counts(30000, 300, 0.2), 30, {}),
        "cal_sparse_5000x2000": (48, counts(5000, 2000, 0.05), 200, {}),
        "cal_dense_2000x2000_std": (49, lambda r: r.standard_normal((2000, 2000)), 20, {"standardize": True}),
        "cal_dense_3000x2500_enet": (50, lambda r: dense_ar1(r, 3000, 2500, 0.7), 20, {"l1_ratio": 0.5}),
        "cal_dense_1200x1500": (51, lambda r: dense_ar1(r, 1200, 1500, 0.5), 20, {}),
        # 0/1/2 columns at 28% non-zeros: a sparse X too dense for the Gram build's pairs once n is
        # about p (3000 x 3000 took gram 2.8x cd's time), and one with n = 3p.
        "cal_genotype_3000x3000_std": (52, lambda r: genotype(r, 3000, 3000), 50, {"standardize": True}),
        "cal_genotype_6000x2000": (53, lambda r: genotype(r, 6000, 2000), 50, {}),
        "cal_sparse_4000x4000": (54, counts(4000, 4000, 0.15), 100, {}),
    }


# Shapes outside the suite, tried as a new user would (docs/PERF.md, 2026-12-07): each a kind the
# suite holds at another size, correlation or penalty, to check that the suite's figures carry over.
def probe_problems():
    def one_hot_zipf(r, n, variables, levels, drop_first=False):
        # Level drawn by a Zipf(1.5) law: level 1 in about 38% of rows. Empty columns are left out;
        # drop_first leaves out each variable's most frequent level (reference coding).
        cols = []
        for v in range(variables):
            level = (r.zipf(1.5, n) - 1) % levels
            block = sp.csc_matrix((np.ones(n), (np.arange(n), level)), shape=(n, levels))
            counts = np.asarray(block.sum(axis=0)).ravel()
            keep = counts > 0
            if drop_first:
                keep[np.argmax(counts)] = False
            cols.append(block[:, np.flatnonzero(keep)])
        return sp.hstack(cols, format="csr")

    def ar1_strong(r):
        return dense_ar1(r, 1000, 800, 0.95)

    def scaled_equicorrelated(r):
        X = dense_equicorrelated(r, 50000, 300, 0.7)
        return X * 10.0 ** r.uniform(-2, 2, 300)

    def block_correlated(r, n, p, block, rho):
        X = np.empty((n, p))
        for b in range(0, p, block):
            X[:, b:b + block] = dense_equicorrelated(r, n, min(block, p - b), rho)
        return X

    return {
        "probe_dense_80x30000": (61, lambda r: r.standard_normal((80, 30000)), 10, {}),
        "probe_equi09_enet01": (62, lambda r: dense_equicorrelated(r, 400, 2500, 0.9), 30, {"l1_ratio": 0.1}),
        "probe_lognormal_std": (63, lambda r: sparse_random(r, 3000, 20000, 0.004, lambda g, k: g.lognormal(0, 1.5, k)),
                                40, {"standardize": True}),
        "probe_onehot_zipf": (64, lambda r: one_hot_zipf(r, 20000, 10, 300), 50, {}),
        "probe_onehot_zipf_drop": (64, lambda r: one_hot_zipf(r, 20000, 10, 300, drop_first=True), 50, {}),
        "probe_tall_equi07_scaled_std": (65, scaled_equicorrelated, 20, {"standardize": True}),
        "probe_binary_wide_enet": (66, lambda r: sparse_random(r, 1000, 40000, 0.01, lambda g, k: np.ones(k)), 30,
                                   {"l1_ratio": 0.5}),
        "probe_ar095": (67, ar1_strong, 40, {}),
        "probe_tfidf_enet02_std": (68, lambda r: sparse_random(r, 8000, 6000, 0.005, lambda g, k: g.exponential(1, k)),
                                   60, {"l1_ratio": 0.2, "standardize": True}),
        "probe_wide_enet05_std": (69, lambda r: r.standard_normal((200, 5000)), 20, {"l1_ratio": 0.5, "standardize": True}),
        # The second round (2026-12-07, third session): auto took gram on probe_genotype_square_std
        # at 2.8x cd's time, and probe_tiny_wide ran 3x slower on two threads than on one.
        "probe_tiny_wide": (101, lambda r: r.standard_normal((50, 1000)), 5, {}),
        "probe_equi08_scaled_std": (102, lambda r: dense_equicorrelated(r, 800, 1200, 0.8) * r.uniform(0.1, 10, 1200), 30,
                                    {"standardize": True}),
        "probe_counts_wide_std": (103, lambda r: sparse_random(r, 2000, 30000, 0.01, lambda g, k: g.poisson(2, k) + 1.0),
                                  40, {"standardize": True}),
        "probe_genotype_wide": (104, lambda r: genotype(r, 500, 10000), 20, {}),
        "probe_tall_ar099": (105, lambda r: dense_ar1(r, 50000, 200, 0.99), 20, {}),
        "probe_ar07_enet005": (106, lambda r: dense_ar1(r, 1000, 2000, 0.7), 50, {"l1_ratio": 0.05}),
        "probe_block_equi09": (107, lambda r: block_correlated(r, 600, 3000, 50, 0.9), 30, {}),
        "probe_binary_tall": (108, lambda r: sparse_random(r, 100000, 1000, 0.05, lambda g, k: np.ones(k)), 30, {}),
        "probe_dense_1000x5000": (109, lambda r: r.standard_normal((1000, 5000)), 200, {}),
        "probe_genotype_square_std": (110, lambda r: genotype(r, 3000, 3000), 50, {"standardize": True}),
        "probe_ar09_enet02": (70, lambda r: dense_ar1(r, 300, 3000, 0.9), 30, {"l1_ratio": 0.2}),
    }


def write(out, name, X, y, options):
    if sp.issparse(X):
        x_file = f"{name}_X.mtx"
        scipy.io.mmwrite(os.path.join(out, x_file), sp.csr_matrix(X), precision=17)
        nnz = int(X.nnz)
    else:
        x_file = f"{name}_X.npy"
        np.save(os.path.join(out, x_file), np.ascontiguousarray(X))
        nnz = int(np.count_nonzero(X))
    y_file = f"{name}_y.txt"
    np.savetxt(os.path.join(out, y_file), y, fmt="%.17g")
    entry = {"name": name, "x": x_file, "y": y_file, "n": int(X.shape[0]), "p": int(X.shape[1]), "nnz": nnz,
             "sparse": bool(sp.issparse(X)), "l1_ratio": options.get("l1_ratio", 1.0),
             "standardize": options.get("standardize", False)}
    print(f"{name}: {X.shape[0]} x {X.shape[1]}, {nnz} non-zeros", file=sys.stderr)
    return entry


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    calibration = sys.argv[2:] == ["--calibration"]
    probes = sys.argv[2:] == ["--probes"]
    table = calibration_problems() if calibration else probe_problems() if probes else problems()
    which = [] if calibration or probes else sys.argv[2:]
    which = which or [name for name in table if name != "c"]
    unknown = [name for name in which if name not in table]
    if unknown:
        sys.exit(f"unknown problem(s) {unknown}; known: {list(table)}")
    os.makedirs(out, exist_ok=True)
    manifest_path = os.path.join(out, "suite.json")
    manifest = {}
    if os.path.exists(manifest_path):
        manifest = {e["name"]: e for e in json.load(open(manifest_path))["problems"]}
    for name in which:
        seed, build, k, options = table[name]
        if name == "diabetes":
            from sklearn.datasets import load_diabetes
            X, y = load_diabetes(return_X_y=True, scaled=False)
        else:
            rng = np.random.default_rng(seed)
            built = build(rng)
            X, column_scale = built if isinstance(built, tuple) else (built, None)
            y = response(rng, X, k)
            if column_scale is not None:
                X = X * column_scale  # the true model is set before scaling: small columns carry big coefficients
        manifest[name] = write(out, name, X, y, options)
    order = [name for name in table if name in manifest]
    tmp = manifest_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"problems": [manifest[name] for name in order]}, f, indent=1)
    os.replace(tmp, manifest_path)


if __name__ == "__main__":
    main()
