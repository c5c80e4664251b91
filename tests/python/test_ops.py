"""shrink.spmv against SciPy, shrink.prune_blocks against a NumPy reference."""
import numpy as np
import pytest
import scipy.sparse as sp

import shrink


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("index", [np.int32, np.int64])
@pytest.mark.parametrize("transpose", [False, True])
def test_spmv_agrees_with_scipy(fmt, dtype, index, transpose):
    A = sp.random(300, 170, density=0.05, format=fmt, dtype=dtype, random_state=1)
    A.indices, A.indptr = A.indices.astype(index), A.indptr.astype(index)
    x = np.random.default_rng(2).standard_normal(A.shape[0] if transpose else A.shape[1]).astype(dtype)
    want = (A.T @ x) if transpose else (A @ x)
    got = shrink.spmv(A, x, transpose=transpose)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)


def test_spmv_refuses_a_wrong_x():
    A = sp.random(30, 20, density=0.2, format="csr", random_state=0)
    with pytest.raises(ValueError, match="x has 30"):
        shrink.spmv(A, np.ones(30))


@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
def test_prune_blocks_keeps_the_largest_blocks(norm):
    rng = np.random.default_rng(4)
    W = rng.standard_normal((16, 24))
    pruned, report = shrink.prune_blocks(W, block=(4, 4), sparsity=0.5, norm=norm)
    blocks = W.reshape(4, 4, 6, 4).transpose(0, 2, 1, 3).reshape(24, 16)
    score = {"l1": np.abs(blocks).sum(1), "l2": np.sqrt((blocks ** 2).sum(1)), "max": np.abs(blocks).max(1)}[norm]
    keep = np.zeros(24, bool)
    keep[np.argsort(-score, kind="stable")[:12]] = True
    want = (blocks * keep[:, None]).reshape(4, 6, 4, 4).transpose(0, 2, 1, 3).reshape(16, 24)
    np.testing.assert_array_equal(pruned, want)
    assert report["blocks_total"] == 24 and report["blocks_kept"] == 12 and report["block_sparsity"] == 0.5
    assert report["relative_frobenius_error"] == pytest.approx(np.linalg.norm(W - want) / np.linalg.norm(W))
    assert report["histogram_counts"].sum() == 24


# ---- SparseOperator ------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_operator_products_agree_with_scipy(fmt, dtype):
    A = sp.random(120, 80, density=0.07, format=fmt, dtype=dtype, random_state=3)
    op = shrink.SparseOperator(A)
    rng = np.random.default_rng(5)
    x, z, X = rng.standard_normal(80).astype(dtype), rng.standard_normal(120).astype(dtype), rng.standard_normal((80, 3)).astype(dtype)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(op @ x, A @ x, **tol)
    np.testing.assert_allclose(op.T @ z, A.T @ z, **tol)
    np.testing.assert_allclose(op.rmatvec(z), A.T @ z, **tol)
    np.testing.assert_allclose(op @ X, A @ X, **tol)
    assert op.shape == A.shape and op.dtype == dtype and op.nnz == A.nnz
    assert op.sparsity_ratio_ == pytest.approx(1 - np.count_nonzero(A.toarray()) / np.prod(A.shape))
    assert int(np.sum(op.histogram_["counts"])) == np.count_nonzero(A.data)


def test_sparse_operator_runs_scipy_solvers():
    from scipy.sparse.linalg import cg, lsqr
    rng = np.random.default_rng(7)
    B = sp.random(200, 200, density=0.02, format="csr", random_state=8)
    A = (B @ B.T + 5 * sp.eye(200)).tocsr()  # symmetric positive definite
    b = rng.standard_normal(200)
    x, info = cg(shrink.SparseOperator(A), b, rtol=1e-12, maxiter=2000)
    assert info == 0
    np.testing.assert_allclose(A @ x, b, atol=1e-8)
    R = sp.random(300, 40, density=0.1, format="csc", random_state=9)
    y = rng.standard_normal(300)
    got = lsqr(shrink.SparseOperator(R), y, atol=1e-14, btol=1e-14)[0]
    want = np.linalg.lstsq(R.toarray(), y, rcond=None)[0]
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


# ---- BlockSparseLinear ----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,block", [((16, 24), (4, 4)), ((10, 13), (4, 3))])  # the second leaves partial blocks
def test_block_sparse_linear_forward_and_backward_match_numpy(dtype, shape, block):
    rng = np.random.default_rng(11)
    W = rng.standard_normal(shape).astype(dtype)
    b = rng.standard_normal(shape[0]).astype(dtype)
    layer = shrink.BlockSparseLinear(W, b, block=block, sparsity=0.5)
    Wp = layer.to_dense()
    assert Wp.shape == shape and layer.shape == shape and layer.block == block
    pruned, report = shrink.prune_blocks(W, block=block, sparsity=0.5)
    np.testing.assert_array_equal(Wp, pruned)  # the same blocks as prune_blocks keeps
    assert layer.report_["blocks_kept"] == report["blocks_kept"]
    assert layer.sparsity_ratio_ == pytest.approx(np.mean(Wp == 0))
    assert int(np.sum(layer.histogram_["counts"])) == report["blocks_total"]
    x = rng.standard_normal((7, shape[1])).astype(dtype)
    g = rng.standard_normal((7, shape[0])).astype(dtype)
    tol = dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer(x), x @ Wp.T + b, **tol)
    grad_input, grad_weight, grad_bias = layer.backward(g, x)
    np.testing.assert_allclose(grad_input, g @ Wp, **tol)
    # dW is dY^T X on the kept blocks only.
    kept = np.zeros(shape, bool)
    R, C = block
    for i in range(0, shape[0], R):
        for j in range(0, shape[1], C):
            if np.any(Wp[i:i + R, j:j + C] != 0):
                kept[i:i + R, j:j + C] = True
    np.testing.assert_allclose(grad_weight.toarray(), np.where(kept, g.T @ x, 0), **tol)
    np.testing.assert_allclose(grad_bias, g.sum(axis=0), **tol)


def test_block_sparse_linear_gradient_matches_finite_differences():
    rng = np.random.default_rng(13)
    W = rng.standard_normal((8, 12))
    layer = shrink.BlockSparseLinear(W, np.zeros(8), block=(2, 4), sparsity=0.25)
    x = rng.standard_normal((5, 12))
    target = rng.standard_normal((5, 8))

    def loss():
        return 0.5 * np.sum((layer(x) - target) ** 2)

    g = layer(x) - target
    _, grad_weight, _ = layer.backward(g, x)
    analytic = grad_weight.data.ravel()  # BSR blocks in the layer's stored order
    values = layer.weight_values.copy()
    numeric = np.empty_like(values)
    h = 1e-6
    for k in range(values.size):
        v = values.copy()
        v[k] += h
        layer.weight_values = v
        up = loss()
        v[k] -= 2 * h
        layer.weight_values = v
        numeric[k] = (up - loss()) / (2 * h)
    layer.weight_values = values
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-6)


def test_block_sparse_linear_from_scipy_bsr():
    rng = np.random.default_rng(17)
    dense = rng.standard_normal((12, 8)) * (rng.random((12, 8)) < 0.5)
    Wb = sp.bsr_array(dense, blocksize=(3, 2))
    layer = shrink.BlockSparseLinear.from_bsr(Wb, bias=np.ones(12))
    np.testing.assert_allclose(layer.to_dense(), dense)
    x = rng.standard_normal((4, 8))
    np.testing.assert_allclose(layer(x), x @ dense.T + 1, rtol=1e-12, atol=1e-12)
    assert layer.weight.format == "bsr" and layer.weight.blocksize == (3, 2)


def test_block_sparse_linear_refuses_bad_inputs():
    layer = shrink.BlockSparseLinear(np.ones((4, 6)), block=(2, 2))
    with pytest.raises(ValueError, match="x must be"):
        layer(np.ones((3, 5)))
    with pytest.raises(ValueError, match="bias has 3"):
        shrink.BlockSparseLinear(np.ones((4, 6)), np.ones(3), block=(2, 2))
    bad = np.ones((2, 6))
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        layer(bad)


def test_results_report_their_histogram():
    rng = np.random.default_rng(19)
    X = rng.standard_normal((60, 15))
    y = X[:, 0] - 2 * X[:, 3] + 0.1 * rng.standard_normal(60)
    model = shrink.Lasso(alpha=0.05).fit(X, y)
    assert int(np.sum(model.histogram_["counts"])) == np.count_nonzero(model.coef_)
    assert len(model.histogram_["edges"]) == len(model.histogram_["counts"]) + 1
    h = shrink.magnitude_histogram([0, 1e-3, 1, -10])
    assert int(np.sum(h["counts"])) == 3 and h["edges"][0] == pytest.approx(1e-3) and h["edges"][-1] == pytest.approx(10)


def test_import_and_spmv_do_not_load_scikit_learn():
    """The estimators load scikit-learn (about 2 s cold) when first named; `import shrink` and the
    operators do not, and every public name still resolves, by attribute and by `import *`."""
    import subprocess
    import sys
    code = (
        "import sys, numpy as np, scipy.sparse as sp, shrink\n"
        "assert 'sklearn' not in sys.modules, 'import shrink'\n"
        "shrink.spmv(sp.identity(3, format='csr'), np.ones(3))\n"
        "assert 'sklearn' not in sys.modules, 'spmv'\n"
        "assert set(shrink.__all__) <= set(dir(shrink))\n"
        "names = {}\n"
        "exec('from shrink import *', names)\n"
        "assert all(n in names for n in shrink.__all__)\n"
        "assert shrink.Lasso.__module__ == 'shrink._linear' and 'sklearn' in sys.modules\n"
        "try:\n"
        "    shrink.no_such_name\n"
        "except AttributeError as e:\n"
        "    assert 'no_such_name' in str(e)\n"
        "else:\n"
        "    raise SystemExit('no AttributeError')\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
