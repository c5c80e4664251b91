// The host BLAS this process loaded (blas_info in context.hpp). OpenBLAS chooses its kernels from the
// CPU's model number when it loads; a release older than the CPU does not know the model and falls
// back to generic SSE3 kernels ("Prescott"), which ran the Gram build of the suite's dense problem
// 1.5x slower than its AVX-512 kernels on this project's Xeon VM (Debian's OpenBLAS 0.3.21). The
// instruction sets are known from cpuid even where the model is not.
#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string>

#include "host/core/cpu.hpp"
#include "shrink/context.hpp"

namespace shrink {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

const CpuIsa& this_cpu() noexcept {
  static const CpuIsa cpu = [] {
    CpuIsa c;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    c.amd = __builtin_cpu_is("amd");
    c.avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512vl");
    c.avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return c;
  }();
  return cpu;
}

std::string openblas_core_for(const CpuIsa& cpu) {
  if (cpu.avx512 && !cpu.amd) return "SkylakeX";
  if (cpu.avx2_fma || cpu.avx512) return "Haswell";
  return "";
}

BlasInfo blas_info() {
  BlasInfo info;
  using Text = const char* (*)();
  const auto corename = reinterpret_cast<Text>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  if (!corename) return info;  // another BLAS (or a static one whose symbols are hidden)
  info.library = "OpenBLAS";
  if (const auto config = reinterpret_cast<Text>(dlsym(RTLD_DEFAULT, "openblas_get_config"))) info.library = config();
  info.kernels = corename();
  // Generic kernels on a CPU with AVX2 or AVX-512: OpenBLAS did not recognize the model.
  const std::string k = lower(info.kernels);
  const bool generic = k == "prescott" || k == "core2" || k == "katmai" || k == "coppermine" || k == "northwood" ||
                       k == "penryn" || k == "dunnington" || k == "nehalem" || k == "unknown";
  if (generic && !std::getenv("OPENBLAS_CORETYPE")) info.better_kernels = openblas_core_for(this_cpu());
  return info;
}

void rerun_with_better_blas(char** argv) {
  const auto better = blas_info().better_kernels;
  if (better.empty()) return;
  setenv("OPENBLAS_CORETYPE", better.c_str(), 1);
  execv("/proc/self/exe", argv);  // returns only on failure: carry on with the generic kernels
}

}  // namespace shrink
