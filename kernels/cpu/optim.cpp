// CPU twins of the optim family: the bodies written once (kernels/common), run by OpenMP.
#include "kernels/common/elementwise.hpp"
#include "kernels/cpu/launch.hpp"

namespace shrink::kernels::cpu {
#include "kernels/common/optim_bodies.inl"
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_OPTIM)
}  // namespace shrink::kernels::cpu
