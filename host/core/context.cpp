#include "shrink/context.hpp"

#include <omp.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string>

#include "shrink/error.hpp"
#if SHRINK_WITH_CUDA
#include "kernels/cuda/runtime.hpp"
#endif

namespace shrink {

const char* to_string(Backend backend) noexcept {
  switch (backend) {
    case Backend::Auto: return "auto";
    case Backend::Cpu: return "cpu";
    case Backend::Cuda: return "cuda";
  }
  return "?";
}

const char* to_string(MemorySpace space) noexcept {
  return space == MemorySpace::Host ? "host" : "device";
}

Backend parse_backend(std::string_view text, std::string_view what) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "auto") return Backend::Auto;
  if (lower == "cpu") return Backend::Cpu;
  if (lower == "cuda" || lower == "gpu") return Backend::Cuda;
  throw InvalidArgument(std::string(what) + ": expected auto, cpu or cuda, got '" +
                        std::string(text) + "'");
}

void set_cpu_threads(int threads) {
  if (threads < 1) throw InvalidArgument("set_cpu_threads: threads must be >= 1, got " + std::to_string(threads));
  omp_set_num_threads(threads);
}

bool cuda_compiled() noexcept { return SHRINK_WITH_CUDA != 0; }

int cuda_device_count() noexcept {
#if SHRINK_WITH_CUDA
  return detail::cuda_count_devices();
#else
  return 0;
#endif
}

std::vector<DeviceInfo> cuda_devices() {
#if SHRINK_WITH_CUDA
  return detail::cuda_query_devices();
#else
  return {};
#endif
}

void Context::CudaDeleter::operator()(detail::CudaState* state) const noexcept {
#if SHRINK_WITH_CUDA
  detail::cuda_destroy_state(state);
#else
  (void)state;
#endif
}

Context::Context(ContextOptions options) : deterministic_(options.deterministic) {
  if (options.cpu_threads < 0)
    throw InvalidArgument("cpu_threads must be >= 0, got " + std::to_string(options.cpu_threads));
  cpu_threads_ = options.cpu_threads > 0 ? options.cpu_threads : std::max(1, omp_get_max_threads());

  Backend wanted = options.backend;
  if (wanted == Backend::Auto && options.honour_environment) {
    if (const char* env = std::getenv("SHRINK_BACKEND"); env && *env)
      wanted = parse_backend(env, "SHRINK_BACKEND");
  }
  if (wanted == Backend::Auto) wanted = cuda_device_count() > 0 ? Backend::Cuda : Backend::Cpu;

  if (wanted == Backend::Cuda) {
#if SHRINK_WITH_CUDA
    const int count = detail::cuda_count_devices();
    if (count == 0)
      throw NoDevice("CUDA backend requested but no usable CUDA device was found");
    if (options.device < 0 || options.device >= count)
      throw NoDevice("CUDA device " + std::to_string(options.device) + " requested, but only " +
                     std::to_string(count) + " device(s) exist");
    device_ = options.device;
    cuda_.reset(detail::cuda_create_state(device_));
#else
    throw NotCompiled("CUDA backend requested but this copy of Shrink was built without CUDA "
                      "(rebuild with -DSHRINK_CUDA=ON)");
#endif
  }
  backend_ = wanted;
}

Context::~Context() = default;
Context::Context(Context&&) noexcept = default;
Context& Context::operator=(Context&&) noexcept = default;

std::string Context::device_name() const {
#if SHRINK_WITH_CUDA
  if (backend_ == Backend::Cuda) {
    for (const auto& d : detail::cuda_query_devices())
      if (d.id == device_) return d.name;
  }
#endif
  return "cpu (" + std::to_string(cpu_threads_) + " threads)";
}

void Context::set_stream(void* stream) {
#if SHRINK_WITH_CUDA
  if (cuda_) {
    detail::cuda_set_stream(cuda_.get(), stream);
    return;
  }
#endif
  if (stream) throw InvalidArgument("set_stream: a CUDA stream was given to a CPU context");
}

void* Context::stream() const noexcept {
#if SHRINK_WITH_CUDA
  if (cuda_) return detail::cuda_stream(cuda_.get());
#endif
  return nullptr;
}

void Context::synchronize() const {
#if SHRINK_WITH_CUDA
  if (cuda_) detail::cuda_synchronize(cuda_.get());
#endif
}

void* Context::workspace(std::size_t bytes) const {
  if (bytes == 0) return nullptr;
#if SHRINK_WITH_CUDA
  if (cuda_) return detail::cuda_workspace(cuda_.get(), bytes);
#endif
  if (bytes > host_workspace_bytes_) {
    try {
      host_workspace_ = std::make_unique<std::byte[]>(bytes);
    } catch (const std::bad_alloc&) {
      throw OutOfMemory("host workspace of " + std::to_string(bytes) + " bytes");
    }
    host_workspace_bytes_ = bytes;
  }
  return host_workspace_.get();
}

}  // namespace shrink

#include <chrono>

#include "shrink/build_config.hpp"
namespace shrink {

namespace {
double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

Timer::Timer(const Context& ctx) : ctx_(&ctx) {
#if SHRINK_WITH_CUDA
  if (ctx.cuda_state()) {
    begin_ = detail::cuda_event_create();
    end_ = detail::cuda_event_create();
  }
#endif
}

Timer::~Timer() {
#if SHRINK_WITH_CUDA
  detail::cuda_event_destroy(begin_);
  detail::cuda_event_destroy(end_);
#endif
}

void Timer::start() {
#if SHRINK_WITH_CUDA
  if (begin_) {
    detail::cuda_event_record(ctx_->cuda_state(), begin_);
    return;
  }
#endif
  host_start_ = now_seconds();
}

double Timer::stop_seconds() {
#if SHRINK_WITH_CUDA
  if (end_) {
    detail::cuda_event_record(ctx_->cuda_state(), end_);
    return detail::cuda_event_elapsed_ms(begin_, end_) * 1e-3;
  }
#endif
  return now_seconds() - host_start_;
}

const char* version() noexcept { return SHRINK_VERSION_STRING; }
}  // namespace shrink
