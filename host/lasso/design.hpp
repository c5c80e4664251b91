// X as the Lasso solvers read it, where the caller keeps it: a column-major dense view or a CSC view
// (the CSR view of X^T: column j is row j) with 32- or 64-bit indices, in host or device memory. The
// caller's data is read in place; a Design owns storage only when the library had to change X's
// layout or format (a row-major X made column-major, a CSR X made CSC), and counts that copy on the
// context (TransferCounts::input_host_copies / input_device_copies). Centering, weights and
// standardization are never applied to X: the solvers apply them implicitly.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "shrink/matrix.hpp"

namespace shrink::lasso_detail {

// Sparse columns whose non-zeros take few distinct values (0/1 indicators, 0/1/2 genotypes, small
// counts), their rows grouped by value: a column's dot is then sum_v v * (sum of r over v's rows)
// and its axpy adds one constant per group, a value load and a multiply fewer per entry. Host only.
struct ColumnGroups {
  static constexpr int kMaxValues = 4;  // more distinct values than this: the column is not grouped
  std::vector<std::int32_t> rows;       // X^T's positions: a grouped column's rows, grouped by value
  std::vector<std::int64_t> first;      // p + 1: column j's groups are [first[j], first[j + 1]); none: not grouped
  std::vector<double> value;            // each group's value
  std::vector<std::int64_t> end;        // each group's end in rows (it begins where the one before ends)
  std::int64_t entries = 0;             // the entries of the grouped columns
};

template <class V>
struct Design {
  index_t n = 0, p = 0;
  MemorySpace space = MemorySpace::Host;
  bool sparse = false;
  DenseView<const V> dense;             // column-major n x p (dense)
  bool wide_index = false;              // sparse: which of the two views holds X^T
  CsrView<V, std::int32_t> xt32;
  CsrView<V, std::int64_t> xt64;
  std::shared_ptr<const void> owned;    // a conversion's storage
  std::shared_ptr<const ColumnGroups> groups;  // host sparse: set by group_columns when it pays
  std::vector<double> shift;            // a centered copy (centered_if_offset): the means taken off; else empty

  index_t nnz() const noexcept { return sparse ? (wide_index ? xt64.nnz : xt32.nnz) : n * p; }
  // f(X^T as CSR) with its own index type (sparse designs).
  template <class F>
  decltype(auto) with_transposed(F&& f) const {
    return wide_index ? f(xt64) : f(xt32);
  }
  // f(&X^T) for a sparse design; f(a null 32-bit view pointer) for a dense one.
  template <class F>
  decltype(auto) with_transposed_or_dense(F&& f) const {
    if (!sparse) return f(static_cast<const CsrView<V, std::int32_t>*>(nullptr));
    return wide_index ? f(&xt64) : f(&xt32);
  }
  // The rows listed (in that order) as a new host design (a host design only).
  Design row_subset(const std::vector<index_t>& rows) const;
};

// In place when the layout allows (column-major dense, CSC); a row-major dense X or a CSR X is
// converted once, in its own memory space (on the device with the context's kernels). Entries must
// be finite (NonFinite otherwise). A host sparse view is validated; a device one is trusted for its
// structure and checked for finite values.
template <class V>
Design<V> make_design(const Context& ctx, DenseView<const V> x);
template <class V, class I>
Design<V> make_design(const Context& ctx, const CsrView<V, I>& x);
template <class V, class I>
Design<V> make_design(const Context& ctx, const CscView<V, I>& x);
// Sets x.groups when x is a host sparse design in which the columns with at most
// ColumnGroups::kMaxValues distinct values hold at least half the entries (else clears it).
template <class V>
void group_columns(Design<V>& x);
// Whether `bytes` more fit the memory budget (check_memory). The copies and products that only speed
// a solver up are made where they fit; elsewhere the solver reads X as given instead of failing.
bool fits_memory(double bytes);
// A CPU context with ctx's threads: the CPU twins on host data whatever ctx's backend is.
Context host_context(const Context& ctx);
// Coordinate descent reads a column's non-zeros only when X is sparse: a dense host X with at most
// this fraction of non-zero entries runs faster as a sparse copy (1.5x at 50%, 3x at 30%, 6x at 10%,
// 1500 x 4000, measured in docs/PERF.md).
constexpr double kSparseDensity = 0.4;
// The running non-zero counts of a host dense design's columns (p + 1 values from 0) when it holds
// at most kSparseDensity n p non-zeros; empty otherwise. One pass, stopped once past the limit, after
// a look at every 16th column, which tells a dense X by 1/16 of its bytes.
template <class V>
std::vector<std::int64_t> mostly_zero_columns(const Design<V>& x);
// The sparse copy of a host dense x (counted, 32-bit indices) from its mostly_zero_columns; x itself
// when they are empty, past 32-bit indices, or the copy does not fit the memory budget.
template <class V>
Design<V> sparse_copy(const Context& ctx, const Design<V>& x, const std::vector<std::int64_t>& ends);
// A host sparse x with its columns stored in order of their non-zero counts, fewest first (ties in
// x's order), and in `order` the column of x at each position, when a column holds kHeavyColumn
// times the mean count or more (with an intercept, a full column of one value counts as empty: it
// never enters the model); x itself and an empty order otherwise, when the columns are in that
// order already, or when the copy does not fit the memory budget. Coordinate descent sweeps in
// column order, and a heavy column swept before the sparse ones that share its rows is left off its
// optimality by their moves: its correlation then holds the gap checks back (b 834 -> 709 epochs,
// text_wide 312 -> 275, zipf 179 -> 147; docs/PERF.md). The copy keeps each sweep a forward pass
// over memory: sweeping in that order over the given layout took longer than the epochs it saved.
constexpr double kHeavyColumn = 4;
template <class V>
Design<V> columns_by_count(const Context& ctx, const Design<V>& x, bool intercept, std::vector<index_t>& order);
// Coordinate descent keeps the residual as rt + m with rt = yc - X b (problem.hpp): on a dense column
// whose mean is far above its spread, rt and m are large and cancel, and each update's rounding
// grows with them. A column with mu_j^2 > kCenterOffset var_j (a year, a price level, a sensor
// baseline) left cd unable to certify: a 300 x 40 X with offsets of 1e5 stopped at max_iter on 93 of
// 100 lambdas, relative gap 1e-2.
constexpr double kCenterOffset = 100;
// Whether a column of this mean and variance is far from zero in that sense (a constant column,
// variance 0, never is: it stays unusable whatever its level). Where it is not, centering after a
// product loses at most log10(1 + kCenterOffset) digits (gram.cpp's direct build relies on that).
inline bool far_from_zero(double mean, double variance) noexcept {
  return variance > 0 && mean * mean > kCenterOffset * variance;
}
// Whether column j of a sparse X (row j of X^T, over n rows with its zeros) is far_from_zero, its
// mean in `mean` when it is. A column with a share d of non-zeros has mu^2 / var <= d / (1 - d), so
// only one fuller than kCenterOffset / (1 + kCenterOffset) (99%) can be: the others are answered
// from their count, without reading their entries.
template <class V, class I>
bool sparse_column_far_from_zero(const CsrView<V, I>& xt, index_t j, index_t n, double& mean) {
  mean = 0;
  const auto begin = xt.row_ptr[j], end = xt.row_ptr[j + 1];
  const double dn = static_cast<double>(n), count = static_cast<double>(end - begin);
  if (count <= kCenterOffset / (1 + kCenterOffset) * dn) return false;
  double sum = 0;
  for (auto k = begin; k < end; ++k) sum += static_cast<double>(xt.values[k]);
  const double mu = sum / dn;
  double dev = (dn - count) * mu * mu;  // the zeros
  for (auto k = begin; k < end; ++k) dev += (static_cast<double>(xt.values[k]) - mu) * (static_cast<double>(xt.values[k]) - mu);
  if (!far_from_zero(mu, dev / dn)) return false;
  mean = mu;
  return true;
}
// sum_i nnz_i^2 / 2 over X's rows, from X^T (the pairs of entries that share a row).
template <class V, class I>
double row_pairs(const CsrView<V, I>& xt, index_t n) {
  std::vector<std::uint32_t> per_row(static_cast<std::size_t>(n), 0);  // at most p <= 2^32 each
  for (I k = 0; k < xt.nnz; ++k) ++per_row[static_cast<std::size_t>(xt.col_idx[k])];
  double pairs = 0;
  for (const auto c : per_row) pairs += 0.5 * static_cast<double>(c) * static_cast<double>(c);
  return pairs;
}
// A sparse X's Gram build from the pairs in each row (gram.cpp, gram_sparse) reads, for each entry,
// the row it lies in (far from the last one read: a cache miss on a tall X), and multiplies each pair
// of entries that share a row: kSparseRowCost per entry plus kSparsePairCost per pair, in the
// multiply-adds of the dense build (a SYRK of n p^2 / 2 on dense blocks of rows), which it falls back
// to where that is cheaper (a 6000 x 2000 X at 28% non-zeros: 2.8 s by pairs, 1.1 s by blocks). The
// constants are measured on the build alone (docs/PERF.md, 2026-12-07); `auto` weighs the same
// costs, and scripts/calibrate_lasso_auto.py holds them while it fits the rest of its model.
constexpr double kSparseRowCost = 300;
constexpr double kSparsePairCost = 40;
inline double sparse_gram_build_cost(double nnz, double pairs) { return kSparseRowCost * nnz + kSparsePairCost * pairs; }
inline double dense_gram_build_cost(double n, double p) { return n * p * p / 2; }
// The host x with each such column minus its mean (the means in `shift`, 0 for the others), counted
// as an input host copy, when some column's mean is beyond kCenterOffset of its spread; x itself
// otherwise, or when the copy does not fit the memory budget. Dense: every column centered. Sparse:
// the offset columns (necessarily 99% full) stored whole, centered. The intercept then adds
// shift . b back (path.cpp).
template <class V>
Design<V> centered_if_offset(const Context& ctx, const Design<V>& x);
// A host copy of a device design, for the host-only solvers (counted as an input host copy).
template <class V>
Design<V> host_copy(const Context& ctx, const Design<V>& x);
// A host design copied to the CUDA context's device, once (counted as an input device copy).
template <class V>
Design<V> device_copy(const Context& ctx, const Design<V>& x);
// out = X b (n values) in X's memory space, on the context's backend (a device X) or the CPU twin.
template <class V>
void multiply(const Context& ctx, const Design<V>& x, const V* b, V* out);

// sum_i w_i x_ij r_i (w may be null: unit weights) over column j of a host design. Inline: the
// coordinate-descent sweeps call it once per coordinate.
namespace design_detail {
// Four partial sums in a fixed order: they break the add latency chain (the result is the same run
// to run), and unlike an `omp simd` reduction they stay in registers.
template <class V, class I>
[[gnu::always_inline]] inline double sparse_dot(const CsrView<V, I>& xt, index_t j, const double* w, const double* r) noexcept {
  const auto begin = xt.row_ptr[j], end = xt.row_ptr[j + 1];
  const I* __restrict idx = xt.col_idx;
  const V* __restrict val = xt.values;
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  auto k = begin;
  if (w) {
    for (; k + 4 <= end; k += 4) {
      s0 += w[idx[k]] * static_cast<double>(val[k]) * r[idx[k]];
      s1 += w[idx[k + 1]] * static_cast<double>(val[k + 1]) * r[idx[k + 1]];
      s2 += w[idx[k + 2]] * static_cast<double>(val[k + 2]) * r[idx[k + 2]];
      s3 += w[idx[k + 3]] * static_cast<double>(val[k + 3]) * r[idx[k + 3]];
    }
    for (; k < end; ++k) s0 += w[idx[k]] * static_cast<double>(val[k]) * r[idx[k]];
  } else {
    for (; k + 4 <= end; k += 4) {
      s0 += static_cast<double>(val[k]) * r[idx[k]];
      s1 += static_cast<double>(val[k + 1]) * r[idx[k + 1]];
      s2 += static_cast<double>(val[k + 2]) * r[idx[k + 2]];
      s3 += static_cast<double>(val[k + 3]) * r[idx[k + 3]];
    }
    for (; k < end; ++k) s0 += static_cast<double>(val[k]) * r[idx[k]];
  }
  return (s0 + s1) + (s2 + s3);
}
// A column's row indices are distinct, so the four updates of a step are independent; loading the
// step's indices and values first keeps the compiler from reloading them after each store to r.
template <class V, class I>
[[gnu::always_inline]] inline void sparse_axpy(const CsrView<V, I>& xt, index_t j, double a, double* r) noexcept {
  const I* __restrict idx = xt.col_idx;
  const V* __restrict val = xt.values;
  auto k = xt.row_ptr[j];
  const auto end = xt.row_ptr[j + 1];
  for (; k + 4 <= end; k += 4) {
    const I i0 = idx[k], i1 = idx[k + 1], i2 = idx[k + 2], i3 = idx[k + 3];
    const double v0 = a * static_cast<double>(val[k]), v1 = a * static_cast<double>(val[k + 1]),
                 v2 = a * static_cast<double>(val[k + 2]), v3 = a * static_cast<double>(val[k + 3]);
    r[i0] += v0;
    r[i1] += v1;
    r[i2] += v2;
    r[i3] += v3;
  }
  for (; k < end; ++k) r[idx[k]] += a * static_cast<double>(val[k]);
}
// Column j of a grouped design: sum_g value_g * sum_{rows of g} w_i r_i, from X^T position `begin`.
// Not inlined: column_dot and column_axpy, inlined into the sweeps, stay small.
[[gnu::noinline]] inline double grouped_dot(const ColumnGroups& cg, index_t j, std::int64_t begin, const double* w,
                          const double* r) noexcept {
  const std::int32_t* __restrict idx = cg.rows.data();
  double total = 0;
  for (auto g = cg.first[j]; g < cg.first[j + 1]; ++g) {
    const auto end = cg.end[static_cast<std::size_t>(g)];
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    auto k = begin;
    if (w) {
      for (; k + 4 <= end; k += 4) {
        s0 += w[idx[k]] * r[idx[k]];
        s1 += w[idx[k + 1]] * r[idx[k + 1]];
        s2 += w[idx[k + 2]] * r[idx[k + 2]];
        s3 += w[idx[k + 3]] * r[idx[k + 3]];
      }
      for (; k < end; ++k) s0 += w[idx[k]] * r[idx[k]];
    } else {
      for (; k + 4 <= end; k += 4) {
        s0 += r[idx[k]];
        s1 += r[idx[k + 1]];
        s2 += r[idx[k + 2]];
        s3 += r[idx[k + 3]];
      }
      for (; k < end; ++k) s0 += r[idx[k]];
    }
    total += cg.value[static_cast<std::size_t>(g)] * ((s0 + s1) + (s2 + s3));
    begin = end;
  }
  return total;
}
[[gnu::noinline]] inline void grouped_axpy(const ColumnGroups& cg, index_t j, std::int64_t begin, double a, double* r) noexcept {
  const std::int32_t* __restrict idx = cg.rows.data();
  for (auto g = cg.first[j]; g < cg.first[j + 1]; ++g) {
    const auto end = cg.end[static_cast<std::size_t>(g)];
    const double v = a * cg.value[static_cast<std::size_t>(g)];
    auto k = begin;
    for (; k + 4 <= end; k += 4) {
      const std::int32_t i0 = idx[k], i1 = idx[k + 1], i2 = idx[k + 2], i3 = idx[k + 3];
      r[i0] += v;
      r[i1] += v;
      r[i2] += v;
      r[i3] += v;
    }
    for (; k < end; ++k) r[idx[k]] += v;
    begin = end;
  }
}
// A dense column's dot sum_i w_i col_i r_i (w null: unit) and axpy r += a col: out of line,
// compiled for AVX2 + FMA and for the baseline and chosen by the CPU (this_cpu, host/core/cpu.hpp;
// the build has no -march). A dense column is long enough that the call costs nothing beside it.
template <class V>
double dense_dot(const V* col, const double* w, const double* r, index_t n) noexcept;
template <class V>
void dense_axpy(const V* col, double a, double* r, index_t n) noexcept;

// X^T's position of column j's first entry (sparse designs).
template <class V>
inline std::int64_t column_begin(const Design<V>& x, index_t j) noexcept {
  return x.wide_index ? static_cast<std::int64_t>(x.xt64.row_ptr[j]) : static_cast<std::int64_t>(x.xt32.row_ptr[j]);
}
}  // namespace design_detail

// What a column read may assume of X's layout. Hot loops run one copy per layout (Reads::Sparse,
// Reads::Dense): the dense reads are calls (out of line, chosen by the CPU), and a call anywhere in
// the sparse sweep's loop made GCC keep its registers around it (text_wide 4-14% slower).
enum class Reads { Any, Sparse, Dense };

template <class V, Reads kind = Reads::Any>
[[gnu::always_inline]] inline double column_dot(const Design<V>& x, index_t j, const double* w, const double* r) noexcept {
  if (kind == Reads::Sparse || (kind == Reads::Any && x.sparse)) {
    if (const ColumnGroups* cg = x.groups.get(); cg && cg->first[j] != cg->first[j + 1])
      return design_detail::grouped_dot(*cg, j, design_detail::column_begin(x, j), w, r);
    return x.wide_index ? design_detail::sparse_dot(x.xt64, j, w, r) : design_detail::sparse_dot(x.xt32, j, w, r);
  }
  return design_detail::dense_dot(x.dense.data + j * x.dense.ld, w, r, x.n);
}

// r += a * x_j
template <class V, Reads kind = Reads::Any>
[[gnu::always_inline]] inline void column_axpy(const Design<V>& x, index_t j, double a, double* r) noexcept {
  if (kind == Reads::Sparse || (kind == Reads::Any && x.sparse)) {
    if (const ColumnGroups* cg = x.groups.get(); cg && cg->first[j] != cg->first[j + 1])
      design_detail::grouped_axpy(*cg, j, design_detail::column_begin(x, j), a, r);
    else if (x.wide_index) design_detail::sparse_axpy(x.xt64, j, a, r);
    else design_detail::sparse_axpy(x.xt32, j, a, r);
    return;
  }
  design_detail::dense_axpy(x.dense.data + j * x.dense.ld, a, r, x.n);
}

}  // namespace shrink::lasso_detail
