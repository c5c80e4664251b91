// The elementwise maps of the prox and optim families as host+device functors, written once: each
// twin runs them through its own for_each launcher (kernels/common/elementwise.inl).
#pragma once
#include "kernels/ops/blend.hpp"
#include "kernels/ops/optim_kernels.hpp"
#include "kernels/ops/prox_kernels.hpp"
#include "kernels/ops/prox_math.hpp"

namespace shrink::kernels {

// Coordinate i's threshold t = l1 w_i and ridge scale inv = 1 / (1 + l2 w_i). Positivity and
// whether there are factors are compile-time: without factors t and inv are hoisted, and the
// loops are branch-free (they vectorize on the CPU).
template <class V, bool Positive, bool Factors>
struct ProxScale {
  static constexpr bool positive = Positive;
  V l1, l2, t0, inv0;
  const V* w;
  SHRINK_HD void operator()(index_t i, V& t, V& inv) const {
    if constexpr (Factors) {
      t = l1 * w[i];
      inv = V(1) / (V(1) + l2 * w[i]);
    } else {
      t = t0;
      inv = inv0;
    }
  }
};

// Calls f(scale) with the ProxScale variant that matches p.
template <class V, class F>
void with_prox_scale(const ProxArgs<V>& p, F&& f) {
  const V t0 = p.l1, inv0 = V(1) / (V(1) + p.l2);
  if (p.factors) {
    if (p.positive) f(ProxScale<V, true, true>{p.l1, p.l2, t0, inv0, p.factors});
    else f(ProxScale<V, false, true>{p.l1, p.l2, t0, inv0, p.factors});
  } else {
    if (p.positive) f(ProxScale<V, true, false>{p.l1, p.l2, t0, inv0, nullptr});
    else f(ProxScale<V, false, false>{p.l1, p.l2, t0, inv0, nullptr});
  }
}

template <class V, class Scale, bool Gradient>
struct ProxMap {  // x = prox(v - step g), or x = prox(v) without the gradient step
  const V* v;
  const V* g;
  V step;
  V* x;
  Scale scale;
  SHRINK_HD void operator()(index_t i) const {
    V t, inv;
    scale(i, t, inv);
    if constexpr (Gradient) x[i] = prox_scalar<Scale::positive>(v[i] - step * g[i], t, inv);
    else x[i] = prox_scalar<Scale::positive>(v[i], t, inv);
  }
};

template <class V, class Scale>
struct FistaMap {
  V* y;
  const V* g;
  V* x;
  V step, momentum;
  Scale scale;
  SHRINK_HD void operator()(index_t i) const {
    V t, inv;
    scale(i, t, inv);
    const V x_new = prox_scalar<Scale::positive>(y[i] - step * g[i], t, inv);
    y[i] = x_new + momentum * (x_new - x[i]);
    x[i] = x_new;
  }
};

template <class V>
struct ExtrapolateMap {
  const V* x_new;
  const V* x_old;
  V momentum;
  V* y;
  SHRINK_HD void operator()(index_t i) const { y[i] = x_new[i] + momentum * (x_new[i] - x_old[i]); }
};

template <class V>
struct AxpbyMap {
  V alpha;
  const V* x;
  V beta;
  V* y;
  SHRINK_HD void operator()(index_t i) const { y[i] = blend(alpha, x[i], beta, y[i]); }
};

template <class V>
struct AdamMap {
  V* w;
  const V* g;
  V* m;
  V* v;
  AdamArgs<V> a;
  SHRINK_HD void operator()(index_t i) const { adam_update(w[i], g[i], m[i], v[i], a); }
};

template <class V>
struct SgdMap {
  V* w;
  const V* g;
  V* velocity;
  SgdArgs<V> a;
  SHRINK_HD void operator()(index_t i) const { sgd_update(w[i], g[i], velocity ? velocity + i : nullptr, a); }
};

template <class V>
struct ReluMaskMap {
  const V* a;
  V* g;
  SHRINK_HD void operator()(index_t i) const { g[i] = a[i] > V(0) ? g[i] : V(0); }
};

}  // namespace shrink::kernels
