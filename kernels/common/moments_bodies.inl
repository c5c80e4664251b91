// The reduce family's bodies written once. Included inside kernels::cpu and kernels::cuda, where
// for_each_heavy(ctx, n, entries, f) is that backend's launcher for long per-item loops.

template <class V>
void column_moments(const Context& ctx, DenseView<const V> x, const double* w, bool center, double* mean,
                    double* dev, double* biggest) {
  for_each_heavy(ctx, x.cols, x.rows * x.cols, DenseMomentsMap<V>{x, w, center, mean, dev, biggest});
}

template <class V, class I>
void csc_column_moments(const Context& ctx, const CsrView<V, I>& xt, const double* w, bool center, double* mean,
                        double* dev, double* biggest) {
  for_each_heavy(ctx, xt.rows, static_cast<index_t>(xt.nnz), CscMomentsMap<V, I>{xt, w, center, mean, dev, biggest});
}
