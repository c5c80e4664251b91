// Lasso and Elastic Net: one problem, a regularization path, and K-fold cross-validation.
//
//   minimize over (beta, beta0)
//     (1/(2n)) sum_i w_i (y_i - x_i.beta - beta0)^2
//       + lambda * sum_j v_j * (alpha*|beta_j| + (1-alpha)/2 * beta_j^2)      [beta >= 0 if positive]
//
// This is the scikit-learn / glmnet scaling: alpha is l1_ratio and Lasso is alpha = 1. Weights w are
// normalized to sum to n. With standardize, the penalty applies to s_j*beta_j (s_j the weighted
// standard deviation of column j, 1/n convention, as glmnet) and coefficients are reported on the
// original scale. Sparse X is never densified: centering and scaling are implicit.
//
// Every solution carries its certificate: the duality gap of the problem above (on the standardized
// scale when standardize is on). A fit stops when gap <= tol * primal objective; running out of
// iterations is a status (FitStatus::MaxIterations), never an exception.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "shrink/matrix.hpp"
#include "shrink/stats.hpp"

namespace shrink {

enum class LassoSolver {
  Auto,               // Gram where a cost model of the path says its build pays (p <= 8192: n > p,
                      // dense X or sparse with few entries a row); else CoordinateDescent on the
                      // CPU, WorkingSetGram on a GPU
  CoordinateDescent,  // working sets + Gap Safe screening + dual extrapolation (CPU)
  Gram,               // coordinate descent on G = Z^T W Z / n, built once (BLAS on a dense X, the
                      // products of each row's entries on a sparse one)
  ProximalGradient,   // FISTA with restarts on the context's backend
  WorkingSetGram,     // coordinate descent on k x k Gram blocks of working sets, on the context's
                      // backend (the GPU solver for sparse or wide X)
};
const char* to_string(LassoSolver solver) noexcept;
// "auto", "cd", "gram", "fista" or "ws-gram"; InvalidArgument otherwise.
LassoSolver parse_lasso_solver(std::string_view text);

enum class FitStatus { Converged, MaxIterations };
const char* to_string(FitStatus status) noexcept;

// What every Lasso / Elastic-Net fit shares, a path's and a batch's: the penalty, the model and when
// to stop. LassoOptions (a path) and BatchLassoOptions (many problems) add their own.
struct LassoCoreOptions {
  double l1_ratio = 1.0;  // alpha in [0, 1]
  bool fit_intercept = true;
  bool positive = false;
  std::vector<double> penalty_factors;  // v, length p, >= 0; empty: all ones
  double tol = 0;                       // relative gap; 0: 1e-6 for float64 input, 1e-4 for float32
  // A path: coordinate-descent epochs (or FISTA steps) per lambda; a batch: rounds per problem.
  std::int64_t max_iter = 100000;
  // Called with (done, total) after each lambda (a path) or chunk of problems (a batch).
  std::function<void(std::size_t, std::size_t)> progress;
};

struct LassoOptions : LassoCoreOptions {
  bool standardize = false;
  std::vector<double> sample_weights;   // w, length n, >= 0, not all zero; empty: all ones
  std::vector<double> lambdas;          // a given grid (fitted in the order given); empty: computed
  int n_lambdas = 100;
  double lambda_min_ratio = 0;  // 0: 1e-3 when n > p, else 1e-2
  LassoSolver solver = LassoSolver::Auto;
  bool screening = true;  // Gap Safe screening (pure Lasso) and working sets
  // ws-gram: the most features in one block. Its k x k Gram should stay in the GPU's L2 (8 MiB at
  // 1024 in float64), since one warp sweeps it.
  std::int64_t max_working_set = 1024;
};

// The result of every fit: the L solutions of a path (one per lambda) or the k problems of a batch
// (one per problem), each with its certificate.
struct LassoFit {
  index_t n_samples = 0, n_features = 0;
  LassoSolver solver = LassoSolver::Auto;  // the solver that ran (a batch: Gram)
  double tol = 0;                          // the relative gap asked for
  // Per solution (length L): lambda, lambda_max (the smallest lambda whose solution has every
  // penalized coefficient at zero; 0 for l1_ratio = 0, where ridge has none; a path's is one value
  // repeated), intercept, objective and duality gap, epochs or rounds, non-zeros and status.
  std::vector<double> lambdas, lambda_max, intercepts, objective, duality_gap;
  std::vector<std::int64_t> iterations, nnz;
  std::vector<FitStatus> status;
  // p x L on the host, original scale: column l holds solution l's coefficients.
  CscMatrix<double, std::int64_t> coefficients;
  std::vector<double> dense_coefficients;  // p x L column-major, only when asked (a batch's dense_output)
  double seconds = 0;                      // wall time of the whole call

  std::size_t size() const noexcept { return lambdas.size(); }
  bool all_converged() const noexcept;
  std::size_t n_not_converged() const noexcept;
  std::vector<double> coefficients_at(std::size_t l) const;  // dense, length p
  double sparsity_ratio(std::size_t l) const;                // zeros / p
};
using LassoPath = LassoFit;

// Histogram of |coefficients| over the non-zero entries of solution l (see magnitude_histogram).
MagnitudeHistogram coefficient_histogram(const LassoPath& path, std::size_t l, int bins = 10);

// The path over a decreasing grid with warm starts. X is dense (either layout), CSR or CSC; float or
// double; y has n entries. X is read where it lives, in host memory or (on a CUDA context) in device
// memory, and is never scaled or centered in a copy: a column-major dense X or a CSC X is used in
// place, a row-major X or a CSR X is converted once where it lives. The device solvers copy a host X
// to the device once; coordinate descent (a host solver) copies a device X to the host once.
// Context::transfers() counts these copies.
template <class V>
LassoPath lasso_path(const Context& ctx, DenseView<const V> x, VectorView<const V> y,
                     const LassoOptions& options = {});
template <class V, class I>
LassoPath lasso_path(const Context& ctx, const CsrView<V, I>& x, VectorView<const V> y,
                     const LassoOptions& options = {});
template <class V, class I>
LassoPath lasso_path(const Context& ctx, const CscView<V, I>& x, VectorView<const V> y,
                     const LassoOptions& options = {});
template <class V, class I>
LassoPath lasso_path(const Context& ctx, const CsrMatrix<V, I>& x, VectorView<const V> y,
                     const LassoOptions& options = {}) {
  return lasso_path(ctx, x.view(), y, options);
}
template <class V, class I>
LassoPath lasso_path(const Context& ctx, const CscMatrix<V, I>& x, VectorView<const V> y,
                     const LassoOptions& options = {}) {
  return lasso_path(ctx, x.view(), y, options);
}

// The computed grid alone: lambda_max down to lambda_min_ratio * lambda_max, log-spaced.
template <class V>
std::vector<double> lasso_lambda_grid(DenseView<const V> x, VectorView<const V> y,
                                      const LassoOptions& options = {});

struct CrossValidationOptions {
  int folds = 5;
  std::uint64_t seed = 0;
  // The fold of every sample (0 .. folds - 1, each fold used), e.g. a caller's own splitter's; empty:
  // a seeded shuffle into `folds` folds.
  std::vector<int> fold_of_sample;
};

struct LassoCv {
  LassoPath path;  // the refit on all the data over the same grid
  std::vector<double> cv_mean, cv_se;  // weighted mean squared error per lambda, and its standard error
  std::vector<double> cv_folds;        // each fold's error: L x K, row-major (lambda l, fold k)
  std::size_t index_min = 0, index_1se = 0;
  double lambda_min = 0, lambda_1se = 0;
  std::size_t fold_fits_not_converged = 0;
};

// K-fold cross-validation over the path's grid, then the refit on all the data. X as for lasso_path;
// a device X stays on the device (each fold gives its test rows weight 0, the same problem as the
// training rows alone).
template <class V>
LassoCv lasso_cv(const Context& ctx, DenseView<const V> x, VectorView<const V> y,
                 const LassoOptions& options = {}, const CrossValidationOptions& cv = {});
template <class V, class I>
LassoCv lasso_cv(const Context& ctx, const CsrView<V, I>& x, VectorView<const V> y,
                 const LassoOptions& options = {}, const CrossValidationOptions& cv = {});
template <class V, class I>
LassoCv lasso_cv(const Context& ctx, const CscView<V, I>& x, VectorView<const V> y,
                 const LassoOptions& options = {}, const CrossValidationOptions& cv = {});
template <class V, class I>
LassoCv lasso_cv(const Context& ctx, const CsrMatrix<V, I>& x, VectorView<const V> y,
                 const LassoOptions& options = {}, const CrossValidationOptions& cv = {}) {
  return lasso_cv(ctx, x.view(), y, options, cv);
}
template <class V, class I>
LassoCv lasso_cv(const Context& ctx, const CscMatrix<V, I>& x, VectorView<const V> y,
                 const LassoOptions& options = {}, const CrossValidationOptions& cv = {}) {
  return lasso_cv(ctx, x.view(), y, options, cv);
}

// ---- saved models ------------------------------------------------------------------------------------
// A fitted path kept for prediction: the coefficients on the original scale (every solution, or the
// ones chosen), the intercepts and lambdas, how it was fitted, the features' names and the CV choice.
struct LassoModel {
  index_t n_features = 0;
  std::vector<std::string> feature_names;  // empty, or one per feature
  double l1_ratio = 1;
  bool fit_intercept = true, standardize = false, positive = false;
  std::vector<double> lambdas, intercepts;
  CscMatrix<double, std::int64_t> coefficients;  // p x L
  std::int64_t index_min = -1, index_1se = -1;   // the CV choices (-1 without CV)

  std::size_t size() const noexcept { return lambdas.size(); }
  // The solution named by `which`: "min" or "1se" (a cross-validated model), "last", or an index
  // ("#3"). InvalidArgument naming the choices otherwise.
  std::size_t solution(std::string_view which) const;
  // Coefficients and intercept at `lambda`: a solution's own, or the linear interpolation between the
  // two solutions around it (as glmnet's predict does); outside the path, the nearest end.
  std::vector<double> coefficients_at_lambda(double lambda, double& intercept) const;
};

// The model of a fit; `keep` lists the solutions to keep (empty: all), and a cross-validation's
// choices are carried when given.
LassoModel make_lasso_model(const LassoFit& fit, const LassoOptions& options, const LassoCv* cv = nullptr,
                            std::vector<std::string> feature_names = {}, const std::vector<std::size_t>& keep = {});
// A versioned, checksummed little-endian file written to a temporary file and renamed; loading
// refuses a bad magic, version, size or checksum with the file's name.
void save_lasso_model(const std::string& path, const LassoModel& model);
LassoModel load_lasso_model(const std::string& path);
LassoModel parse_lasso_model(std::string_view bytes, const std::string& name);  // the file's bytes in memory
// X b + b0 for coefficients b (p values) and intercept b0, X dense or CSR on the host.
template <class V>
std::vector<double> lasso_predict(DenseView<const V> x, const std::vector<double>& coef, double intercept);
template <class V, class I>
std::vector<double> lasso_predict(const CsrView<V, I>& x, const std::vector<double>& coef, double intercept);

}  // namespace shrink
