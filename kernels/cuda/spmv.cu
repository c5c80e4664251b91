// CUDA sparse products.
//
// csr_spmv is a merge-path kernel (Merrill & Garland, SC16): the path that merges row ends with
// nonzero indices is cut into equal tiles, so a power-law row costs the same as many short ones.
// Per tile: the row ends and the products val*x[col] are staged in shared memory with coalesced
// loads; each thread walks 7 items of the path; a row split between threads is finished by the
// thread that ends it, summing the earlier threads' carries in a fixed order; a row split between
// tiles gets the tiles' carries in a small fix-up kernel, again in tile order. The tile steps are
// host+device functions (kernels/common/merge_spmv_tile.hpp) that the tests also run on the CPU.
// No floating-point atomics anywhere, so results are bit-identical run to run.
#include <cub/device/device_radix_sort.cuh>

#include "kernels/cuda/launch.cuh"
#include "kernels/ops/spmv_kernels.hpp"
#include "kernels/common/merge_spmv_tile.hpp"
#include "shrink/error.hpp"

namespace shrink::kernels::cuda {

namespace {
using cuda_detail::align_up;
using cuda_detail::grid_for;
using cuda_detail::stream_of;

namespace mt = merge_tile;

template <class I>
__global__ void tile_search_kernel(index_t tiles, const I* __restrict__ row_end, index_t rows,
                                   index_t nnz, index_t* __restrict__ tile_row) {
  const index_t t = blockIdx.x * static_cast<index_t>(blockDim.x) + threadIdx.x;
  if (t <= tiles) tile_row[t] = mt::tile_start_row(t, row_end, rows, nnz);
}

// One block per tile; the phases live in kernels/common/merge_spmv_tile.hpp.
template <class V, class I>
__global__ void __launch_bounds__(mt::kThreads)
    merge_spmv_kernel(index_t rows, index_t nnz, const I* __restrict__ row_ptr,
                      const I* __restrict__ col_idx, const V* __restrict__ values,
                      const V* __restrict__ x, V alpha, V beta, V* __restrict__ y,
                      const index_t* __restrict__ tile_row, index_t* __restrict__ carry_row,
                      V* __restrict__ carry_val) {
  __shared__ index_t s_row_end[mt::kTileItems + 1];
  __shared__ V s_prod[mt::kTileItems];
  __shared__ V s_carry[mt::kThreads];
  __shared__ bool s_emitted[mt::kThreads];
  const int tid = static_cast<int>(threadIdx.x);
  const mt::Tile t = mt::make_tile(blockIdx.x, rows, nnz, tile_row);
  mt::stage(tid, mt::kThreads, t, rows, nnz, row_ptr, col_idx, values, x, s_row_end, s_prod);
  __syncthreads();
  const mt::Walk<V> w = mt::walk(tid, t, s_row_end, s_prod, alpha, beta, y, s_carry, s_emitted);
  __syncthreads();
  mt::finish_first_row(tid, t, w, s_carry, s_emitted, alpha, beta, y);
  if (tid == mt::kThreads - 1) mt::tile_carry<V>(blockIdx.x, t, s_carry, s_emitted, carry_row, carry_val);
}

template <class V>
__global__ void carry_fixup_kernel(index_t tiles, index_t rows, const index_t* __restrict__ carry_row,
                                   const V* __restrict__ carry_val, V alpha, V* __restrict__ y) {
  const index_t t = blockIdx.x * static_cast<index_t>(blockDim.x) + threadIdx.x;
  if (t < tiles) mt::fixup(t, tiles, rows, carry_row, carry_val, alpha, y);
}


// Stream-ordered scratch that is freed (on the same stream) whatever happens after it is made.
struct StreamBuffer {
  cudaStream_t stream;
  void* data = nullptr;
  StreamBuffer(cudaStream_t s, std::size_t bytes) : stream(s) {
    SHRINK_CUDA_CHECK(cudaMallocAsync(&data, bytes, stream));
  }
  ~StreamBuffer() {
    if (data) cudaFreeAsync(data, stream);
  }
  StreamBuffer(const StreamBuffer&) = delete;
  StreamBuffer& operator=(const StreamBuffer&) = delete;
};

template <class V, class I>
std::size_t merge_workspace(index_t rows, index_t nnz) {
  const auto tiles = static_cast<std::size_t>(mt::tiles_for(rows, nnz));
  return align_up((tiles + 1) * sizeof(index_t)) + align_up(tiles * sizeof(index_t)) +
         align_up(tiles * sizeof(V));
}

template <class V, class I>
std::size_t transpose_storage(const CsrView<V, I>& a) {
  return align_up((a.cols + 1) * sizeof(I)) + align_up(a.nnz * sizeof(I)) + align_up(a.nnz * sizeof(V));
}

}  // namespace

template <class V, class I>
std::size_t csr_spmv_workspace(const Context&, const CsrView<V, I>& a, Op op) {
  if (op == Op::NoTranspose) return merge_workspace<V, I>(a.rows, a.nnz);
  return transpose_storage(a) + merge_workspace<V, I>(a.cols, a.nnz);
}

template <class V, class I>
void csr_spmv(const Context& ctx, V alpha, const CsrView<V, I>& a, const V* x, V beta, V* y,
              void* workspace) {
  if (a.rows == 0) return;
  if (alpha == V(0)) {  // BLAS convention, as on the CPU: A and x are not read
    cuda_detail::scale_out_on_device(ctx, DenseView<V>(y, a.rows, 1, 1, Layout::RowMajor, MemorySpace::Device), beta);
    return;
  }
  const cudaStream_t stream = stream_of(ctx);
  const index_t tiles = mt::tiles_for(a.rows, a.nnz);
  auto* base = static_cast<unsigned char*>(workspace);
  auto* tile_row = reinterpret_cast<index_t*>(base);
  base += align_up((tiles + 1) * sizeof(index_t));
  auto* carry_row = reinterpret_cast<index_t*>(base);
  base += align_up(tiles * sizeof(index_t));
  auto* carry_val = reinterpret_cast<V*>(base);

  const unsigned search_blocks = static_cast<unsigned>((tiles + 1 + 255) / 256);
  tile_search_kernel<I><<<search_blocks, 256, 0, stream>>>(tiles, a.row_ptr + 1, a.rows, a.nnz, tile_row);
  SHRINK_CUDA_CHECK_LAUNCH();
  merge_spmv_kernel<V, I><<<static_cast<unsigned>(tiles), mt::kThreads, 0, stream>>>(
      a.rows, a.nnz, a.row_ptr, a.col_idx, a.values, x, alpha, beta, y, tile_row, carry_row,
      carry_val);
  SHRINK_CUDA_CHECK_LAUNCH();
  carry_fixup_kernel<V><<<static_cast<unsigned>((tiles + 255) / 256), 256, 0, stream>>>(
      tiles, a.rows, carry_row, carry_val, alpha, y);
  SHRINK_CUDA_CHECK_LAUNCH();
}

template <class V, class I>
void csr_transpose(const Context& ctx, const CsrView<V, I>& a, I* t_row_ptr, I* t_col_idx,
                   V* t_values) {
  const cudaStream_t stream = stream_of(ctx);
  if (a.nnz == 0) {
    SHRINK_CUDA_CHECK(cudaMemsetAsync(t_row_ptr, 0, (a.cols + 1) * sizeof(I), stream));
    return;
  }
  // A stable radix sort of (column, position) pairs keeps rows ascending inside each new row: the
  // result does not depend on scheduling. Its scratch (sorted keys, positions before and after,
  // each entry's row, CUB's temporary storage) is one stream-ordered allocation, freed on every
  // path; an allocation failure is OutOfMemory and leaves nothing behind.
  int end_bit = 1;
  while (end_bit < 8 * static_cast<int>(sizeof(I)) && (index_t{1} << end_bit) <= a.cols) ++end_bit;
  std::size_t sort_bytes = 0;
  SHRINK_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, sort_bytes, static_cast<const I*>(nullptr),
                                                    static_cast<I*>(nullptr), static_cast<const I*>(nullptr),
                                                    static_cast<I*>(nullptr), a.nnz, 0, end_bit, stream));
  const std::size_t array = align_up(a.nnz * sizeof(I));
  StreamBuffer scratch(stream, 4 * array + sort_bytes);
  auto* base = static_cast<unsigned char*>(scratch.data);
  I* keys = reinterpret_cast<I*>(base);
  I* perm_in = reinterpret_cast<I*>(base + array);
  I* perm = reinterpret_cast<I*>(base + 2 * array);
  I* row_of = reinterpret_cast<I*>(base + 3 * array);
  void* temp = base + 4 * array;
  const index_t rows = a.rows, nnz = a.nnz, cols = a.cols;
  const I* row_ptr = a.row_ptr;
  const V* values = a.values;
  for_each(ctx, nnz, [=] __device__(index_t k) {
    perm_in[k] = static_cast<I>(k);
    index_t lo = 0, hi = rows;  // the entry's row: the last with row_ptr[row] <= k
    while (hi - lo > 1) {
      const index_t mid = (lo + hi) >> 1;
      if (static_cast<index_t>(row_ptr[mid]) <= k) lo = mid;
      else hi = mid;
    }
    row_of[k] = static_cast<I>(lo);
  });
  SHRINK_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp, sort_bytes, a.col_idx, keys, perm_in, perm, a.nnz, 0,
                                                    end_bit, stream));
  for_each(ctx, nnz, [=] __device__(index_t k) {
    const I src = perm[k];
    t_col_idx[k] = row_of[src];
    t_values[k] = values[src];
  });
  for_each(ctx, cols + 1, [=] __device__(index_t c) {
    index_t lo = 0, hi = nnz;  // new row c starts at the first sorted column >= c
    while (lo < hi) {
      const index_t mid = (lo + hi) >> 1;
      if (static_cast<index_t>(keys[mid]) < c) lo = mid + 1;
      else hi = mid;
    }
    t_row_ptr[c] = static_cast<I>(lo);
  });
}

template <class V, class I>
void csr_spmv_transpose(const Context& ctx, V alpha, const CsrView<V, I>& a, const V* x, V beta,
                        V* y, void* workspace) {
  if (a.cols == 0) return;
  if (a.rows == 0 || a.nnz == 0 || alpha == V(0)) {  // A and x are not read, as on the CPU
    cuda_detail::scale_out_on_device(ctx, DenseView<V>(y, a.cols, 1, 1, Layout::RowMajor, MemorySpace::Device), beta);
    return;
  }
  // Build A^T in the workspace, then run the forward kernel on it.
  auto* base = static_cast<unsigned char*>(workspace);
  auto* t_row_ptr = reinterpret_cast<I*>(base);
  base += align_up((a.cols + 1) * sizeof(I));
  auto* t_col = reinterpret_cast<I*>(base);
  base += align_up(a.nnz * sizeof(I));
  auto* t_val = reinterpret_cast<V*>(base);
  base += align_up(a.nnz * sizeof(V));
  csr_transpose(ctx, a, t_row_ptr, t_col, t_val);
  const CsrView<V, I> at{a.cols, a.rows, a.nnz, t_row_ptr, t_col, t_val, MemorySpace::Device};
  csr_spmv(ctx, alpha, at, x, beta, y, base);
}

template <class V, class I>
void csr_spmm(const Context& ctx, V alpha, const CsrView<V, I>& a, DenseView<const V> b, V beta,
              DenseView<V> c) {
  if (a.rows == 0 || b.cols == 0) return;
  if (alpha == V(0)) {  // BLAS convention, as on the CPU: A and B are not read
    cuda_detail::scale_out_on_device(ctx, c, beta);
    return;
  }
  // One thread per output element; consecutive threads walk C's contiguous dimension so that
  // stores (and B loads when the layouts match) are coalesced. Each element is one sequential sum.
  const index_t rows = a.rows, k = b.cols;
  const I* row_ptr = a.row_ptr;
  const I* col_idx = a.col_idx;
  const V* values = a.values;
  for_each(ctx, rows * k, [=] __device__(index_t i) {
    const bool row_major = c.layout == Layout::RowMajor;
    const index_t r = row_major ? i / k : i % rows;
    const index_t q = row_major ? i % k : i / rows;
    V acc = 0;
    for (index_t p = row_ptr[r]; p < row_ptr[r + 1]; ++p) {
      const index_t j = col_idx[p];
      const V bv = b.layout == Layout::RowMajor ? b.data[j * b.ld + q] : b.data[q * b.ld + j];
      acc += values[p] * bv;
    }
    V& out = row_major ? c.data[r * c.ld + q] : c.data[q * c.ld + r];
    out = blend(alpha, acc, beta, out);
  });
}

// cuSPARSE generic SpMV, a selectable baseline (CSR_ALG1 or the deterministic CSR_ALG2).
template <class V, class I>
void cusparse_spmv(const Context& ctx, bool alg2, Op op, V alpha, const CsrView<V, I>& a, const V* x, V beta,
                   V* y) {
  if (alg2 && op == Op::Transpose && a.cols > 0) {
    // cuSPARSE documents ALG2's bit-wise determinism for the non-transposed product only (a
    // transposed ALG2 runs ALG1). The API promises determinism, so A^T is built (deterministically)
    // and ALG2 runs forward on it.
    const cudaStream_t stream = stream_of(ctx);
    const std::size_t ptr = align_up((a.cols + 1) * sizeof(I)), idx = align_up(a.nnz * sizeof(I));
    StreamBuffer at(stream, ptr + idx + a.nnz * sizeof(V) + 1);
    auto* base = static_cast<unsigned char*>(at.data);
    I* t_ptr = reinterpret_cast<I*>(base);
    I* t_col = reinterpret_cast<I*>(base + ptr);
    V* t_val = reinterpret_cast<V*>(base + ptr + idx);
    csr_transpose(ctx, a, t_ptr, t_col, t_val);
    cusparse_spmv(ctx, alg2, Op::NoTranspose, alpha,
                  CsrView<V, I>{a.cols, a.rows, a.nnz, t_ptr, t_col, t_val, MemorySpace::Device}, x, beta, y);
    return;
  }
  const cusparseSpMVAlg_t alg = alg2 ? CUSPARSE_SPMV_CSR_ALG2 : CUSPARSE_SPMV_CSR_ALG1;
  const cudaDataType vt = sizeof(V) == 4 ? CUDA_R_32F : CUDA_R_64F;
  const cusparseIndexType_t it = sizeof(I) == 4 ? CUSPARSE_INDEX_32I : CUSPARSE_INDEX_64I;
  const bool t = op == Op::Transpose;
  if ((t ? a.cols : a.rows) == 0) return;
  cusparseHandle_t handle = ctx.cuda_state()->cusparse;
  const auto& lib = detail::cusparse_api();
  cusparseSpMatDescr_t mat = nullptr;
  cusparseDnVecDescr_t vx = nullptr, vy = nullptr;
  SHRINK_CUSPARSE_CHECK(lib.create_csr(&mat, a.rows, a.cols, a.nnz, const_cast<I*>(a.row_ptr),
                                       const_cast<I*>(a.col_idx), const_cast<V*>(a.values), it, it,
                                       CUSPARSE_INDEX_BASE_ZERO, vt));
  try {
    SHRINK_CUSPARSE_CHECK(lib.create_dn_vec(&vx, t ? a.rows : a.cols, const_cast<V*>(x), vt));
    SHRINK_CUSPARSE_CHECK(lib.create_dn_vec(&vy, t ? a.cols : a.rows, y, vt));
    const auto cop = t ? CUSPARSE_OPERATION_TRANSPOSE : CUSPARSE_OPERATION_NON_TRANSPOSE;
    std::size_t bytes = 0;
    SHRINK_CUSPARSE_CHECK(lib.spmv_buffer_size(handle, cop, &alpha, mat, vx, &beta, vy, vt, alg, &bytes));
    void* buffer = ctx.workspace(bytes);
    SHRINK_CUSPARSE_CHECK(lib.spmv(handle, cop, &alpha, mat, vx, &beta, vy, vt, alg, buffer));
  } catch (...) {
    if (vx) lib.destroy_dn_vec(vx);
    if (vy) lib.destroy_dn_vec(vy);
    lib.destroy_sp_mat(mat);
    throw;
  }
  lib.destroy_dn_vec(vx);
  lib.destroy_dn_vec(vy);
  lib.destroy_sp_mat(mat);
}

SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE_SPMV)
#define SHRINK_INSTANTIATE_CUSPARSE(V, I) SHRINK_KERNEL_INSTANCE(cusparse_spmv, V, I)
SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE_CUSPARSE)
#undef SHRINK_INSTANTIATE_CUSPARSE

}  // namespace shrink::kernels::cuda
