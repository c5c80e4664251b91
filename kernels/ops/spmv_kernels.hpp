// Sparse products on CSR (deterministic: rows split between threads or tiles are finished in a
// fixed order), the transpose, and the cuSPARSE baseline (CUDA only).
#pragma once
#include "kernels/ops/declare.hpp"

namespace shrink::kernels {

SHRINK_TWINS(
  /* bytes of workspace csr_spmv (op = NoTranspose) or csr_spmv_transpose needs */
  template <class V, class I> std::size_t csr_spmv_workspace(const Context& ctx, const CsrView<V, I>& a, Op op);
  /* y = alpha A x + beta y; alpha == 0 reads neither A nor x */
  template <class V, class I> void csr_spmv(const Context& ctx, V alpha, const CsrView<V, I>& a, const V* x,
                                            V beta, V* y, void* workspace);
  template <class V, class I> void csr_spmv_transpose(const Context& ctx, V alpha, const CsrView<V, I>& a,
                                                      const V* x, V beta, V* y, void* workspace);
  template <class V, class I> void csr_spmm(const Context& ctx, V alpha, const CsrView<V, I>& a,
                                            DenseView<const V> b, V beta, DenseView<V> c);
  /* the CSR of A^T: t_row_ptr (cols + 1), t_col_idx and t_values (nnz), rows ascending */
  template <class V, class I> void csr_transpose(const Context& ctx, const CsrView<V, I>& a, I* t_row_ptr,
                                                 I* t_col_idx, V* t_values);)

namespace cuda {
/* cuSPARSE's generic SpMV, CSR_ALG1, or CSR_ALG2 (deterministic; transposed on an explicit A^T) */
template <class V, class I>
void cusparse_spmv(const Context& ctx, bool alg2, Op op, V alpha, const CsrView<V, I>& a, const V* x, V beta, V* y);
}  // namespace cuda

#define SHRINK_INSTANTIATE_SPMV(V, I)                                                               \
  SHRINK_KERNEL_INSTANCE(csr_spmv_workspace, V, I) SHRINK_KERNEL_INSTANCE(csr_spmv, V, I)           \
  SHRINK_KERNEL_INSTANCE(csr_spmv_transpose, V, I) SHRINK_KERNEL_INSTANCE(csr_spmm, V, I)           \
  SHRINK_KERNEL_INSTANCE(csr_transpose, V, I)

}  // namespace shrink::kernels
