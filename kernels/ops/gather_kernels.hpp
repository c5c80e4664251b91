// Row gathers and scatters: dense, and dense rows from a CSR matrix.
#pragma once
#include "kernels/ops/declare.hpp"

namespace shrink::kernels {

SHRINK_TWINS(
  /* row i of dst = row rows[i] of src */
  template <class V> void gather_rows(const Context& ctx, DenseView<const V> src, const index_t* rows,
                                      DenseView<V> dst);
  /* the inverse: row rows[i] of dst = row i of src (rows distinct) */
  template <class V> void scatter_rows(const Context& ctx, DenseView<const V> src, const index_t* rows,
                                       DenseView<V> dst);
  /* b(i, t) = row_scale_i (b(i, t) - shift_t) col_scale_t on a column-major block (null: 1 or 0) */
  template <class V> void center_scale_columns(const Context& ctx, DenseView<V> b, const V* row_scale,
                                               const V* shift, const V* col_scale);
  /* dst = src, any layouts (a relayout) */
  template <class V> void copy_dense(const Context& ctx, DenseView<const V> src, DenseView<V> dst);
  /* y_i = double(x_i) */
  template <class V> void widen(const Context& ctx, index_t n, const V* x, double* y);
  /* dst (row-major, k x cols) = A(rows[t], col_first + c), zeros included */
  template <class V, class I> void csr_gather_rows_dense(const Context& ctx, const CsrView<V, I>& a,
                                                         const index_t* rows, index_t col_first, DenseView<V> dst);)

#define SHRINK_INSTANTIATE_GATHER(V)                                                               \
  SHRINK_KERNEL_INSTANCE(gather_rows, V) SHRINK_KERNEL_INSTANCE(scatter_rows, V)                   \
  SHRINK_KERNEL_INSTANCE(center_scale_columns, V) SHRINK_KERNEL_INSTANCE(copy_dense, V)                     \
  SHRINK_KERNEL_INSTANCE(widen, V)
#define SHRINK_INSTANTIATE_GATHER_SPARSE(V, I) SHRINK_KERNEL_INSTANCE(csr_gather_rows_dense, V, I)

}  // namespace shrink::kernels
