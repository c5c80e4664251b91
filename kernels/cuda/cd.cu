// CUDA twins of the coordinate-descent family. The sweeps are written once over a team
// (kernels/common/cd_team.hpp): gram_cd runs them on one warp (every lane computes the same update,
// a move's gradient update is split over the lanes); the batched solver runs a warp per problem when
// the problems share one G, and a block per problem for a distinct batch, whose G_b is staged in
// shared memory when it fits (p <= 110 in float32, 78 in float64).
#include <cub/device/device_radix_sort.cuh>

#include "kernels/common/cd_team.hpp"
#include "kernels/cuda/launch.cuh"

namespace shrink::kernels::cuda {

namespace {
using cuda_detail::align_up;
using cuda_detail::stream_of;

constexpr int kWarpsPerBlock = 4;
constexpr int kBuildThreads = 256;
constexpr std::size_t kStagedGramBytes = 48 * 1024;  // dynamic shared memory without an opt-in
constexpr unsigned kFullMask = 0xffffffffu;

// Butterfly reductions: addition and max are commutative, so every lane ends with the same bits.
__device__ __forceinline__ double warp_sum(double x) {
  for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(kFullMask, x, o);
  return x;
}
__device__ __forceinline__ double warp_max(double x) {
  for (int o = 16; o > 0; o >>= 1) x = fmax(x, __shfl_xor_sync(kFullMask, x, o));
  return x;
}

// The teams of kernels/common/cd_team.hpp (device-only members: the shared __host__ __device__ code is
// instantiated with them from kernels alone).
// The strided updates every team shares: member r takes entries r, r + size, ...
template <class Team>
struct StridedUpdates {
  template <class V>
  __device__ void subtract(index_t count, V delta, const V* x, V* y) const {
    const Team& t = static_cast<const Team&>(*this);
    for (index_t k = t.rank(); k < count; k += t.size()) y[k] -= delta * x[k];
  }
  template <class V>
  __device__ void subtract_at(index_t count, V delta, const V* x, const std::int64_t* at, V* y) const {
    const Team& t = static_cast<const Team&>(*this);
    for (index_t u = t.rank(); u < count; u += t.size()) y[u] -= delta * x[at[u]];
  }
};

struct WarpTeam : StridedUpdates<WarpTeam> {
  __device__ index_t rank() const { return threadIdx.x & 31; }
  __device__ index_t size() const { return 32; }
  __device__ void sync() const { __syncwarp(); }
  __device__ double sum(double x) const { return warp_sum(x); }
  __device__ double max(double x) const { return warp_max(x); }
};

// A whole block. Reductions go through shared memory and every thread combines the warps' partials
// in the same order, so every thread gets the same bits.
struct BlockTeam : StridedUpdates<BlockTeam> {
  double* partial;  // one per warp, in shared memory
  __device__ index_t rank() const { return threadIdx.x; }
  __device__ index_t size() const { return blockDim.x; }
  __device__ void sync() const { __syncthreads(); }
  __device__ double sum(double x) const { return reduce(warp_sum(x), false); }
  __device__ double max(double x) const { return reduce(warp_max(x), true); }

 private:
  __device__ double reduce(double x, bool take_max) const {
    __syncthreads();  // the previous reduction has read `partial`
    if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = x;
    __syncthreads();
    double t = partial[0];
    for (unsigned w = 1; w < blockDim.x / 32; ++w) t = take_max ? fmax(t, partial[w]) : t + partial[w];
    return t;
  }
};

// The single-problem Gram sweeps: one warp, the same team code as a batched problem.
template <class V>
__global__ void gram_cd_kernel(index_t p, const V* gram, index_t ld, const V* l1, const V* denom,
                               const V* lipschitz, bool positive, int rounds, int active_sweeps, V* beta,
                               V* grad, index_t* active, V* active_work) {
  gram_cd_rounds(WarpTeam{}, p, gram, ld, l1, denom, lipschitz, positive, rounds, active_sweeps, beta, grad,
                 active, active_work);
}

template <class V>
__global__ void batch_gram_cd_kernel(BatchGramArgs<V> args) {
  const index_t b = static_cast<index_t>(blockIdx.x) * kWarpsPerBlock + (threadIdx.x >> 5);
  if (b >= args.m) return;  // a whole warp leaves together
  solve_batch_problem(WarpTeam{}, args, b);
}

// Distinct problems (each its own G_b): a block per problem, G_b staged into shared memory when it
// fits (`stage`), after the warps' reduction slots.
template <class V>
__global__ void batch_gram_cd_block_kernel(BatchGramArgs<V> args, bool stage) {
  extern __shared__ double shared[];
  const index_t b = blockIdx.x;
  const BlockTeam team{{}, shared};
  if (!stage) {
    solve_batch_problem(team, args, b);
    return;
  }
  V* g = reinterpret_cast<V*>(shared + blockDim.x / 32);
  const V* source = args.gram + b * args.gram_stride;
  const index_t p = args.p;
  for (index_t e = threadIdx.x; e < p * p; e += blockDim.x) g[e] = source[(e / p) * args.ld_gram + e % p];
  __syncthreads();
  BatchGramArgs<V> staged = args;
  staged.gram = g;  // problem b reads gram + b * 0
  staged.gram_stride = 0;
  staged.ld_gram = p;
  solve_batch_problem(team, staged, b);
}

template <class V>
__global__ void batch_gram_build_kernel(BatchBuildArgs<V> args) {
  __shared__ double partial[kBuildThreads / 32];
  build_batch_problem(BlockTeam{{}, partial}, args, static_cast<index_t>(blockIdx.x));
}

// A warp per column.
template <class V>
__global__ void center_columns_kernel(DenseView<V> y, bool center, double* mean, double* sumsq) {
  const index_t b = static_cast<index_t>(blockIdx.x) * kWarpsPerBlock + (threadIdx.x >> 5);
  if (b >= y.cols) return;
  const unsigned lane = threadIdx.x & 31;
  V* col = y.data + b * y.ld;
  const index_t n = y.rows;
  double s = 0;
  if (center)
    for (index_t i = lane; i < n; i += 32) s += col[i];
  const double mu = n > 0 ? warp_sum(s) / static_cast<double>(n) : 0.0;  // as on the CPU: n = 0 is 0, not NaN
  double dev = 0;
  for (index_t i = lane; i < n; i += 32) {
    const double d = static_cast<double>(col[i]) - mu;
    dev += d * d;
    if (center) col[i] = static_cast<V>(d);
  }
  dev = warp_sum(dev);
  if (lane == 0) {
    mean[b] = mu;
    sumsq[b] = n > 0 ? dev / static_cast<double>(n) : 0.0;
  }
}

// A warp per column: a ballot per 32 rows, each lane's place from the popcount of the lanes below.
template <class V>
__global__ void compress_columns_kernel(DenseView<const V> a, const std::int64_t* offsets, std::int64_t* rows,
                                        double* values) {
  const index_t b = static_cast<index_t>(blockIdx.x) * kWarpsPerBlock + (threadIdx.x >> 5);
  if (b >= a.cols) return;
  const unsigned lane = threadIdx.x & 31;
  const V* col = a.data + b * a.ld;
  std::int64_t at = offsets[b];
  for (index_t base = 0; base < a.rows; base += 32) {
    const index_t j = base + lane;
    const V v = j < a.rows ? col[j] : V(0);
    const unsigned mask = __ballot_sync(kFullMask, v != V(0));
    if (v != V(0)) {
      const std::int64_t k = at + __popc(mask & ((1u << lane) - 1u));
      rows[k] = j;
      values[k] = static_cast<double>(v);
    }
    at += __popc(mask);
  }
}

unsigned warp_blocks(index_t items) {
  return static_cast<unsigned>((items + kWarpsPerBlock - 1) / kWarpsPerBlock);
}

}  // namespace

template <class V>
void batch_gram_cd(const Context& ctx, const BatchGramArgs<V>& args) {
  if (args.m == 0) return;
  if (args.gram_stride == 0) {  // one G for all: a warp per problem, G shared through L1/L2
    batch_gram_cd_kernel<V><<<warp_blocks(args.m), 32 * kWarpsPerBlock, 0, stream_of(ctx)>>>(args);
  } else {
    const int threads = args.p <= 64 ? 64 : 128;
    const std::size_t slots = threads / 32 * sizeof(double);
    const std::size_t gram_bytes = static_cast<std::size_t>(args.p * args.p) * sizeof(V);
    const bool stage = slots + gram_bytes <= kStagedGramBytes;
    batch_gram_cd_block_kernel<V><<<static_cast<unsigned>(args.m), threads, slots + (stage ? gram_bytes : 0),
                                    stream_of(ctx)>>>(args, stage);
  }
  SHRINK_CUDA_CHECK_LAUNCH();
}

template <class V>
void batch_gram_build(const Context& ctx, const BatchBuildArgs<V>& args) {
  if (args.m == 0) return;
  batch_gram_build_kernel<V><<<static_cast<unsigned>(args.m), kBuildThreads, 0, stream_of(ctx)>>>(args);
  SHRINK_CUDA_CHECK_LAUNCH();
}

template <class V>
void center_columns(const Context& ctx, DenseView<V> y, bool center, double* mean, double* sumsq) {
  if (y.cols == 0) return;
  center_columns_kernel<V><<<warp_blocks(y.cols), 32 * kWarpsPerBlock, 0, stream_of(ctx)>>>(y, center, mean, sumsq);
  SHRINK_CUDA_CHECK_LAUNCH();
}

template <class V>
void compress_columns(const Context& ctx, DenseView<const V> a, const std::int64_t* offsets, std::int64_t* rows,
                      double* values) {
  if (a.cols == 0) return;
  compress_columns_kernel<V><<<warp_blocks(a.cols), 32 * kWarpsPerBlock, 0, stream_of(ctx)>>>(a, offsets, rows,
                                                                                            values);
  SHRINK_CUDA_CHECK_LAUNCH();
}

template <class V>
void gram_cd(const Context& ctx, index_t p, const V* gram, index_t ld, const V* l1, const V* denom,
             const V* lipschitz, bool positive, int rounds, int active_sweeps, V* beta, V* grad,
             index_t* active, V* active_work) {
  if (p == 0 || rounds <= 0) return;
  gram_cd_kernel<V><<<1, 32, 0, stream_of(ctx)>>>(p, gram, ld, l1, denom, lipschitz, positive, rounds,
                                                  active_sweeps, beta, grad, active, active_work);
  SHRINK_CUDA_CHECK_LAUNCH();
}

// Keys, then a stable radix sort of (key, index) pairs: ties keep index order, as in the CPU twin's
// (key, index) order. The first k indices are then sorted ascending.
template <class V>
index_t lasso_working_set(const Context& ctx, index_t p, const V* c, const V* beta, const V* l1, const V* l2,
                          const V* lipschitz, bool positive, index_t k, index_t* out) {
  if (p == 0) return 0;
  k = k < p ? k : p;
  const cudaStream_t stream = stream_of(ctx);
  const int n = static_cast<int>(p);  // cub's item count; p is far below 2^31 features here
  std::size_t sort_bytes = 0, order_bytes = 0;
  SHRINK_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, sort_bytes, static_cast<const double*>(nullptr),
                                                    static_cast<double*>(nullptr), static_cast<const index_t*>(nullptr),
                                                    static_cast<index_t*>(nullptr), n, 0, 64, stream));
  SHRINK_CUDA_CHECK(cub::DeviceRadixSort::SortKeys(nullptr, order_bytes, static_cast<const index_t*>(nullptr),
                                                   static_cast<index_t*>(nullptr), static_cast<int>(k), 0, 64, stream));
  const std::size_t pb = static_cast<std::size_t>(p);
  const std::size_t keys_bytes = align_up(pb * sizeof(double)), index_bytes = align_up(pb * sizeof(index_t));
  const std::size_t temp_bytes = align_up(sort_bytes > order_bytes ? sort_bytes : order_bytes);
  auto* base = static_cast<unsigned char*>(
      ctx.workspace(2 * keys_bytes + 2 * index_bytes + temp_bytes + sizeof(unsigned long long)));
  auto* key = reinterpret_cast<double*>(base);
  auto* key_sorted = reinterpret_cast<double*>(base + keys_bytes);
  auto* order = reinterpret_cast<index_t*>(base + 2 * keys_bytes);
  auto* order_sorted = reinterpret_cast<index_t*>(base + 2 * keys_bytes + index_bytes);
  void* temp = base + 2 * keys_bytes + 2 * index_bytes;
  auto* nonzero = reinterpret_cast<unsigned long long*>(base + 2 * keys_bytes + 2 * index_bytes + temp_bytes);
  SHRINK_CUDA_CHECK(cudaMemsetAsync(nonzero, 0, sizeof(unsigned long long), stream));
  for_each(ctx, p, [=] __device__(index_t j) {
    key[j] = working_set_key(c[j], beta[j], l1[j], l2[j], lipschitz[j], positive);
    order[j] = j;
    if (beta[j] != V(0)) atomicAdd(nonzero, 1ULL);  // an integer count: exact in any order
  });
  std::size_t bytes = sort_bytes;
  SHRINK_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp, bytes, key, key_sorted, order, order_sorted, n, 0, 64, stream));
  bytes = order_bytes;
  SHRINK_CUDA_CHECK(cub::DeviceRadixSort::SortKeys(temp, bytes, order_sorted, out, static_cast<int>(k), 0, 64, stream));
  unsigned long long count = 0;
  SHRINK_CUDA_CHECK(cudaMemcpyAsync(&count, nonzero, sizeof(count), cudaMemcpyDeviceToHost, stream));
  SHRINK_CUDA_CHECK(cudaStreamSynchronize(stream));
  return static_cast<index_t>(count);
}

SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_CD)

}  // namespace shrink::kernels::cuda
