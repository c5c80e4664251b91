// Proximal and vector-update kernels (elementwise; bodies written once in kernels/common).
#pragma once
#include "kernels/ops/declare.hpp"

namespace shrink::kernels {

template <class V>
struct ProxArgs {
  V l1;              // threshold scale (already multiplied by the step where there is one)
  V l2;              // ridge scale
  const V* factors;  // per-coordinate weights, or nullptr for all ones
  bool positive;
};

SHRINK_TWINS(
  /* x = prox(v) */
  template <class V> void prox(const Context& ctx, index_t n, const V* v, ProxArgs<V> p, V* x);
  /* x = prox(v - step g) */
  template <class V> void prox_grad_step(const Context& ctx, index_t n, const V* v, const V* g, V step,
                                         ProxArgs<V> p, V* x);
  /* x' = prox(y - step g); y = x' + momentum (x' - x); x = x' */
  template <class V> void fista_step(const Context& ctx, index_t n, V* y, const V* g, V* x, V step,
                                     ProxArgs<V> p, V momentum);
  /* y = x_new + momentum (x_new - x_old) */
  template <class V> void extrapolate(const Context& ctx, index_t n, const V* x_new, const V* x_old,
                                      V momentum, V* y);
  /* y = alpha x + beta y (beta == 0 overwrites y) */
  template <class V> void axpby(const Context& ctx, index_t n, V alpha, const V* x, V beta, V* y);
  /* y = s x entry by entry (y may alias x) */
  template <class V> void scale_entries(const Context& ctx, index_t n, const V* s, const V* x, V* y);)

#define SHRINK_INSTANTIATE_PROX(V)                                                                  \
  SHRINK_KERNEL_INSTANCE(prox, V) SHRINK_KERNEL_INSTANCE(prox_grad_step, V)                         \
  SHRINK_KERNEL_INSTANCE(fista_step, V) SHRINK_KERNEL_INSTANCE(extrapolate, V)                      \
  SHRINK_KERNEL_INSTANCE(axpby, V) SHRINK_KERNEL_INSTANCE(scale_entries, V)

}  // namespace shrink::kernels
