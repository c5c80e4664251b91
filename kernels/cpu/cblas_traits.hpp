// CBLAS entry points by value type, shared by the CPU kernels that call BLAS.
#pragma once
#include <cblas.h>

#include "shrink/array.hpp"

namespace shrink::kernels::cpu {

template <class V> struct Blas;
template <> struct Blas<float> {
  static constexpr auto gemv = cblas_sgemv;
  static constexpr auto gemm = cblas_sgemm;
  static constexpr auto syrk = cblas_ssyrk;
};
template <> struct Blas<double> {
  static constexpr auto gemv = cblas_dgemv;
  static constexpr auto gemm = cblas_dgemm;
  static constexpr auto syrk = cblas_dsyrk;
};
inline int blas_lead(index_t ld) { return static_cast<int>(ld < 1 ? 1 : ld); }

}  // namespace shrink::kernels::cpu
