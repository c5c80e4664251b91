// CUDA twins of the reductions. Two passes with a grid that depends only on n (never on timing),
// block reductions in a fixed tree order and no atomics: bit-identical run to run.
#include <cub/block/block_reduce.cuh>

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/cuda/launch.cuh"
#include "kernels/common/elementwise.hpp"
#include "kernels/ops/reduce_kernels.hpp"

namespace shrink::kernels::cuda {

namespace {
using cuda_detail::stream_of;
constexpr int kBlock = 256;
constexpr int kMaxBlocks = 1024;

struct SumOp {
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const { return a + b; }
};
struct MaxOp {
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const { return b > a ? b : a; }  // NaN ignored, as on the CPU
};

// Sums accumulate in double for float inputs too (a float product is exact in double), as on the CPU.
template <class V> struct DotTerm {
  const V* x; const V* y;
  __device__ double operator()(index_t i) const { return static_cast<double>(x[i]) * y[i]; }
};
template <class V> struct SumTerm {
  const V* x;
  __device__ double operator()(index_t i) const { return x[i]; }
};
template <class V> struct SquareTerm {
  const V* x; double scale;
  __device__ double operator()(index_t i) const { const double s = x[i] * scale; return s * s; }
};
template <class V> struct AbsTerm {
  const V* x;
  __device__ V operator()(index_t i) const { return fabs(x[i]); }
};
template <class V> struct NonFiniteTerm {
  const V* x;
  __device__ long long operator()(index_t i) const { return isfinite(x[i]) ? 0 : 1; }
};

template <class V> struct DualTermsTerm {
  const V* c; const V* beta; const V* factors; LassoDualArgs args;
  __device__ LassoDualTerms operator()(index_t j) const {
    LassoDualTerms t;
    accumulate_dual_terms(t, static_cast<double>(c[j]), static_cast<double>(beta[j]),
                          static_cast<double>(factors[j]), args);
    return t;
  }
};
struct DualTermsOp {
  __device__ __forceinline__ LassoDualTerms operator()(const LassoDualTerms& a, const LassoDualTerms& b) const {
    return combine_dual_terms(a, b);
  }
};

template <class T, class Term, class Combine>
__global__ void reduce_partials(index_t n, Term term, Combine combine, T identity, T* partial) {
  using BlockReduce = cub::BlockReduce<T, kBlock>;
  __shared__ typename BlockReduce::TempStorage temp;
  T acc = identity;
  for (index_t i = blockIdx.x * static_cast<index_t>(kBlock) + threadIdx.x; i < n;
       i += static_cast<index_t>(gridDim.x) * kBlock)
    acc = combine(acc, term(i));
  const T block = BlockReduce(temp).Reduce(acc, combine);
  if (threadIdx.x == 0) partial[blockIdx.x] = block;
}

template <class T, class Combine>
__global__ void reduce_final(int count, const T* partial, Combine combine, T identity, T* out) {
  using BlockReduce = cub::BlockReduce<T, kBlock>;
  __shared__ typename BlockReduce::TempStorage temp;
  T acc = identity;
  for (int i = threadIdx.x; i < count; i += kBlock) acc = combine(acc, partial[i]);
  const T total = BlockReduce(temp).Reduce(acc, combine);
  if (threadIdx.x == 0) *out = total;
}

template <class T, class Term, class Combine>
T reduce(const Context& ctx, index_t n, Term term, Combine combine, T identity) {
  if (n == 0) return identity;
  const index_t wanted = (n + kBlock * 4 - 1) / (kBlock * 4);
  const int blocks = static_cast<int>(wanted < kMaxBlocks ? wanted : kMaxBlocks);
  T* partial = static_cast<T*>(ctx.workspace((blocks + 1) * sizeof(T)));
  reduce_partials<T><<<blocks, kBlock, 0, stream_of(ctx)>>>(n, term, combine, identity, partial);
  SHRINK_CUDA_CHECK_LAUNCH();
  reduce_final<T><<<1, kBlock, 0, stream_of(ctx)>>>(blocks, partial, combine, identity, partial + blocks);
  SHRINK_CUDA_CHECK_LAUNCH();
  T result{};
  SHRINK_CUDA_CHECK(cudaMemcpyAsync(&result, partial + blocks, sizeof(T), cudaMemcpyDeviceToHost,
                                    stream_of(ctx)));
  SHRINK_CUDA_CHECK(cudaStreamSynchronize(stream_of(ctx)));
  return result;
}
// Partial column sums over chunks of rows (fixed order), then a fixed-order sum of the partials.
// grid.y is capped at 65535, so a CTA walks chunks blockIdx.y, + gridDim.y, ... (any row count).
constexpr int kSumRows = 256;
template <class V>
__global__ void column_partials_kernel(DenseView<const V> m, index_t chunks, V* partial) {
  __shared__ V part[8][33];
  const index_t col = static_cast<index_t>(blockIdx.x) * 32 + threadIdx.x;
  for (index_t chunk = blockIdx.y; chunk < chunks; chunk += gridDim.y) {
    const index_t r0 = chunk * kSumRows;
    V acc = 0;
    if (col < m.cols)
      for (index_t r = r0 + threadIdx.y; r < m.rows && r < r0 + kSumRows; r += 8)
        acc += m.layout == Layout::RowMajor ? m.data[r * m.ld + col] : m.data[col * m.ld + r];
    part[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && col < m.cols) {
      V s = 0;
      for (int t = 0; t < 8; ++t) s += part[t][threadIdx.x];
      partial[chunk * m.cols + col] = s;
    }
    __syncthreads();
  }
}
}  // namespace

template <class V>
V dot(const Context& ctx, index_t n, const V* x, const V* y) {
  return static_cast<V>(reduce<double>(ctx, n, DotTerm<V>{x, y}, SumOp{}, 0.0));
}

template <class V>
V sum(const Context& ctx, index_t n, const V* x) {
  return static_cast<V>(reduce<double>(ctx, n, SumTerm<V>{x}, SumOp{}, 0.0));
}

template <class V>
V amax(const Context& ctx, index_t n, const V* x) {
  return reduce<V>(ctx, n, AbsTerm<V>{x}, MaxOp{}, V(0));
}

template <class V>
V nrm2(const Context& ctx, index_t n, const V* x) {
  // Same policy as the CPU twin: plain sum of squares in double, rescaled only on over/underflow.
  const double ss = reduce<double>(ctx, n, SquareTerm<V>{x, 1.0}, SumOp{}, 0.0);
  if (std::isfinite(ss) && ss >= std::numeric_limits<double>::min() * 1e6) return static_cast<V>(std::sqrt(ss));
  const V scale = amax(ctx, n, x);
  if (scale == V(0) || !std::isfinite(scale)) return scale;
  return static_cast<V>(scale * std::sqrt(reduce<double>(ctx, n, SquareTerm<V>{x, 1.0 / scale}, SumOp{}, 0.0)));
}

template <class V>
index_t count_nonfinite(const Context& ctx, index_t n, const V* x) {
  return static_cast<index_t>(reduce<long long>(ctx, n, NonFiniteTerm<V>{x}, SumOp{}, 0LL));
}

template <class V>
LassoDualTerms lasso_dual_terms(const Context& ctx, index_t p, const V* c, const V* beta, const V* factors,
                                LassoDualArgs args) {
  return reduce<LassoDualTerms>(ctx, p, DualTermsTerm<V>{c, beta, factors, args}, DualTermsOp{},
                                LassoDualTerms{});
}

template <class V>
void column_sums(const Context& ctx, DenseView<const V> m, V* out) {
  if (m.cols == 0) return;
  const index_t chunks = std::max<index_t>(1, (m.rows + kSumRows - 1) / kSumRows);
  V* partial = static_cast<V*>(ctx.workspace(sizeof(V) * static_cast<std::size_t>(chunks * m.cols)));
  const dim3 grid(static_cast<unsigned>((m.cols + 31) / 32), static_cast<unsigned>(chunks < 65535 ? chunks : 65535));
  column_partials_kernel<V><<<grid, dim3(32, 8), 0, stream_of(ctx)>>>(m, chunks, partial);
  SHRINK_CUDA_CHECK_LAUNCH();
  const index_t cols = m.cols;
  for_each(ctx, cols, [=] __device__(index_t c) {  // the chunks' partials in chunk order
    V s = 0;
    for (index_t k = 0; k < chunks; ++k) s += partial[k * cols + c];
    out[c] = s;
  });
}

#include "kernels/common/moments_bodies.inl"

SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_REDUCE)
SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE_REDUCE_SPARSE)

}  // namespace shrink::kernels::cuda
