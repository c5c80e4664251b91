// CPU dense products through CBLAS (OpenBLAS). Mixed layouts are folded into transpose flags.
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <utility>
#include <vector>

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

namespace {
// C's lower triangle = alpha A^T A + beta C (A n x p in C's order, or p x n stored the other way).
template <class V>
void syrk_lower(V alpha, DenseView<const V> a, V beta, DenseView<V> c) {
  const CBLAS_ORDER order = c.layout == Layout::RowMajor ? CblasRowMajor : CblasColMajor;
  const bool same = a.layout == c.layout;
  Blas<V>::syrk(order, CblasLower, same ? CblasTrans : CblasNoTrans, static_cast<int>(a.cols),
                static_cast<int>(a.rows), alpha, a.data, lead(a.ld), beta, c.data, lead(c.ld));
}

// The column blocks of A that gram splits its product into on the context's threads, or 1 for one
// SYRK threaded by the BLAS. On two threads OpenBLAS 0.3.21's SYRK ran at 103-105 GFLOP/s where
// kGramTiles^2 / 2 equal shares (a diagonal tile half an off-diagonal one), each a single-threaded
// call dealt out largest first, ran at 109-113 with the mirror (bench_gram, docs/PERF.md; n >= p).
// Measured on 2 cores only, so from 2 to 4 threads; a fixed count keeps the sums the same on each
// of them. Tiles under kGramMinTile columns, or a product under kGramMinWork multiply-adds, stay
// with the BLAS.
constexpr index_t kGramTiles = 4;
constexpr index_t kGramMinTile = 128;
constexpr double kGramMinWork = 5e7;
int gram_tiles(const Context& ctx, index_t n, index_t p) {
  if (omp_in_parallel()) return 1;  // a lane of a path: one thread
  const int threads = ctx.cpu_threads();
  if (threads < 2 || threads > 4 || p / kGramTiles < kGramMinTile) return 1;
  if (static_cast<double>(n) * static_cast<double>(p) * static_cast<double>(p) / 2 < kGramMinWork) return 1;
  return static_cast<int>(kGramTiles);
}

template <class V>
DenseView<const V> column_block(DenseView<const V> a, index_t first, index_t count) {
  return {&a(0, first), a.rows, count, a.ld, a.layout, a.space};
}
}  // namespace

template <class V>
void gram(const Context& ctx, V alpha, DenseView<const V> a, V beta, DenseView<V> c) {
  const index_t p = a.cols;
  if (p == 0) return;
  if (a.rows == 0) {  // beta * C on the lower triangle, mirrored like the SYRK path
    for (index_t i = 0; i < p; ++i)
      for (index_t j = 0; j <= i; ++j) c(i, j) = scale_out(beta, c(i, j));
  } else if (const int tiles = gram_tiles(ctx, a.rows, p); tiles > 1) {
    // Lower-triangle tiles (I, J), I >= J: off-diagonal ones (GEMM, twice the work) first.
    std::vector<index_t> edge(static_cast<std::size_t>(tiles) + 1);
    for (int b = 0; b <= tiles; ++b) edge[b] = p * b / tiles;
    std::vector<std::pair<int, int>> order;
    for (int i = 0; i < tiles; ++i)
      for (int j = 0; j < i; ++j) order.emplace_back(i, j);
    for (int i = 0; i < tiles; ++i) order.emplace_back(i, i);
#pragma omp parallel for schedule(dynamic, 1) num_threads(ctx.cpu_threads())
    for (std::size_t t = 0; t < order.size(); ++t) {
      const auto [i, j] = order[t];
      const index_t r0 = edge[i], rows = edge[i + 1] - r0, c0 = edge[j], cols = edge[j + 1] - c0;
      DenseView<V> block(&c(r0, c0), rows, cols, c.ld, c.layout, c.space);
      const auto rows_of_g = column_block(a, r0, rows);
      if (i == j) syrk_lower(alpha, rows_of_g, beta, block);
      else gemm(ctx, Op::Transpose, Op::NoTranspose, alpha, rows_of_g, column_block(a, c0, cols), beta, block);
    }
  } else {
    syrk_lower(alpha, a, beta, c);
  }
  // Mirror the lower triangle in tiles, so that neither the reads nor the writes stride through
  // the whole matrix (a row-at-a-time mirror of a 1000 x 1000 G wrote with an 8 KB stride); on the
  // context's threads from p = 1024 (p^2 entries: 9 ms of a 114 ms G at p = 4000 on one thread).
  constexpr index_t kTile = 64;
#pragma omp parallel for schedule(dynamic, 1) num_threads(ctx.cpu_threads()) if (p >= 1024 && !omp_in_parallel())
  for (index_t i0 = 0; i0 < p; i0 += kTile)
    for (index_t j0 = i0; j0 < p; j0 += kTile)
      for (index_t i = i0; i < std::min(i0 + kTile, p); ++i)
        for (index_t j = std::max(j0, i + 1); j < std::min(j0 + kTile, p); ++j) c(i, j) = c(j, i);
}

SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_BLAS)

}  // namespace shrink::kernels::cpu
