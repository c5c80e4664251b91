// The CPU this process runs on (cpuid): the vector instructions the host's hot loops may use (the
// build has no -march, so they are compiled twice and chosen here) and the OpenBLAS kernels asked
// for when the loaded OpenBLAS does not know the model (blas.cpp).
#pragma once
#include <string>

namespace shrink {

struct CpuIsa {
  bool amd = false;       // vendor AuthenticAMD
  bool avx512 = false;    // AVX-512 F, CD, BW, DQ and VL
  bool avx2_fma = false;  // AVX2 and FMA
};

// This CPU, read once.
const CpuIsa& this_cpu() noexcept;

// The OpenBLAS core type (OPENBLAS_CORETYPE) for an OpenBLAS older than `cpu`'s model, which falls
// back to generic SSE3 kernels: "SkylakeX" for Intel's AVX-512, "Haswell" for AVX2 and FMA, "" when
// neither. AMD's AVX-512 (Zen 4 and 5) gets "Haswell": OpenBLAS releases older than those cores
// compute wrong results or crash with the SkylakeX kernels on some of them, which is why machines
// like this project's pin OPENBLAS_CORETYPE=Haswell there.
std::string openblas_core_for(const CpuIsa& cpu);

}  // namespace shrink
