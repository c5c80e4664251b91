"""Lasso and Elastic Net estimators and paths over shrink._core (scikit-learn's names and defaults)."""
import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import _core, _device
from ._input import _as_engine_input


def _fit_path(X, y, options, folds=()):
    """One response: the engine's path as a dict of arrays (coef is p x L); with folds (the fold of
    each sample), its cross-validation over the path's grid."""
    y = np.ascontiguousarray(y, dtype=X.dtype)
    folds = [int(f) for f in folds]
    if sp.issparse(X):
        return _core.lasso_path_sparse(X.format, X.data, X.indices, X.indptr, X.shape[0], X.shape[1], y, options,
                                       folds)
    return _core.lasso_path_dense(X, y, options, folds)


def _fit_batch(X, Y, options):
    """k responses (the columns of Y) at one lambda through the batched solver: the engine's answer as
    a dict of arrays with one entry per problem (coef is p x k)."""
    Y = _as_engine_input(np.asarray(Y, dtype=X.dtype))
    if sp.issparse(X):
        return _core.lasso_batch_sparse(X.format, X.data, X.indices, X.indptr, X.shape[0], X.shape[1], Y, options)
    return _core.lasso_batch_dense(X, Y, options)


def _batch_allowed(X, options):
    """Whether the batched solver solves these problems (batch_lasso.hpp): one lambda > 0, no sample
    weights or standardization, no zero penalty factor with positivity, p <= 16384, solver auto."""
    factors = options.get("penalty_factor")
    return (options["lambdas"][0] > 0 and "sample_weight" not in options and not options["standardize"]
            and not (options["positive"] and factors is not None and min(factors) == 0)
            and X.shape[1] <= 16384 and options["solver"] == "auto")


def _solver_of(est):
    """The engine's solver: `solver`, or with solver 'auto' scikit-learn's precompute=True as 'gram'.
    precompute=False (scikit-learn's default) and 'auto' leave the choice to the cost model: the
    answer is the same certified optimum either way, only the time differs."""
    precompute = getattr(est, "precompute", False)
    if not isinstance(precompute, (bool, np.bool_, str)):
        raise ValueError("precompute: a Gram matrix given by the caller is not taken; pass precompute=True "
                         "(Shrink builds G itself) or solver='gram'")
    if isinstance(precompute, str) and precompute != "auto":
        raise ValueError(f"precompute must be True, False, 'auto' or an array; got {precompute!r}")
    return "gram" if est.solver == "auto" and precompute is True else str(est.solver)


def _threads_of(est):
    """threads, or where it is 0 (OpenMP's default) scikit-learn's n_jobs (-1 or None: every core)."""
    n_jobs = getattr(est, "n_jobs", None)
    if int(est.threads) != 0 or n_jobs is None or n_jobs < 0:
        return int(est.threads)
    return int(n_jobs)


def _check_compat(est):
    """scikit-learn's parameters that change no answer here, checked as scikit-learn checks them:
    selection ('random' updates in scikit-learn's random order; the certified optimum does not depend
    on the order, so the cyclic sweeps serve both), copy_X (X is never written), warm_start (each
    fit solves from the null model's path to the same certificate), random_state, verbose."""
    if getattr(est, "selection", "cyclic") not in ("cyclic", "random"):
        raise ValueError(f"selection should be either random or cyclic; got {est.selection!r}")


def _estimator_options(est):
    """The engine options every estimator here shares, from its parameters."""
    _check_compat(est)
    options = {"fit_intercept": bool(est.fit_intercept), "positive": bool(est.positive),
               "standardize": bool(est.standardize), "tol": float(est.tol), "max_iter": int(est.max_iter),
               "solver": _solver_of(est), "backend": str(est.backend), "threads": _threads_of(est)}
    if est.penalty_factor is not None:
        options["penalty_factor"] = np.asarray(est.penalty_factor, dtype=np.float64).ravel().tolist()
    return options


class ElasticNet(MultiOutputMixin, RegressorMixin, BaseEstimator):
    """Elastic Net with scikit-learn's objective and attributes, solved by Shrink to a certified
    relative duality gap `tol`.

    Extras over scikit-learn: `penalty_factor` (per-feature weights of the penalty, glmnet's v_j >= 0),
    `standardize` (penalize standardized coefficients, as glmnet), `solver` ('auto', 'cd', 'gram',
    'fista', 'ws-gram'), `backend` ('cpu' or 'cuda') and `threads` (0: OpenMP's default).
    scikit-learn's other parameters are taken: precompute=True asks for the Gram solver (False and
    'auto' leave it to the cost model); copy_X, warm_start, selection and random_state change no
    answer (X is never written; every fit is certified from its own path; the sweeps are cyclic).
    Fitted: coef_, intercept_, dual_gap_ (the certificate: primal objective minus a dual bound),
    n_iter_, converged_, sparsity_ratio_ and histogram_ (the |coef_| histogram over its non-zeros:
    edges, counts, as the CLI's --histogram).
    """

    def __init__(self, alpha=1.0, *, l1_ratio=0.5, fit_intercept=True, precompute=False, max_iter=1000,
                 copy_X=True, tol=1e-4, warm_start=False, positive=False, random_state=None, selection="cyclic",
                 penalty_factor=None, standardize=False, solver="auto", backend="cpu", threads=0):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.copy_X = copy_X
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.random_state = random_state
        self.selection = selection
        self.penalty_factor = penalty_factor
        self.standardize = standardize
        self.solver = solver
        self.backend = backend
        self.threads = threads

    def _options(self, l1_ratio):
        if not isinstance(self.alpha, numbers.Real) or self.alpha < 0:
            raise ValueError(f"alpha must be a non-negative number, got {self.alpha!r}")
        return dict(_estimator_options(self), l1_ratio=float(l1_ratio), lambdas=[float(self.alpha)])

    def _l1_ratio(self):
        return self.l1_ratio

    def fit(self, X, y, sample_weight=None, check_input=True):
        device = _device.kind(X)
        if device:  # CuPy / torch on a GPU: X stays there (DLPack), y and the weights come to the host
            y = np.asarray(_device.to_host(y), dtype=np.float64)
            if len(X.shape) != 2 or y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
                raise ValueError(f"X must be 2-D with y's {y.shape[0]} rows; got X {tuple(X.shape)}, y {y.shape}")
            self.n_features_in_ = X.shape[1]
            fit_path = _device.fit_path
        else:
            X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32],
                                 multi_output=True, y_numeric=True, order=None)
            X = _as_engine_input(X)
            fit_path = _fit_path
        options = self._options(self._l1_ratio())
        if sample_weight is not None:
            sample_weight = _check_sample_weight(np.asarray(_device.to_host(sample_weight)), y, dtype=np.float64)
            options["sample_weight"] = sample_weight.tolist()
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if not device and y.ndim == 2 and Y.shape[1] > 1 and _batch_allowed(X, options):
            # One problem per column through the batched solver (G built once for all of them).
            fit = _fit_batch(X, Y, options)
            coef = np.ascontiguousarray(fit["coef"].T)
            fits = {key: fit[key] for key in ("intercepts", "duality_gap", "objective", "iterations", "converged")}
        else:
            paths = [fit_path(X, Y[:, k], options) for k in range(Y.shape[1])]
            coef = np.array([f["coef"][:, 0] for f in paths])
            fits = {key: np.array([f[key][0] for f in paths])
                    for key in ("intercepts", "duality_gap", "objective", "iterations", "converged")}
            fit = paths[0]
        self.intercept_ = np.asarray(fits["intercepts"], dtype=np.float64)
        self.dual_gap_ = np.asarray(fits["duality_gap"], dtype=np.float64)
        self.objective_ = np.asarray(fits["objective"], dtype=np.float64)
        self.n_iter_ = np.asarray(fits["iterations"]).astype(int)
        self.converged_ = np.asarray(fits["converged"]).astype(bool)
        self.solver_ = fit["solver"]
        if y.ndim == 2 and y.shape[1] == 1:  # scikit-learn: coef_ (p,) for one column, intercept_ (1,)
            coef = coef[0]
        if y.ndim == 1:
            coef, self.intercept_ = coef[0], float(self.intercept_[0])
            self.dual_gap_, self.objective_ = float(self.dual_gap_[0]), float(self.objective_[0])
            self.n_iter_, self.converged_ = int(self.n_iter_[0]), bool(self.converged_[0])
        self.coef_ = _device.like(coef, X, device) if device else coef
        self.transfers_ = {key: int(fit[key]) for key in ("input_host_copies", "input_device_copies") if key in fit}
        self.sparsity_ratio_ = float(np.mean(coef == 0)) if coef.size else 1.0
        self.histogram_ = _core.magnitude_histogram(np.ravel(coef).astype(np.float64), 10)
        if not np.all(self.converged_):
            floor = (" or where the gap stopped falling at double precision's rounding floor (about 1e-14 "
                     "relative)" if self.tol < 1e-12 else "")
            warnings.warn(f"Shrink stopped at max_iter={self.max_iter}{floor} before the relative duality gap "
                          f"reached tol={self.tol} (gap {np.max(self.dual_gap_):.3g}); raise max_iter or tol",
                          ConvergenceWarning)
        return self

    @property
    def sparse_coef_(self):
        return sp.csr_matrix(np.atleast_2d(self.coef_))

    def predict(self, X):
        check_is_fitted(self)
        if _device.kind(X):  # on the GPU, with coef_ there too
            return X @ self.coef_.T + self.intercept_
        X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        return X @ self.coef_.T + self.intercept_  # coef_ (p,): n values; (k, p): n x k

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class Lasso(ElasticNet):
    """The Lasso (l1_ratio = 1) with scikit-learn's objective and attributes; see ElasticNet."""

    def __init__(self, alpha=1.0, *, fit_intercept=True, precompute=False, copy_X=True, max_iter=1000, tol=1e-4,
                 warm_start=False, positive=False, random_state=None, selection="cyclic", penalty_factor=None,
                 standardize=False, solver="auto", backend="cpu", threads=0):
        super().__init__(alpha=alpha, l1_ratio=1.0, fit_intercept=fit_intercept, precompute=precompute,
                         max_iter=max_iter, copy_X=copy_X, tol=tol, warm_start=warm_start, positive=positive,
                         random_state=random_state, selection=selection, penalty_factor=penalty_factor,
                         standardize=standardize, solver=solver, backend=backend, threads=threads)

    def _l1_ratio(self):
        return 1.0


def enet_path(X, y, *, l1_ratio=0.5, eps=1e-3, n_alphas=100, alphas=None, positive=False, tol=1e-6,
              max_iter=100000, fit_intercept=False, return_n_iter=False, **params):
    """scikit-learn's enet_path: (alphas, coefs (n_features x n_alphas), dual_gaps[, n_iters]).

    As in scikit-learn, no intercept is fitted unless fit_intercept=True (center X and y first).
    Extra keywords go to the engine: penalty_factor, standardize, sample_weight, solver, backend,
    threads."""
    device = _device.kind(X)
    if not device:
        if not sp.issparse(X):
            X = np.asarray(X)
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        X = _as_engine_input(X)
    y = np.asarray(_device.to_host(y))
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D here, got shape {y.shape}; fit one path per column")
    options = {"l1_ratio": float(l1_ratio), "positive": bool(positive), "tol": float(tol),
               "max_iter": int(max_iter), "fit_intercept": bool(fit_intercept), "n_lambdas": int(n_alphas),
               "lambda_min_ratio": float(eps)}
    if alphas is not None:
        options["lambdas"] = sorted((float(a) for a in np.ravel(alphas)), reverse=True)
    for key in ("penalty_factor", "sample_weight"):
        if params.get(key) is not None:
            options[key] = np.asarray(params.pop(key), dtype=np.float64).ravel().tolist()
    for key in ("standardize", "solver", "backend", "threads"):
        if key in params:
            options[key] = params.pop(key)
    params.pop("copy_X", None)
    params.pop("precompute", None)
    params.pop("verbose", None)
    if params:
        raise TypeError(f"unexpected keyword arguments {sorted(params)}")
    path = _device.fit_path(X, y, options) if device else _fit_path(X, y, options)
    if not np.all(path["converged"]):
        warnings.warn("Shrink stopped at max_iter before reaching tol at some alphas", ConvergenceWarning)
    coefs = _device.like(path["coef"], X, device) if device else path["coef"]
    out = (path["lambdas"], coefs, path["duality_gap"])
    return out + (path["iterations"],) if return_n_iter else out


def lasso_path(X, y, *, eps=1e-3, n_alphas=100, alphas=None, **params):
    """scikit-learn's lasso_path: enet_path with l1_ratio = 1."""
    return enet_path(X, y, l1_ratio=1.0, eps=eps, n_alphas=n_alphas, alphas=alphas, **params)


class ElasticNetCV(MultiOutputMixin, RegressorMixin, BaseEstimator):
    """K-fold cross-validation over an Elastic-Net path (scikit-learn's ElasticNetCV), then the chosen
    model refitted on all the data with its certificate.

    `cv` is anything scikit-learn's check_cv takes (an int: KFold without shuffling, as scikit-learn)
    whose test sets cover every sample once. `l1_ratio` may be a list: the best pair is chosen.
    scikit-learn's other parameters are taken as by ElasticNet; n_jobs gives the threads where
    `threads` is 0.
    Fitted: alpha_, alpha_1se_ (the largest alpha within one standard error of the best), l1_ratio_,
    alphas_, mse_path_ (n_alphas x n_folds; n_l1_ratios x n_alphas x n_folds for a list), coef_,
    intercept_, dual_gap_, n_iter_ (the refit path's passes up to alpha_), converged_, sparsity_ratio_, histogram_."""

    def __init__(self, *, l1_ratio=0.5, eps=1e-3, alphas=100, fit_intercept=True, precompute="auto",
                 max_iter=1000, tol=1e-4, cv=None, copy_X=True, verbose=0, n_jobs=None, positive=False,
                 random_state=None, selection="cyclic", penalty_factor=None, standardize=False, solver="auto",
                 backend="cpu", threads=0):
        self.l1_ratio = l1_ratio
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.copy_X = copy_X
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.positive = positive
        self.random_state = random_state
        self.selection = selection
        self.penalty_factor = penalty_factor
        self.standardize = standardize
        self.solver = solver
        self.backend = backend
        self.threads = threads

    def _l1_ratios(self):
        return np.atleast_1d(np.asarray(self.l1_ratio, dtype=np.float64))

    def fit(self, X, y, sample_weight=None):
        from sklearn.model_selection import check_cv

        device = _device.kind(X)
        if device:  # CuPy / torch on a GPU: X stays there; the folds come from the rows' indices
            y = np.asarray(_device.to_host(y), dtype=np.float64)
            if len(X.shape) != 2 or y.ndim != 1 or y.shape[0] != X.shape[0]:
                raise ValueError(f"X must be 2-D with y's rows and y 1-D; got X {tuple(X.shape)}, y {y.shape}")
            self.n_features_in_ = X.shape[1]
            fit_path, rows = _device.fit_path, np.zeros((X.shape[0], 1))
        else:
            X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32],
                                 y_numeric=True, order=None)
            X = _as_engine_input(X)
            fit_path, rows = _fit_path, X
        folds = np.full(X.shape[0], -1)
        splitter = check_cv(self.cv)
        for k, (_, test) in enumerate(splitter.split(rows, y)):
            if np.any(folds[test] >= 0):
                raise ValueError("cv: every sample must be in exactly one test fold (a K-fold splitter)")
            folds[test] = k
        if np.any(folds < 0):
            raise ValueError("cv: some samples are in no test fold; use a K-fold splitter")
        options = dict(_estimator_options(self), lambda_min_ratio=float(self.eps))
        if isinstance(self.alphas, numbers.Integral):
            options["n_lambdas"] = int(self.alphas)
        else:
            options["lambdas"] = sorted((float(a) for a in np.ravel(self.alphas)), reverse=True)
        if sample_weight is not None:
            options["sample_weight"] = _check_sample_weight(np.asarray(_device.to_host(sample_weight)), y,
                                                            dtype=np.float64).tolist()
        results = [fit_path(X, y, dict(options, l1_ratio=float(ratio)), folds) for ratio in self._l1_ratios()]
        best = int(np.argmin([r["cv_mean"][r["index_min"]] for r in results]))
        r = results[best]
        i = int(r["index_min"])
        self.l1_ratio_ = float(self._l1_ratios()[best])
        self.alphas_ = r["lambdas"] if len(results) == 1 else np.array([q["lambdas"] for q in results])
        self.mse_path_ = r["mse_path"] if len(results) == 1 else np.array([q["mse_path"] for q in results])
        self.alpha_ = float(r["lambdas"][i])
        self.alpha_1se_ = float(r["lambdas"][int(r["index_1se"])])
        self.coef_ = r["coef"][:, i].copy()
        if device:
            self.coef_ = _device.like(self.coef_, X, device)
        self.intercept_ = float(r["intercepts"][i])
        self.dual_gap_ = float(r["duality_gap"][i])
        self.objective_ = float(r["objective"][i])
        # The refit path's passes up to the chosen alpha (warm starts carry the work along the path);
        # at least 1, the pass over X that gives alpha_max and certifies the null model.
        self.n_iter_ = max(1, int(np.sum(r["iterations"][: i + 1])))
        self.converged_ = bool(r["converged"][i])
        self.solver_ = r["solver"]
        coef = r["coef"][:, i]
        self.sparsity_ratio_ = float(np.mean(coef == 0)) if coef.size else 1.0
        self.histogram_ = _core.magnitude_histogram(np.ravel(coef).astype(np.float64), 10)
        if not self.converged_ or r["fold_fits_not_converged"] > 0:
            warnings.warn(f"Shrink stopped at max_iter={self.max_iter} before reaching tol={self.tol} on "
                          f"{r['fold_fits_not_converged']} fold fits or the refit", ConvergenceWarning)
        return self

    def predict(self, X):
        check_is_fitted(self)
        if _device.kind(X):
            return X @ self.coef_ + self.intercept_
        X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        return X @ self.coef_ + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = False
        return tags


class LassoCV(ElasticNetCV):
    """K-fold cross-validation over a Lasso path (scikit-learn's LassoCV); see ElasticNetCV."""

    def __init__(self, *, eps=1e-3, alphas=100, fit_intercept=True, precompute="auto", max_iter=1000, tol=1e-4,
                 copy_X=True, cv=None, verbose=False, n_jobs=None, positive=False, random_state=None,
                 selection="cyclic", penalty_factor=None, standardize=False, solver="auto", backend="cpu", threads=0):
        super().__init__(l1_ratio=1.0, eps=eps, alphas=alphas, fit_intercept=fit_intercept, precompute=precompute,
                         max_iter=max_iter, tol=tol, cv=cv, copy_X=copy_X, verbose=verbose, n_jobs=n_jobs,
                         positive=positive, random_state=random_state, selection=selection,
                         penalty_factor=penalty_factor, standardize=standardize, solver=solver, backend=backend,
                         threads=threads)

    def _l1_ratios(self):
        return np.array([1.0])
