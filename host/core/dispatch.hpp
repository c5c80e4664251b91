// The one door from the library's algorithms to the kernels. SHRINK_DISPATCH runs a kernel twin on
// the context's backend; the view-level calls below (namespace dispatch) are the common ones, with
// the workspace sizing and the baselines that belong behind the door. Nothing here validates: the
// public functions (shrink/ops.hpp, shrink/nn.hpp) check their arguments at the boundary, and the
// algorithms pass views they built and sized themselves. Every family's declarations come with it.
#pragma once
#include "kernels/ops/blas_kernels.hpp"
#include "kernels/ops/bsr_kernels.hpp"
#include "kernels/ops/cd_kernels.hpp"
#include "kernels/ops/gather_kernels.hpp"
#include "kernels/ops/optim_kernels.hpp"
#include "kernels/ops/prox_kernels.hpp"
#include "kernels/ops/reduce_kernels.hpp"
#include "kernels/ops/sae_kernels.hpp"
#include "kernels/ops/spmv_kernels.hpp"
#include "shrink/context.hpp"
#include "shrink/matrix.hpp"

#include <type_traits>

// SHRINK_DISPATCH(ctx, kernel, args...) calls kernels::cuda::kernel on a CUDA context (with its
// device made current) and kernels::cpu::kernel otherwise. A build without CUDA never has a CUDA
// context.
#if SHRINK_WITH_CUDA
#include "kernels/cuda/runtime.hpp"
#define SHRINK_DISPATCH(ctx, kernel, ...)                                                       \
  ((ctx).backend() == Backend::Cuda                                                            \
       ? (detail::cuda_activate((ctx).cuda_state()), kernels::cuda::kernel(__VA_ARGS__))     \
       : kernels::cpu::kernel(__VA_ARGS__))
#else
#define SHRINK_DISPATCH(ctx, kernel, ...) kernels::cpu::kernel(__VA_ARGS__)
#endif
// The kernel where its data lives: the CPU twin for host memory (a caller's host data on any
// context), the context's backend otherwise.
#define SHRINK_DISPATCH_AT(ctx, space, kernel, ...) \
  ((space) == MemorySpace::Host ? kernels::cpu::kernel(__VA_ARGS__) : SHRINK_DISPATCH(ctx, kernel, __VA_ARGS__))

namespace shrink::dispatch {

template <class V>
V dot(const Context& ctx, VectorView<const V> x, VectorView<const V> y) {
  return SHRINK_DISPATCH(ctx, dot, ctx, x.size, x.data, y.data);
}
template <class V>
V nrm2(const Context& ctx, VectorView<const V> x) {
  return SHRINK_DISPATCH(ctx, nrm2, ctx, x.size, x.data);
}
template <class V>
V sum(const Context& ctx, VectorView<const V> x) {
  return SHRINK_DISPATCH(ctx, sum, ctx, x.size, x.data);
}
template <class V>
index_t count_nonfinite(const Context& ctx, VectorView<const V> x) {
  return SHRINK_DISPATCH(ctx, count_nonfinite, ctx, x.size, x.data);
}
// y = alpha x + beta y (beta == 0 overwrites y)
template <class V>
void axpby(const Context& ctx, V alpha, std::type_identity_t<VectorView<const V>> x, V beta, VectorView<V> y) {
  SHRINK_DISPATCH(ctx, axpby, ctx, x.size, alpha, x.data, beta, y.data);
}
template <class V>
void gemv(const Context& ctx, Op op, V alpha, std::type_identity_t<DenseView<const V>> a,
          std::type_identity_t<VectorView<const V>> x, V beta, VectorView<V> y) {
  SHRINK_DISPATCH(ctx, gemv, ctx, op, alpha, a, x.data, beta, y.data);
}
template <class V>
void gemm(const Context& ctx, Op op_a, Op op_b, V alpha, std::type_identity_t<DenseView<const V>> a,
          std::type_identity_t<DenseView<const V>> b, V beta, DenseView<V> c) {
  SHRINK_DISPATCH(ctx, gemm, ctx, op_a, op_b, alpha, a, b, beta, c);
}
// C = alpha A^T A + beta C
template <class V>
void gram(const Context& ctx, V alpha, std::type_identity_t<DenseView<const V>> a, V beta, DenseView<V> c) {
  SHRINK_DISPATCH(ctx, gram, ctx, alpha, a, beta, c);
}
template <class V>
void column_sums(const Context& ctx, std::type_identity_t<DenseView<const V>> m, VectorView<V> out) {
  SHRINK_DISPATCH(ctx, column_sums, ctx, m, out.data);
}
// g = 0 where a <= 0
template <class V>
void relu_mask(const Context& ctx, std::type_identity_t<VectorView<const V>> a, VectorView<V> g) {
  SHRINK_DISPATCH(ctx, relu_mask, ctx, a.size, a.data, g.data);
}
// y = alpha op(A) x + beta y on our kernel, with its workspace taken from the context.
template <class V, class I>
void spmv(const Context& ctx, Op op, V alpha, const CsrView<V, I>& a, const V* x, V beta, V* y) {
  void* ws = ctx.workspace(SHRINK_DISPATCH(ctx, csr_spmv_workspace, ctx, a, op));
  if (op == Op::Transpose) SHRINK_DISPATCH(ctx, csr_spmv_transpose, ctx, alpha, a, x, beta, y, ws);
  else SHRINK_DISPATCH(ctx, csr_spmv, ctx, alpha, a, x, beta, y, ws);
}
// A^T, built on the context's backend (deterministic), in the context's memory space.
template <class V, class I>
CsrMatrix<V, I> transpose(const Context& ctx, const CsrView<V, I>& a) {
  Array<I> rp(ctx, static_cast<std::size_t>(a.cols) + 1, ctx.memory_space());
  Array<I> ci(ctx, static_cast<std::size_t>(a.nnz), ctx.memory_space());
  Array<V> vals(ctx, static_cast<std::size_t>(a.nnz), ctx.memory_space());
  SHRINK_DISPATCH(ctx, csr_transpose, ctx, a, rp.data(), ci.data(), vals.data());
  return CsrMatrix<V, I>::adopt(a.cols, a.rows, std::move(rp), std::move(ci), std::move(vals));
}

}  // namespace shrink::dispatch

namespace shrink::detail {

// The cuSPARSE baselines behind the same door: on a CUDA context they run, elsewhere (or in a build
// without CUDA) they refuse with InvalidArgument naming `what`.
template <class V, class I>
void cusparse_spmv(const Context& ctx, bool alg2, Op op, V alpha, const CsrView<V, I>& a, const V* x, V beta, V* y);
template <class V, class I>
void cusparse_bsr_forward(const Context& ctx, DenseView<const V> x, const BsrView<V, I>& w, const V* bias,
                          DenseView<V> y);

}  // namespace shrink::detail
