// CPU twins of the block-sparse layer kernels.
//
// Blocks of at least 8 x 8 go through BLAS: the column panels of X (or dY) that one block row (or
// block column) touches are gathered into a contiguous panel, so each block row is one GEMM with a
// long inner dimension instead of one small GEMM per block. Smaller blocks run direct loops,
// parallel over samples (or block rows for dW), so every output has one writer: deterministic.
#include <algorithm>
#include <omp.h>

#include <cmath>
#include <cstring>

#include "kernels/cpu/cblas_traits.hpp"
#include "kernels/ops/kernels.hpp"

namespace shrink::kernels::cpu {

namespace {

constexpr index_t kBlasMinSide = 8;

template <class V, class I>
bool use_blas(const BsrView<V, I>& w) {
  return std::min(w.block_height, w.block_width) >= kBlasMinSide;
}

template <class V, class I>
index_t max_blocks_per_row(const BsrView<V, I>& w) {
  index_t m = 0;
  for (index_t br = 0; br < w.block_grid_rows(); ++br)
    m = std::max<index_t>(m, w.block_row_ptr[br + 1] - w.block_row_ptr[br]);
  return m;
}

// panel(b, q*width + j) = src(b, first_col(q) + j) for j < width, zero beyond src's columns.
template <class V, class ColumnOf>
void gather_panel(DenseView<const V> src, index_t count, index_t width, ColumnOf first_col, V* panel) {
  const index_t k = count * width;
#pragma omp parallel for schedule(static)
  for (index_t b = 0; b < src.rows; ++b) {
    const V* row = src.data + b * src.ld;
    V* out = panel + b * k;
    for (index_t q = 0; q < count; ++q) {
      const index_t c0 = first_col(q);
      const index_t valid = std::clamp<index_t>(src.cols - c0, 0, width);
      std::memcpy(out + q * width, row + c0, static_cast<std::size_t>(valid) * sizeof(V));
      std::fill(out + q * width + valid, out + (q + 1) * width, V(0));
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
void bsr_forward(const Context& ctx, DenseView<const V> x, const BsrView<V, I>& w, const V* bias,
                 DenseView<V> y, MatmulPrecision) {
  const index_t bh = w.block_height, bw = w.block_width, bs = bh * bw;
  fill_rows(y, bias);
  if (y.rows == 0 || w.nnzb == 0) return;
  if (use_blas(w)) {
    const index_t kmax = max_blocks_per_row(w) * bw;
    V* panel = static_cast<V*>(ctx.workspace(sizeof(V) * static_cast<std::size_t>((x.rows + bh) * kmax)));
    V* wpanel = panel + x.rows * kmax;
    for (index_t br = 0; br < w.block_grid_rows(); ++br) {
      const index_t first = w.block_row_ptr[br], count = w.block_row_ptr[br + 1] - first;
      if (count == 0) continue;
      const index_t k = count * bw, valid_rows = std::min(bh, w.rows - br * bh);
      gather_panel(x, count, bw, [&](index_t q) { return index_t(w.block_col_idx[first + q]) * bw; }, panel);
      for (index_t i = 0; i < valid_rows; ++i)
        for (index_t q = 0; q < count; ++q)
          std::memcpy(wpanel + i * k + q * bw, w.values + (first + q) * bs + i * bw, sizeof(V) * bw);
      // Y[:, block row] += panel (batch x k) * wpanel^T (k x valid_rows)
      Blas<V>::gemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(x.rows),
                    static_cast<int>(valid_rows), static_cast<int>(k), V(1), panel, blas_lead(k), wpanel,
                    blas_lead(k), V(1), y.data + br * bh, blas_lead(y.ld));
    }
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
void bsr_backward_input(const Context& ctx, DenseView<const V> dy, const BsrView<V, I>& w, const I* col_ptr,
                        const I* block_row, const I* block_index, DenseView<V> dx, MatmulPrecision) {
  const index_t bh = w.block_height, bw = w.block_width, bs = bh * bw;
  fill_rows<V>(dx, nullptr);
  if (dx.rows == 0 || w.nnzb == 0) return;
  if (use_blas(w)) {
    index_t kmax = 0;
    for (index_t bc = 0; bc < w.block_grid_cols(); ++bc)
      kmax = std::max<index_t>(kmax, col_ptr[bc + 1] - col_ptr[bc]);
    kmax *= bh;
    V* panel = static_cast<V*>(ctx.workspace(sizeof(V) * static_cast<std::size_t>((dy.rows + bw) * kmax)));
    V* wpanel = panel + dy.rows * kmax;
    for (index_t bc = 0; bc < w.block_grid_cols(); ++bc) {
      const index_t first = col_ptr[bc], count = col_ptr[bc + 1] - first;
      if (count == 0) continue;
      const index_t k = count * bh, valid_cols = std::min(bw, w.cols - bc * bw);
      gather_panel(dy, count, bh, [&](index_t q) { return index_t(block_row[first + q]) * bh; }, panel);
      for (index_t q = 0; q < count; ++q)  // blocks stacked: (count*bh) x bw, row-major
        std::memcpy(wpanel + q * bs, w.values + index_t(block_index[first + q]) * bs, sizeof(V) * bs);
      Blas<V>::gemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(dy.rows),
                    static_cast<int>(valid_cols), static_cast<int>(k), V(1), panel, blas_lead(k), wpanel,
                    blas_lead(bw), V(0), dx.data + bc * bw, blas_lead(dx.ld));
    }
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
void bsr_weight_grad(const Context& ctx, DenseView<const V> dy, DenseView<const V> x, const BsrView<V, I>& w,
                     V* grad, MatmulPrecision) {
  const index_t bh = w.block_height, bw = w.block_width, bs = bh * bw;
  std::fill(grad, grad + w.nnzb * bs, V(0));
  if (x.rows == 0 || w.nnzb == 0) return;
  if (use_blas(w)) {
    const index_t kmax = max_blocks_per_row(w) * bw;
    V* panel = static_cast<V*>(ctx.workspace(sizeof(V) * static_cast<std::size_t>((x.rows + bh) * kmax)));
    V* gpanel = panel + x.rows * kmax;
    for (index_t br = 0; br < w.block_grid_rows(); ++br) {
      const index_t first = w.block_row_ptr[br], count = w.block_row_ptr[br + 1] - first;
      if (count == 0) continue;
      const index_t k = count * bw, valid_rows = std::min(bh, w.rows - br * bh);
      gather_panel(x, count, bw, [&](index_t q) { return index_t(w.block_col_idx[first + q]) * bw; }, panel);
      // gpanel (valid_rows x k) = dY[:, block row]^T * panel
      Blas<V>::gemm(CblasRowMajor, CblasTrans, CblasNoTrans, static_cast<int>(valid_rows),
                    static_cast<int>(k), static_cast<int>(x.rows), V(1), dy.data + br * bh,
                    blas_lead(dy.ld), panel, blas_lead(k), V(0), gpanel, blas_lead(k));
      for (index_t q = 0; q < count; ++q) {
        const index_t valid_cols = std::min(bw, w.cols - index_t(w.block_col_idx[first + q]) * bw);
        for (index_t i = 0; i < valid_rows; ++i)
          std::memcpy(grad + (first + q) * bs + i * bw, gpanel + i * k + q * bw, sizeof(V) * valid_cols);
      }
    }
    return;
  }
#pragma omp parallel for schedule(dynamic, 1)
  for (index_t br = 0; br < w.block_grid_rows(); ++br) {
    const index_t valid_rows = std::min(bh, w.rows - br * bh);
    for (index_t b = 0; b < x.rows; ++b) {
      const V* xr = x.data + b * x.ld;
      const V* gr = dy.data + b * dy.ld + br * bh;
      for (index_t k = w.block_row_ptr[br]; k < w.block_row_ptr[br + 1]; ++k) {
        const index_t c0 = index_t(w.block_col_idx[k]) * bw, valid = std::min(bw, w.cols - c0);
        for (index_t i = 0; i < valid_rows; ++i) {
          V* out = grad + k * bs + i * bw;
          const V g = gr[i];
          for (index_t j = 0; j < valid; ++j) out[j] += g * xr[c0 + j];
        }
      }
    }
  }
}

template <class V>
void column_sums(const Context&, DenseView<const V> m, V* out) {
  // Columns split among threads; each column summed in row order.
#pragma omp parallel
  {
    const int threads = omp_get_num_threads(), t = omp_get_thread_num();
    const index_t c0 = m.cols * t / threads, c1 = m.cols * (t + 1) / threads;
    for (index_t j = c0; j < c1; ++j) out[j] = 0;
    for (index_t i = 0; i < m.rows; ++i) {
      const V* row = m.layout == Layout::RowMajor ? m.data + i * m.ld : nullptr;
      for (index_t j = c0; j < c1; ++j) out[j] += row ? row[j] : m.data[j * m.ld + i];
    }
  }
}

template <class V>
void adam_step(const Context&, index_t n, V* w, const V* g, V* m, V* v, AdamArgs<V> a) {
#pragma omp parallel for simd schedule(static)
  for (index_t i = 0; i < n; ++i) {
    const V gi = g[i] + a.weight_decay * w[i];
    m[i] = a.beta1 * m[i] + (V(1) - a.beta1) * gi;
    v[i] = a.beta2 * v[i] + (V(1) - a.beta2) * gi * gi;
    const V mhat = m[i] / a.correction1, vhat = v[i] / a.correction2;
    w[i] -= a.learning_rate * mhat / (std::sqrt(vhat) + a.epsilon);
  }
}

template <class V>
void sgd_step(const Context&, index_t n, V* w, const V* g, V* velocity, SgdArgs<V> a) {
#pragma omp parallel for simd schedule(static)
  for (index_t i = 0; i < n; ++i) {
    V step = g[i] + a.weight_decay * w[i];
    if (velocity) {
      velocity[i] = a.momentum * velocity[i] + step;
      step = velocity[i];
    }
    w[i] -= a.learning_rate * step;
  }
}

template <class V>
void relu_mask(const Context&, index_t n, const V* a, V* g) {
#pragma omp parallel for simd schedule(static)
  for (index_t i = 0; i < n; ++i) g[i] = a[i] > V(0) ? g[i] : V(0);
}

SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE_BSR)
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_OPTIM)

}  // namespace shrink::kernels::cpu
