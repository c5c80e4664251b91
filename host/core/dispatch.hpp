// Runs a kernel twin on the context's backend. Every kernel family's declarations come with it.
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

namespace shrink::detail {

// The cuSPARSE baselines behind the same door: on a CUDA context they run, elsewhere (or in a build
// without CUDA) they refuse with InvalidArgument naming `what`.
template <class V, class I>
void cusparse_spmv(const Context& ctx, bool alg2, Op op, V alpha, const CsrView<V, I>& a, const V* x, V beta, V* y);
template <class V, class I>
void cusparse_bsr_forward(const Context& ctx, DenseView<const V> x, const BsrView<V, I>& w, const V* bias,
                          DenseView<V> y);

}  // namespace shrink::detail
