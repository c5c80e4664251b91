// The cuSPARSE baselines behind the one door: the only backend #if outside the context and memory.
#include "host/core/dispatch.hpp"

#include <type_traits>

#include "shrink/error.hpp"

namespace shrink::detail {

template <class V, class I>
void cusparse_spmv(const Context& ctx, bool alg2, Op op, V alpha, const CsrView<V, I>& a, const V* x, V beta,
                   V* y) {
#if SHRINK_WITH_CUDA
  if (ctx.backend() == Backend::Cuda) {
    cuda_activate(ctx.cuda_state());
    kernels::cuda::cusparse_spmv(ctx, alg2, op, alpha, a, x, beta, y);
    return;
  }
#else
  (void)ctx, (void)alg2, (void)op, (void)alpha, (void)a, (void)x, (void)beta, (void)y;
#endif
  throw InvalidArgument("the cusparse SpMV algorithm needs the CUDA backend");
}

template <class V, class I>
void cusparse_bsr_forward(const Context& ctx, DenseView<const V> x, const BsrView<V, I>& w, const V* bias,
                          DenseView<V> y) {
#if SHRINK_WITH_CUDA
  if (ctx.backend() == Backend::Cuda && std::is_same_v<V, float> && w.block_height == w.block_width) {
    cuda_activate(ctx.cuda_state());
    kernels::cuda::cusparse_bsr_forward(ctx, x, w, bias, y);
    return;
  }
#else
  (void)ctx, (void)x, (void)w, (void)bias, (void)y;
#endif
  throw InvalidArgument("the cusparse-bsr baseline needs the CUDA backend, float values and square blocks");
}

#define SHRINK_INSTANTIATE_BASELINES(V, I)                                                                  \
  template void cusparse_spmv<V, I>(const Context&, bool, Op, V, const CsrView<V, I>&, const V*, V, V*); \
  template void cusparse_bsr_forward<V, I>(const Context&, DenseView<const V>, const BsrView<V, I>&,     \
                                           const V*, DenseView<V>);
SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE_BASELINES)

}  // namespace shrink::detail
