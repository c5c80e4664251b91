"""Arrays on a GPU through DLPack: CuPy arrays and sparse matrices, torch CUDA tensors. Each test checks
the CPU fit's answer, that X was not copied to the host (the engine's transfer counts), and that the
result comes back as the input's array type on its device; one runs on a non-default stream. They skip
with a reason without CuPy / torch, without a CUDA build of the module, or without a device (this
machine and CI have none; the device plan runs them where a GPU is lent)."""
import numpy as np
import pytest

import shrink
from shrink import _device


def _cupy():
    cupy = pytest.importorskip("cupy", reason="CuPy is not installed")
    if not shrink.cuda_compiled():
        pytest.skip("the module was built without CUDA (pip install . without SHRINK_CUDA=OFF builds it)")
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            pytest.skip("no CUDA device")
    except Exception as e:  # no driver
        pytest.skip(f"no CUDA device ({e})")
    return cupy


def _torch():
    torch = pytest.importorskip("torch", reason="torch is not installed")
    if not shrink.cuda_compiled():
        pytest.skip("the module was built without CUDA")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device for torch")
    return torch


def _problem(n=400, p=60, seed=0):
    rng = np.random.default_rng(seed)
    X = np.asfortranarray(rng.standard_normal((n, p)))
    y = X[:, :6] @ np.array([3, -2, 1.5, 1, -1, 0.5]) + 0.3 * rng.standard_normal(n)
    return X, y


def test_host_arrays_are_not_taken_for_device_ones():
    X, y = _problem(50, 8)
    assert _device.kind(X) is None and _device.kind(y) is None
    import scipy.sparse as sp
    assert _device.kind(sp.csr_matrix(X)) is None


def test_cupy_dense_on_a_non_default_stream_matches_the_cpu():
    cupy = _cupy()
    X, y = _problem()
    cpu = shrink.Lasso(alpha=0.05, tol=1e-10).fit(X, y)
    Xd = cupy.asfortranarray(cupy.asarray(X))
    with cupy.cuda.Stream(non_blocking=True):
        gpu = shrink.Lasso(alpha=0.05, tol=1e-10).fit(Xd, cupy.asarray(y))
    assert isinstance(gpu.coef_, cupy.ndarray)
    np.testing.assert_allclose(cupy.asnumpy(gpu.coef_), cpu.coef_, atol=1e-6)
    assert gpu.transfers_["input_host_copies"] == 0  # X was read on the device
    np.testing.assert_allclose(cupy.asnumpy(gpu.predict(Xd)), cpu.predict(X), atol=1e-5)


def test_cupy_sparse_and_cross_validation_match_the_cpu():
    cupy = _cupy()
    import cupyx.scipy.sparse as csp
    import scipy.sparse as sp
    X, y = _problem(500, 80, seed=1)
    X[np.abs(X) < 1.0] = 0
    Xs = sp.csr_matrix(X)
    cpu = shrink.Lasso(alpha=0.02, tol=1e-10).fit(Xs, y)
    gpu = shrink.Lasso(alpha=0.02, tol=1e-10).fit(csp.csr_matrix(Xs), cupy.asarray(y))
    np.testing.assert_allclose(cupy.asnumpy(gpu.coef_), cpu.coef_, atol=1e-6)
    assert gpu.transfers_["input_host_copies"] == 0
    cv_cpu = shrink.LassoCV(cv=4, tol=1e-9).fit(X, y)
    cv_gpu = shrink.LassoCV(cv=4, tol=1e-9).fit(cupy.asarray(np.asfortranarray(X)), y)
    np.testing.assert_allclose(cv_gpu.mse_path_, cv_cpu.mse_path_, rtol=1e-6)
    assert cv_gpu.alpha_ == pytest.approx(cv_cpu.alpha_)


def test_torch_cuda_tensor_matches_the_cpu():
    torch = _torch()
    X, y = _problem(seed=2)
    cpu = shrink.ElasticNet(alpha=0.05, l1_ratio=0.5, tol=1e-10).fit(X, y)
    Xt = torch.from_numpy(np.ascontiguousarray(X.T)).cuda().T  # column-major on the device
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        gpu = shrink.ElasticNet(alpha=0.05, l1_ratio=0.5, tol=1e-10).fit(Xt, torch.from_numpy(y).cuda())
    assert torch.is_tensor(gpu.coef_) and gpu.coef_.is_cuda
    np.testing.assert_allclose(gpu.coef_.cpu().numpy(), cpu.coef_, atol=1e-6)
    assert gpu.transfers_["input_host_copies"] == 0
    alphas, coefs, gaps = shrink.lasso_path(Xt.float(), torch.from_numpy(y).float().cuda(), n_alphas=10)
    assert torch.is_tensor(coefs) and coefs.shape == (X.shape[1], 10)
