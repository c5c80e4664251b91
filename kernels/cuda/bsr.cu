// CUDA twins of the block-sparse layer kernels, and the cuSPARSE BSR baseline.
//
// All three products are one tiled kernel: a CTA owns a 64 x 64 output tile and walks the shared
// dimension 32 at a time, staging A (tile rows x 32) and B (32 x tile cols) in shared memory. Only
// the addressing differs, and it lives in three small "problem" structs:
//   forward   Y = X W^T + b: a CTA per (64 samples, block row); the shared dimension runs over the
//             block row's blocks and their columns;
//   dX = dY W: a CTA per (64 samples, block column), walking W's blocks of that column through the
//             column index (CSC of the block pattern), so W is never transposed;
//   dW:        a CTA per stored block, walking the samples: the block-sampled product dY^T X.
// Products run on tensor cores (WMMA, TF32 or BF16 inputs, FP32 accumulation) when asked, else as
// FP32/FP64 FMA with a 4 x 4 register tile per thread. Each output has one writer and a fixed
// summation order, so results are deterministic.
#include <cuda_bf16.h>
#include <mma.h>

#include <type_traits>

#include "kernels/cuda/launch.cuh"
#include "kernels/ops/bsr_kernels.hpp"
#include "shrink/error.hpp"

namespace shrink::kernels::cuda {

namespace {
using cuda_detail::stream_of;

constexpr int kTile = 64;     // output tile side
constexpr int kDepth = 32;    // shared-dimension slice per stage
constexpr int kThreads = 256;

enum class Engine { Fma, Tf32, Bf16 };

// Shared-memory element type and padded leading dimension (WMMA needs 16-byte multiples).
template <class V, Engine E> struct Staging {
  using type = V;
  static constexpr int ld = kTile + 4;
};
template <class V> struct Staging<V, Engine::Bf16> {
  using type = __nv_bfloat16;
  static constexpr int ld = kTile + 8;
};

// ---- problems: where A, B and the output live ---------------------------------------------------
// A(m, k) and B(k, n) for the current stage; `a_k_fast` says which index of A is contiguous in
// memory (so loads are coalesced), likewise for B.

template <class V, class I>
struct ForwardProblem {
  DenseView<const V> x;
  BsrView<V, I> w;
  const V* bias;
  DenseView<V> y;
  static constexpr bool a_k_fast = true, b_k_fast = true;
  // per CTA
  index_t b0 = 0, br = 0, first = 0, count = 0, chunks = 1;
  // per stage
  index_t block = 0, col0 = 0, j0 = 0;

  __device__ int setup(index_t tile_x, index_t tile_y) {
    b0 = tile_x * kTile;
    br = tile_y;
    first = w.block_row_ptr[br];
    count = w.block_row_ptr[br + 1] - first;
    chunks = (w.block_width + kDepth - 1) / kDepth;
    return static_cast<int>(count * chunks);
  }
  __device__ void begin_stage(int s) {
    block = first + s / chunks;
    j0 = (s % chunks) * kDepth;
    col0 = static_cast<index_t>(w.block_col_idx[block]) * w.block_width + j0;
  }
  __device__ V a(int m, int k) const {
    const index_t b = b0 + m;
    return (b < x.rows && j0 + k < w.block_width && col0 + k < x.cols) ? x.data[b * x.ld + col0 + k] : V(0);
  }
  __device__ V b(int k, int n) const {
    return (n < w.block_height && j0 + k < w.block_width)
               ? w.values[(block * w.block_height + n) * w.block_width + j0 + k] : V(0);
  }
  __device__ void store(int m, int n, V acc) const {
    const index_t b = b0 + m, o = br * w.block_height + n;
    if (b < y.rows && n < w.block_height && o < y.cols) y.data[b * y.ld + o] = acc + (bias ? bias[o] : V(0));
  }
};

template <class V, class I>
struct BackwardInputProblem {
  DenseView<const V> dy;
  BsrView<V, I> w;
  const I* col_ptr;
  const I* block_row;
  const I* block_index;
  DenseView<V> dx;
  static constexpr bool a_k_fast = true, b_k_fast = false;
  index_t b0 = 0, bc = 0, first = 0, count = 0, chunks = 1;
  index_t block = 0, row0 = 0, i0 = 0;

  __device__ int setup(index_t tile_x, index_t tile_y) {
    b0 = tile_x * kTile;
    bc = tile_y;
    first = col_ptr[bc];
    count = col_ptr[bc + 1] - first;
    chunks = (w.block_height + kDepth - 1) / kDepth;
    return static_cast<int>(count * chunks);
  }
  __device__ void begin_stage(int s) {
    const index_t q = first + s / chunks;
    i0 = (s % chunks) * kDepth;
    block = block_index[q];
    row0 = static_cast<index_t>(block_row[q]) * w.block_height + i0;
  }
  __device__ V a(int m, int k) const {
    const index_t b = b0 + m;
    return (b < dy.rows && i0 + k < w.block_height && row0 + k < dy.cols) ? dy.data[b * dy.ld + row0 + k] : V(0);
  }
  __device__ V b(int k, int n) const {
    return (i0 + k < w.block_height && n < w.block_width)
               ? w.values[(block * w.block_height + i0 + k) * w.block_width + n] : V(0);
  }
  __device__ void store(int m, int n, V acc) const {
    const index_t b = b0 + m, c = bc * w.block_width + n;
    if (b < dx.rows && n < w.block_width && c < dx.cols) dx.data[b * dx.ld + c] = acc;
  }
};

template <class V, class I>
struct WeightGradProblem {
  DenseView<const V> dy, x;
  BsrView<V, I> w;
  V* grad;
  static constexpr bool a_k_fast = false, b_k_fast = false;
  index_t block = 0, row0 = 0, col0 = 0, s0 = 0;

  __device__ int setup(index_t tile_x, index_t) {
    block = tile_x;
    index_t lo = 0, hi = (w.rows + w.block_height - 1) / w.block_height;  // the block row holding `block`
    while (hi - lo > 1) {
      const index_t mid = (lo + hi) / 2;
      if (w.block_row_ptr[mid] <= block) lo = mid; else hi = mid;
    }
    row0 = lo * w.block_height;
    col0 = static_cast<index_t>(w.block_col_idx[block]) * w.block_width;
    return static_cast<int>((x.rows + kDepth - 1) / kDepth);
  }
  __device__ void begin_stage(int s) { s0 = static_cast<index_t>(s) * kDepth; }
  __device__ V a(int m, int k) const {
    const index_t b = s0 + k;
    return (b < dy.rows && m < w.block_height && row0 + m < dy.cols) ? dy.data[b * dy.ld + row0 + m] : V(0);
  }
  __device__ V b(int k, int n) const {
    const index_t b = s0 + k;
    return (b < x.rows && n < w.block_width && col0 + n < x.cols) ? x.data[b * x.ld + col0 + n] : V(0);
  }
  __device__ void store(int m, int n, V acc) const {
    if (m < w.block_height && n < w.block_width) grad[(block * w.block_height + m) * w.block_width + n] = acc;
  }
};

// ---- the tiled kernel ----------------------------------------------------------------------------
template <class S, int LD, bool KFast, class Load>
__device__ void stage_operand(S (*dst)[LD], Load load) {
  for (int e = threadIdx.x; e < kTile * kDepth; e += kThreads) {
    const int k = KFast ? e % kDepth : e / kTile;
    const int mn = KFast ? e / kDepth : e % kTile;
    dst[k][mn] = static_cast<S>(load(mn, k));
  }
}

template <class V, Engine E, class Problem>
__device__ void tile_body(const Problem& problem, index_t tile_x, index_t tile_y) {
  using S = typename Staging<V, E>::type;
  constexpr int LD = Staging<V, E>::ld;
  constexpr bool tensor = E != Engine::Fma;
  using Acc = std::conditional_t<tensor, float, V>;
  // A is staged k-major (sa[k][m]), B k-major (sb[k][n]); the output tile reuses the same memory.
  constexpr std::size_t operand_bytes = 2 * sizeof(S) * kDepth * LD;
  constexpr std::size_t out_bytes = tensor ? sizeof(float) * kTile * (kTile + 4) : 0;
  __shared__ __align__(32) unsigned char smem[operand_bytes > out_bytes ? operand_bytes : out_bytes];
  auto sa = reinterpret_cast<S(*)[LD]>(smem);
  auto sb = reinterpret_cast<S(*)[LD]>(smem + sizeof(S) * kDepth * LD);

  Problem p = problem;
  const int stages = p.setup(tile_x, tile_y);

  if constexpr (!tensor) {
    const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
    Acc acc[4][4] = {};
    for (int s = 0; s < stages; ++s) {
      p.begin_stage(s);
      stage_operand<S, LD, Problem::a_k_fast>(sa, [&](int m, int k) { return p.a(m, k); });
      stage_operand<S, LD, Problem::b_k_fast>(sb, [&](int n, int k) { return p.b(k, n); });
      __syncthreads();
#pragma unroll 8
      for (int k = 0; k < kDepth; ++k) {
        Acc av[4], bv[4];
#pragma unroll
        for (int i = 0; i < 4; ++i) av[i] = sa[k][ty + 16 * i];
#pragma unroll
        for (int j = 0; j < 4; ++j) bv[j] = sb[k][tx + 16 * j];
#pragma unroll
        for (int i = 0; i < 4; ++i)
#pragma unroll
          for (int j = 0; j < 4; ++j) acc[i][j] = fma(av[i], bv[j], acc[i][j]);
      }
      __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j) p.store(ty + 16 * i, tx + 16 * j, acc[i][j]);
  } else {
    namespace wmma = nvcuda::wmma;
    constexpr int K = E == Engine::Tf32 ? 8 : 16;
    using In = std::conditional_t<E == Engine::Tf32, wmma::precision::tf32, __nv_bfloat16>;
    const int warp = threadIdx.x / 32;
    const int fm = warp / 2, fn0 = (warp % 2) * 2;  // fragment row, first of two fragment columns
    wmma::fragment<wmma::accumulator, 16, 16, K, float> acc[2];
    for (auto& f : acc) wmma::fill_fragment(f, 0.0f);
    for (int s = 0; s < stages; ++s) {
      p.begin_stage(s);
      stage_operand<S, LD, Problem::a_k_fast>(sa, [&](int m, int k) { return p.a(m, k); });
      stage_operand<S, LD, Problem::b_k_fast>(sb, [&](int n, int k) { return p.b(k, n); });
      __syncthreads();
      for (int k0 = 0; k0 < kDepth; k0 += K) {
        // A(m, k) at sa[k][m]: column-major with leading dimension LD; B(k, n) at sb[k][n]: row-major.
        wmma::fragment<wmma::matrix_a, 16, 16, K, In, wmma::col_major> fa;
        wmma::load_matrix_sync(fa, &sa[k0][fm * 16], LD);
        if constexpr (E == Engine::Tf32)
          for (int t = 0; t < fa.num_elements; ++t) fa.x[t] = wmma::__float_to_tf32(fa.x[t]);
        for (int j = 0; j < 2; ++j) {
          wmma::fragment<wmma::matrix_b, 16, 16, K, In, wmma::row_major> fb;
          wmma::load_matrix_sync(fb, &sb[k0][(fn0 + j) * 16], LD);
          if constexpr (E == Engine::Tf32)
            for (int t = 0; t < fb.num_elements; ++t) fb.x[t] = wmma::__float_to_tf32(fb.x[t]);
          wmma::mma_sync(acc[j], fa, fb, acc[j]);
        }
      }
      __syncthreads();
    }
    auto out = reinterpret_cast<float(*)[kTile + 4]>(smem);
    for (int j = 0; j < 2; ++j)
      wmma::store_matrix_sync(&out[fm * 16][(fn0 + j) * 16], acc[j], kTile + 4, wmma::mem_row_major);
    __syncthreads();
    for (int e = threadIdx.x; e < kTile * kTile; e += kThreads)
      p.store(e / kTile, e % kTile, static_cast<V>(out[e / kTile][e % kTile]));
  }
}

// grid.y is capped at 65535 by the hardware, so a CTA walks tile rows blockIdx.y, + gridDim.y, ...
// up to tiles_y (block rows of a 65536-latent layer with 1 x 16 blocks need more than the cap).
template <class V, Engine E, class Problem>
__global__ void __launch_bounds__(kThreads) tile_kernel(Problem problem, index_t tiles_y) {
  for (index_t tile_y = blockIdx.y; tile_y < tiles_y; tile_y += gridDim.y) {
    tile_body<V, E>(problem, blockIdx.x, tile_y);
    __syncthreads();  // the next tile stages into the shared memory this one read last
  }
}

// tiles_x CTAs across (at most 2^31 - 1), tiles_y tile rows walked by at most 65535 CTAs down.
template <class V, class Problem>
void launch(const Context& ctx, index_t tiles_x, index_t tiles_y, const Problem& problem,
            Precision precision) {
  if (tiles_x == 0 || tiles_y == 0) return;
  if (tiles_x > 0x7fffffff)
    throw InvalidArgument("the layer needs " + std::to_string(tiles_x) + " tiles across; CUDA grids take 2^31 - 1");
  const dim3 grid(static_cast<unsigned>(tiles_x), static_cast<unsigned>(tiles_y < 65535 ? tiles_y : 65535));
  const auto stream = stream_of(ctx);
  if constexpr (std::is_same_v<V, float>) {
    if (precision == Precision::Tf32) {
      tile_kernel<V, Engine::Tf32><<<grid, kThreads, 0, stream>>>(problem, tiles_y);
      SHRINK_CUDA_CHECK_LAUNCH();
      return;
    }
    if (precision == Precision::Bf16) {
      tile_kernel<V, Engine::Bf16><<<grid, kThreads, 0, stream>>>(problem, tiles_y);
      SHRINK_CUDA_CHECK_LAUNCH();
      return;
    }
  }
  tile_kernel<V, Engine::Fma><<<grid, kThreads, 0, stream>>>(problem, tiles_y);
  SHRINK_CUDA_CHECK_LAUNCH();
}

index_t sample_tiles(index_t rows) { return (rows + kTile - 1) / kTile; }

}  // namespace

template <class V, class I>
void bsr_forward(const Context& ctx, DenseView<const V> x, const BsrView<V, I>& w, const V* bias, DenseView<V> y,
                 Precision precision) {
  if (y.rows == 0 || y.cols == 0) return;
  // Every CTA writes its whole tile (a block row without blocks writes the bias), so Y needs no fill.
  ForwardProblem<V, I> p{x, w, bias, y};
  launch<V>(ctx, sample_tiles(x.rows), w.block_grid_rows(), p, precision);
}

template <class V, class I>
void bsr_backward_input(const Context& ctx, DenseView<const V> dy, const BsrView<V, I>& w, const I* col_ptr,
                        const I* block_row, const I* block_index, DenseView<V> dx, Precision precision) {
  if (dx.rows == 0 || dx.cols == 0) return;
  BackwardInputProblem<V, I> p{dy, w, col_ptr, block_row, block_index, dx};
  launch<V>(ctx, sample_tiles(dy.rows), w.block_grid_cols(), p, precision);
}

template <class V, class I>
void bsr_weight_grad(const Context& ctx, DenseView<const V> dy, DenseView<const V> x, const BsrView<V, I>& w,
                     V* grad, Precision precision) {
  if (w.nnzb == 0) return;
  WeightGradProblem<V, I> p{dy, x, w, grad};
  launch<V>(ctx, w.nnzb, 1, p, precision);
}

// ---- cuSPARSE baseline ------------------------------------------------------------------------------
// Y^T (out x batch, column-major: Y row-major) = W * X^T through cusparse?bsrmm, then the bias.
template <class V, class I>
void cusparse_bsr_forward(const Context& ctx, DenseView<const V> x, const BsrView<V, I>& w, const V* bias,
                          DenseView<V> y) {
  if constexpr (!std::is_same_v<V, float> || !std::is_same_v<I, std::int32_t>) {
    throw InvalidArgument("the cuSPARSE BSR baseline takes float values and 32-bit indices");
  } else {
    const index_t bs = w.block_height;
    if (w.block_width != bs || w.rows % bs != 0 || w.cols % bs != 0)
      throw InvalidArgument("the cuSPARSE BSR baseline needs square blocks that divide W's shape");
    if (y.rows == 0 || y.cols == 0) return;
    const index_t cols = y.cols;
    for_each(ctx, y.rows * cols, [=] __device__(index_t e) {
      y.data[(e / cols) * y.ld + e % cols] = bias ? bias[e % cols] : V(0);
    });
    if (w.nnzb == 0 || x.rows == 0) return;
    const auto& lib = detail::cusparse_api();
    cusparseMatDescr_t descr = nullptr;
    SHRINK_CUSPARSE_CHECK(lib.create_mat_descr(&descr));
    const float one = 1.0f;
    // The legacy bsrmm is the documented cuSPARSE BSR x dense product (deprecated since CUDA 12.8).
    const auto status = lib.sbsrmm(
        ctx.cuda_state()->cusparse, CUSPARSE_DIRECTION_ROW, CUSPARSE_OPERATION_NON_TRANSPOSE,
        CUSPARSE_OPERATION_NON_TRANSPOSE, static_cast<int>(w.rows / bs), static_cast<int>(x.rows),
        static_cast<int>(w.cols / bs), static_cast<int>(w.nnzb), &one, descr, w.values, w.block_row_ptr,
        w.block_col_idx, static_cast<int>(bs), x.data, static_cast<int>(x.ld), &one, y.data, static_cast<int>(y.ld));
    lib.destroy_mat_descr(descr);
    SHRINK_CUSPARSE_CHECK(status);
  }
}

SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE_BSR)
#define SHRINK_INSTANTIATE_CUSPARSE_BSR(V, I) SHRINK_KERNEL_INSTANCE(cusparse_bsr_forward, V, I)
SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE_CUSPARSE_BSR)
#undef SHRINK_INSTANTIATE_CUSPARSE_BSR

}  // namespace shrink::kernels::cuda
