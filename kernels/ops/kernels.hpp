// Kernel declarations. Each kernel is declared once here and implemented twice, with this same
// signature, in kernels/cpu (shrink::kernels::cpu, the oracle) and kernels/cuda
// (shrink::kernels::cuda, device pointers, the context's stream). host/core/ops.cpp validates and
// dispatches. Pointers point into the backend's memory space; sizes are already checked.
#pragma once
#include <cstddef>
#include <cstdint>

#include "host/core/instantiate.hpp"
#include "shrink/matrix.hpp"
#include "shrink/nn.hpp"
#include "shrink/ops.hpp"

namespace shrink::kernels {

template <class V>
struct ProxArgs {
  V l1;              // threshold scale (already multiplied by the step where there is one)
  V l2;              // ridge scale
  const V* factors;  // per-coordinate weights, or nullptr for all ones
  bool positive;
};

template <class V>
struct AdamArgs {
  V learning_rate, beta1, beta2, epsilon, weight_decay;
  V correction1, correction2;  // 1 - beta1^t, 1 - beta2^t
};
template <class V>
struct SgdArgs {
  V learning_rate, momentum, weight_decay;
};

// clang-format off
#define SHRINK_KERNEL_DECLARATIONS                                                                      \
  /* prox.{cpp,cu} */                                                                                  \
  template <class V> void prox(const Context& ctx, index_t n, const V* v, ProxArgs<V> p, V* x);         \
  template <class V> void prox_grad_step(const Context& ctx, index_t n, const V* v, const V* g,         \
                                         V step, ProxArgs<V> p, V* x);                                  \
  template <class V> void fista_step(const Context& ctx, index_t n, V* y, const V* g, V* x, V step,     \
                                     ProxArgs<V> p, V momentum);                                        \
  template <class V> void extrapolate(const Context& ctx, index_t n, const V* x_new, const V* x_old,    \
                                      V momentum, V* y);                                                \
  /* y = alpha*x + beta*y (beta == 0 overwrites y) */                                                  \
  template <class V> void axpby(const Context& ctx, index_t n, V alpha, const V* x, V beta, V* y);     \
  /* spmv.{cpp,cu} */                                                                                  \
  template <class V, class I> std::size_t csr_spmv_workspace(const Context& ctx,                        \
                                                             const CsrView<V, I>& a, Op op);            \
  template <class V, class I> void csr_spmv(const Context& ctx, V alpha, const CsrView<V, I>& a,        \
                                            const V* x, V beta, V* y, void* workspace);                 \
  template <class V, class I> void csr_spmv_transpose(const Context& ctx, V alpha,                      \
                                                      const CsrView<V, I>& a, const V* x, V beta,       \
                                                      V* y, void* workspace);                           \
  template <class V, class I> void csr_spmm(const Context& ctx, V alpha, const CsrView<V, I>& a,        \
                                            DenseView<const V> b, V beta, DenseView<V> c);              \
  /* writes the CSR of A^T: t_row_ptr (cols+1), t_col_idx and t_values (nnz) */                        \
  template <class V, class I> void csr_transpose(const Context& ctx, const CsrView<V, I>& a,            \
                                                 I* t_row_ptr, I* t_col_idx, V* t_values);              \
  /* reduce.{cpp,cu} */                                                                                \
  template <class V> V dot(const Context& ctx, index_t n, const V* x, const V* y);                      \
  template <class V> V nrm2(const Context& ctx, index_t n, const V* x);                                 \
  template <class V> V amax(const Context& ctx, index_t n, const V* x);                                 \
  template <class V> V sum(const Context& ctx, index_t n, const V* x);                                  \
  template <class V> index_t count_nonfinite(const Context& ctx, index_t n, const V* x);                \
  /* blas.{cpp,cu} */                                                                                  \
  template <class V> void gemv(const Context& ctx, Op op, V alpha, DenseView<const V> a, const V* x,    \
                               V beta, V* y);                                                           \
  template <class V> void gemm(const Context& ctx, Op op_a, Op op_b, V alpha, DenseView<const V> a,     \
                               DenseView<const V> b, V beta, DenseView<V> c);                   \
  /* C = alpha A^T A + beta C (SYRK; both triangles written) */                                        \
  template <class V> void gram(const Context& ctx, V alpha, DenseView<const V> a, V beta,             \
                               DenseView<V> c);                                                         \
  /* bsr.{cpp,cu}: Y = X W^T + bias; dX = dY W (W read by block column); dW on W's blocks */          \
  template <class V, class I> void bsr_forward(const Context& ctx, DenseView<const V> x,                \
                                               const BsrView<V, I>& w, const V* bias, DenseView<V> y,   \
                                               MatmulPrecision precision);                              \
  template <class V, class I> void bsr_backward_input(const Context& ctx, DenseView<const V> dy,        \
                                                      const BsrView<V, I>& w, const I* col_ptr,         \
                                                      const I* block_row, const I* block_index,         \
                                                      DenseView<V> dx, MatmulPrecision precision);      \
  template <class V, class I> void bsr_weight_grad(const Context& ctx, DenseView<const V> dy,           \
                                                   DenseView<const V> x, const BsrView<V, I>& w,        \
                                                   V* grad, MatmulPrecision precision);                 \
  template <class V> void column_sums(const Context& ctx, DenseView<const V> m, V* out);                \
  /* optim.{cpp,cu} */                                                                                 \
  template <class V> void adam_step(const Context& ctx, index_t n, V* w, const V* g, V* m, V* v,        \
                                    AdamArgs<V> a);                                                     \
  template <class V> void sgd_step(const Context& ctx, index_t n, V* w, const V* g, V* velocity,        \
                                   SgdArgs<V> a);                                                       \
  /* g[i] = 0 where a[i] <= 0 (the ReLU backward, given the ReLU's output a) */                        \
  template <class V> void relu_mask(const Context& ctx, index_t n, const V* a, V* g);
// clang-format on

namespace cpu {
SHRINK_KERNEL_DECLARATIONS
}  // namespace cpu
namespace cuda {
SHRINK_KERNEL_DECLARATIONS
template <class V, class I>
void cusparse_spmv(const Context& ctx, SpmvAlgorithm algorithm, Op op, V alpha,
                   const CsrView<V, I>& a, const V* x, V beta, V* y);
// The cuSPARSE baselines of bsr_forward (float, square blocks).
template <class V, class I>
void cusparse_bsr_forward(const Context& ctx, BsrAlgorithm algorithm, DenseView<const V> x,
                          const BsrView<V, I>& w, const V* bias, DenseView<V> y);
}  // namespace cuda

// Explicit instantiations, shared by both twins (each twin expands them in its own namespace).
#define SHRINK_INSTANTIATE_PROX(V)                                                             \
  template void prox<V>(const Context&, index_t, const V*, ProxArgs<V>, V*);                   \
  template void prox_grad_step<V>(const Context&, index_t, const V*, const V*, V, ProxArgs<V>, \
                                  V*);                                                         \
  template void fista_step<V>(const Context&, index_t, V*, const V*, V*, V, ProxArgs<V>, V);   \
  template void extrapolate<V>(const Context&, index_t, const V*, const V*, V, V*);             \
  template void axpby<V>(const Context&, index_t, V, const V*, V, V*);
#define SHRINK_INSTANTIATE_REDUCE(V)                                      \
  template V dot<V>(const Context&, index_t, const V*, const V*);         \
  template V nrm2<V>(const Context&, index_t, const V*);                  \
  template V amax<V>(const Context&, index_t, const V*);                  \
  template V sum<V>(const Context&, index_t, const V*);                   \
  template index_t count_nonfinite<V>(const Context&, index_t, const V*);
#define SHRINK_INSTANTIATE_SPARSE(V, I)                                                             \
  template std::size_t csr_spmv_workspace<V, I>(const Context&, const CsrView<V, I>&, Op);         \
  template void csr_spmv<V, I>(const Context&, V, const CsrView<V, I>&, const V*, V, V*, void*);   \
  template void csr_spmv_transpose<V, I>(const Context&, V, const CsrView<V, I>&, const V*, V, V*, \
                                         void*);                                                    \
  template void csr_spmm<V, I>(const Context&, V, const CsrView<V, I>&, DenseView<const V>, V,     \
                               DenseView<V>);                                                       \
  template void csr_transpose<V, I>(const Context&, const CsrView<V, I>&, I*, I*, V*);
#define SHRINK_INSTANTIATE_BSR(V, I)                                                               \
  template void bsr_forward<V, I>(const Context&, DenseView<const V>, const BsrView<V, I>&,         \
                                  const V*, DenseView<V>, MatmulPrecision);                         \
  template void bsr_backward_input<V, I>(const Context&, DenseView<const V>, const BsrView<V, I>&,  \
                                         const I*, const I*, const I*, DenseView<V>,                \
                                         MatmulPrecision);                                          \
  template void bsr_weight_grad<V, I>(const Context&, DenseView<const V>, DenseView<const V>,       \
                                      const BsrView<V, I>&, V*, MatmulPrecision);
#define SHRINK_INSTANTIATE_OPTIM(V)                                                                \
  template void column_sums<V>(const Context&, DenseView<const V>, V*);                            \
  template void adam_step<V>(const Context&, index_t, V*, const V*, V*, V*, AdamArgs<V>);          \
  template void sgd_step<V>(const Context&, index_t, V*, const V*, V*, SgdArgs<V>);                \
  template void relu_mask<V>(const Context&, index_t, const V*, V*);
#define SHRINK_INSTANTIATE_BLAS(V)                                                                 \
  template void gemv<V>(const Context&, Op, V, DenseView<const V>, const V*, V, V*);               \
  template void gemm<V>(const Context&, Op, Op, V, DenseView<const V>, DenseView<const V>, V,      \
                        DenseView<V>);                                                             \
  template void gram<V>(const Context&, V, DenseView<const V>, V, DenseView<V>);

}  // namespace shrink::kernels
