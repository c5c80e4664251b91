// CUDA twins of the optim family: the bodies written once (kernels/common), run by for_each.
#include "kernels/common/elementwise.hpp"
#include "kernels/cuda/launch.cuh"

namespace shrink::kernels::cuda {
#include "kernels/common/optim_bodies.inl"
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_OPTIM)
}  // namespace shrink::kernels::cuda
