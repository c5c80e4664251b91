// CPU twins of the sparse products. Rows are split along the merge path so that every thread gets
// the same share of rows + nonzeros; a row cut between threads is finished afterwards in thread
// order, so results are deterministic for a given thread count.
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/ops/blend.hpp"
#include "kernels/ops/spmv_kernels.hpp"
#include "kernels/ops/merge_path.hpp"
#include "kernels/cpu/launch.hpp"

namespace shrink::kernels::cpu {

namespace {



// Gathers from x miss the cache once x outgrows it; prefetching the entry kPrefetch nonzeros ahead
// (across row ends: rows are often shorter than the distance) overlaps those misses. The column
// index it reads lies in the stream that is being read anyway. Measured on the 2-core EPYC, 50M
// random nonzeros (docs/PERF.md): no prefetch 6.3 GB/s; distance 64 / 128 / 256 / 1024 / 4096:
// 12.7 / 16.2 / 15.3 / 14.9 / 11.5 GB/s. On a band, where x streams in order, prefetching only
// costs (40 -> 35 GB/s), so it is skipped when most neighbouring column indices are close.
constexpr index_t kPrefetch = 128;

template <class V, class I>
bool gathers_are_local(const CsrView<V, I>& a) {
  const index_t samples = std::min<index_t>(a.nnz, 4096);
  if (samples < 2) return true;
  const index_t stride = std::max<index_t>(1, a.nnz / samples);
  index_t near = 0;
  for (index_t s = 1; s < samples; ++s) {
    const index_t k = s * stride;
    const index_t jump = static_cast<index_t>(a.col_idx[k]) - static_cast<index_t>(a.col_idx[k - 1]);
    near += (jump >= -8 && jump <= 8) ? 1 : 0;  // within a cache line or two of doubles
  }
  return 2 * near >= samples;
}

template <bool Prefetch, class V, class I>
inline V row_dot(const CsrView<V, I>& a, const V* x, index_t begin, index_t end) {
  V acc = 0;
  const I* col = a.col_idx;
  const V* val = a.values;
  index_t k = begin;
  if constexpr (Prefetch) {
    const index_t ahead = std::min(end, a.nnz - kPrefetch);
    for (; k < ahead; ++k) {
      __builtin_prefetch(x + col[k + kPrefetch]);
      acc += val[k] * x[col[k]];
    }
  }
  for (; k < end; ++k) acc += val[k] * x[col[k]];
  return acc;
}

template <bool Prefetch, class V, class I>
void merge_path_rows(V alpha, const CsrView<V, I>& a, const V* x, V beta, V* y, int t, int t_count,
                     index_t* carry_row, V* carry_val) {
  const index_t rows = a.rows, nnz = a.nnz, total = rows + nnz;
  const I* row_end = a.row_ptr + 1;
  const index_t d0 = total * t / t_count, d1 = total * (t + 1) / t_count;
  const index_t i0 = merge_path_row(d0, row_end, rows, nnz), j0 = d0 - i0;
  const index_t i1 = merge_path_row(d1, row_end, rows, nnz), j1 = d1 - i1;
  index_t j = j0;
  for (index_t r = i0; r < i1; ++r) {
    const index_t end = static_cast<index_t>(row_end[r]);
    y[r] = blend(alpha, row_dot<Prefetch>(a, x, j, end), beta, y[r]);
    j = end;
  }
  carry_row[t] = i1;
  carry_val[t] = i1 < rows ? row_dot<Prefetch>(a, x, j, j1) : V(0);
}

}  // namespace

template <class V, class I>
std::size_t csr_spmv_workspace(const Context& ctx, const CsrView<V, I>& a, Op op) {
  const int t = threads_for(ctx, a.rows + a.nnz);
  if (op == Op::NoTranspose) return static_cast<std::size_t>(t) * (sizeof(index_t) + sizeof(V));
  return t > 1 ? static_cast<std::size_t>(t) * static_cast<std::size_t>(a.cols) * sizeof(V) : 0;
}

template <class V, class I>
void csr_spmv(const Context& ctx, V alpha, const CsrView<V, I>& a, const V* x, V beta, V* y,
              void* workspace) {
  const index_t rows = a.rows, nnz = a.nnz, total = rows + nnz;
  if (rows == 0) return;
  if (alpha == V(0)) {  // BLAS convention: A and x are not read, so an Inf in x cannot make a NaN
    for (index_t r = 0; r < rows; ++r) y[r] = scale_out(beta, y[r]);
    return;
  }
  const int t_count = threads_for(ctx, total);
  auto* carry_row = static_cast<index_t*>(workspace);
  auto* carry_val = reinterpret_cast<V*>(carry_row + t_count);
  const bool prefetch = !gathers_are_local(a);
#pragma omp parallel num_threads(t_count)
  {
    const int t = omp_get_thread_num();
    if (prefetch) merge_path_rows<true>(alpha, a, x, beta, y, t, t_count, carry_row, carry_val);
    else merge_path_rows<false>(alpha, a, x, beta, y, t, t_count, carry_row, carry_val);
  }
  // A row cut at a thread boundary was stored by the thread that finished it with only that
  // thread's part; the earlier parts are added here, in thread order.
  for (int t = 0; t < t_count; ++t)
    if (carry_row[t] < rows) y[carry_row[t]] += alpha * carry_val[t];
}

template <class V, class I>
void csr_spmv_transpose(const Context& ctx, V alpha, const CsrView<V, I>& a, const V* x, V beta,
                        V* y, void* workspace) {
  const index_t cols = a.cols;
  for (index_t c = 0; c < cols; ++c) y[c] = scale_out(beta, y[c]);
  if (a.rows == 0 || a.nnz == 0 || alpha == V(0)) return;
  const int t_count = threads_for(ctx, a.rows + a.nnz);
  if (t_count == 1) {
    for (index_t r = 0; r < a.rows; ++r) {
      const V xr = alpha * x[r];
      for (index_t k = a.row_ptr[r]; k < a.row_ptr[r + 1]; ++k) y[a.col_idx[k]] += a.values[k] * xr;
    }
    return;
  }
  // One private accumulator per thread over an equal share of nonzeros, summed in thread order.
  V* buffers = static_cast<V*>(workspace);
  const I* row_end = a.row_ptr + 1;
  const index_t total = a.rows + a.nnz;
#pragma omp parallel num_threads(t_count)
  {
    const int t = omp_get_thread_num();
    V* acc = buffers + static_cast<std::size_t>(t) * cols;
    std::fill(acc, acc + cols, V(0));
    const index_t d0 = total * t / t_count, d1 = total * (t + 1) / t_count;
    const index_t i0 = merge_path_row(d0, row_end, a.rows, a.nnz);
    const index_t i1 = merge_path_row(d1, row_end, a.rows, a.nnz);
    index_t j = d0 - i0;
    const index_t j1 = d1 - i1;
    for (index_t r = i0; r <= i1 && r < a.rows; ++r) {
      const index_t end = r < i1 ? static_cast<index_t>(row_end[r]) : j1;
      const V xr = x[r];
      for (; j < end; ++j) acc[a.col_idx[j]] += a.values[j] * xr;
    }
#pragma omp barrier
#pragma omp for schedule(static)
    for (index_t c = 0; c < cols; ++c) {
      V s = 0;
      for (int u = 0; u < t_count; ++u) s += buffers[static_cast<std::size_t>(u) * cols + c];
      y[c] += alpha * s;
    }
  }
}

template <class V, class I>
void csr_spmm(const Context& ctx, V alpha, const CsrView<V, I>& a, DenseView<const V> b, V beta,
              DenseView<V> c) {
  const index_t k = b.cols;
  if (alpha == V(0)) {  // BLAS convention: A and B are not read
    for (index_t r = 0; r < a.rows; ++r)
      for (index_t q = 0; q < k; ++q) c(r, q) = scale_out(beta, c(r, q));
    return;
  }
  const int t_count = threads_for(ctx, (a.rows + a.nnz) * std::max<index_t>(k, 1));
#pragma omp parallel num_threads(t_count)
  {
    std::vector<V> acc(static_cast<std::size_t>(k));
#pragma omp for schedule(dynamic, 64)
    for (index_t r = 0; r < a.rows; ++r) {
      std::fill(acc.begin(), acc.end(), V(0));
      for (index_t p = a.row_ptr[r]; p < a.row_ptr[r + 1]; ++p) {
        const V v = a.values[p];
        const index_t col = a.col_idx[p];
        if (b.layout == Layout::RowMajor) {
          const V* brow = b.data + col * b.ld;
          for (index_t q = 0; q < k; ++q) acc[q] += v * brow[q];
        } else {
          for (index_t q = 0; q < k; ++q) acc[q] += v * b.data[q * b.ld + col];
        }
      }
      for (index_t q = 0; q < k; ++q) c(r, q) = blend(alpha, acc[q], beta, c(r, q));
    }
  }
}

template <class V, class I>
void csr_transpose(const Context&, const CsrView<V, I>& a, I* t_row_ptr, I* t_col_idx,
                   V* t_values) {
  // Counting sort by column; scanning rows in order keeps each new row sorted.
  std::fill(t_row_ptr, t_row_ptr + a.cols + 1, I(0));
  for (index_t k = 0; k < a.nnz; ++k) ++t_row_ptr[a.col_idx[k] + 1];
  for (index_t c = 0; c < a.cols; ++c) t_row_ptr[c + 1] += t_row_ptr[c];
  std::vector<I> next(t_row_ptr, t_row_ptr + a.cols);
  for (index_t r = 0; r < a.rows; ++r) {
    for (index_t k = a.row_ptr[r]; k < a.row_ptr[r + 1]; ++k) {
      const I dst = next[a.col_idx[k]]++;
      t_col_idx[dst] = static_cast<I>(r);
      t_values[dst] = a.values[k];
    }
  }
}

SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE_SPMV)

}  // namespace shrink::kernels::cpu
