// CUDA twins of the gather family: rows copied to or from a dense block, and dense rows taken out of
// a CSR matrix. One writer per output element.
#include "kernels/cuda/launch.cuh"
#include "kernels/common/elementwise.hpp"
#include "kernels/ops/gather_kernels.hpp"

namespace shrink::kernels::cuda {

namespace {
using cuda_detail::stream_of;

// A block per gathered row: zero the output row, then scatter the row's entries that fall in the
// column range (each column appears at most once, so no two threads write the same place).
template <class V, class I>
__global__ void csr_gather_rows_dense_kernel(CsrView<V, I> a, const index_t* rows, index_t col_first,
                                             DenseView<V> dst) {
  for (index_t t = blockIdx.x; t < dst.rows; t += gridDim.x) {
    V* out = dst.data + t * dst.ld;
    for (index_t c = threadIdx.x; c < dst.cols; c += blockDim.x) out[c] = V(0);
    __syncthreads();
    const index_t begin = a.row_ptr[rows[t]], end = a.row_ptr[rows[t] + 1];
    for (index_t e = begin + threadIdx.x; e < end; e += blockDim.x) {
      const index_t c = static_cast<index_t>(a.col_idx[e]) - col_first;
      if (c >= 0 && c < dst.cols) out[c] = a.values[e];
    }
    __syncthreads();
  }
}
}  // namespace

template <class V>
void gather_rows(const Context& ctx, DenseView<const V> src, const index_t* rows, DenseView<V> dst) {
  const index_t cols = dst.cols;
  for_each(ctx, dst.rows * cols, [=] __device__(index_t e) {
    const index_t i = e / cols, q = e % cols;
    dst.data[i * dst.ld + q] = src.data[rows[i] * src.ld + q];
  });
}

template <class V>
void scatter_rows(const Context& ctx, DenseView<const V> src, const index_t* rows, DenseView<V> dst) {
  const index_t cols = src.cols;
  for_each(ctx, src.rows * cols, [=] __device__(index_t e) {
    const index_t i = e / cols, q = e % cols;
    dst.data[rows[i] * dst.ld + q] = src.data[i * src.ld + q];
  });
}

template <class V, class I>
void csr_gather_rows_dense(const Context& ctx, const CsrView<V, I>& a, const index_t* rows, index_t col_first,
                           DenseView<V> dst) {
  if (dst.rows == 0 || dst.cols == 0) return;
  const unsigned grid = static_cast<unsigned>(dst.rows < 65535 ? dst.rows : 65535);
  csr_gather_rows_dense_kernel<V, I><<<grid, 256, 0, stream_of(ctx)>>>(a, rows, col_first, dst);
  SHRINK_CUDA_CHECK_LAUNCH();
}

#include "kernels/common/block_bodies.inl"

SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_GATHER)
SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE_GATHER_SPARSE)

}  // namespace shrink::kernels::cuda
