#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "shrink/array.hpp"
#include "shrink/error.hpp"
#if SHRINK_WITH_CUDA
#include "kernels/cuda/runtime.hpp"
#endif

namespace shrink::detail {

namespace {
[[maybe_unused]] [[noreturn]] void no_cuda() {
  throw NotCompiled("device memory requested but this copy of Shrink was built without CUDA");
}
#if SHRINK_WITH_CUDA
detail::CudaState* state_of(const Context* ctx) { return ctx ? ctx->cuda_state() : nullptr; }
#endif
}  // namespace

void* allocate_bytes(const Context* ctx, MemorySpace space, std::size_t bytes) {
  if (bytes == 0) return nullptr;
  if (space == MemorySpace::Host) {
    // 64-byte alignment for vector loads; the size is rounded up as aligned_alloc requires.
    void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) throw OutOfMemory("host allocation of " + std::to_string(bytes) + " bytes failed");
    return p;
  }
#if SHRINK_WITH_CUDA
  if (!ctx || !ctx->cuda_state())
    throw InvalidArgument("device allocation needs a context with the CUDA backend");
  return cuda_allocate(ctx->cuda_state(), bytes);
#else
  (void)ctx;
  no_cuda();
#endif
}

void free_bytes(MemorySpace space, void* ptr) noexcept {
  if (space == MemorySpace::Host) {
    std::free(ptr);
    return;
  }
#if SHRINK_WITH_CUDA
  cuda_free(ptr);
#endif
}

void copy_bytes(const Context* ctx, void* dst, MemorySpace dst_space, const void* src,
                MemorySpace src_space, std::size_t bytes) {
  if (bytes == 0) return;
  if (dst_space == MemorySpace::Host && src_space == MemorySpace::Host) {
    std::memcpy(dst, src, bytes);
    return;
  }
#if SHRINK_WITH_CUDA
  if (ctx && dst_space != src_space) {
    auto& t = ctx->count_transfers();
    const auto b = static_cast<std::int64_t>(bytes);
    if (dst_space == MemorySpace::Device) {
      ++t.host_to_device;
      t.host_to_device_bytes += b;
    } else {
      ++t.device_to_host;
      t.device_to_host_bytes += b;
    }
  }
  cuda_copy(state_of(ctx), dst, dst_space == MemorySpace::Device, src,
            src_space == MemorySpace::Device, bytes);
#else
  (void)ctx;
  no_cuda();
#endif
}

void zero_bytes(const Context* ctx, void* dst, MemorySpace space, std::size_t bytes) {
  if (bytes == 0) return;
  if (space == MemorySpace::Host) {
    std::memset(dst, 0, bytes);
    return;
  }
#if SHRINK_WITH_CUDA
  cuda_zero(state_of(ctx), dst, bytes);
#else
  (void)ctx;
  no_cuda();
#endif
}

}  // namespace shrink::detail

namespace shrink {

template <class T>
void copy(const Context& ctx, std::type_identity_t<VectorView<const T>> src, VectorView<T> dst) {
  if (src.size != dst.size)
    throw DimensionMismatch("copy: source has " + std::to_string(src.size) +
                            " entries, destination " + std::to_string(dst.size));
  if ((src.space == MemorySpace::Device || dst.space == MemorySpace::Device) &&
      ctx.memory_space() != MemorySpace::Device)
    throw InvalidArgument("copy: device memory needs a context with the CUDA backend");
  detail::copy_bytes(&ctx, dst.data, dst.space, src.data, src.space,
                     static_cast<std::size_t>(src.size) * sizeof(T));
}

template void copy<float>(const Context&, VectorView<const float>, VectorView<float>);
template void copy<double>(const Context&, VectorView<const double>, VectorView<double>);
template void copy<std::int32_t>(const Context&, VectorView<const std::int32_t>, VectorView<std::int32_t>);
template void copy<std::int64_t>(const Context&, VectorView<const std::int64_t>, VectorView<std::int64_t>);

}  // namespace shrink
