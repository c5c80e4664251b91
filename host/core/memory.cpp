#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <new>
#include <string>

#include <sys/mman.h>

#include "host/core/fault_injection.hpp"
#include "host/core/validate.hpp"

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

namespace {
std::atomic<std::size_t> explicit_limit{0};
std::atomic<std::int64_t> allocations{0}, fail_at{0};

std::size_t available_memory() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  std::size_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024;
  return std::numeric_limits<std::size_t>::max();  // unknown: no limit of its own
}

std::string human(double bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  while (bytes >= 1024 && u < 6) {
    bytes /= 1024;
    ++u;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return buf;
}
}  // namespace

void fail_allocation(std::int64_t k) noexcept { fail_at = k > 0 ? allocations.load() + k : 0; }
std::int64_t allocations_made() noexcept { return allocations.load(); }

constexpr std::size_t kHugePage = std::size_t{2} << 20;
constexpr std::size_t kHugePageFrom = std::size_t{4} << 20;

void* allocate_bytes(const Context* ctx, MemorySpace space, std::size_t bytes) {
  if (bytes == 0) return nullptr;
  const std::int64_t count = ++allocations;
  if (fail_at.load() == count) {
    fail_at = 0;
    throw OutOfMemory("allocation of " + std::to_string(bytes) + " bytes failed (injected by the test hook)");
  }
  if (space == MemorySpace::Host) {
    check_memory(static_cast<double>(bytes), "a host array");
    // 64-byte alignment for vector loads; the size is rounded up as aligned_alloc requires. A large
    // array is asked for on 2 MiB pages (transparent huge pages, where the kernel offers them on
    // request): its first touch then takes one fault per 2 MiB, not per 4 KiB.
    const bool huge = bytes >= kHugePageFrom;
    const std::size_t align = huge ? kHugePage : 64;
    void* p = std::aligned_alloc(align, (bytes + align - 1) / align * align);
    if (!p) throw OutOfMemory("host allocation of " + std::to_string(bytes) + " bytes failed");
#ifdef MADV_HUGEPAGE
    if (huge) (void)madvise(p, (bytes + align - 1) / align * align, MADV_HUGEPAGE);  // advice only
#endif
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

void set_memory_limit(std::size_t bytes) { detail::explicit_limit = bytes; }

void check_memory(double bytes, const std::string& what) {
  if (!(bytes >= 0)) throw OutOfMemory(what + ": the size overflows");
  const std::size_t set = detail::explicit_limit.load();
  // Small requests need no look at the system (MemAvailable is read from /proc); an explicit limit
  // is checked on every one.
  if (set == 0 && !std::getenv("SHRINK_MAX_MEMORY") && bytes < double(std::size_t{64} << 20)) return;
  const MemoryLimit limit = memory_limit();
  if (bytes > static_cast<double>(limit.bytes))
    throw OutOfMemory(what + " needs " + detail::human(bytes) + " (" + std::to_string(static_cast<unsigned long long>(std::min(bytes, 1.8e19))) +
                      " bytes); the memory limit is " + detail::human(static_cast<double>(limit.bytes)) + " (" + limit.source + ")");
}


MemoryLimit memory_limit() {
  if (const std::size_t set = detail::explicit_limit.load()) return {set, "set_memory_limit / --max-memory"};
  if (const char* env = std::getenv("SHRINK_MAX_MEMORY")) return {parse_memory_size(env), "SHRINK_MAX_MEMORY"};
  return {detail::available_memory(), "available memory"};
}

std::size_t parse_memory_size(std::string_view text) {
  const std::string s(text);
  char* end = nullptr;
  const double value = std::strtod(s.c_str(), &end);
  std::string suffix(end ? end : "");
  for (auto& c : suffix) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (!suffix.empty() && suffix.back() == 'B' && suffix.size() > 1) suffix.pop_back();  // "GB" as "G"
  if (suffix.size() > 1 && suffix.back() == 'I') suffix.pop_back();                      // "GiB" as "G"
  double scale = 1;
  if (suffix == "K") scale = 1024.0;
  else if (suffix == "M") scale = 1024.0 * 1024;
  else if (suffix == "G") scale = 1024.0 * 1024 * 1024;
  else if (suffix == "T") scale = 1024.0 * 1024 * 1024 * 1024;
  else if (!suffix.empty() && suffix != "B") scale = -1;
  if (end == s.c_str() || !(value > 0) || scale < 0 || !std::isfinite(value * scale) || value * scale >= 1.8e19)
    throw InvalidArgument("memory size '" + s + "': expected a positive number of bytes with an optional K, M, G or T");
  return static_cast<std::size_t>(value * scale);
}

}  // namespace shrink

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
