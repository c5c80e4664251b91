// CUDA twins of the reductions. Two passes with a grid that depends only on n (never on timing),
// block reductions in a fixed tree order and no atomics: bit-identical run to run.
#include <cub/block/block_reduce.cuh>

#include <cmath>
#include <limits>

#include "kernels/cuda/common.cuh"
#include "kernels/ops/kernels.hpp"

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

SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_REDUCE)

}  // namespace shrink::kernels::cuda
