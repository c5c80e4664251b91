// The CUDA twin's for_each: f(i) for i in [0, n) in a grid-stride loop on the context's stream, with
// enough blocks to fill the device. The elementwise bodies written once in kernels/common, and the
// small maps of the other CUDA twins, run through it instead of a hand-written loop each.
#pragma once
#include "kernels/cuda/common.cuh"
#include "kernels/ops/blend.hpp"

namespace shrink::kernels::cuda {

template <class F>
__global__ void for_each_kernel(index_t n, F f) {
  for (index_t i = blockIdx.x * static_cast<index_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<index_t>(gridDim.x) * blockDim.x)
    f(i);
}

template <class F>
void for_each(const Context& ctx, index_t n, F f) {
  if (n <= 0) return;
  constexpr int kBlock = 256;
  for_each_kernel<<<cuda_detail::grid_for(ctx, n, kBlock), kBlock, 0, cuda_detail::stream_of(ctx)>>>(n, f);
  SHRINK_CUDA_CHECK_LAUNCH();
}

// The CPU twin threads long per-item loops differently; on a device every item is a thread.
template <class F>
void for_each_heavy(const Context& ctx, index_t n, index_t /*entries*/, F f) {
  for_each(ctx, n, f);
}

}  // namespace shrink::kernels::cuda

namespace shrink::kernels::cuda_detail {

// c = beta * c (beta == 0 overwrites): products whose alpha term is empty. A vector is n x 1.
template <class V>
void scale_out_on_device(const Context& ctx, DenseView<V> c, V beta) {
  const index_t rows = c.rows, cols = c.cols;
  cuda::for_each(ctx, rows * cols, [=] __device__(index_t i) {
    const index_t r = i / cols, q = i % cols;
    V& out = c.layout == Layout::RowMajor ? c.data[r * c.ld + q] : c.data[q * c.ld + r];
    out = kernels::scale_out(beta, out);
  });
}

}  // namespace shrink::kernels::cuda_detail
