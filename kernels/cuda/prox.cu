// CUDA twins of the prox family: the bodies written once (kernels/common), run by for_each.
#include "kernels/common/elementwise.hpp"
#include "kernels/cuda/launch.cuh"

namespace shrink::kernels::cuda {
#include "kernels/common/prox_bodies.inl"
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_PROX)
}  // namespace shrink::kernels::cuda
