// The prox family's kernels, defined once. Included inside kernels::cpu and kernels::cuda, where
// for_each(ctx, n, f) is that backend's launcher (kernels/cpu/launch.hpp, kernels/cuda/launch.cuh).

template <class V>
void prox(const Context& ctx, index_t n, const V* v, ProxArgs<V> p, V* x) {
  with_prox_scale(p, [&](auto scale) { for_each(ctx, n, ProxMap<V, decltype(scale), false>{v, nullptr, V(0), x, scale}); });
}

template <class V>
void prox_grad_step(const Context& ctx, index_t n, const V* v, const V* g, V step, ProxArgs<V> p, V* x) {
  with_prox_scale(p, [&](auto scale) { for_each(ctx, n, ProxMap<V, decltype(scale), true>{v, g, step, x, scale}); });
}

template <class V>
void fista_step(const Context& ctx, index_t n, V* y, const V* g, V* x, V step, ProxArgs<V> p, V momentum) {
  with_prox_scale(p, [&](auto scale) { for_each(ctx, n, FistaMap<V, decltype(scale)>{y, g, x, step, momentum, scale}); });
}

template <class V>
void extrapolate(const Context& ctx, index_t n, const V* x_new, const V* x_old, V momentum, V* y) {
  for_each(ctx, n, ExtrapolateMap<V>{x_new, x_old, momentum, y});
}

template <class V>
void axpby(const Context& ctx, index_t n, V alpha, const V* x, V beta, V* y) {
  for_each(ctx, n, AxpbyMap<V>{alpha, x, beta, y});
}

template <class V>
void scale_entries(const Context& ctx, index_t n, const V* s, const V* x, V* y) {
  for_each(ctx, n, ScaleEntriesMap<V>{s, x, y});
}
