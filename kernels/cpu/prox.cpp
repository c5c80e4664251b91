// CPU twins of the prox family: the bodies written once (kernels/common), run by OpenMP.
#include "kernels/common/elementwise.hpp"
#include "kernels/cpu/launch.hpp"

namespace shrink::kernels::cpu {
#include "kernels/common/prox_bodies.inl"
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_PROX)
}  // namespace shrink::kernels::cpu
