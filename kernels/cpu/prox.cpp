// CPU twins of the proximal kernels: one OpenMP pass each.
#include "kernels/ops/kernels.hpp"
#include "kernels/ops/blend.hpp"
#include "kernels/ops/prox_math.hpp"

#include <type_traits>

namespace shrink::kernels::cpu {

namespace {

// Runs body(i, t, inv, positive_tag) over [0, n) with the per-coordinate threshold
// t = l1*w_i and scale inv = 1/(1 + l2*w_i). The positivity flag becomes a compile-time tag and,
// without penalty factors, t and inv are hoisted: the loops are branch-free and vectorize.
template <class Positive, class V, class Body>
void coordinate_loop(const Context& ctx, index_t n, const ProxArgs<V>& p, Body body) {
  // firstprivate: each thread works on its own copy of the body, so the pointers it captured are
  // loop invariants the compiler can hoist, and the loop vectorizes.
  const Positive positive{};
  const int threads = ctx.cpu_threads();
  if (p.factors == nullptr) {
    const V t = p.l1, inv = V(1) / (V(1) + p.l2);
#pragma omp parallel for simd schedule(static) num_threads(threads) if (n > 65536) firstprivate(body)
    for (index_t i = 0; i < n; ++i) body(i, t, inv, positive);
  } else {
    const V* w = p.factors;
    const V l1 = p.l1, l2 = p.l2;
#pragma omp parallel for simd schedule(static) num_threads(threads) if (n > 65536) firstprivate(body)
    for (index_t i = 0; i < n; ++i) body(i, l1 * w[i], V(1) / (V(1) + l2 * w[i]), positive);
  }
}

template <class V, class Body>
void for_each_coordinate(const Context& ctx, index_t n, const ProxArgs<V>& p, Body body) {
  if (p.positive) coordinate_loop<std::true_type>(ctx, n, p, body);
  else coordinate_loop<std::false_type>(ctx, n, p, body);
}

}  // namespace

template <class V>
void prox(const Context& ctx, index_t n, const V* v, ProxArgs<V> p, V* x) {
  for_each_coordinate(ctx, n, p, [=](index_t i, V t, V inv, auto positive) {
    x[i] = prox_scalar<decltype(positive)::value>(v[i], t, inv);
  });
}

template <class V>
void prox_grad_step(const Context& ctx, index_t n, const V* v, const V* g, V step, ProxArgs<V> p,
                    V* x) {
  for_each_coordinate(ctx, n, p, [=](index_t i, V t, V inv, auto positive) {
    x[i] = prox_scalar<decltype(positive)::value>(v[i] - step * g[i], t, inv);
  });
}

template <class V>
void fista_step(const Context& ctx, index_t n, V* y, const V* g, V* x, V step, ProxArgs<V> p,
                V momentum) {
  for_each_coordinate(ctx, n, p, [=](index_t i, V t, V inv, auto positive) {
    const V x_new = prox_scalar<decltype(positive)::value>(y[i] - step * g[i], t, inv);
    y[i] = x_new + momentum * (x_new - x[i]);
    x[i] = x_new;
  });
}

template <class V>
void extrapolate(const Context& ctx, index_t n, const V* x_new, const V* x_old, V momentum, V* y) {
#pragma omp parallel for simd schedule(static) num_threads(ctx.cpu_threads()) if (n > 65536)
  for (index_t i = 0; i < n; ++i) y[i] = x_new[i] + momentum * (x_new[i] - x_old[i]);
}

template <class V>
void axpby(const Context& ctx, index_t n, V alpha, const V* x, V beta, V* y) {
#pragma omp parallel for simd schedule(static) num_threads(ctx.cpu_threads()) if (n > 65536)
  for (index_t i = 0; i < n; ++i) y[i] = blend(alpha, x[i], beta, y[i]);
}

SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_PROX)

}  // namespace shrink::kernels::cpu
