// CUDA dense products through cuBLAS (column-major). A row-major operand is the transpose of a
// column-major one; a row-major C is computed as C^T = op(B)^T op(A)^T.
#include "kernels/cuda/launch.cuh"
#include "kernels/ops/blas_kernels.hpp"

namespace shrink::kernels::cuda {

namespace {
using cuda_detail::stream_of;

cublasOperation_t to_cublas(Op op, bool flipped) {
  return ((op == Op::Transpose) != flipped) ? CUBLAS_OP_T : CUBLAS_OP_N;
}
int lead(index_t ld) { return static_cast<int>(ld < 1 ? 1 : ld); }

cublasStatus_t gemv_call(cublasHandle_t h, cublasOperation_t t, int m, int n, const float* alpha,
                         const float* a, int lda, const float* x, const float* beta, float* y) {
  return detail::cublas_api().sgemv(h, t, m, n, alpha, a, lda, x, 1, beta, y, 1);
}
cublasStatus_t gemv_call(cublasHandle_t h, cublasOperation_t t, int m, int n, const double* alpha,
                         const double* a, int lda, const double* x, const double* beta, double* y) {
  return detail::cublas_api().dgemv(h, t, m, n, alpha, a, lda, x, 1, beta, y, 1);
}
cublasStatus_t gemm_call(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                         int k, const float* alpha, const float* a, int lda, const float* b, int ldb,
                         const float* beta, float* c, int ldc) {
  return detail::cublas_api().sgemm(h, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
cublasStatus_t gemm_call(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                         int k, const double* alpha, const double* a, int lda, const double* b,
                         int ldb, const double* beta, double* c, int ldc) {
  return detail::cublas_api().dgemm(h, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

cublasStatus_t syrk_call(cublasHandle_t h, cublasFillMode_t fill, cublasOperation_t t, int n, int k,
                         const float* alpha, const float* a, int lda, const float* beta, float* c, int ldc) {
  return detail::cublas_api().ssyrk(h, fill, t, n, k, alpha, a, lda, beta, c, ldc);
}
cublasStatus_t syrk_call(cublasHandle_t h, cublasFillMode_t fill, cublasOperation_t t, int n, int k,
                         const double* alpha, const double* a, int lda, const double* beta, double* c, int ldc) {
  return detail::cublas_api().dsyrk(h, fill, t, n, k, alpha, a, lda, beta, c, ldc);
}

}  // namespace

template <class V>
void gemv(const Context& ctx, Op op, V alpha, DenseView<const V> a, const V* x, V beta, V* y) {
  const index_t out = op == Op::NoTranspose ? a.rows : a.cols;
  if (out == 0) return;
  if (a.rows == 0 || a.cols == 0) {
    cuda_detail::scale_out_on_device(ctx, DenseView<V>(y, out, 1, 1, Layout::RowMajor, MemorySpace::Device), beta);
    return;
  }
  const bool row = a.layout == Layout::RowMajor;  // stored as the column-major transpose
  const int m = static_cast<int>(row ? a.cols : a.rows), n = static_cast<int>(row ? a.rows : a.cols);
  SHRINK_CUBLAS_CHECK(gemv_call(ctx.cuda_state()->cublas, to_cublas(op, row), m, n, &alpha, a.data,
                                lead(a.ld), x, &beta, y));
}

template <class V>
void gemm(const Context& ctx, Op op_a, Op op_b, V alpha, DenseView<const V> a, DenseView<const V> b,
          V beta, DenseView<V> c) {
  if (c.rows == 0 || c.cols == 0) return;
  const index_t inner = op_a == Op::NoTranspose ? a.cols : a.rows;
  if (inner == 0) {
    cuda_detail::scale_out_on_device(ctx, c, beta);
    return;
  }
  cublasHandle_t h = ctx.cuda_state()->cublas;
  const auto ta = to_cublas(op_a, a.layout != c.layout);
  const auto tb = to_cublas(op_b, b.layout != c.layout);
  if (c.layout == Layout::ColMajor) {
    SHRINK_CUBLAS_CHECK(gemm_call(h, ta, tb, static_cast<int>(c.rows), static_cast<int>(c.cols),
                                  static_cast<int>(inner), &alpha, a.data, lead(a.ld), b.data,
                                  lead(b.ld), &beta, c.data, lead(c.ld)));
  } else {
    SHRINK_CUBLAS_CHECK(gemm_call(h, tb, ta, static_cast<int>(c.cols), static_cast<int>(c.rows),
                                  static_cast<int>(inner), &alpha, b.data, lead(b.ld), a.data,
                                  lead(a.ld), &beta, c.data, lead(c.ld)));
  }
}

template <class V>
void gram(const Context& ctx, V alpha, DenseView<const V> a, V beta, DenseView<V> c) {
  const index_t p = a.cols;
  if (p == 0) return;
  // cuBLAS sees C column-major. Like the CPU twin, beta reads C's lower triangle (i >= j in C's own
  // order); for a row-major C that is the upper triangle of the column-major view.
  const bool from_lower = c.layout == Layout::ColMajor;
  if (a.rows == 0) {  // beta * C, then the same mirroring as the SYRK path
    cuda_detail::scale_out_on_device(ctx, c, beta);
  } else {
    // A column-major A is n x p (C = A^T A); a row-major one is the column-major p x n transpose.
    const bool col = a.layout == Layout::ColMajor;
    SHRINK_CUBLAS_CHECK(syrk_call(ctx.cuda_state()->cublas, from_lower ? CUBLAS_FILL_MODE_LOWER : CUBLAS_FILL_MODE_UPPER,
                                  col ? CUBLAS_OP_T : CUBLAS_OP_N, static_cast<int>(p), static_cast<int>(a.rows),
                                  &alpha, a.data, lead(a.ld), &beta, c.data, lead(c.ld)));
  }
  // Copy the triangle that was computed onto the other one (column-major view: element (i, j) at
  // i + j ld).
  const index_t ld = c.ld;
  V* data = c.data;
  for_each(ctx, p * p, [=] __device__(index_t k) {
    const index_t i = k % p, j = k / p;
    if (from_lower ? i < j : i > j) data[j * ld + i] = data[i * ld + j];
  });
}

SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_BLAS)

}  // namespace shrink::kernels::cuda
