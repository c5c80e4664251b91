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
