// CUDA twins of the Gram coordinate descent and the working-set choice.
//
// Coordinate descent is sequential, so one warp runs the whole sweep: every lane computes the same
// update (no broadcast needed), and a move's gradient update is split over the lanes with __syncwarp
// ordering it before the next coordinate's read. One warp per problem is also the shape of the
// batched solver (many problems, one warp each).
#include <cub/device/device_radix_sort.cuh>

#include "kernels/cuda/common.cuh"
#include "kernels/ops/kernels.hpp"

namespace shrink::kernels::cuda {

namespace {
using cuda_detail::align_up;
using cuda_detail::grid_for;
using cuda_detail::stream_of;

template <class V>
__device__ __forceinline__ void gram_coordinate(index_t p, const V* gram, index_t ld, const V* l1,
                                                const V* denom, const V* lipschitz, bool positive,
                                                index_t j, V* beta, V* grad) {
  const V old = beta[j];
  const V grad_j = grad[j];
  __syncwarp();  // every lane has read grad_j before the lane that owns it writes
  const V next = coordinate_update(lipschitz[j] * old + grad_j, l1[j], denom[j], positive);
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

template <class V>
__global__ void working_set_keys_kernel(index_t p, const V* c, const V* beta, const V* l1, const V* l2,
                                        const V* lipschitz, bool positive, double* key, index_t* order,
                                        unsigned long long* nonzero) {
  for (index_t j = blockIdx.x * static_cast<index_t>(blockDim.x) + threadIdx.x; j < p;
       j += static_cast<index_t>(gridDim.x) * blockDim.x) {
    key[j] = working_set_key(c[j], beta[j], l1[j], l2[j], lipschitz[j], positive);
    order[j] = j;
    if (beta[j] != V(0)) atomicAdd(nonzero, 1ULL);  // an integer count: exact in any order
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
  working_set_keys_kernel<V><<<grid_for(ctx, p, 256), 256, 0, stream>>>(p, c, beta, l1, l2, lipschitz, positive,
                                                                          key, order, nonzero);
  SHRINK_CUDA_CHECK_LAUNCH();
  std::size_t bytes = sort_bytes;
  SHRINK_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp, bytes, key, key_sorted, order, order_sorted, n, 0, 64, stream));
  bytes = order_bytes;
  SHRINK_CUDA_CHECK(cub::DeviceRadixSort::SortKeys(temp, bytes, order_sorted, out, static_cast<int>(k), 0, 64, stream));
  unsigned long long count = 0;
  SHRINK_CUDA_CHECK(cudaMemcpyAsync(&count, nonzero, sizeof(count), cudaMemcpyDeviceToHost, stream));
  SHRINK_CUDA_CHECK(cudaStreamSynchronize(stream));
  return static_cast<index_t>(count);
}

SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_LASSO)

}  // namespace shrink::kernels::cuda
