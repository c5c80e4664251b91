"""Sparse products, block pruning and block-sparse layers over the engine."""
import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from . import _core
from ._input import _as_engine_input


def magnitude_histogram(values, bins=10):
    """Histogram of |values| over the non-zero entries, in `bins` log10-spaced bins from the smallest to
    the largest magnitude (the CLI's `histogram`): a dict with `edges` (bins + 1) and `counts`."""
    values = np.asarray(values, dtype=np.float64).ravel()
    return _core.magnitude_histogram(values, int(bins))


def _float_sparse(A):
    if not sp.issparse(A):
        raise TypeError("A must be a scipy.sparse matrix or array (CSR or CSC)")
    A = _as_engine_input(A)
    if A.dtype not in (np.float32, np.float64):
        A = A.astype(np.float64)
    return A


def spmv(A, x, *, transpose=False, threads=0):
    """y = A @ x (or A.T @ x) with Shrink's SpMV kernel; A is SciPy CSR/CSC (int32 or int64 indices),
    read in place when canonical; x matches A's dtype (float64 or float32)."""
    A = _float_sparse(A)
    x = np.ascontiguousarray(x, dtype=A.dtype)
    if x.ndim != 1:
        raise ValueError(f"x must be 1-D, got shape {x.shape}")
    return _core.spmv(A.format, A.data, A.indices, A.indptr, A.shape[0], A.shape[1], x, bool(transpose), int(threads))


class SparseOperator(LinearOperator):
    """A SciPy CSR/CSC matrix as a scipy.sparse.linalg.LinearOperator whose products run on Shrink's SpMV
    kernel (A @ x, A.T @ x, A @ X column by column), reading A's arrays in place when they are
    canonical. Usable wherever SciPy takes an operator (cg, gmres, lsqr, svds, eigsh).

    Attributes: nnz, sparsity_ratio_ (the fraction of A's entries that are zero) and histogram_ (the
    |values| histogram: edges, counts), as the CLI reports them."""

    def __init__(self, A, *, threads=0):
        A = _float_sparse(A)
        super().__init__(dtype=A.dtype, shape=A.shape)
        self._A = A  # keeps the arrays alive: the kernel reads them in place
        self._threads = int(threads)
        self.nnz = int(A.nnz)
        size = A.shape[0] * A.shape[1]
        self.sparsity_ratio_ = 1.0 - float(np.count_nonzero(A.data)) / size if size else 1.0
        self.histogram_ = magnitude_histogram(A.data)

    def _product(self, x, transpose):
        A = self._A
        x = np.ascontiguousarray(np.asarray(x).reshape(-1), dtype=A.dtype)
        return _core.spmv(A.format, A.data, A.indices, A.indptr, A.shape[0], A.shape[1], x, transpose, self._threads)

    def _matvec(self, x):
        return self._product(x, False)

    def _rmatvec(self, x):
        return self._product(x, True)

    def _matmat(self, X):
        return np.column_stack([self._product(X[:, j], False) for j in range(X.shape[1])])

    def _rmatmat(self, X):
        return np.column_stack([self._product(X[:, j], True) for j in range(X.shape[1])])

    def _adjoint(self):  # real values: the adjoint is the transpose, on the same kernel
        return _Transposed(self)

    _transpose = _adjoint


class _Transposed(LinearOperator):
    def __init__(self, op):
        super().__init__(dtype=op.dtype, shape=(op.shape[1], op.shape[0]))
        self._op = op

    def _matvec(self, x):
        return self._op._rmatvec(x)

    def _rmatvec(self, x):
        return self._op._matvec(x)

    def _adjoint(self):
        return self._op

    _transpose = _adjoint


def _dense_float(W, name):
    W = np.asarray(W)
    if W.dtype not in (np.float32, np.float64):
        W = W.astype(np.float64)
    if W.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {W.shape}")
    return W


def prune_blocks(W, *, block=(4, 4), sparsity=0.5, norm="l2", bins=10):
    """Block magnitude pruning: removes the `sparsity` fraction of block x block tiles of W with the
    smallest norm ('l1', 'l2' or 'max'). Returns (W_pruned, report): W_pruned dense with W's shape and
    dtype; report has blocks_total, blocks_kept, block_sparsity, element_sparsity,
    relative_frobenius_error and the block-norm histogram (histogram_edges, histogram_counts)."""
    W = np.ascontiguousarray(_dense_float(W, "W"))
    r, c = block
    out = _core.prune_blocks(W, int(r), int(c), float(sparsity), str(norm), int(bins))
    pruned = out.pop("weights")
    return pruned, out


class BlockSparseLinear:
    """A linear layer y = x @ W.T + bias whose weight W (out x in) is block-sparse, on Shrink's BSR
    kernels: `forward` and `backward` (dX = dY W, and dW on W's pattern only), float64 or float32.

    Build it from a dense W pruned to a block sparsity (the blocks with the smallest norms go), or
    with `from_bsr` from a scipy.sparse BSR matrix (kept as given). Blocks need not divide W's shape.

    Attributes: shape (out, in), block (R, C), nnzb, sparsity_ratio_ (the element sparsity of W),
    histogram_ (W's block-norm histogram before pruning, or |W| when built from BSR) and, after
    pruning, report_ (blocks_total, blocks_kept, block_sparsity, element_sparsity,
    relative_frobenius_error)."""

    def __init__(self, weight, bias=None, *, block=(4, 4), sparsity=0.0, norm="l2", bins=10, threads=0):
        W = _dense_float(weight, "weight")
        cls = _core.BsrLinear64 if W.dtype == np.float64 else _core.BsrLinear32
        b = None if bias is None else np.ascontiguousarray(bias, dtype=W.dtype)
        r, c = block
        self._layer, report = cls.from_dense(W, b, int(r), int(c), float(sparsity), str(norm), int(bins), int(threads))
        self.dtype = W.dtype
        self.histogram_ = {"edges": report.pop("histogram_edges"), "counts": report.pop("histogram_counts")}
        self.report_ = report
        self._summarize()

    @classmethod
    def from_bsr(cls, weight, bias=None, *, threads=0, bins=10):
        """The layer of a scipy.sparse BSR matrix (bsr_matrix or bsr_array), its blocks kept as given."""
        if not sp.issparse(weight) or weight.format != "bsr":
            raise TypeError("weight must be a scipy.sparse BSR matrix or array")
        W = weight.sorted_indices() if not weight.has_sorted_indices else weight
        data = W.data if W.dtype in (np.float32, np.float64) else W.data.astype(np.float64)
        R, C = W.blocksize
        core = _core.BsrLinear64 if data.dtype == np.float64 else _core.BsrLinear32
        b = None if bias is None else np.ascontiguousarray(bias, dtype=data.dtype)
        self = cls.__new__(cls)
        self._layer = core.from_bsr(W.shape[0], W.shape[1], R, C, W.indptr.astype(np.int32).tolist(),
                                    W.indices.astype(np.int32).tolist(), np.ascontiguousarray(data).ravel(), b,
                                    int(threads))
        self.dtype = data.dtype
        self.histogram_ = magnitude_histogram(data, bins)
        self.report_ = None
        self._summarize()
        return self

    def _summarize(self):
        self.shape = tuple(self._layer.shape)
        self.block = tuple(self._layer.block)
        values = self._layer.values()
        self.nnzb = len(self._layer.block_col_idx())
        size = self.shape[0] * self.shape[1]
        self.sparsity_ratio_ = 1.0 - float(np.count_nonzero(values)) / size if size else 1.0

    def _batch(self, a, width, name):
        a = np.ascontiguousarray(a, dtype=self.dtype)
        if a.ndim == 1:
            a = a.reshape(1, -1)
        if a.ndim != 2 or a.shape[1] != width:
            raise ValueError(f"{name} must be (batch, {width}), got shape {a.shape}")
        return a

    def forward(self, x):
        """y = x @ W.T + bias for x of shape (batch, in)."""
        return self._layer.forward(self._batch(x, self.shape[1], "x"))

    __call__ = forward

    def backward(self, grad_output, x):
        """(grad_input, grad_weight, grad_bias) for the loss gradient grad_output (batch, out) at input x:
        grad_input = grad_output @ W; grad_weight on W's block pattern (a BSR matrix of W's shape when the
        blocks divide it, else the stored blocks' values, laid out like `weight_values`); grad_bias is
        grad_output summed over the batch."""
        g = self._batch(grad_output, self.shape[0], "grad_output")
        x = self._batch(x, self.shape[1], "x")
        grad_input = self._layer.backward_input(g)
        grad_values = self._layer.weight_grad(g, x)
        return grad_input, self._as_bsr(grad_values), g.sum(axis=0)

    @property
    def weight_values(self):
        """The stored blocks' values, block after block (R x C each, row-major)."""
        return self._layer.values()

    @weight_values.setter
    def weight_values(self, values):
        self._layer.set_values(np.ascontiguousarray(values, dtype=self.dtype).ravel())

    @property
    def bias(self):
        return self._layer.bias()

    @bias.setter
    def bias(self, values):
        self._layer.set_bias(np.ascontiguousarray(values, dtype=self.dtype))

    @property
    def weight(self):
        """W as a scipy.sparse BSR array (the blocks divide W's shape) or CSR array (they do not)."""
        return self._as_bsr(self._layer.values())

    def _as_bsr(self, values):
        R, C = self.block
        out, inp = self.shape
        ptr = np.asarray(self._layer.block_row_ptr(), dtype=np.int32)
        idx = np.asarray(self._layer.block_col_idx(), dtype=np.int32)
        blocks = np.asarray(values).reshape(-1, R, C)
        if out % R == 0 and inp % C == 0:
            return sp.bsr_array((blocks, idx, ptr), shape=(out, inp))
        padded = sp.bsr_array((blocks, idx, ptr), shape=(-(-out // R) * R, -(-inp // C) * C))
        return sp.csr_array(padded.tocsr()[:out, :inp])

    def to_dense(self):
        return self.weight.toarray()
