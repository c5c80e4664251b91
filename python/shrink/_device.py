"""Arrays on a CUDA device (CuPy arrays and sparse matrices, torch CUDA tensors): recognized without
importing those libraries, handed to the engine through DLPack (read in place on the GPU), and the
results given back as the input's array type."""
import numpy as np


def kind(X):
    """'cupy', 'cupy-sparse', 'torch' for data on a CUDA device, else None."""
    module = type(X).__module__ or ""
    if module.startswith("cupyx.scipy.sparse") or module.startswith("cupyx.cusparse"):
        return "cupy-sparse"
    if module.startswith("cupy"):
        return "cupy"
    if module.startswith("torch") and getattr(X, "is_cuda", False):
        return "torch"
    return None


def device_id(X, k):
    if k == "torch":
        return X.device.index or 0
    return int((X.data if k == "cupy-sparse" else X).device.id)


def stream(X, k):
    """The caller's current stream on X's device, as an integer (the engine queues its work there)."""
    if k == "torch":
        import torch
        return int(torch.cuda.current_stream(X.device).cuda_stream)
    import cupy
    return int(cupy.cuda.get_current_stream().ptr)


def dtype(X, k):
    if k == "torch":
        import torch
        return {torch.float64: np.float64, torch.float32: np.float32}.get(X.dtype)
    return np.dtype(X.dtype).type if np.dtype(X.dtype) in (np.float64, np.float32) else None


def to_host(a):
    """A small array (y, weights) on the host as NumPy."""
    k = kind(a)
    if k == "torch":
        return a.detach().cpu().numpy()
    if k == "cupy":
        return a.get()
    return np.asarray(a)


def like(values, X, k):
    """NumPy `values` as X's array type, on X's device."""
    if k == "torch":
        import torch
        return torch.as_tensor(np.ascontiguousarray(values), device=X.device)
    import cupy
    with cupy.cuda.Device(device_id(X, k)):
        return cupy.asarray(values)


def fit_path(X, y, options, folds=()):
    """The engine's path (or cross-validation) on X where it lives, on a CUDA context."""
    from . import _core
    k = kind(X)
    t = dtype(X.data if k == "cupy-sparse" else X, k)
    if t is None:
        raise TypeError("X on a GPU must be float64 or float32")
    y = np.ascontiguousarray(to_host(y), dtype=t)
    options = dict(options, stream=stream(X, k))
    options.pop("backend", None)
    folds = [int(f) for f in folds]
    if k == "cupy-sparse":
        if X.format not in ("csr", "csc"):
            X = X.tocsr()
        if not X.has_canonical_format:
            X = X.copy()
            X.sum_duplicates()
        return _core.lasso_path_sparse_cuda(X.format, X.data, X.indices, X.indptr, X.shape[0], X.shape[1], y, options,
                                            folds)
    return _core.lasso_path_dense_cuda(X, y, options, folds)
