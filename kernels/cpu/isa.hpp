// The CPU's vector instructions, read once. The build has no -march (it runs on any x86-64), so hot
// loops are compiled twice, for AVX2 + FMA and for the baseline, and this picks one at run time.
#pragma once

namespace shrink::kernels::cpu {

inline bool has_avx2_fma() noexcept {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
#else
  return false;
#endif
}

}  // namespace shrink::kernels::cpu
