"""Arrays as the engine reads them, without scikit-learn (spmv and the operators need no estimator)."""
import numpy as np
import scipy.sparse as sp


def _as_engine_input(X):
    """X as the engine reads it in place: a dense array contiguous along one axis (C or F order), or
    canonical CSR/CSC (sorted indices, no duplicates; int32 or int64 indices)."""
    if sp.issparse(X):
        fmt = X.format if X.format in ("csr", "csc") else "csr"
        if X.format != fmt:
            X = X.asformat(fmt)
        if not X.has_canonical_format:
            X = X.copy()
            X.sum_duplicates()
        if X.indices.dtype != X.indptr.dtype:
            X = X.copy()
            X.indptr = X.indptr.astype(X.indices.dtype)
        return X
    X = np.asarray(X)
    if not (X.flags.c_contiguous or X.flags.f_contiguous):
        X = np.asfortranarray(X)
    return X
