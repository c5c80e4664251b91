// Runs a kernel twin on the context's backend.
#pragma once
#include "kernels/ops/kernels.hpp"

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
