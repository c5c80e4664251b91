// The scalar proximal map shared by the CPU and CUDA twins (host+device inline), so both compute
// bit-identical values for the same inputs.
#pragma once
#if defined(__CUDACC__)
#define SHRINK_HD __host__ __device__ __forceinline__
#else
#define SHRINK_HD inline
#endif

namespace shrink::kernels {

// prox of w*(l1*|x| + l2/2*x^2) (+ indicator x >= 0) at v.
template <class V>
SHRINK_HD V prox_scalar(V v, V l1, V l2, V w, bool positive) {
  const V t = l1 * w;
  V s;
  if (positive) {
    s = v > t ? v - t : V(0);
  } else {
    s = v > t ? v - t : (v < -t ? v + t : V(0));
  }
  return l2 == V(0) ? s : s / (V(1) + l2 * w);
}

}  // namespace shrink::kernels
