"""shrink.Lasso / ElasticNet / lasso_path / enet_path against scikit-learn (issue 24).

Both sides run with tight tolerances; our coefficients must agree to 1e-6 and our objective be no
worse. The gap we report must bound the true suboptimality (recomputed here in NumPy)."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

import shrink


def problem(n=120, p=40, seed=0, sparse=False, density=0.3):
    rng = np.random.default_rng(seed)
    if sparse:
        X = sp.random(n, p, density=density, random_state=seed, format="csr") * 3.0
        Xd = X.toarray()
    else:
        X = rng.standard_normal((n, p))
        X[:, 1] = X[:, 0] + 0.1 * rng.standard_normal(n)  # a correlated pair
        Xd = X
    w = np.zeros(p)
    w[:6] = [3, -2, 1.5, 0, 1, -0.5]
    y = Xd @ w + 2.0 + 0.3 * rng.standard_normal(n)
    return X, Xd, y


def objective(Xd, y, coef, intercept, alpha, l1_ratio, sample_weight=None):
    n = len(y)
    sw = np.ones(n) if sample_weight is None else sample_weight * n / sample_weight.sum()
    r = y - Xd @ coef - intercept
    return 0.5 * np.sum(sw * r * r) / n + alpha * (l1_ratio * np.abs(coef).sum() + 0.5 * (1 - l1_ratio) * coef @ coef)


CASES = [
    dict(sparse=False, fit_intercept=True, positive=False, weights=False, l1_ratio=1.0),
    dict(sparse=False, fit_intercept=False, positive=False, weights=False, l1_ratio=1.0),
    dict(sparse=False, fit_intercept=True, positive=True, weights=False, l1_ratio=1.0),
    dict(sparse=False, fit_intercept=True, positive=False, weights=True, l1_ratio=1.0),
    dict(sparse=False, fit_intercept=True, positive=False, weights=False, l1_ratio=0.5),
    dict(sparse=True, fit_intercept=True, positive=False, weights=False, l1_ratio=1.0),
    dict(sparse=True, fit_intercept=False, positive=True, weights=False, l1_ratio=0.5),
    dict(sparse=True, fit_intercept=True, positive=False, weights=True, l1_ratio=0.7),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
@pytest.mark.parametrize("alpha", [0.5, 0.05])
def test_agrees_with_scikit_learn(case, alpha):
    X, Xd, y = problem(sparse=case["sparse"], seed=3)
    sw = np.random.default_rng(1).uniform(0.2, 3.0, len(y)) if case["weights"] else None
    kw = dict(alpha=alpha, fit_intercept=case["fit_intercept"], positive=case["positive"])
    # The gap bounds the coefficients' error only by its square root (strong convexity), so 1e-6 on the
    # coefficients needs a relative gap near 1e-14.
    ours = shrink.ElasticNet(l1_ratio=case["l1_ratio"], tol=1e-14, max_iter=100000, **kw).fit(X, y, sample_weight=sw)
    ref = linear_model.ElasticNet(l1_ratio=case["l1_ratio"], tol=1e-14, max_iter=1000000, **kw).fit(X, y,
                                                                                                  sample_weight=sw)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    assert abs(ours.intercept_ - ref.intercept_) < 1e-6
    mine = objective(Xd, y, ours.coef_, ours.intercept_, alpha, case["l1_ratio"], sw)
    theirs = objective(Xd, y, ref.coef_, ref.intercept_, alpha, case["l1_ratio"], sw)
    assert mine <= theirs * (1 + 1e-12) + 1e-15
    assert ours.converged_ and ours.n_iter_ >= 1
    # The certificate bounds the true suboptimality (the better of the two answers stands in for the
    # optimum, so this can only understate it).
    assert mine - min(mine, theirs) <= max(ours.dual_gap_, 0) + 1e-13 * mine  # rounding in the sums
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), atol=1e-5)


@pytest.mark.parametrize("case", [c for c in CASES if c["sparse"]], ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_gram_on_sparse_x_agrees_with_scikit_learn(case):
    """solver='gram' on a scipy.sparse X: G from the products of its rows' entries (no dense copy)."""
    X, Xd, y = problem(n=300, sparse=True, seed=5)
    sw = np.random.default_rng(2).uniform(0.2, 3.0, len(y)) if case["weights"] else None
    kw = dict(alpha=0.05, l1_ratio=case["l1_ratio"], fit_intercept=case["fit_intercept"], positive=case["positive"])
    ours = shrink.ElasticNet(tol=1e-14, max_iter=100000, solver="gram", **kw).fit(X, y, sample_weight=sw)
    ref = linear_model.ElasticNet(tol=1e-14, max_iter=1000000, **kw).fit(Xd, y, sample_weight=sw)
    assert ours.converged_
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    assert abs(ours.intercept_ - ref.intercept_) < 1e-6


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("weights", [False, True], ids=["unweighted", "weighted"])
def test_few_valued_columns_agree_with_scikit_learn(sparse, weights):
    """0/1/2 genotype-like columns (about 28% non-zero), p > n so that cd runs: it reads them by value
    group, and a dense X through its sparse copy."""
    rng = np.random.default_rng(12)
    n, p = 90, 240
    Xd = rng.binomial(2, rng.uniform(0.02, 0.3, p), size=(n, p)).astype(float)
    w = np.zeros(p)
    w[[3, 17, 40, 41, 100]] = [1.5, -1.0, 0.8, 0.6, -0.7]
    y = Xd @ w + 0.5 + 0.3 * rng.standard_normal(n)
    X = sp.csc_matrix(Xd) if sparse else Xd
    sw = rng.uniform(0.2, 3.0, n) if weights else None
    for alpha in (0.1, 0.01):
        # 1e-13: at 1e-14 a gap's own rounding (about 1e-14 relative) decides, and the solver stops
        # where its gap stops falling (StallWatch) without claiming it
        ours = shrink.Lasso(alpha=alpha, tol=1e-13, max_iter=100000).fit(X, y, sample_weight=sw)
        ref = linear_model.Lasso(alpha=alpha, tol=1e-14, max_iter=1000000).fit(X, y, sample_weight=sw)
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
        assert abs(ours.intercept_ - ref.intercept_) < 1e-6
        mine = objective(Xd, y, ours.coef_, ours.intercept_, alpha, 1.0, sw)
        theirs = objective(Xd, y, ref.coef_, ref.intercept_, alpha, 1.0, sw)
        assert mine <= theirs * (1 + 1e-12) + 1e-15
        assert ours.converged_


def test_lasso_is_elastic_net_at_one():
    X, _, y = problem()
    a = shrink.Lasso(alpha=0.1, tol=1e-12).fit(X, y)
    b = shrink.ElasticNet(alpha=0.1, l1_ratio=1.0, tol=1e-12).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.get_params()["alpha"] == 0.1 and "l1_ratio" not in a.get_params()


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_two_dimensional_y_is_column_by_column(sparse, weighted):
    # Without weights a 2-D y goes through the batched solver (one G for every column); with them,
    # one path per column. Either way each column is its own problem: the same objective as a
    # 1-D fit to the tolerance, and coefficients within what a 1e-12 relative gap allows.
    X, _, y = problem()
    X = sp.csr_matrix(X) if sparse else X
    Y = np.column_stack([y, -2 * y + 1, np.sin(y)])
    w = np.linspace(0.5, 2.0, len(y)) if weighted else None
    both = shrink.Lasso(alpha=0.05, tol=1e-12).fit(X, Y, sample_weight=w)
    assert both.coef_.shape == (3, X.shape[1]) and both.intercept_.shape == (3,)
    if not weighted:
        assert both.solver_ == "gram"  # the batched solver's
    for k in range(3):
        one = shrink.Lasso(alpha=0.05, tol=1e-12).fit(X, Y[:, k], sample_weight=w)
        assert abs(both.objective_[k] - one.objective_) <= 2e-12 * one.objective_
        np.testing.assert_allclose(both.coef_[k], one.coef_, rtol=0, atol=1e-8)
        assert abs(both.intercept_[k] - one.intercept_) < 1e-8
        assert both.dual_gap_[k] <= 1e-12 * both.objective_[k]
    assert both.predict(X).shape == (len(y), 3)


def test_scikit_learns_parameters_are_taken():
    # Every parameter scikit-learn's estimator has, with its default, so a script written for
    # scikit-learn runs unchanged; precompute=True picks the Gram solver, and the parameters that
    # change no answer here (copy_X, warm_start, selection, random_state) leave the answer as it is.
    pairs = [(linear_model.Lasso, shrink.Lasso), (linear_model.ElasticNet, shrink.ElasticNet),
             (linear_model.LassoCV, shrink.LassoCV), (linear_model.ElasticNetCV, shrink.ElasticNetCV)]
    for theirs, ours in pairs:
        a, b = theirs().get_params(), ours().get_params()
        assert set(a) <= set(b), (theirs.__name__, sorted(set(a) - set(b)))
        assert {k: (a[k], b[k]) for k in a if a[k] != b[k]} == {}, theirs.__name__
    X, _, y = problem()
    plain = shrink.Lasso(alpha=0.05, tol=1e-12).fit(X, y)
    assert shrink.Lasso(alpha=0.05, precompute=True).fit(X, y).solver_ == "gram"
    other = shrink.Lasso(alpha=0.05, tol=1e-12, warm_start=True, selection="random", random_state=3,
                         copy_X=False).fit(X, y)
    np.testing.assert_array_equal(plain.coef_, other.coef_)
    with pytest.raises(ValueError, match="selection"):
        shrink.Lasso(selection="shuffled").fit(X, y)
    with pytest.raises(ValueError, match="precompute"):
        shrink.Lasso(precompute=X.T @ X).fit(X, y)
    assert shrink.LassoCV(alphas=5, cv=3, n_jobs=1, verbose=True).fit(X, y).alpha_ > 0


def test_one_column_y_has_scikit_learns_shapes():
    X, _, y = problem()
    ours = shrink.Lasso(alpha=0.05).fit(X, y[:, None])
    theirs = linear_model.Lasso(alpha=0.05).fit(X, y[:, None])
    assert ours.coef_.shape == theirs.coef_.shape == (X.shape[1],)
    assert np.shape(ours.intercept_) == np.shape(theirs.intercept_) == (1,)
    assert ours.predict(X).shape == theirs.predict(X).shape


def test_max_iter_one_warns():
    X, _, y = problem(p=80)
    with pytest.warns(ConvergenceWarning):
        m = shrink.Lasso(alpha=0.001, max_iter=1, tol=1e-14, solver="cd").fit(X, y)
    assert not m.converged_


@pytest.mark.parametrize("kind", ["readonly", "noncontiguous", "float32", "fortran", "csc", "int64", "csr_array",
                                  "unsorted"])
def test_inputs_as_users_hold_them(kind):
    X, Xd, y = problem(sparse=kind in ("csc", "int64", "csr_array", "unsorted"), seed=5)
    want = shrink.Lasso(alpha=0.05, tol=1e-12).fit(Xd, y).coef_
    tol = 1e-6
    if kind == "readonly":
        X = Xd.copy()
        X.setflags(write=False)
        y = y.copy()
        y.setflags(write=False)
    elif kind == "noncontiguous":
        X = np.repeat(Xd, 2, axis=1)[:, ::2]
    elif kind == "float32":
        X, tol = Xd.astype(np.float32), 1e-3
    elif kind == "fortran":
        X = np.asfortranarray(Xd)
    elif kind == "csc":
        X = X.tocsc()
    elif kind == "int64":
        X = X.copy()
        X.indices = X.indices.astype(np.int64)
        X.indptr = X.indptr.astype(np.int64)
    elif kind == "csr_array":
        X = sp.csr_array(X)
    elif kind == "unsorted":
        X = sp.csr_matrix((np.r_[X.data, [0.0]], np.r_[X.indices, [X.indices[0]]],
                           np.r_[X.indptr[:-1], [X.indptr[-1] + 1]]), shape=X.shape)
        X.has_sorted_indices = False
    got = shrink.Lasso(alpha=0.05, tol=1e-12 if kind != "float32" else 1e-6).fit(X, y).coef_
    np.testing.assert_allclose(got, want, atol=tol)


def test_paths_agree_with_scikit_learn():
    X, Xd, y = problem(seed=7)
    Xc, yc = Xd - Xd.mean(0), y - y.mean()
    alphas_ref, coefs_ref, _ = linear_model.lasso_path(Xc, yc, alphas=20, tol=1e-14, max_iter=1000000)
    alphas, coefs, gaps = shrink.lasso_path(Xc, yc, alphas=alphas_ref, tol=1e-13)  # 1e-14 is below the
    # rounding floor of the gap at the smallest alphas here (about 3e-14 relative)
    np.testing.assert_allclose(alphas, alphas_ref)
    np.testing.assert_allclose(coefs, coefs_ref, atol=1e-6)
    assert np.all(gaps >= -1e-12)
    a, c, g, it = shrink.enet_path(Xc, yc, l1_ratio=0.5, n_alphas=15, return_n_iter=True)
    assert c.shape == (X.shape[1], 15) and len(it) == 15
    ref_alphas, ref_coefs, _ = linear_model.enet_path(Xc, yc, l1_ratio=0.5, alphas=a, tol=1e-14, max_iter=1000000)
    np.testing.assert_allclose(shrink.enet_path(Xc, yc, l1_ratio=0.5, alphas=a, tol=1e-14)[1], ref_coefs, atol=1e-6)


def test_bad_input_is_refused_clearly():
    X, _, y = problem()
    with pytest.raises(ValueError):
        shrink.Lasso().fit(X, y[:-1])
    Xn = X.copy()
    Xn[3, 4] = np.nan
    with pytest.raises(ValueError):
        shrink.Lasso().fit(Xn, y)
    with pytest.raises(ValueError, match="alpha"):
        shrink.Lasso(alpha=-1).fit(X, y)
    with pytest.raises(ValueError, match="penalty|factor"):
        shrink.Lasso(penalty_factor=np.ones(3)).fit(X, y)


def test_penalty_factor_zero_keeps_a_feature():
    X, _, y = problem()
    v = np.ones(X.shape[1])
    v[10] = 0  # an unpenalized noise feature
    m = shrink.Lasso(alpha=10.0, penalty_factor=v).fit(X, y)
    assert m.coef_[10] != 0 and np.count_nonzero(m.coef_) == 1
    assert m.sparsity_ratio_ == pytest.approx(1 - 1 / X.shape[1])


@pytest.mark.parametrize("sparse", [False, True])
def test_cross_validation_agrees_with_scikit_learn(sparse):
    X, _, y = problem(n=150, sparse=sparse, seed=11)
    ours = shrink.LassoCV(cv=5, tol=1e-11, max_iter=100000).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = linear_model.LassoCV(cv=5, alphas=ours.alphas_, tol=1e-12, max_iter=100000).fit(X, y)
    np.testing.assert_allclose(ours.alphas_, ref.alphas_)
    assert ours.mse_path_.shape == ref.mse_path_.shape == (100, 5)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-6)
    assert ours.alpha_ == ref.alpha_
    assert ours.alpha_1se_ >= ours.alpha_
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    # Elastic Net over a list of l1 ratios: the same choice of pair.
    e = shrink.ElasticNetCV(l1_ratio=[0.2, 0.7, 1.0], cv=4, tol=1e-11, max_iter=100000).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        r = linear_model.ElasticNetCV(l1_ratio=[0.2, 0.7, 1.0], cv=4, alphas=100, tol=1e-12, max_iter=100000).fit(X, y)
    assert e.mse_path_.shape == r.mse_path_.shape
    np.testing.assert_allclose(e.alphas_, r.alphas_)
    assert e.l1_ratio_ == r.l1_ratio_ and e.alpha_ == pytest.approx(r.alpha_, rel=1e-12)


def test_cross_validation_refuses_splitters_that_miss_samples():
    from sklearn.model_selection import ShuffleSplit

    X, _, y = problem()
    with pytest.raises(ValueError, match="test fold"):
        shrink.LassoCV(cv=ShuffleSplit(3, test_size=0.2, random_state=0)).fit(X, y)


# scikit-learn's own estimator checks. The CV estimators run on a short grid to keep the checks quick.
# Their one expected failure is the one scikit-learn's own LassoCV and ElasticNetCV declare: folds are
# assigned per row, so repeating a row (the checks' stand-in for an integer weight) moves samples
# between folds, and the choice of alpha is not the weighted one's.
CV_WEIGHT_XFAIL = {name: "folds are assigned per row: repeated rows are not integer weights under CV"
                   for name in ("check_sample_weight_equivalence_on_dense_data",
                                "check_sample_weight_equivalence_on_sparse_data")}


def expected_failures(estimator):
    return CV_WEIGHT_XFAIL if isinstance(estimator, shrink.ElasticNetCV) else {}


@parametrize_with_checks([shrink.Lasso(), shrink.ElasticNet(), shrink.LassoCV(alphas=8, cv=3),
                          shrink.ElasticNetCV(alphas=8, cv=3)], expected_failed_checks=expected_failures)
def test_scikit_learn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def test_openblas_core_follows_the_vendor():
    """OPENBLAS_CORETYPE chosen at import: SkylakeX only for Intel's AVX-512; AMD's AVX-512 takes
    Haswell (older OpenBLAS releases miscompute or crash with SkylakeX kernels there)."""
    from shrink import _openblas_core
    avx512 = "fpu sse2 avx2 fma avx512f avx512cd avx512bw avx512dq avx512vl"
    assert _openblas_core(f"vendor_id\t: GenuineIntel\nflags\t\t: {avx512}\n") == "SkylakeX"
    assert _openblas_core(f"vendor_id\t: AuthenticAMD\nflags\t\t: {avx512}\n") == "Haswell"
    assert _openblas_core("vendor_id\t: AuthenticAMD\nflags\t\t: sse2 avx2 fma\n") == "Haswell"
    assert _openblas_core("vendor_id\t: GenuineIntel\nflags\t\t: sse2 sse4_2\n") is None
    assert _openblas_core("") is None
