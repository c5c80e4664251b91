// The solvers behind lasso_path. Each solves one lambda from a warm start (beta on the standardized
// scale, updated in place) and returns the certificate it reached.
#pragma once
#include <omp.h>

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "host/core/dispatch.hpp"
#include "host/lasso/design_operator.hpp"
#include "host/lasso/problem.hpp"
#include "shrink/array.hpp"
#include "shrink/context.hpp"

namespace shrink::lasso_detail {

// A host vector copied into the context's memory space (the device solvers' constants and iterates).
template <class T>
Array<T> upload(const Context& ctx, const std::vector<T>& host) {
  return Array<T>::from_vector(host).copy_to(ctx, ctx.memory_space());
}

// The fit terms of a Gram system (G, q, yy = (1/n) y^T W y) at beta, with grad = q - G beta kept
// current, from two dot products: fit = (1/n) r^T W r = yy - 2 q.beta + beta^T G beta
// = yy - q.beta - beta.grad, and a1 = (1/n) y^T W r = yy - q.beta.
struct GramFit {
  double fit = 0, a1 = 0;
};
template <class T>
GramFit gram_fit(const Context& ctx, index_t p, double yy, const T* q, const T* beta, const T* grad) {
  const auto space = ctx.memory_space();
  const double qb = dispatch::dot<T>(ctx, VectorView<const T>(q, p, space), VectorView<const T>(beta, p, space));
  const double bg = dispatch::dot<T>(ctx, VectorView<const T>(beta, p, space), VectorView<const T>(grad, p, space));
  return {std::max(yy - qb - bg, 0.0), yy - qb};
}

// What every lane's solver reads: G, q and the per-feature constants, built once per problem
// (build_gram).
struct GramData {
  DenseMatrix<double> gram;
  Array<double> q, lipschitz, factors;
  std::vector<double> unpen_columns, unpen_q;  // host copies for the unpenalized projection
};

// G = Zs^T W Zs / n and q = Zs^T W yc / n in double in the context's memory space, from blocks of rows
// of the standardized, centered design (dense or sparse X; never an n x p copy): through `op` where it
// placed X when given (a CUDA context), else on the host from a host X.
template <class V>
std::shared_ptr<const GramData> build_gram(const Context& ctx, const Problem<V>& prob, const UnpenalizedSolver& unpen,
                                           const DesignOperator<V>* op);

// Runs f with OpenMP limited to `threads` (the context's CPU threads by default).
template <class F>
auto with_threads(int threads, F&& f) {
  const int saved = omp_get_max_threads(), saved_levels = omp_get_max_active_levels();
  omp_set_num_threads(threads);
  omp_set_max_active_levels(2);  // path lanes, and the threads of each lane
  struct Restore {
    int n, levels;
    ~Restore() {
      omp_set_num_threads(n);
      omp_set_max_active_levels(levels);
    }
  } restore{saved, saved_levels};
  return f();
}
template <class F>
auto with_threads(const Context& ctx, F&& f) {
  return with_threads(ctx.cpu_threads(), std::forward<F>(f));
}

struct SolveRequest {
  double lambda = 0;
  double tol = 1e-6;  // stop at gap <= tol * primal
  std::int64_t max_iter = 100000;
  bool screening = true;
};

class Solver {
 public:
  virtual ~Solver() = default;
  virtual Solution solve(const SolveRequest& request, std::vector<double>& beta) = 0;
  // The certificate of a given beta without iterating (used for lambda >= lambda_max).
  virtual Solution certify(double lambda, const std::vector<double>& beta) = 0;
};

// Working-set coordinate descent with Gap Safe screening and dual extrapolation (Massias et al.), on
// a host X, with a Newton step on the support where the sweeps crawl (newton.hpp).
template <class V>
std::unique_ptr<Solver> make_cd_solver(const Context& ctx, const Problem<V>& prob, const UnpenalizedSolver& unpenalized);
// Coordinate descent on the Gram matrix (n >> p, dense or sparse X), on the context's backend: `count`
// solvers that share one G (built here; `op` is the operator of a CUDA context), each with its own
// iterate, for lambdas solved at once.
template <class V>
std::vector<std::unique_ptr<Solver>> make_gram_solvers(const Context& ctx, const Problem<V>& prob,
                                                       const UnpenalizedSolver& unpenalized, int count,
                                                       const DesignOperator<V>* op);
// FISTA with restarts, every full pass a kernel call on the context's backend.
template <class V>
std::unique_ptr<Solver> make_fista_solver(const Context& ctx, const Problem<V>& prob,
                                          const UnpenalizedSolver& unpenalized, const DesignOperator<V>& op);

// Working-set coordinate descent on k x k Gram blocks (k <= max_working_set) on the context's
// backend: the device solver for sparse or wide X (ws_gram.cpp).
template <class V>
std::unique_ptr<Solver> make_working_set_gram_solver(const Context& ctx, const Problem<V>& prob,
                                                     const UnpenalizedSolver& unpenalized, const DesignOperator<V>& op,
                                                     index_t max_working_set);

// (1/n) Z^T W r for r = yc (beta = 0) after fitting the unpenalized features; their coefficients go
// to `beta_unpenalized` (order of prob.unpenalized). In double on the host for a host X; through
// `op` (required then) for a device X.
template <class V>
std::vector<double> null_model_gradient(const Problem<V>& prob, const UnpenalizedSolver& unpenalized,
                                        std::vector<double>& beta_unpenalized, const DesignOperator<V>* op);

// Cross-validation's pieces that a split fit shares: the fold of every sample (cv.fold_of_sample
// checked, else the seeded shuffle; InvalidArgument for a bad fold count), and the per-lambda mean,
// standard error, minimum and one-standard-error choices from each fold's errors (out.path set).
std::vector<int> cv_folds(const CrossValidationOptions& cv, index_t n);
void summarize_folds(LassoCv& out, const std::vector<std::vector<double>>& errors);

// The path on rows split over processes (host/dist): x, y and options.sample_weights hold this
// block's rows, everything else is replicated; every block must call it. The solvers complete their
// sums over rows through `split` (gram: G once; ws-gram: the certificate's p + 2 numbers and one
// k x k block per outer iteration; fista: one gradient per step).
template <class V>
LassoPath lasso_path_split(const Context& ctx, const Design<V>& x, const std::vector<double>& y,
                           const LassoOptions& options, const RowSplit& split);

}  // namespace shrink::lasso_detail
