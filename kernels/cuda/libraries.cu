// cuBLAS and cuSPARSE loaded at run time (common.cuh's CublasApi and CusparseApi): by the soname of
// the toolkit Shrink was built with, then from that toolkit's library folder.
#include <dlfcn.h>

#include <atomic>
#include <string>

#include "kernels/cuda/common.cuh"
#include "shrink/error.hpp"

#ifndef SHRINK_CUDA_LIBRARY_DIR
#define SHRINK_CUDA_LIBRARY_DIR ""
#endif

// The exported name after the header's macros (cublasCreate is cublasCreate_v2).
#define SHRINK_SYMBOL_NAME_(fn) #fn
#define SHRINK_SYMBOL_NAME(fn) SHRINK_SYMBOL_NAME_(fn)

namespace shrink::detail {

namespace {

std::atomic<bool> libraries_loaded{false};

// The library stays loaded for the process.
void* open_library(const std::string& soname) {
  void* lib = dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib) return lib;
  std::string why = dlerror();
  const std::string dir = SHRINK_CUDA_LIBRARY_DIR;
  if (!dir.empty()) {
    lib = dlopen((dir + "/" + soname).c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib) return lib;
    why += "; " + std::string(dlerror());
  }
  throw CudaError("the CUDA backend needs " + soname + ", which could not be loaded: " + why);
}

template <class F>
void bind(void* lib, const std::string& soname, F& fn, const char* name) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
  if (!fn) throw CudaError(soname + " has no " + name + " (not the CUDA toolkit Shrink was built with?)");
}

}  // namespace

const CublasApi& cublas_api() {
  static const CublasApi api = [] {
    const std::string soname = "libcublas.so." + std::to_string(CUBLAS_VER_MAJOR);
    void* lib = open_library(soname);
    CublasApi a{};
#define SHRINK_BIND(member, fn) bind(lib, soname, a.member, SHRINK_SYMBOL_NAME(fn))
    SHRINK_BIND(create, cublasCreate);
    SHRINK_BIND(destroy, cublasDestroy);
    SHRINK_BIND(set_stream, cublasSetStream);
    SHRINK_BIND(sgemv, cublasSgemv);
    SHRINK_BIND(dgemv, cublasDgemv);
    SHRINK_BIND(sgemm, cublasSgemm);
    SHRINK_BIND(dgemm, cublasDgemm);
    SHRINK_BIND(ssyrk, cublasSsyrk);
    SHRINK_BIND(dsyrk, cublasDsyrk);
    return a;
  }();
  return api;
}

const CusparseApi& cusparse_api() {
  static const CusparseApi api = [] {
    const std::string soname = "libcusparse.so." + std::to_string(CUSPARSE_VER_MAJOR);
    void* lib = open_library(soname);
    CusparseApi a{};
    SHRINK_BIND(create, cusparseCreate);
    SHRINK_BIND(destroy, cusparseDestroy);
    SHRINK_BIND(set_stream, cusparseSetStream);
    SHRINK_BIND(error_string, cusparseGetErrorString);
    SHRINK_BIND(create_mat_descr, cusparseCreateMatDescr);
    SHRINK_BIND(destroy_mat_descr, cusparseDestroyMatDescr);
    SHRINK_BIND(sbsrmm, cusparseSbsrmm);
    SHRINK_BIND(create_csr, cusparseCreateCsr);
    SHRINK_BIND(destroy_sp_mat, cusparseDestroySpMat);
    SHRINK_BIND(create_dn_vec, cusparseCreateDnVec);
    SHRINK_BIND(destroy_dn_vec, cusparseDestroyDnVec);
    SHRINK_BIND(spmv_buffer_size, cusparseSpMV_bufferSize);
    SHRINK_BIND(spmv, cusparseSpMV);
#undef SHRINK_BIND
    return a;
  }();
  return api;
}

void cuda_load_libraries() {
  cublas_api();
  cusparse_api();
  libraries_loaded = true;
}

bool cuda_libraries_loaded() noexcept { return libraries_loaded; }

}  // namespace shrink::detail
