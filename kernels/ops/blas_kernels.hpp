// Dense products through BLAS (CPU) and cuBLAS (CUDA).
#pragma once
#include "kernels/ops/declare.hpp"

namespace shrink::kernels {

SHRINK_TWINS(
  template <class V> void gemv(const Context& ctx, Op op, V alpha, DenseView<const V> a, const V* x, V beta, V* y);
  template <class V> void gemm(const Context& ctx, Op op_a, Op op_b, V alpha, DenseView<const V> a,
                               DenseView<const V> b, V beta, DenseView<V> c);
  /* C = alpha A^T A + beta C (SYRK; beta reads C's lower triangle in C's own order; both triangles
     written) */
  template <class V> void gram(const Context& ctx, V alpha, DenseView<const V> a, V beta, DenseView<V> c);)

#define SHRINK_INSTANTIATE_BLAS(V) \
  SHRINK_KERNEL_INSTANCE(gemv, V) SHRINK_KERNEL_INSTANCE(gemm, V) SHRINK_KERNEL_INSTANCE(gram, V)

}  // namespace shrink::kernels
