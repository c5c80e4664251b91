// CPU twins of the proximal kernels: one OpenMP pass each.
#include "kernels/ops/kernels.hpp"
#include "kernels/ops/prox_math.hpp"

namespace shrink::kernels::cpu {

namespace {
template <class V>
inline V weight(const ProxArgs<V>& p, index_t i) {
  return p.factors ? p.factors[i] : V(1);
}
}  // namespace

template <class V>
void prox(const Context& ctx, index_t n, const V* v, ProxArgs<V> p, V* x) {
#pragma omp parallel for schedule(static) num_threads(ctx.cpu_threads()) if (n > 65536)
  for (index_t i = 0; i < n; ++i) x[i] = prox_scalar(v[i], p.l1, p.l2, weight(p, i), p.positive);
}

template <class V>
void prox_grad_step(const Context& ctx, index_t n, const V* v, const V* g, V step, ProxArgs<V> p,
                    V* x) {
#pragma omp parallel for schedule(static) num_threads(ctx.cpu_threads()) if (n > 65536)
  for (index_t i = 0; i < n; ++i)
    x[i] = prox_scalar(v[i] - step * g[i], p.l1, p.l2, weight(p, i), p.positive);
}

template <class V>
void fista_step(const Context& ctx, index_t n, V* y, const V* g, V* x, V step, ProxArgs<V> p,
                V momentum) {
#pragma omp parallel for schedule(static) num_threads(ctx.cpu_threads()) if (n > 65536)
  for (index_t i = 0; i < n; ++i) {
    const V x_new = prox_scalar(y[i] - step * g[i], p.l1, p.l2, weight(p, i), p.positive);
    y[i] = x_new + momentum * (x_new - x[i]);
    x[i] = x_new;
  }
}

template <class V>
void extrapolate(const Context& ctx, index_t n, const V* x_new, const V* x_old, V momentum, V* y) {
#pragma omp parallel for schedule(static) num_threads(ctx.cpu_threads()) if (n > 65536)
  for (index_t i = 0; i < n; ++i) y[i] = x_new[i] + momentum * (x_new[i] - x_old[i]);
}

#define SHRINK_INSTANTIATE(V)                                                                  \
  template void prox<V>(const Context&, index_t, const V*, ProxArgs<V>, V*);                   \
  template void prox_grad_step<V>(const Context&, index_t, const V*, const V*, V, ProxArgs<V>, \
                                  V*);                                                         \
  template void fista_step<V>(const Context&, index_t, V*, const V*, V*, V, ProxArgs<V>, V);   \
  template void extrapolate<V>(const Context&, index_t, const V*, const V*, V, V*);
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE)
#undef SHRINK_INSTANTIATE

}  // namespace shrink::kernels::cpu
