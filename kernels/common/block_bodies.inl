// The gather family's bodies written once. Included inside kernels::cpu and kernels::cuda, where
// for_each(ctx, n, f) is that backend's launcher.

template <class V>
void center_scale_columns(const Context& ctx, DenseView<V> b, const V* row_scale, const V* shift, const V* col_scale) {
  for_each(ctx, b.rows * b.cols, CenterScaleMap<V>{b, row_scale, shift, col_scale});
}

template <class V>
void copy_dense(const Context& ctx, DenseView<const V> src, DenseView<V> dst) {
  for_each(ctx, src.rows * src.cols, CopyDenseMap<V>{src, dst});
}

template <class V>
void widen(const Context& ctx, index_t n, const V* x, double* y) {
  for_each(ctx, n, WidenMap<V>{x, y});
}
