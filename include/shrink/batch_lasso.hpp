// Batched Lasso / Elastic Net: many independent problems in one call, each with its own certificate.
//
// Shared design: problem b (0 <= b < k) is the single-problem Lasso of lasso.hpp on X (n x p) and
// column b of Y (n x k):
//   minimize (1/(2n)) ||y_b - X beta - beta0||^2 + lambda_b sum_j v_j (alpha |beta_j| + (1-alpha)/2 beta_j^2)
// with the same l1_ratio alpha, intercept, positivity and penalty factors v for every problem.
// G = Z^T Z / n (Z the centered X) is built once; C = Z^T Y / n is built a chunk of problems at a
// time, so nothing k x p is held beyond one chunk and the coefficients, which come back as a sparse
// p x k matrix (dense only when asked for). Every problem runs coordinate descent on G and stops at
// duality gap <= tol * primal objective, or at max_iter rounds with status MaxIterations: a problem
// that did not converge is counted, never hidden.
//
// Distinct designs: a strided batch of small dense problems (X_b, y_b), each with its own G_b.
//
// Not here (use lasso_path per problem): sample weights, standardize, and zero penalty factors
// together with positive (the unpenalized block would need a nonnegative least-squares solve per
// problem). The shared design needs p <= kBatchMaxFeatures (G is p x p).
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "shrink/lasso.hpp"
#include "shrink/matrix.hpp"

namespace shrink {

inline constexpr index_t kBatchMaxFeatures = 16384;

struct BatchLassoOptions : LassoCoreOptions {
  // The lambdas: exactly one of these three.
  double lambda = 0;            // > 0: the same lambda for every problem
  std::vector<double> lambdas;  // one per problem, each > 0
  double lambda_ratio = 0;      // > 0: lambda_b = lambda_ratio * lambda_max_b (needs l1_ratio > 0)
  bool dense_output = false;    // also fill LassoFit::dense_coefficients (p x k)
  index_t chunk = 0;            // problems per chunk; 0: a working set of 1 GiB (GPU) or 4 MiB (CPU)
};

// A batch's result is a LassoFit with one solution per problem: column b of the coefficients is
// problem b's.
using BatchLassoResult = LassoFit;

// Y is n x k, dense in either layout; X dense (either layout), CSR or CSC. X and Y are read where they
// live: on the host, or on a CUDA context's device (used there in place; a host X is copied over
// once). On the CPU a column-major or CSC X is read in place and a row-major or CSR X converted once.
template <class V>
BatchLassoResult lasso_batch(const Context& ctx, DenseView<const V> x, DenseView<const V> y,
                             const BatchLassoOptions& options = {});
template <class V, class I>
BatchLassoResult lasso_batch(const Context& ctx, const CsrView<V, I>& x, DenseView<const V> y,
                             const BatchLassoOptions& options = {});
template <class V, class I>
BatchLassoResult lasso_batch(const Context& ctx, const CscView<V, I>& x, DenseView<const V> y,
                             const BatchLassoOptions& options = {});
template <class V, class I>
BatchLassoResult lasso_batch(const Context& ctx, const CsrMatrix<V, I>& x, DenseView<const V> y,
                             const BatchLassoOptions& options = {}) {
  return lasso_batch(ctx, x.view(), y, options);
}
template <class V, class I>
BatchLassoResult lasso_batch(const Context& ctx, const CscMatrix<V, I>& x, DenseView<const V> y,
                             const BatchLassoOptions& options = {}) {
  return lasso_batch(ctx, x.view(), y, options);
}

// `count` distinct problems on the host: X_b column-major n x p (leading dimension ldx >= n) at
// x + b * x_stride, y_b (n values) at y + b * y_stride. Penalty factors, if given, are shared and
// must be > 0.
template <class V>
struct StridedBatch {
  const V* x = nullptr;
  index_t n = 0, p = 0, ldx = 0, x_stride = 0;
  const V* y = nullptr;
  index_t y_stride = 0;
  index_t count = 0;
};
template <class V>
BatchLassoResult lasso_batch(const Context& ctx, const StridedBatch<V>& batch, const BatchLassoOptions& options = {});

}  // namespace shrink
