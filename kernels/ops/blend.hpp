// The output update every product shares, on the host and the device: out = alpha*acc + beta*out,
// where beta == 0 overwrites out (a NaN already in out does not propagate).
#pragma once

#if defined(__CUDACC__)
#define SHRINK_BLEND_HD __host__ __device__ __forceinline__
#else
#define SHRINK_BLEND_HD inline
#endif

namespace shrink::kernels {

template <class V>
SHRINK_BLEND_HD V blend(V alpha, V acc, V beta, V out) {
  return beta == V(0) ? alpha * acc : alpha * acc + beta * out;
}

// out = beta*out with the same beta == 0 rule (products whose alpha term is empty).
template <class V>
SHRINK_BLEND_HD V scale_out(V beta, V out) {
  return beta == V(0) ? V(0) : beta * out;
}

}  // namespace shrink::kernels
