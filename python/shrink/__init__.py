"""Shrink: Lasso / Elastic-Net with duality-gap certificates, on scikit-learn's interface.

    import shrink
    model = shrink.Lasso(alpha=0.1).fit(X, y)      # X: NumPy (C or F order) or SciPy CSR/CSC
    model.coef_, model.intercept_, model.dual_gap_  # the gap is a certificate: objective - dual bound

The objective is scikit-learn's: (1/(2n)) ||y - X w - b||^2 + alpha * (l1_ratio ||w||_1 +
(1 - l1_ratio)/2 ||w||^2), with sample weights rescaled to sum to n. `tol` is the relative duality
gap every fit reaches (gap <= tol * objective), not scikit-learn's scaled gap.
"""
from ._core import cuda_compiled, version
from ._linear import ElasticNet, ElasticNetCV, Lasso, LassoCV, enet_path, lasso_path
from ._ops import BlockSparseLinear, SparseOperator, magnitude_histogram, prune_blocks, spmv
from ._sae import SparseAutoencoder

__version__ = "0.1.0"
__all__ = ["Lasso", "ElasticNet", "LassoCV", "ElasticNetCV", "SparseAutoencoder", "spmv", "SparseOperator", "prune_blocks", "BlockSparseLinear", "magnitude_histogram", "lasso_path", "enet_path", "version", "cuda_compiled"]
