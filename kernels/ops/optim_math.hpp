// The per-parameter optimizer updates shared by the CPU and CUDA twins (host+device inline), so both
// backends take the same step for the same inputs.
#pragma once
#include "kernels/ops/prox_math.hpp"

namespace shrink::kernels {

template <class V>
struct AdamArgs {
  V learning_rate, beta1, beta2, epsilon, weight_decay;
  V correction1, correction2;  // 1 - beta1^t, 1 - beta2^t
};
template <class V>
struct SgdArgs {
  V learning_rate, momentum, weight_decay;
};

template <class V>
SHRINK_HD V square_root(V v) {
#if defined(__CUDA_ARCH__)
  return sqrt(v);
#else
  return std::sqrt(v);
#endif
}

// Adam with bias correction; weight decay is an L2 term folded into the gradient.
template <class V>
SHRINK_HD void adam_update(V& w, V g, V& m, V& v, const AdamArgs<V>& a) {
  const V gi = g + a.weight_decay * w;
  const V mi = a.beta1 * m + (V(1) - a.beta1) * gi;
  const V vi = a.beta2 * v + (V(1) - a.beta2) * gi * gi;
  m = mi;
  v = vi;
  w -= a.learning_rate * (mi / a.correction1) / (square_root(vi / a.correction2) + a.epsilon);
}

// SGD with optional heavy-ball momentum (velocity null: none).
template <class V>
SHRINK_HD void sgd_update(V& w, V g, V* velocity, const SgdArgs<V>& a) {
  V step = g + a.weight_decay * w;
  if (velocity) {
    *velocity = a.momentum * *velocity + step;
    step = *velocity;
  }
  w -= a.learning_rate * step;
}

}  // namespace shrink::kernels
