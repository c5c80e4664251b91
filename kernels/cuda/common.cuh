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

// cuBLAS and cuSPARSE are loaded when the first CUDA context is made (dlopen, libraries.cu), not
// linked: with cuBLASLt, linking them cost every process that loads Shrink, GPU or not, some 250 MB
// of memory and 0.2 s at start. Their headers give the types; these tables hold the functions the
// kernels call. Each accessor loads on its first call and throws CudaError naming the library, or
// the function, it could not find.
struct CublasApi {
  decltype(&cublasCreate) create;
  decltype(&cublasDestroy) destroy;
  decltype(&cublasSetStream) set_stream;
  decltype(&cublasSgemv) sgemv;
  decltype(&cublasDgemv) dgemv;
  decltype(&cublasSgemm) sgemm;
  decltype(&cublasDgemm) dgemm;
  decltype(&cublasSsyrk) ssyrk;
  decltype(&cublasDsyrk) dsyrk;
};
struct CusparseApi {
  decltype(&cusparseCreate) create;
  decltype(&cusparseDestroy) destroy;
  decltype(&cusparseSetStream) set_stream;
  decltype(&cusparseGetErrorString) error_string;
  decltype(&cusparseCreateMatDescr) create_mat_descr;
  decltype(&cusparseDestroyMatDescr) destroy_mat_descr;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"  // the BSR baseline's legacy bsrmm (bsr.cu)
  decltype(&cusparseSbsrmm) sbsrmm;
#pragma GCC diagnostic pop
  decltype(&cusparseCreateCsr) create_csr;
  decltype(&cusparseDestroySpMat) destroy_sp_mat;
  decltype(&cusparseCreateDnVec) create_dn_vec;
  decltype(&cusparseDestroyDnVec) destroy_dn_vec;
  decltype(&cusparseSpMV_bufferSize) spmv_buffer_size;
  decltype(&cusparseSpMV) spmv;
};
const CublasApi& cublas_api();
const CusparseApi& cusparse_api();

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
