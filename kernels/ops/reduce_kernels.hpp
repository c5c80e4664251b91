// Reductions: fixed partitions and combine orders, no floating-point atomics (deterministic); sums
// accumulate in double for float too.
#pragma once
#include "kernels/ops/declare.hpp"
#include "kernels/ops/lasso_math.hpp"

namespace shrink::kernels {

SHRINK_TWINS(
  template <class V> V dot(const Context& ctx, index_t n, const V* x, const V* y);
  template <class V> V nrm2(const Context& ctx, index_t n, const V* x);
  template <class V> V amax(const Context& ctx, index_t n, const V* x);
  template <class V> V sum(const Context& ctx, index_t n, const V* x);
  template <class V> index_t count_nonfinite(const Context& ctx, index_t n, const V* x);
  /* the dual / penalty terms of p coordinates (correlations c, coefficients beta, factors v) */
  template <class V> LassoDualTerms lasso_dual_terms(const Context& ctx, index_t p, const V* c, const V* beta,
                                                     const V* factors, LassoDualArgs args);
  /* out_j = sum_i m_ij (rows in order within fixed chunks) */
  template <class V> void column_sums(const Context& ctx, DenseView<const V> m, V* out);
  /* per column of X, in double with rows in order: mean_j = sum_i w_i x_ij / n when center (else 0),
     dev_j = sum_i w_i (x_ij - mean_j)^2 and biggest_j = max_i |x_ij| (w null: ones) */
  template <class V> void column_moments(const Context& ctx, DenseView<const V> x, const double* w, bool center,
                                         double* mean, double* dev, double* biggest);
  /* the same for X in CSC, given as the CSR of X^T (zeros implicit) */
  template <class V, class I> void csc_column_moments(const Context& ctx, const CsrView<V, I>& xt, const double* w,
                                                      bool center, double* mean, double* dev, double* biggest);)

#define SHRINK_INSTANTIATE_REDUCE(V)                                                                \
  SHRINK_KERNEL_INSTANCE(dot, V) SHRINK_KERNEL_INSTANCE(nrm2, V) SHRINK_KERNEL_INSTANCE(amax, V)    \
  SHRINK_KERNEL_INSTANCE(sum, V) SHRINK_KERNEL_INSTANCE(count_nonfinite, V)                          \
  SHRINK_KERNEL_INSTANCE(lasso_dual_terms, V) SHRINK_KERNEL_INSTANCE(column_sums, V)                  \
  SHRINK_KERNEL_INSTANCE(column_moments, V)
#define SHRINK_INSTANTIATE_REDUCE_SPARSE(V, I) SHRINK_KERNEL_INSTANCE(csc_column_moments, V, I)

}  // namespace shrink::kernels
