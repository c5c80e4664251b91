// SHRINK_HD marks a function that both twins compile: host+device inline under nvcc, plain inline
// for the C++ compiler.
#pragma once

#if defined(__CUDACC__)
#define SHRINK_HD __host__ __device__ __forceinline__
#else
#define SHRINK_HD inline
#endif
