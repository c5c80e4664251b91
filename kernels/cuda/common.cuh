// Shared by the CUDA translation units: the CudaState behind Context, error checks and launch
// helpers. Every runtime and library call is checked, and so is every launch.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusparse.h>

#include <cstddef>
#include <cstdint>

#include "kernels/cuda/runtime.hpp"
#include "shrink/matrix.hpp"
#include "shrink/context.hpp"

namespace shrink::detail {

struct CudaState {
  int device = 0;
  cudaStream_t stream = nullptr;      // where the work goes: own_stream or a caller's
  cudaStream_t own_stream = nullptr;  // created and destroyed with the state
  cublasHandle_t cublas = nullptr;
  cusparseHandle_t cusparse = nullptr;
  void* workspace = nullptr;
  std::size_t workspace_bytes = 0;
  int multiprocessors = 1;
};

[[noreturn]] void throw_cuda(cudaError_t err, const char* what, const char* file, int line);
[[noreturn]] void throw_cublas(cublasStatus_t err, const char* what, const char* file, int line);
[[noreturn]] void throw_cusparse(cusparseStatus_t err, const char* what, const char* file, int line);

}  // namespace shrink::detail

// Every runtime and library call goes through one of these; a failure throws with the call's text.
#define SHRINK_CHECK_STATUS(call, success, thrower)                         \
  do {                                                                      \
    const auto shrink_status_ = (call);                                     \
    if (shrink_status_ != (success))                                        \
      ::shrink::detail::thrower(shrink_status_, #call, __FILE__, __LINE__); \
  } while (0)
#define SHRINK_CUDA_CHECK(call) SHRINK_CHECK_STATUS(call, cudaSuccess, throw_cuda)
#define SHRINK_CUBLAS_CHECK(call) SHRINK_CHECK_STATUS(call, CUBLAS_STATUS_SUCCESS, throw_cublas)
#define SHRINK_CUSPARSE_CHECK(call) SHRINK_CHECK_STATUS(call, CUSPARSE_STATUS_SUCCESS, throw_cusparse)
// After every kernel launch.
#define SHRINK_CUDA_CHECK_LAUNCH() SHRINK_CUDA_CHECK(cudaGetLastError())

namespace shrink::kernels::cuda_detail {

inline cudaStream_t stream_of(const Context& ctx) { return ctx.cuda_state()->stream; }

// Grid for a grid-stride elementwise kernel: enough blocks to fill the device, never more than
// the work needs.
inline unsigned grid_for(const Context& ctx, std::int64_t n, int block) {
  const std::int64_t needed = (n + block - 1) / block;
  const std::int64_t cap = static_cast<std::int64_t>(ctx.cuda_state()->multiprocessors) * 16;
  const std::int64_t g = needed < cap ? needed : cap;
  return static_cast<unsigned>(g < 1 ? 1 : g);
}

inline std::size_t align_up(std::size_t bytes, std::size_t to = 256) {
  return (bytes + to - 1) / to * to;
}

}  // namespace shrink::kernels::cuda_detail
