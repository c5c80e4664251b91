// Context: which backend runs the work, and the resources it owns (device, stream, cuBLAS/cuSPARSE
// handles, a reusable workspace, CPU threads, determinism). Algorithms never create these themselves.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace shrink {

enum class Backend { Auto, Cpu, Cuda };
enum class MemorySpace { Host, Device };

const char* to_string(Backend backend) noexcept;
const char* to_string(MemorySpace space) noexcept;
// "auto", "cpu" or "cuda" (case-insensitive); throws InvalidArgument naming `what` otherwise.
Backend parse_backend(std::string_view text, std::string_view what = "backend");

struct ContextOptions {
  Backend backend = Backend::Auto;  // Auto: CUDA when built and a device exists, else CPU
  int device = 0;                   // CUDA device ordinal
  int cpu_threads = 0;              // 0: OpenMP's default
  bool deterministic = true;        // bit-identical results run to run (no floating-point atomics)
  bool honour_environment = true;   // let SHRINK_BACKEND decide when backend is Auto
};

// The CPU threads of the calling thread's work outside a Context (the file readers and writers, and
// a Context whose cpu_threads is 0): OpenMP's default for this thread from now on. The program's
// --threads sets it, so --threads 1 keeps a reader's parallel parse off the second core too.
// InvalidArgument for threads < 1.
void set_cpu_threads(int threads);

struct DeviceInfo {
  int id = 0;
  std::string name;
  int compute_major = 0, compute_minor = 0;
  int multiprocessors = 0;
  std::size_t total_memory = 0, free_memory = 0;
};

// What a context has moved: copies between host and device memory (through copy_to, to_vector, copy
// and the library's own staging), and copies the library made of an input matrix on the host or the
// device to change its layout or format. A device-resident X on a device solver makes none of the
// latter and moves only vectors and scalars across.
struct TransferCounts {
  std::int64_t host_to_device = 0, device_to_host = 0;              // copies
  std::int64_t host_to_device_bytes = 0, device_to_host_bytes = 0;
  std::int64_t input_host_copies = 0, input_device_copies = 0;      // relayouts / format changes of X
};

// ---- the memory budget -----------------------------------------------------------------------------
// Every host allocation, and every size read from an input before anything is allocated for it, is
// checked against a limit: set_memory_limit() (the program's --max-memory), else SHRINK_MAX_MEMORY
// (bytes, with an optional K, M, G or T suffix, powers of 1024), else the memory the system reports
// available (MemAvailable). Past it the call throws OutOfMemory naming what needed how many bytes and
// the limit: the input is well formed, the machine is too small.
struct MemoryLimit {
  std::size_t bytes = 0;
  std::string source;  // "set_memory_limit", "SHRINK_MAX_MEMORY" or "available memory"
};
void set_memory_limit(std::size_t bytes);  // 0: back to SHRINK_MAX_MEMORY / available memory
MemoryLimit memory_limit();
// "4096", "512K", "1.5G", ... InvalidArgument naming the text otherwise.
std::size_t parse_memory_size(std::string_view text);
// OutOfMemory when `bytes` for `what` exceed the limit (for callers that size buffers from input).
void check_memory(double bytes, const std::string& what);

// The host BLAS as loaded in this process: `library` (OpenBLAS's configuration line; empty for a BLAS
// that is not OpenBLAS) and `kernels` (OpenBLAS's core name, e.g. "SkylakeX"). `better_kernels` is
// set when OpenBLAS runs generic kernels on a CPU whose instructions allow faster ones (an OpenBLAS
// older than the CPU model) and OPENBLAS_CORETYPE is unset: naming it in OPENBLAS_CORETYPE before the
// process loads OpenBLAS selects those kernels (the shrink program does so itself).
struct BlasInfo {
  std::string library, kernels, better_kernels;
};
BlasInfo blas_info();
// For a program's main(), first thing: when blas_info() proposes better kernels, sets
// OPENBLAS_CORETYPE and runs the program again (Linux: /proc/self/exe, the same arguments), since
// OpenBLAS reads the variable only as it loads. Returns when there is nothing to do or the exec failed.
void rerun_with_better_blas(char** argv);

bool cuda_compiled() noexcept;
// Number of usable CUDA devices; 0 when CUDA is not built, no driver is loaded or no device exists.
int cuda_device_count() noexcept;
std::vector<DeviceInfo> cuda_devices();

namespace detail {
struct CudaState;  // stream and library handles; defined only in CUDA translation units
}

class Context {
 public:
  // Throws NotCompiled (CUDA asked for, not built), NoDevice (no usable device) or InvalidArgument.
  explicit Context(ContextOptions options = {});
  ~Context();
  Context(Context&&) noexcept;
  Context& operator=(Context&&) noexcept;
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  Backend backend() const noexcept { return backend_; }  // Cpu or Cuda, never Auto
  MemorySpace memory_space() const noexcept {
    return backend_ == Backend::Cuda ? MemorySpace::Device : MemorySpace::Host;
  }
  int device() const noexcept { return device_; }
  int cpu_threads() const noexcept { return cpu_threads_; }
  bool deterministic() const noexcept { return deterministic_; }
  std::string device_name() const;  // "cpu (N threads)" or the GPU's name

  // Waits for all work queued on this context's stream (no-op on the CPU).
  void synchronize() const;
  // Runs this context's work on the caller's cudaStream_t from now on (nullptr: back to the
  // context's own stream), after waiting for what is already queued. The caller keeps the stream
  // alive while the context uses it. On a CPU context only nullptr is accepted.
  void set_stream(void* stream);
  // The cudaStream_t this context's work goes on (its own or the caller's); nullptr on the CPU.
  void* stream() const noexcept;

  // Scratch memory in this context's memory space, grown on demand and reused; valid until the next
  // call. Kernels report how much they need (two-phase, like CUB) and take it from here.
  void* workspace(std::size_t bytes) const;

  detail::CudaState* cuda_state() const noexcept { return cuda_.get(); }

  // Counted by the library as it copies (a context serves one host thread, so no atomics).
  const TransferCounts& transfers() const noexcept { return transfers_; }
  void reset_transfers() const noexcept { transfers_ = {}; }
  TransferCounts& count_transfers() const noexcept { return transfers_; }

 private:
  struct CudaDeleter {
    void operator()(detail::CudaState* state) const noexcept;
  };
  Backend backend_ = Backend::Cpu;
  int device_ = -1;
  int cpu_threads_ = 1;
  bool deterministic_ = true;
  std::unique_ptr<detail::CudaState, CudaDeleter> cuda_;
  mutable TransferCounts transfers_;
  mutable std::unique_ptr<std::byte[]> host_workspace_;
  mutable std::size_t host_workspace_bytes_ = 0;
};

// Times work queued on a context: CUDA events on its stream, or a steady clock on the CPU.
class Timer {
 public:
  explicit Timer(const Context& ctx);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  void start();
  double stop_seconds();  // waits for the work queued since start()

 private:
  const Context* ctx_;
  void* begin_ = nullptr;  // cudaEvent_t on CUDA
  void* end_ = nullptr;
  double host_start_ = 0;
};

}  // namespace shrink
