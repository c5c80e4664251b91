// Device discovery, the per-context stream and library handles, memory and copies.
#include <string>

#include "kernels/cuda/common.cuh"
#include "shrink/error.hpp"

namespace shrink::detail {

void throw_cuda(cudaError_t err, const char* what, const char* file, int line) {
  const std::string msg = std::string(what) + " failed: " + cudaGetErrorName(err) + " (" +
                          cudaGetErrorString(err) + ") at " + file + ":" + std::to_string(line);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // clear the sticky-free error so the context stays usable
    throw OutOfMemory(msg);
  }
  throw CudaError(msg);
}

void throw_cublas(cublasStatus_t err, const char* what, const char* file, int line) {
  const std::string msg = std::string(what) + " failed: cuBLAS status " +
                          std::to_string(static_cast<int>(err)) + " at " + file + ":" +
                          std::to_string(line);
  if (err == CUBLAS_STATUS_ALLOC_FAILED) throw OutOfMemory(msg);
  throw CudaError(msg);
}

void throw_cusparse(cusparseStatus_t err, const char* what, const char* file, int line) {
  const std::string msg = std::string(what) + " failed: " + cusparse_api().error_string(err) + " at " +
                          file + ":" + std::to_string(line);
  if (err == CUSPARSE_STATUS_ALLOC_FAILED) throw OutOfMemory(msg);
  throw CudaError(msg);
}

int cuda_count_devices() noexcept {
  int count = 0;
  // Without a driver this returns an error (e.g. cudaErrorInsufficientDriver), not zero devices.
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return count;
}

std::vector<DeviceInfo> cuda_query_devices() {
  std::vector<DeviceInfo> out;
  const int count = cuda_count_devices();
  int previous = 0;
  if (count > 0) SHRINK_CUDA_CHECK(cudaGetDevice(&previous));
  for (int d = 0; d < count; ++d) {
    cudaDeviceProp prop{};
    SHRINK_CUDA_CHECK(cudaGetDeviceProperties(&prop, d));
    DeviceInfo info;
    info.id = d;
    info.name = prop.name;
    info.compute_major = prop.major;
    info.compute_minor = prop.minor;
    info.multiprocessors = prop.multiProcessorCount;
    info.total_memory = prop.totalGlobalMem;
    SHRINK_CUDA_CHECK(cudaSetDevice(d));
    std::size_t free_bytes = 0, total_bytes = 0;
    if (cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) info.free_memory = free_bytes;
    else cudaGetLastError();
    out.push_back(std::move(info));
  }
  if (count > 0) SHRINK_CUDA_CHECK(cudaSetDevice(previous));
  return out;
}

CudaState* cuda_create_state(int device) {
  cuda_load_libraries();
  auto state = std::make_unique<CudaState>();
  state->device = device;
  SHRINK_CUDA_CHECK(cudaSetDevice(device));
  SHRINK_CUDA_CHECK(cudaDeviceGetAttribute(&state->multiprocessors, cudaDevAttrMultiProcessorCount, device));
  SHRINK_CUDA_CHECK(cudaStreamCreateWithFlags(&state->own_stream, cudaStreamNonBlocking));
  state->stream = state->own_stream;
  try {
    SHRINK_CUBLAS_CHECK(cublas_api().create(&state->cublas));
    SHRINK_CUBLAS_CHECK(cublas_api().set_stream(state->cublas, state->stream));
    SHRINK_CUSPARSE_CHECK(cusparse_api().create(&state->cusparse));
    SHRINK_CUSPARSE_CHECK(cusparse_api().set_stream(state->cusparse, state->stream));
  } catch (...) {
    cuda_destroy_state(state.release());
    throw;
  }
  return state.release();
}

void cuda_destroy_state(CudaState* state) noexcept {
  if (!state) return;
  cudaSetDevice(state->device);
  if (state->stream) cudaStreamSynchronize(state->stream);
  if (state->workspace) cudaFree(state->workspace);
  if (state->cusparse) cusparse_api().destroy(state->cusparse);
  if (state->cublas) cublas_api().destroy(state->cublas);
  if (state->own_stream) cudaStreamDestroy(state->own_stream);
  cudaGetLastError();
  delete state;
}

void cuda_activate(CudaState* state) {
  int current = -1;
  SHRINK_CUDA_CHECK(cudaGetDevice(&current));
  if (current != state->device) SHRINK_CUDA_CHECK(cudaSetDevice(state->device));
}

void cuda_synchronize(CudaState* state) { SHRINK_CUDA_CHECK(cudaStreamSynchronize(state->stream)); }

void cuda_set_stream(CudaState* state, void* stream) {
  cuda_activate(state);
  // Work already queued finishes first: nothing of it may overlap what goes on the new stream.
  SHRINK_CUDA_CHECK(cudaStreamSynchronize(state->stream));
  state->stream = stream ? static_cast<cudaStream_t>(stream) : state->own_stream;
  SHRINK_CUBLAS_CHECK(cublas_api().set_stream(state->cublas, state->stream));
  SHRINK_CUSPARSE_CHECK(cusparse_api().set_stream(state->cusparse, state->stream));
}

void* cuda_stream(const CudaState* state) noexcept { return state->stream; }

void* cuda_workspace(CudaState* state, std::size_t bytes) {
  if (bytes > state->workspace_bytes) {
    SHRINK_CUDA_CHECK(cudaStreamSynchronize(state->stream));  // old buffer may still be in use
    if (state->workspace) SHRINK_CUDA_CHECK(cudaFree(state->workspace));
    state->workspace = nullptr;
    state->workspace_bytes = 0;
    const std::size_t grown = bytes + bytes / 4;  // headroom so small growth does not reallocate
    SHRINK_CUDA_CHECK(cudaMalloc(&state->workspace, grown));
    state->workspace_bytes = grown;
  }
  return state->workspace;
}

void* cuda_allocate(CudaState* state, std::size_t bytes) {
  SHRINK_CUDA_CHECK(cudaSetDevice(state->device));
  void* p = nullptr;
  SHRINK_CUDA_CHECK(cudaMalloc(&p, bytes));
  return p;
}

void cuda_free(void* ptr) noexcept {
  if (ptr) cudaFree(ptr);
}

void cuda_copy(CudaState* state, void* dst, bool dst_device, const void* src, bool src_device,
               std::size_t bytes) {
  const cudaMemcpyKind kind = dst_device ? (src_device ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
                                         : (src_device ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost);
  if (!state) {
    // A copy made through a CPU context cannot know which stream last wrote the device memory; the
    // contexts' streams are non-blocking, so a plain cudaMemcpy on the legacy stream would not wait
    // for them. Wait for the owning device, then copy.
    const void* device_ptr = src_device ? src : dst;
    cudaPointerAttributes attr{};
    SHRINK_CUDA_CHECK(cudaPointerGetAttributes(&attr, device_ptr));
    int previous = 0;
    SHRINK_CUDA_CHECK(cudaGetDevice(&previous));
    if (attr.device >= 0 && attr.device != previous) SHRINK_CUDA_CHECK(cudaSetDevice(attr.device));
    const cudaError_t synced = cudaDeviceSynchronize();
    const cudaError_t copied = synced == cudaSuccess ? cudaMemcpy(dst, src, bytes, kind) : synced;
    if (attr.device >= 0 && attr.device != previous) cudaSetDevice(previous);
    SHRINK_CUDA_CHECK(copied);
    return;
  }
  cuda_activate(state);
  SHRINK_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, state->stream));
  SHRINK_CUDA_CHECK(cudaStreamSynchronize(state->stream));
}

void cuda_zero(CudaState* state, void* dst, std::size_t bytes) {
  if (!state) {
    SHRINK_CUDA_CHECK(cudaMemset(dst, 0, bytes));
    return;
  }
  cuda_activate(state);
  SHRINK_CUDA_CHECK(cudaMemsetAsync(dst, 0, bytes, state->stream));
}

void* cuda_event_create() {
  cudaEvent_t e = nullptr;
  SHRINK_CUDA_CHECK(cudaEventCreate(&e));
  return e;
}

void cuda_event_destroy(void* event) noexcept {
  if (event) cudaEventDestroy(static_cast<cudaEvent_t>(event));
}

void cuda_event_record(CudaState* state, void* event) {
  SHRINK_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(event), state->stream));
}

float cuda_event_elapsed_ms(void* begin, void* end) {
  SHRINK_CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(end)));
  float ms = 0;
  SHRINK_CUDA_CHECK(cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(begin), static_cast<cudaEvent_t>(end)));
  return ms;
}

}  // namespace shrink::detail
