// CUDA twins of the proximal kernels: grid-stride loops, one pass over memory each, the same
// scalar map as the CPU (kernels/ops/prox_math.hpp).
#include "kernels/cuda/common.cuh"
#include "kernels/ops/kernels.hpp"
#include "kernels/ops/blend.hpp"
#include "kernels/ops/prox_math.hpp"

namespace shrink::kernels::cuda {

namespace {
using cuda_detail::grid_for;
using cuda_detail::stream_of;
constexpr int kBlock = 256;

// Threshold and ridge scale of coordinate i (same formulas as the CPU twin).
template <class V>
__device__ __forceinline__ void scales(const ProxArgs<V>& p, index_t i, V& t, V& inv) {
  const V w = p.factors ? __ldg(p.factors + i) : V(1);
  t = p.l1 * w;
  inv = V(1) / (V(1) + p.l2 * w);
}

template <class V>
__global__ void prox_kernel(index_t n, const V* __restrict__ v, ProxArgs<V> p, V* x) {
  for (index_t i = blockIdx.x * static_cast<index_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<index_t>(gridDim.x) * blockDim.x)
  {
    V t, inv;
    scales(p, i, t, inv);
    x[i] = prox_scalar(v[i], t, inv, p.positive);
  }
}

template <class V>
__global__ void prox_grad_kernel(index_t n, const V* __restrict__ v, const V* __restrict__ g, V step,
                                 ProxArgs<V> p, V* x) {
  for (index_t i = blockIdx.x * static_cast<index_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<index_t>(gridDim.x) * blockDim.x)
  {
    V t, inv;
    scales(p, i, t, inv);
    x[i] = prox_scalar(v[i] - step * g[i], t, inv, p.positive);
  }
}

template <class V>
__global__ void fista_kernel(index_t n, V* __restrict__ y, const V* __restrict__ g,
                             V* __restrict__ x, V step, ProxArgs<V> p, V momentum) {
  for (index_t i = blockIdx.x * static_cast<index_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<index_t>(gridDim.x) * blockDim.x) {
    V t, inv;
    scales(p, i, t, inv);
    const V x_new = prox_scalar(y[i] - step * g[i], t, inv, p.positive);
    y[i] = x_new + momentum * (x_new - x[i]);
    x[i] = x_new;
  }
}

template <class V>
__global__ void extrapolate_kernel(index_t n, const V* __restrict__ x_new,
                                   const V* __restrict__ x_old, V momentum, V* __restrict__ y) {
  for (index_t i = blockIdx.x * static_cast<index_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<index_t>(gridDim.x) * blockDim.x)
    y[i] = x_new[i] + momentum * (x_new[i] - x_old[i]);
}
template <class V>
__global__ void axpby_kernel(index_t n, V alpha, const V* __restrict__ x, V beta, V* __restrict__ y) {
  for (index_t i = blockIdx.x * static_cast<index_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<index_t>(gridDim.x) * blockDim.x)
    y[i] = blend(alpha, x[i], beta, y[i]);
}
}  // namespace

template <class V>
void prox(const Context& ctx, index_t n, const V* v, ProxArgs<V> p, V* x) {
  if (n == 0) return;
  prox_kernel<<<grid_for(ctx, n, kBlock), kBlock, 0, stream_of(ctx)>>>(n, v, p, x);
  SHRINK_CUDA_CHECK_LAUNCH();
}

template <class V>
void prox_grad_step(const Context& ctx, index_t n, const V* v, const V* g, V step, ProxArgs<V> p,
                    V* x) {
  if (n == 0) return;
  prox_grad_kernel<<<grid_for(ctx, n, kBlock), kBlock, 0, stream_of(ctx)>>>(n, v, g, step, p, x);
  SHRINK_CUDA_CHECK_LAUNCH();
}

template <class V>
void fista_step(const Context& ctx, index_t n, V* y, const V* g, V* x, V step, ProxArgs<V> p,
                V momentum) {
  if (n == 0) return;
  fista_kernel<<<grid_for(ctx, n, kBlock), kBlock, 0, stream_of(ctx)>>>(n, y, g, x, step, p, momentum);
  SHRINK_CUDA_CHECK_LAUNCH();
}

template <class V>
void extrapolate(const Context& ctx, index_t n, const V* x_new, const V* x_old, V momentum, V* y) {
  if (n == 0) return;
  extrapolate_kernel<<<grid_for(ctx, n, kBlock), kBlock, 0, stream_of(ctx)>>>(n, x_new, x_old, momentum, y);
  SHRINK_CUDA_CHECK_LAUNCH();
}

template <class V>
void axpby(const Context& ctx, index_t n, V alpha, const V* x, V beta, V* y) {
  if (n == 0) return;
  axpby_kernel<<<grid_for(ctx, n, kBlock), kBlock, 0, stream_of(ctx)>>>(n, alpha, x, beta, y);
  SHRINK_CUDA_CHECK_LAUNCH();
}

SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_PROX)

}  // namespace shrink::kernels::cuda
