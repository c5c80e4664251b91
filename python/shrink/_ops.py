"""Sparse products and block pruning over the engine."""
import numpy as np
import scipy.sparse as sp

from . import _core
from ._linear import _as_engine_input


def spmv(A, x, *, transpose=False, threads=0):
    """y = A @ x (or A.T @ x) with Shrink's SpMV kernel; A is SciPy CSR/CSC (int32 or int64 indices),
    read in place when canonical; x matches A's dtype (float64 or float32)."""
    if not sp.issparse(A):
        raise TypeError("A must be a scipy.sparse matrix or array (CSR or CSC)")
    A = _as_engine_input(A)
    if A.dtype not in (np.float32, np.float64):
        A = A.astype(np.float64)
    x = np.ascontiguousarray(x, dtype=A.dtype)
    if x.ndim != 1:
        raise ValueError(f"x must be 1-D, got shape {x.shape}")
    return _core.spmv(A.format, A.data, A.indices, A.indptr, A.shape[0], A.shape[1], x, bool(transpose), int(threads))


def prune_blocks(W, *, block=(4, 4), sparsity=0.5, norm="l2", bins=10):
    """Block magnitude pruning: removes the `sparsity` fraction of block x block tiles of W with the
    smallest norm ('l1', 'l2' or 'max'). Returns (W_pruned, report): W_pruned dense with W's shape and
    dtype; report has blocks_total, blocks_kept, block_sparsity, element_sparsity,
    relative_frobenius_error and the block-norm histogram (histogram_edges, histogram_counts)."""
    W = np.ascontiguousarray(W)
    if W.dtype not in (np.float32, np.float64):
        W = W.astype(np.float64)
    if W.ndim != 2:
        raise ValueError(f"W must be 2-D, got shape {W.shape}")
    r, c = block
    out = _core.prune_blocks(W, int(r), int(c), float(sparsity), str(norm), int(bins))
    pruned = out.pop("weights")
    return pruned, out
