// The CUDA side of Context and memory, implemented in runtime.cu. Only host/core and CUDA
// translation units include this; it names no CUDA types so it compiles with a plain C++ compiler.
#pragma once
#include <cstddef>
#include <vector>

#include "shrink/context.hpp"

namespace shrink::detail {

int cuda_count_devices() noexcept;  // any error (no driver, no device) counts as 0 and is cleared
std::vector<DeviceInfo> cuda_query_devices();
// cuBLAS and cuSPARSE, loaded (dlopen) by the first cuda_create_state, not with the library; throws
// CudaError naming what is missing. Whether that has happened in this process.
void cuda_load_libraries();
bool cuda_libraries_loaded() noexcept;
CudaState* cuda_create_state(int device);  // stream + cuBLAS/cuSPARSE handles on that stream
void cuda_destroy_state(CudaState* state) noexcept;
void cuda_synchronize(CudaState* state);
// Queues the state's work on `stream` (a cudaStream_t; null: the state's own stream) from now on.
void cuda_set_stream(CudaState* state, void* stream);
void* cuda_stream(const CudaState* state) noexcept;  // the cudaStream_t work is queued on
// Makes the state's device current for this host thread (launches go to the current device).
void cuda_activate(CudaState* state);
void* cuda_workspace(CudaState* state, std::size_t bytes);
void* cuda_allocate(CudaState* state, std::size_t bytes);
void cuda_free(void* ptr) noexcept;
// Copies on the state's stream and waits for completion; state may be null (synchronous copy).
void cuda_copy(CudaState* state, void* dst, bool dst_device, const void* src, bool src_device,
               std::size_t bytes);
void cuda_zero(CudaState* state, void* dst, std::size_t bytes);
void* cuda_event_create();
void cuda_event_destroy(void* event) noexcept;
void cuda_event_record(CudaState* state, void* event);
float cuda_event_elapsed_ms(void* begin, void* end);  // synchronizes on end

}  // namespace shrink::detail
