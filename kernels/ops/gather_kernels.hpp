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
  /* dst (row-major, k x cols) = A(rows[t], col_first + c), zeros included */
  template <class V, class I> void csr_gather_rows_dense(const Context& ctx, const CsrView<V, I>& a,
                                                         const index_t* rows, index_t col_first, DenseView<V> dst);)

#define SHRINK_INSTANTIATE_GATHER(V) SHRINK_KERNEL_INSTANCE(gather_rows, V) SHRINK_KERNEL_INSTANCE(scatter_rows, V)
#define SHRINK_INSTANTIATE_GATHER_SPARSE(V, I) SHRINK_KERNEL_INSTANCE(csr_gather_rows_dense, V, I)

}  // namespace shrink::kernels
