// Coordinate descent on dense Gram matrices: the single-problem sweeps (gram_cd), the working-set
// choice, and the batched solver's kernels (distinct or shared G, per-problem certificates). The
// bodies are written once over a team (kernels/common/cd_team.hpp).
#pragma once
#include "kernels/ops/declare.hpp"
#include "kernels/ops/lasso_math.hpp"

namespace shrink::kernels {

using batch_index = std::int64_t;

// Per-problem results (BatchLassoResult's fields, before the host copies them out).
struct BatchProblemResult {
  double lambda = 0, lambda_max = 0, intercept = 0, objective = 0, gap = 0;
  std::int64_t iterations = 0;
  std::int32_t converged = 0;
  std::int32_t nnz = 0;
};

// Problem b (0 <= b < m) reads G at gram + b * gram_stride (stride 0: one G for all), its
// lipschitz constants L_j = G_jj (0: an unusable feature, never moved) at lipschitz + b *
// lipschitz_stride, column means at mu + b * mu_stride (null: no intercept), and q_b, yy_b, ybar_b.
template <class V>
struct BatchGramArgs {
  batch_index p = 0, m = 0;
  const V* gram = nullptr;
  batch_index ld_gram = 0, gram_stride = 0;
  const V* lipschitz = nullptr;
  batch_index lipschitz_stride = 0;
  const V* factors = nullptr;  // v_j (p, shared); null: all ones
  const V* mu = nullptr;
  batch_index mu_stride = 0;
  const V* q = nullptr;  // p x m, column b = (1/n) Z^T yc_b
  batch_index ldq = 0;
  const double* yy = nullptr;    // m: (1/n) ||yc_b||^2
  const double* ybar = nullptr;  // m: the mean of y_b (0 without intercept)
  const double* lambdas = nullptr;  // m per-problem lambdas; null: lambda_ratio * lambda_max_b
  double lambda_ratio = 0;
  double alpha = 1;
  bool positive = false;
  double tol = 1e-6;
  std::int64_t max_iter = 10000;
  int active_sweeps = 8;  // at most, per round (active_sweeps below)
  // Unpenalized features (v_j = 0; shared G only): their indices and the pseudo-inverse of G_UU.
  batch_index n_unpenalized = 0;
  const std::int64_t* unpenalized = nullptr;
  const V* unpenalized_inverse = nullptr;  // n_unpenalized^2, row-major
  V* scratch = nullptr;                    // n_unpenalized x m
  // Work for the sweeps over the non-zero coefficients, p per problem each: their indices, their
  // gradient entries, and how far each has moved since the full gradient was last updated.
  std::int64_t* active = nullptr;
  V* active_grad = nullptr;
  V* active_moves = nullptr;
  V* beta = nullptr;  // p x m out
  batch_index ldb = 0;
  V* grad = nullptr;  // p x m work
  batch_index ldg = 0;
  BatchProblemResult* results = nullptr;  // m out
};

// Statistics of problem b of a distinct batch (X_b column-major n x p with leading dimension ldx, y_b):
// column means (when intercept), G_b = Z_b^T Z_b / n (p x p), lipschitz L_j = G_jj (0 for a column
// whose spread is rounding noise), q_b = Z_b^T yc_b / n, yy_b and ybar_b. Sums in double.
template <class V>
struct BatchBuildArgs {
  batch_index n = 0, p = 0, m = 0;
  const V* x = nullptr;
  batch_index ldx = 0, x_stride = 0;
  const V* y = nullptr;
  batch_index y_stride = 0;
  bool intercept = true;
  V* gram = nullptr;       // p x p per problem, stride p * p
  V* lipschitz = nullptr;  // p per problem
  V* mu = nullptr;         // p per problem
  V* q = nullptr;          // p per problem
  double* yy = nullptr;    // m
  double* ybar = nullptr;  // m
};

// Points the solver at its work and outputs: beta, grad and the active-set arrays are p x m (problem
// b's at b p), results m.
template <class V>
void attach_work(BatchGramArgs<V>& a, V* beta, V* grad, std::int64_t* active, V* active_grad, V* active_moves,
                 BatchProblemResult* results) {
  a.beta = beta;
  a.ldb = a.p;
  a.grad = grad;
  a.ldg = a.p;
  a.active = active;
  a.active_grad = active_grad;
  a.active_moves = active_moves;
  a.results = results;
}

// A packed distinct batch: X_b at x + b n p (ldx = n), y_b at y + b n, and the outputs' arrays.
template <class V>
BatchBuildArgs<V> packed_batch(batch_index n, batch_index p, batch_index m, const V* x, const V* y, bool intercept,
                               V* gram, V* lipschitz, V* mu, V* q, double* yy, double* ybar) {
  BatchBuildArgs<V> b;
  b.n = n;
  b.p = p;
  b.m = m;
  b.x = x;
  b.ldx = n;
  b.x_stride = n * p;
  b.y = y;
  b.y_stride = n;
  b.intercept = intercept;
  b.gram = gram;
  b.lipschitz = lipschitz;
  b.mu = mu;
  b.q = q;
  b.yy = yy;
  b.ybar = ybar;
  return b;
}

// Points the solver at what build_batch_problem wrote: each problem's G, L, means, q, yy and ybar.
template <class V>
void attach_built(BatchGramArgs<V>& a, const BatchBuildArgs<V>& built) {
  a.gram = built.gram;
  a.ld_gram = built.p;
  a.gram_stride = built.p * built.p;
  a.lipschitz = built.lipschitz;
  a.lipschitz_stride = built.p;
  a.mu = built.intercept ? built.mu : nullptr;
  a.mu_stride = built.p;
  a.q = built.q;
  a.ldq = built.p;
  a.yy = built.yy;
  a.ybar = built.ybar;
}

SHRINK_TWINS(
  /* `rounds` times: a sweep over every coordinate with lipschitz > 0, then up to `active_sweeps`
     sweeps over those left non-zero with the gradient kept on them only. grad = q - G beta is kept
     current; G column-major with leading dimension ld. Work: active (p indices), active_work (2p). */
  template <class V> void gram_cd(const Context& ctx, index_t p, const V* gram, index_t ld, const V* l1,
                                  const V* denom, const V* lipschitz, bool positive, int rounds, int active_sweeps,
                                  V* beta, V* grad, index_t* active, V* active_work);
  /* the k features with the smallest working_set_key (ties to the lower index), ascending in `out`;
     returns how many beta_j are non-zero. l1, l2: lambda alpha v_j and lambda (1 - alpha) v_j. */
  template <class V> index_t lasso_working_set(const Context& ctx, index_t p, const V* c, const V* beta,
                                               const V* l1, const V* l2, const V* lipschitz, bool positive,
                                               index_t k, index_t* out);
  /* solve_batch_problem for problems 0..m-1 (a warp or block each on CUDA, threads over problems on
     the CPU) */
  template <class V> void batch_gram_cd(const Context& ctx, const BatchGramArgs<V>& args);
  /* build_batch_problem for every problem of a distinct batch */
  template <class V> void batch_gram_build(const Context& ctx, const BatchBuildArgs<V>& args);
  /* y column-major n x m: mean_b (0 unless center) and sumsq_b = (1/n) sum_i (y_ib - mean_b)^2 in
     double (0 when n = 0); y centered in place when center */
  template <class V> void center_columns(const Context& ctx, DenseView<V> y, bool center, double* mean,
                                         double* sumsq);
  /* the non-zeros of each column of a column-major p x m block, column b's at offsets[b] */
  template <class V> void compress_columns(const Context& ctx, DenseView<const V> a, const std::int64_t* offsets,
                                           std::int64_t* rows, double* values);)

#define SHRINK_INSTANTIATE_CD(V)                                                                     \
  SHRINK_KERNEL_INSTANCE(gram_cd, V) SHRINK_KERNEL_INSTANCE(lasso_working_set, V)                    \
  SHRINK_KERNEL_INSTANCE(batch_gram_cd, V) SHRINK_KERNEL_INSTANCE(batch_gram_build, V)               \
  SHRINK_KERNEL_INSTANCE(center_columns, V) SHRINK_KERNEL_INSTANCE(compress_columns, V)

}  // namespace shrink::kernels
