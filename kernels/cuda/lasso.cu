// CUDA twin of the Gram coordinate descent. Coordinate descent is sequential, so one warp runs the
// whole sweep: every lane computes the same update (no broadcast needed), and a move's gradient
// update is split over the lanes with __syncwarp ordering it before the next coordinate's read. One
// warp per problem is also the shape of the batched solver (many problems, one warp each).
#include "kernels/cuda/common.cuh"
#include "kernels/ops/kernels.hpp"

namespace shrink::kernels::cuda {

namespace {
using cuda_detail::stream_of;

template <class V>
__device__ __forceinline__ void gram_coordinate(index_t p, const V* gram, index_t ld, const V* l1,
                                                const V* denom, const V* lipschitz, bool positive,
                                                index_t j, V* beta, V* grad) {
  const V old = beta[j];
  const V next = coordinate_update(lipschitz[j] * old + grad[j], l1[j], denom[j], positive);
  if (next == old) return;  // the same decision in every lane
  const V delta = next - old;
  const V* g = gram + j * ld;
  for (index_t k = threadIdx.x; k < p; k += warpSize) grad[k] -= delta * g[k];
  __syncwarp();
  if (threadIdx.x == 0) beta[j] = next;
  __syncwarp();
}

template <class V>
__global__ void gram_cd_kernel(index_t p, const V* gram, index_t ld, const V* l1, const V* denom,
                               const V* lipschitz, bool positive, int rounds, int active_sweeps, V* beta,
                               V* grad, index_t* active) {
  for (int round = 0; round < rounds; ++round) {
    index_t count = 0;
    for (index_t j = 0; j < p; ++j) {
      if (!(lipschitz[j] > 0)) continue;
      gram_coordinate(p, gram, ld, l1, denom, lipschitz, positive, j, beta, grad);
      if (beta[j] != 0) {
        if (threadIdx.x == 0) active[count] = j;
        ++count;
      }
    }
    __syncwarp();
    for (int sweep = 0; sweep < active_sweeps; ++sweep)
      for (index_t t = 0; t < count; ++t)
        gram_coordinate(p, gram, ld, l1, denom, lipschitz, positive, active[t], beta, grad);
  }
}

}  // namespace

template <class V>
void gram_cd(const Context& ctx, index_t p, const V* gram, index_t ld, const V* l1, const V* denom,
             const V* lipschitz, bool positive, int rounds, int active_sweeps, V* beta, V* grad,
             index_t* active) {
  if (p == 0 || rounds <= 0) return;
  gram_cd_kernel<V><<<1, 32, 0, stream_of(ctx)>>>(p, gram, ld, l1, denom, lipschitz, positive, rounds,
                                                  active_sweeps, beta, grad, active);
  SHRINK_CUDA_CHECK_LAUNCH();
}

SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_LASSO)

}  // namespace shrink::kernels::cuda
