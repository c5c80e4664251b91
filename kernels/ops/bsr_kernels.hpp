// The block-sparse layer's three products (forward, dX, dW on the stored blocks) and the cuSPARSE
// BSR baseline (CUDA only).
#pragma once
#include "kernels/ops/declare.hpp"

namespace shrink::kernels {

// How products run on tensor cores (the CPU twin computes in full precision whatever is asked).
enum class Precision { Strict, Tf32, Bf16 };

SHRINK_TWINS(
  /* Y = X W^T + bias (bias may be null) */
  template <class V, class I> void bsr_forward(const Context& ctx, DenseView<const V> x, const BsrView<V, I>& w,
                                               const V* bias, DenseView<V> y, Precision precision);
  /* dX = dY W, W read by block column (col_ptr, block_row, block_index: the CSC of the pattern) */
  template <class V, class I> void bsr_backward_input(const Context& ctx, DenseView<const V> dy,
                                                      const BsrView<V, I>& w, const I* col_ptr, const I* block_row,
                                                      const I* block_index, DenseView<V> dx, Precision precision);
  /* grad (laid out like W's values) = dY^T X on W's stored blocks */
  template <class V, class I> void bsr_weight_grad(const Context& ctx, DenseView<const V> dy, DenseView<const V> x,
                                                   const BsrView<V, I>& w, V* grad, Precision precision);)

namespace cuda {
/* cusparse?bsrmm: Y = X W^T + bias (float, square blocks dividing W) */
template <class V, class I>
void cusparse_bsr_forward(const Context& ctx, DenseView<const V> x, const BsrView<V, I>& w, const V* bias,
                          DenseView<V> y);
}  // namespace cuda

#define SHRINK_INSTANTIATE_BSR(V, I)                                                                 \
  SHRINK_KERNEL_INSTANCE(bsr_forward, V, I) SHRINK_KERNEL_INSTANCE(bsr_backward_input, V, I)         \
  SHRINK_KERNEL_INSTANCE(bsr_weight_grad, V, I)

}  // namespace shrink::kernels
