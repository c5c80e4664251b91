// Optimizer steps and the ReLU backward mask (elementwise; bodies written once in kernels/common).
#pragma once
#include "kernels/ops/declare.hpp"
#include "kernels/ops/optim_math.hpp"

namespace shrink::kernels {

SHRINK_TWINS(
  template <class V> void adam_step(const Context& ctx, index_t n, V* w, const V* g, V* m, V* v, AdamArgs<V> a);
  template <class V> void sgd_step(const Context& ctx, index_t n, V* w, const V* g, V* velocity, SgdArgs<V> a);
  /* g[i] = 0 where a[i] <= 0 (the ReLU backward, given the ReLU's output a) */
  template <class V> void relu_mask(const Context& ctx, index_t n, const V* a, V* g);)

#define SHRINK_INSTANTIATE_OPTIM(V) \
  SHRINK_KERNEL_INSTANCE(adam_step, V) SHRINK_KERNEL_INSTANCE(sgd_step, V) SHRINK_KERNEL_INSTANCE(relu_mask, V)

}  // namespace shrink::kernels
