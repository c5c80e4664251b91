// Kernel declarations. Each kernel is declared once here and implemented twice, with this same
// signature, in kernels/cpu (shrink::kernels::cpu, the oracle) and kernels/cuda
// (shrink::kernels::cuda, device pointers, the context's stream). host/core/ops.cpp validates and
// dispatches. Pointers point into the backend's memory space; sizes are already checked.
#pragma once
#include <cstddef>
#include <cstdint>

#include "shrink/matrix.hpp"
#include "shrink/ops.hpp"

namespace shrink::kernels {

template <class V>
struct ProxArgs {
  V l1;              // threshold scale (already multiplied by the step where there is one)
  V l2;              // ridge scale
  const V* factors;  // per-coordinate weights, or nullptr for all ones
  bool positive;
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
                               DenseView<const V> b, V beta, DenseView<V> c);
// clang-format on

namespace cpu {
SHRINK_KERNEL_DECLARATIONS
}  // namespace cpu
namespace cuda {
SHRINK_KERNEL_DECLARATIONS
template <class V, class I>
void cusparse_spmv(const Context& ctx, SpmvAlgorithm algorithm, Op op, V alpha,
                   const CsrView<V, I>& a, const V* x, V beta, V* y);
}  // namespace cuda

// Explicit instantiation lists shared by both twins.
#define SHRINK_FOR_EACH_VALUE(M) M(float) M(double)
#define SHRINK_FOR_EACH_VALUE_INDEX(M) \
  M(float, std::int32_t) M(float, std::int64_t) M(double, std::int32_t) M(double, std::int64_t)

}  // namespace shrink::kernels
