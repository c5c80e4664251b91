// CPU twins of the block-sparse layer kernels.
//
// Blocks with both sides >= 8 run a register-blocked micro-kernel: 4 samples x 16 outputs held in
// registers while the shared dimension streams through a packed panel of W (built per call, so W is
// read once per 64-sample tile and stays in L1/L2). It is compiled for AVX2+FMA and for the baseline
// ISA, picked at run time. Work is split over samples (forward, dX) or over
// blocks (dW), so every output has one writer and a fixed summation order: deterministic. Smaller
// blocks run plain loops with the same split.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/cpu/isa.hpp"
#include "kernels/ops/bsr_kernels.hpp"
#include "shrink/context.hpp"

namespace shrink::kernels::cpu {

namespace {

constexpr index_t kMinSide = 8;   // smaller blocks take the plain loops
constexpr int kLanes = 16;        // outputs per register tile
constexpr index_t kRowTile = 64;  // samples per task

template <class V, class I>
bool use_panels(const BsrView<V, I>& w) {
  return std::min(w.block_height, w.block_width) >= kMinSide;
}

// out[b][j] += sum_q a[b][offset[q]] * panel[q][j] for b < rows, j < valid (<= 16).
template <class V>
inline __attribute__((always_inline)) void panel_tile(index_t rows, const V* a, index_t lda, const index_t* offset,
                                                      index_t depth, const V* panel, V* out, index_t ldo,
                                                      index_t valid) {
  index_t b = 0;
  for (; b + 4 <= rows; b += 4) {
    V acc[4][kLanes] = {};
    const V* a0 = a + b * lda;
    for (index_t q = 0; q < depth; ++q) {
      const V* p = panel + q * kLanes;
      const index_t o = offset[q];
      const V x0 = a0[o], x1 = a0[lda + o], x2 = a0[2 * lda + o], x3 = a0[3 * lda + o];
#pragma omp simd
      for (int j = 0; j < kLanes; ++j) {
        acc[0][j] += x0 * p[j];
        acc[1][j] += x1 * p[j];
        acc[2][j] += x2 * p[j];
        acc[3][j] += x3 * p[j];
      }
    }
    for (int i = 0; i < 4; ++i)
      for (index_t j = 0; j < valid; ++j) out[(b + i) * ldo + j] += acc[i][j];
  }
  for (; b < rows; ++b) {
    V acc[kLanes] = {};
    for (index_t q = 0; q < depth; ++q) {
      const V x = a[b * lda + offset[q]];
#pragma omp simd
      for (int j = 0; j < kLanes; ++j) acc[j] += x * panel[q * kLanes + j];
    }
    for (index_t j = 0; j < valid; ++j) out[b * ldo + j] += acc[j];
  }
}

// Every micro-kernel is compiled twice: for AVX2 + FMA and for the baseline ISA; the CPU picks
// (has_avx2_fma, isa.hpp).

#define SHRINK_PANEL_TILE(V, NAME, ATTR)                                                                     \
  ATTR void NAME(index_t rows, const V* a, index_t lda, const index_t* offset, index_t depth, const V* panel, \
                 V* out, index_t ldo, index_t valid) {                                                       \
    panel_tile(rows, a, lda, offset, depth, panel, out, ldo, valid);                                         \
  }
// float on AVX2: the 4 x 16 tile is 8 ymm accumulators; per depth step 2 loads of the panel and 4
// broadcasts of the inputs feed 8 FMAs.
__attribute__((target("avx2,fma"))) void panel_tile_f32_avx2(index_t rows, const float* a, index_t lda,
                                                             const index_t* offset, index_t depth,
                                                             const float* panel, float* out, index_t ldo,
                                                             index_t valid) {
  index_t b = 0;
  for (; b + 4 <= rows; b += 4) {
    // Named accumulators: GCC spills an array of __m256 here.
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
    const float* r = a + b * lda;
    for (index_t q = 0; q < depth; ++q) {
      const __m256 p0 = _mm256_loadu_ps(panel + q * kLanes), p1 = _mm256_loadu_ps(panel + q * kLanes + 8);
      const float* col = r + offset[q];
      __m256 t = _mm256_broadcast_ss(col);
      a0 = _mm256_fmadd_ps(t, p0, a0);
      a1 = _mm256_fmadd_ps(t, p1, a1);
      t = _mm256_broadcast_ss(col + lda);
      b0 = _mm256_fmadd_ps(t, p0, b0);
      b1 = _mm256_fmadd_ps(t, p1, b1);
      t = _mm256_broadcast_ss(col + 2 * lda);
      c0 = _mm256_fmadd_ps(t, p0, c0);
      c1 = _mm256_fmadd_ps(t, p1, c1);
      t = _mm256_broadcast_ss(col + 3 * lda);
      d0 = _mm256_fmadd_ps(t, p0, d0);
      d1 = _mm256_fmadd_ps(t, p1, d1);
    }
    const __m256 acc[4][2] = {{a0, a1}, {b0, b1}, {c0, c1}, {d0, d1}};
    for (int i = 0; i < 4; ++i) {
      float* o = out + (b + i) * ldo;
      if (valid == kLanes) {
        _mm256_storeu_ps(o, _mm256_add_ps(_mm256_loadu_ps(o), acc[i][0]));
        _mm256_storeu_ps(o + 8, _mm256_add_ps(_mm256_loadu_ps(o + 8), acc[i][1]));
      } else {
        alignas(32) float t[kLanes];
        _mm256_store_ps(t, acc[i][0]);
        _mm256_store_ps(t + 8, acc[i][1]);
        for (index_t j = 0; j < valid; ++j) o[j] += t[j];
      }
    }
  }
  if (b < rows) panel_tile(rows - b, a + b * lda, lda, offset, depth, panel, out + b * ldo, ldo, valid);
}
SHRINK_PANEL_TILE(float, panel_tile_f32_base, )
SHRINK_PANEL_TILE(double, panel_tile_f64_avx2, __attribute__((target("avx2,fma"))))
SHRINK_PANEL_TILE(double, panel_tile_f64_base, )
#undef SHRINK_PANEL_TILE

inline void run_panel_tile(index_t rows, const float* a, index_t lda, const index_t* offset, index_t depth,
                           const float* panel, float* out, index_t ldo, index_t valid) {
  (has_avx2_fma() ? panel_tile_f32_avx2 : panel_tile_f32_base)(rows, a, lda, offset, depth, panel, out, ldo, valid);
}
inline void run_panel_tile(index_t rows, const double* a, index_t lda, const index_t* offset, index_t depth,
                           const double* panel, double* out, index_t ldo, index_t valid) {
  (has_avx2_fma() ? panel_tile_f64_avx2 : panel_tile_f64_base)(rows, a, lda, offset, depth, panel, out, ldo, valid);
}

// Packed panels: for each output group (a block row, or a block column) and each 16-wide chunk of
// its outputs, the list of input columns it reads and a depth x 16 panel of weights (zero-padded).
template <class V>
struct Panels {
  std::vector<index_t> group_first;  // per group: first entry in offsets
  std::vector<index_t> offsets;      // input column of each depth step
  std::vector<V> values;             // per group, per chunk: depth x 16
  std::vector<index_t> value_first;  // per group: first value
  index_t chunks = 1;
};

// Packs `groups` output groups. entries(g, f) calls f(k, base) for each stored block k the group reads,
// whose input columns start at `base`; a block gives `side` depth steps (fewer at the matrix edge
// `limit`) and `width` outputs, and weight(k, s, o) is its value at depth step s and output o.
template <class V, class Entries, class Weight>
Panels<V> pack_panels(index_t groups, index_t side, index_t limit, index_t width, Entries entries, Weight weight) {
  Panels<V> p;
  p.chunks = (width + kLanes - 1) / kLanes;
  for (index_t g = 0; g < groups; ++g) {
    const auto first = static_cast<index_t>(p.offsets.size());
    p.group_first.push_back(first);
    p.value_first.push_back(static_cast<index_t>(p.values.size()));
    entries(g, [&](index_t, index_t base) {
      for (index_t s = 0; s < side && base + s < limit; ++s) p.offsets.push_back(base + s);
    });
    const index_t depth = static_cast<index_t>(p.offsets.size()) - first;
    const auto at = p.values.size();
    p.values.resize(at + static_cast<std::size_t>(p.chunks * depth * kLanes), V(0));
    index_t q = 0;
    entries(g, [&](index_t k, index_t base) {
      for (index_t s = 0; s < side && base + s < limit; ++s, ++q)
        for (index_t o = 0; o < width; ++o)
          p.values[at + static_cast<std::size_t>(((o / kLanes) * depth + q) * kLanes + o % kLanes)] = weight(k, s, o);
    });
  }
  p.group_first.push_back(static_cast<index_t>(p.offsets.size()));
  return p;
}

// Forward: a group is a block row; depth runs over its blocks' columns, outputs over its R rows.
template <class V, class I>
Panels<V> forward_panels(const BsrView<V, I>& w) {
  const index_t bh = w.block_height, bw = w.block_width;
  return pack_panels<V>(
      w.block_grid_rows(), bw, w.cols, bh,
      [&](index_t br, auto f) {
        for (index_t k = w.block_row_ptr[br]; k < w.block_row_ptr[br + 1]; ++k) f(k, index_t(w.block_col_idx[k]) * bw);
      },
      [&](index_t k, index_t c, index_t r) { return w.values[(k * bh + r) * bw + c]; });
}

// dX: a group is a block column (through the column index); depth runs over its blocks' rows,
// outputs over its C columns.
template <class V, class I>
Panels<V> backward_panels(const BsrView<V, I>& w, const I* col_ptr, const I* block_row, const I* block_index) {
  const index_t bh = w.block_height, bw = w.block_width;
  return pack_panels<V>(
      w.block_grid_cols(), bh, w.rows, bw,
      [&](index_t bc, auto f) {
        for (index_t q = col_ptr[bc]; q < col_ptr[bc + 1]; ++q) f(index_t(block_index[q]), index_t(block_row[q]) * bh);
      },
      [&](index_t k, index_t r, index_t c) { return w.values[(k * bh + r) * bw + c]; });
}

// out(b, group * width + j) += A(b, :) . panels, for all groups, over 64-sample tiles in parallel.
template <class V>
void apply_panels(const Panels<V>& p, DenseView<const V> a, DenseView<V> out, index_t width) {
  const index_t groups = static_cast<index_t>(p.group_first.size()) - 1;
  const index_t tiles = (a.rows + kRowTile - 1) / kRowTile;
#pragma omp parallel for schedule(static)
  for (index_t t = 0; t < tiles; ++t) {
    const index_t b0 = t * kRowTile, rows = std::min(kRowTile, a.rows - b0);
    for (index_t g = 0; g < groups; ++g) {
      const index_t depth = p.group_first[g + 1] - p.group_first[g];
      if (depth == 0) continue;
      for (index_t ch = 0; ch < p.chunks; ++ch) {
        const index_t n0 = g * width + ch * kLanes;
        const index_t valid = std::min<index_t>({kLanes, width - ch * kLanes, out.cols - n0});
        if (valid <= 0) continue;
        run_panel_tile(rows, a.data + b0 * a.ld, a.ld, p.offsets.data() + p.group_first[g], depth,
                       p.values.data() + p.value_first[g] + ch * depth * kLanes, out.data + b0 * out.ld + n0,
                       out.ld, valid);
      }
    }
  }
}

template <class V>
void fill_rows(DenseView<V> y, const V* bias) {
#pragma omp parallel for schedule(static)
  for (index_t b = 0; b < y.rows; ++b) {
    V* row = y.data + b * y.ld;
    for (index_t j = 0; j < y.cols; ++j) row[j] = bias ? bias[j] : V(0);
  }
}

}  // namespace

template <class V, class I>
void bsr_forward(const Context&, DenseView<const V> x, const BsrView<V, I>& w, const V* bias, DenseView<V> y,
                 Precision) {
  const index_t bh = w.block_height, bw = w.block_width, bs = bh * bw;
  fill_rows(y, bias);
  if (y.rows == 0 || w.nnzb == 0) return;
  if (use_panels(w)) {
    apply_panels(forward_panels(w), x, y, bh);
    return;
  }
#pragma omp parallel for schedule(static)
  for (index_t b = 0; b < x.rows; ++b) {
    const V* xr = x.data + b * x.ld;
    V* yr = y.data + b * y.ld;
    for (index_t br = 0; br < w.block_grid_rows(); ++br)
      for (index_t i = 0; i < bh && br * bh + i < w.rows; ++i) {
        V acc = 0;
        for (index_t k = w.block_row_ptr[br]; k < w.block_row_ptr[br + 1]; ++k) {
          const index_t c0 = index_t(w.block_col_idx[k]) * bw, valid = std::min(bw, w.cols - c0);
          const V* wr = w.values + k * bs + i * bw;
          for (index_t j = 0; j < valid; ++j) acc += wr[j] * xr[c0 + j];
        }
        yr[br * bh + i] += acc;
      }
  }
}

template <class V, class I>
void bsr_backward_input(const Context&, DenseView<const V> dy, const BsrView<V, I>& w, const I* col_ptr,
                        const I* block_row, const I* block_index, DenseView<V> dx, Precision) {
  const index_t bh = w.block_height, bw = w.block_width, bs = bh * bw;
  fill_rows<V>(dx, nullptr);
  if (dx.rows == 0 || w.nnzb == 0) return;
  if (use_panels(w)) {
    apply_panels(backward_panels(w, col_ptr, block_row, block_index), dy, dx, bw);
    return;
  }
#pragma omp parallel for schedule(static)
  for (index_t b = 0; b < dy.rows; ++b) {
    const V* gr = dy.data + b * dy.ld;
    V* out = dx.data + b * dx.ld;
    for (index_t br = 0; br < w.block_grid_rows(); ++br)
      for (index_t k = w.block_row_ptr[br]; k < w.block_row_ptr[br + 1]; ++k) {
        const index_t c0 = index_t(w.block_col_idx[k]) * bw, valid = std::min(bw, w.cols - c0);
        for (index_t i = 0; i < bh && br * bh + i < w.rows; ++i) {
          const V g = gr[br * bh + i];
          const V* wr = w.values + k * bs + i * bw;
          for (index_t j = 0; j < valid; ++j) out[c0 + j] += g * wr[j];
        }
      }
  }
}

template <class V, class I>
void bsr_weight_grad(const Context&, DenseView<const V> dy, DenseView<const V> x, const BsrView<V, I>& w, V* grad,
                     Precision) {
  const index_t bh = w.block_height, bw = w.block_width, bs = bh * bw;
  std::fill(grad, grad + w.nnzb * bs, V(0));
  if (x.rows == 0 || w.nnzb == 0) return;
  std::vector<index_t> row_of(static_cast<std::size_t>(w.nnzb));
  for (index_t br = 0; br < w.block_grid_rows(); ++br)
    for (index_t k = w.block_row_ptr[br]; k < w.block_row_ptr[br + 1]; ++k) row_of[k] = br;
  if (!use_panels(w)) {
#pragma omp parallel for schedule(dynamic, 1)
    for (index_t k = 0; k < w.nnzb; ++k) {
      const index_t r0 = row_of[k] * bh, c0 = index_t(w.block_col_idx[k]) * bw;
      for (index_t i = 0; i < bh && r0 + i < w.rows; ++i)
        for (index_t j = 0; j < bw && c0 + j < w.cols; ++j) {
          V acc = 0;
          for (index_t b = 0; b < x.rows; ++b) acc += dy.data[b * dy.ld + r0 + i] * x.data[b * x.ld + c0 + j];
          grad[k * bs + i * bw + j] = acc;
        }
    }
    return;
  }
  // One block per task. Its dY columns are packed as batch x R4 and its X columns as (C16 / 16)
  // panels of batch x 16 (R4, C16: R and C rounded up to 4 and 16, zero-filled), so each 4 x 16 tile
  // streams contiguous memory from L2; the tiles land in a padded scratch block, then in grad.
  const index_t r4 = (bh + 3) / 4 * 4, c16 = (bw + kLanes - 1) / kLanes * kLanes, n = x.rows;
  std::vector<index_t> sample_offsets(static_cast<std::size_t>(n));
  for (index_t q = 0; q < n; ++q) sample_offsets[q] = q * r4;
#pragma omp parallel
  {
    std::vector<V> dp(static_cast<std::size_t>(n * r4)), xp(static_cast<std::size_t>(n * c16)),
        tile(static_cast<std::size_t>(r4 * c16));
#pragma omp for schedule(dynamic, 1)
    for (index_t k = 0; k < w.nnzb; ++k) {
      const index_t r0 = row_of[k] * bh, c0 = index_t(w.block_col_idx[k]) * bw;
      const index_t valid_rows = std::min(bh, w.rows - r0), valid_cols = std::min(bw, w.cols - c0);
      for (index_t b = 0; b < n; ++b) {
        std::memcpy(dp.data() + b * r4, dy.data + b * dy.ld + r0, sizeof(V) * valid_rows);
        const V* xr = x.data + b * x.ld + c0;
        for (index_t j = 0; j < valid_cols; j += kLanes)
          std::memcpy(xp.data() + ((j / kLanes) * n + b) * kLanes, xr + j,
                      sizeof(V) * std::min<index_t>(kLanes, valid_cols - j));
        // Padding (R, C rounded up, or a partial edge block): zero, not what an earlier block left.
        std::fill(dp.data() + b * r4 + valid_rows, dp.data() + (b + 1) * r4, V(0));
        for (index_t j = valid_cols; j < c16; ++j) xp[((j / kLanes) * n + b) * kLanes + j % kLanes] = V(0);
      }
      // A 4 x 16 tile of dW is the forward micro-kernel with the samples as its depth: rows i..i+3 of
      // dp^T (stride 1, sample q at q * r4) against the packed X panel (sample q at q * 16).
      std::fill(tile.begin(), tile.end(), V(0));
      for (index_t i = 0; i < r4; i += 4)
        for (index_t j = 0; j < c16; j += kLanes)
          run_panel_tile(4, dp.data() + i, 1, sample_offsets.data(), n, xp.data() + (j / kLanes) * n * kLanes,
                         tile.data() + i * c16 + j, c16, kLanes);
      for (index_t i = 0; i < bh; ++i)
        for (index_t j = 0; j < bw; ++j) grad[k * bs + i * bw + j] = tile[i * c16 + j];
    }
  }
}

SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE_BSR)

}  // namespace shrink::kernels::cpu
