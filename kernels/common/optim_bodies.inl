// The optim family's kernels, defined once. Included inside kernels::cpu and kernels::cuda, where
// for_each(ctx, n, f) is that backend's launcher (kernels/cpu/launch.hpp, kernels/cuda/launch.cuh).

template <class V>
void adam_step(const Context& ctx, index_t n, V* w, const V* g, V* m, V* v, AdamArgs<V> a) {
  for_each(ctx, n, AdamMap<V>{w, g, m, v, a});
}

template <class V>
void sgd_step(const Context& ctx, index_t n, V* w, const V* g, V* velocity, SgdArgs<V> a) {
  for_each(ctx, n, SgdMap<V>{w, g, velocity, a});
}

template <class V>
void relu_mask(const Context& ctx, index_t n, const V* a, V* g) {
  for_each(ctx, n, ReluMaskMap<V>{a, g});
}
