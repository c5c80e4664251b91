// CPU dense products through CBLAS (OpenBLAS). Mixed layouts are folded into transpose flags.
#include <cblas.h>

#include <algorithm>

#include "kernels/ops/blend.hpp"
#include "kernels/ops/blas_kernels.hpp"
#include "shrink/context.hpp"

namespace shrink::kernels::cpu {

namespace {
CBLAS_TRANSPOSE flip(Op op, bool flipped) {
  const bool t = (op == Op::Transpose) != flipped;
  return t ? CblasTrans : CblasNoTrans;
}
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
int lead(index_t ld) { return static_cast<int>(ld < 1 ? 1 : ld); }
}  // namespace

template <class V>
void gemv(const Context&, Op op, V alpha, DenseView<const V> a, const V* x, V beta, V* y) {
  const index_t out = op == Op::NoTranspose ? a.rows : a.cols;
  if (out == 0) return;
  if (a.rows == 0 || a.cols == 0) {  // BLAS would leave y untouched by alpha*A*x = 0
    for (index_t i = 0; i < out; ++i) y[i] = scale_out(beta, y[i]);
    return;
  }
  const CBLAS_ORDER order = a.layout == Layout::RowMajor ? CblasRowMajor : CblasColMajor;
  Blas<V>::gemv(order, flip(op, false), static_cast<int>(a.rows), static_cast<int>(a.cols),
                alpha, a.data, lead(a.ld), x, 1, beta, y, 1);
}

template <class V>
void gemm(const Context&, Op op_a, Op op_b, V alpha, DenseView<const V> a, DenseView<const V> b,
          V beta, DenseView<V> c) {
  if (c.rows == 0 || c.cols == 0) return;
  const index_t inner = op_a == Op::NoTranspose ? a.cols : a.rows;
  if (inner == 0) {
    for (index_t i = 0; i < c.rows; ++i)
      for (index_t j = 0; j < c.cols; ++j) c(i, j) = scale_out(beta, c(i, j));
    return;
  }
  // Run in C's order; an operand stored the other way is the transpose in that order.
  const CBLAS_ORDER order = c.layout == Layout::RowMajor ? CblasRowMajor : CblasColMajor;
  Blas<V>::gemm(order, flip(op_a, a.layout != c.layout), flip(op_b, b.layout != c.layout),
                static_cast<int>(c.rows), static_cast<int>(c.cols),
                static_cast<int>(inner), alpha, a.data, lead(a.ld), b.data, lead(b.ld), beta,
                c.data, lead(c.ld));
}

template <class V>
void gram(const Context&, V alpha, DenseView<const V> a, V beta, DenseView<V> c) {
  const index_t p = a.cols;
  if (p == 0) return;
  if (a.rows == 0) {  // beta * C on the lower triangle, mirrored like the SYRK path
    for (index_t i = 0; i < p; ++i)
      for (index_t j = 0; j <= i; ++j) c(i, j) = scale_out(beta, c(i, j));
  } else {
      // In C's order, A stored the same way is n x p (C = A^T A); stored the other way it is the
    // p x n transpose (C = A' A'^T).
    const CBLAS_ORDER order = c.layout == Layout::RowMajor ? CblasRowMajor : CblasColMajor;
    const bool same = a.layout == c.layout;
    Blas<V>::syrk(order, CblasLower, same ? CblasTrans : CblasNoTrans, static_cast<int>(p),
                  static_cast<int>(a.rows), alpha, a.data, lead(a.ld), beta, c.data, lead(c.ld));
  }
  // Mirror the lower triangle in tiles, so that neither the reads nor the writes stride through
  // the whole matrix (a row-at-a-time mirror of a 1000 x 1000 G wrote with an 8 KB stride).
  constexpr index_t kTile = 64;
  for (index_t i0 = 0; i0 < p; i0 += kTile)
    for (index_t j0 = i0; j0 < p; j0 += kTile)
      for (index_t i = i0; i < std::min(i0 + kTile, p); ++i)
        for (index_t j = std::max(j0, i + 1); j < std::min(j0 + kTile, p); ++j) c(i, j) = c(j, i);
}

SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_BLAS)

}  // namespace shrink::kernels::cpu
