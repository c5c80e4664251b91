"""Shrink: Lasso / Elastic-Net with duality-gap certificates, on scikit-learn's interface.

    import shrink
    model = shrink.Lasso(alpha=0.1).fit(X, y)      # X: NumPy (C or F order) or SciPy CSR/CSC
    model.coef_, model.intercept_, model.dual_gap_  # the gap is a certificate: objective - dual bound

The objective is scikit-learn's: (1/(2n)) ||y - X w - b||^2 + alpha * (l1_ratio ||w||_1 +
(1 - l1_ratio)/2 ||w||^2), with sample weights rescaled to sum to n. `tol` is the relative duality
gap every fit reaches (gap <= tol * objective), not scikit-learn's scaled gap.
"""
import os as _os
import sys as _sys


def _openblas_core(cpuinfo):
    """The OpenBLAS core type for the CPU that /proc/cpuinfo's text describes, from its instruction sets
    and vendor (the rule of the C++ library's openblas_core_for): SkylakeX for Intel's AVX-512,
    Haswell for AVX2 and FMA, and for AMD's AVX-512 too, since OpenBLAS releases older than Zen 4 and 5
    compute wrong results or crash with the SkylakeX kernels on some of them; None otherwise."""
    flags, vendor = set(), ""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "flags" and not flags:
            flags = set(value.split())
        elif key == "vendor_id" and not vendor:
            vendor = value.strip()
    if {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"} <= flags and vendor != "AuthenticAMD":
        return "SkylakeX"
    if {"avx2", "fma"} <= flags:
        return "Haswell"
    return None


def _openblas_kernels_for_this_cpu():
    """OPENBLAS_CORETYPE for the engine's OpenBLAS while it loads (_openblas_core): an OpenBLAS older
    than the CPU model (Debian 12's 0.3.21 on current Xeons) otherwise runs generic SSE3 kernels, 1.5x
    slower on the Gram build (shrink.blas_info() shows what was loaded). Returns the value to restore
    afterwards (None: unset), or False when nothing was set."""
    if "OPENBLAS_CORETYPE" in _os.environ or not _sys.platform.startswith("linux"):
        return False
    try:
        with open("/proc/cpuinfo") as f:
            core = _openblas_core(f.read())
    except OSError:
        return False
    if core is None:
        return False
    _os.environ["OPENBLAS_CORETYPE"] = core
    return None


_set = _openblas_kernels_for_this_cpu()
try:
    from ._core import blas_info, cuda_compiled, version
finally:
    if _set is None:  # read by OpenBLAS as it loaded; other libraries loaded later choose their own
        del _os.environ["OPENBLAS_CORETYPE"]
# The rest loads when first used (PEP 562): the estimators import scikit-learn, about 2 s of a cold
# start, which `import shrink` and spmv do not need.
_LAZY = {
    "Lasso": "_linear", "ElasticNet": "_linear", "LassoCV": "_linear", "ElasticNetCV": "_linear",
    "lasso_path": "_linear", "enet_path": "_linear",
    "BlockSparseLinear": "_ops", "SparseOperator": "_ops", "magnitude_histogram": "_ops", "prune_blocks": "_ops",
    "spmv": "_ops",
    "SparseAutoencoder": "_sae",
}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module("." + module, __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__version__ = "0.1.0"
__all__ = ["Lasso", "ElasticNet", "LassoCV", "ElasticNetCV", "SparseAutoencoder", "spmv", "SparseOperator", "prune_blocks", "BlockSparseLinear", "magnitude_histogram", "lasso_path", "enet_path", "version", "cuda_compiled", "blas_info"]
