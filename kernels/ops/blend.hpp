// The output update every product shares, on the host and the device: out = alpha*acc + beta*out,
// where beta == 0 overwrites out (a NaN already in out does not propagate).
#pragma once

#include "kernels/ops/host_device.hpp"

namespace shrink::kernels {

template <class V>
SHRINK_HD V blend(V alpha, V acc, V beta, V out) {
  return beta == V(0) ? alpha * acc : alpha * acc + beta * out;
}

// out = beta*out with the same beta == 0 rule (products whose alpha term is empty).
template <class V>
SHRINK_HD V scale_out(V beta, V out) {
  return beta == V(0) ? V(0) : beta * out;
}

}  // namespace shrink::kernels
