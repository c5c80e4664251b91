// The scalar proximal map shared by the CPU and CUDA twins (host+device inline), so both compute
// the same values for the same inputs. Branch-free: data-dependent branches on random signs cost
// more than the whole memory pass on the CPU.
#pragma once
#include <cmath>

#include "kernels/ops/host_device.hpp"

namespace shrink::kernels {

template <class V>
SHRINK_HD V copy_sign(V magnitude, V sign) {
#if defined(__CUDA_ARCH__)
  return copysign(magnitude, sign);
#else
  return std::copysign(magnitude, sign);
#endif
}

template <class V>
SHRINK_HD V positive_part(V v) {
  return v < V(0) ? V(0) : v;  // maxsd / fmax without a branch
}

template <class V>
SHRINK_HD V magnitude(V v) {
#if defined(__CUDA_ARCH__)
  return fabs(v);
#else
  return std::fabs(v);
#endif
}

// prox of w*(l1*|x| + l2/2*x^2) (+ indicator x >= 0) at v, with t = l1*w and inv = 1/(1 + l2*w)
// precomputed: sign(v) * max(|v| - t, 0) * inv.
template <bool Positive, class V>
SHRINK_HD V prox_scalar(V v, V t, V inv) {
  if constexpr (Positive) {
    return positive_part(v - t) * inv;
  } else {
    return copy_sign(positive_part(magnitude(v) - t), v) * inv;
  }
}

template <class V>
SHRINK_HD V prox_scalar(V v, V t, V inv, bool positive) {
  return positive ? prox_scalar<true>(v, t, inv) : prox_scalar<false>(v, t, inv);
}

}  // namespace shrink::kernels
