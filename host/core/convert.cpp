// Matrix types and host conversions between all formats.
#include <algorithm>
#include <cstdint>
#include <numeric>

#include "kernels/ops/instantiate.hpp"
#include "host/core/validate.hpp"
#include "shrink/matrix.hpp"
#include "shrink/ops.hpp"

namespace shrink {

const char* to_string(Layout layout) noexcept {
  return layout == Layout::RowMajor ? "row-major" : "col-major";
}

// ---- DenseMatrix -------------------------------------------------------------------------------------
template <class V>
DenseMatrix<V>::DenseMatrix(index_t rows, index_t cols, Layout layout)
    : rows_(rows), cols_(cols), layout_(layout),
      data_(static_cast<std::size_t>(detail::checked_product(rows, cols, "DenseMatrix"))) {}

template <class V>
DenseMatrix<V>::DenseMatrix(const Context& ctx, index_t rows, index_t cols, Layout layout,
                            MemorySpace space)
    : rows_(rows), cols_(cols), layout_(layout),
      data_(ctx, static_cast<std::size_t>(detail::checked_product(rows, cols, "DenseMatrix")),
            space) {}

template <class V>
DenseMatrix<V> DenseMatrix<V>::copy_to(const Context& ctx, MemorySpace space) const {
  DenseMatrix out;
  out.rows_ = rows_;
  out.cols_ = cols_;
  out.layout_ = layout_;
  out.data_ = data_.copy_to(ctx, space);
  return out;
}

// ---- CsrMatrix ---------------------------------------------------------------------------------------
template <class V, class I>
CsrMatrix<V, I>::CsrMatrix(index_t rows, index_t cols) : rows_(rows), cols_(cols) {
  detail::check_fits_index<I>(rows, "CsrMatrix rows");
  detail::check_fits_index<I>(cols, "CsrMatrix cols");
  row_ptr_ = Array<I>(static_cast<std::size_t>(rows + 1));
}

template <class V, class I>
CsrMatrix<V, I> CsrMatrix<V, I>::from_arrays(index_t rows, index_t cols, std::vector<I> row_ptr,
                                             std::vector<I> col_idx, std::vector<V> values) {
  if (rows < 0 || cols < 0)
    throw InvalidArgument("CsrMatrix: negative shape " + detail::shape(rows, cols));
  detail::check_vector_size(static_cast<index_t>(row_ptr.size()), rows + 1, "row_ptr",
                            "a matrix with " + std::to_string(rows) + " rows");
  detail::check_vector_size(static_cast<index_t>(values.size()),
                            static_cast<index_t>(col_idx.size()), "values", "col_idx");
  const CsrView<V, I> view{rows,           cols,          static_cast<index_t>(values.size()),
                           row_ptr.data(), col_idx.data(), values.data(), MemorySpace::Host};
  validate(view, "CSR matrix");
  return adopt(rows, cols, Array<I>::from_vector(row_ptr), Array<I>::from_vector(col_idx),
               Array<V>::from_vector(values));
}

template <class V, class I>
CsrMatrix<V, I> CsrMatrix<V, I>::adopt(index_t rows, index_t cols, Array<I> row_ptr,
                                       Array<I> col_idx, Array<V> values) {
  CsrMatrix m;
  m.rows_ = rows;
  m.cols_ = cols;
  m.row_ptr_ = std::move(row_ptr);
  m.col_idx_ = std::move(col_idx);
  m.values_ = std::move(values);
  return m;
}

template <class V, class I>
CsrMatrix<V, I> CsrMatrix<V, I>::copy_to(const Context& ctx, MemorySpace space) const {
  return adopt(rows_, cols_, row_ptr_.copy_to(ctx, space), col_idx_.copy_to(ctx, space),
               values_.copy_to(ctx, space));
}

namespace {
template <class M>
void require_host(const M& m, const char* what) {
  if (m.space() != MemorySpace::Host)
    throw InvalidArgument(std::string(what) +
                          ": the matrix is in device memory; copy it to the host first");
}
}  // namespace

// ---- conversions -------------------------------------------------------------------------------------
template <class V, class I>
CsrMatrix<V, I> coo_to_csr(const CooMatrix<V, I>& coo) {
  const index_t rows = coo.rows, cols = coo.cols, n = coo.nnz();
  detail::check_fits_index<I>(rows, "COO rows");
  detail::check_fits_index<I>(cols, "COO cols");
  detail::check_fits_index<I>(n, "COO nnz");
  if (static_cast<index_t>(coo.row.size()) != n || static_cast<index_t>(coo.col.size()) != n)
    throw DimensionMismatch("COO arrays differ in length: row " + std::to_string(coo.row.size()) +
                            ", col " + std::to_string(coo.col.size()) + ", val " +
                            std::to_string(n));
  // Row pointers (and the row counts beside them) grow with the rows, not the entries: a tiny file
  // can declare billions of rows.
  detail::check_memory(2.0 * (static_cast<double>(rows) + 1) * sizeof(I) + 2.0 * static_cast<double>(n) * (sizeof(I) + sizeof(V)),
                       "the CSR form of a " + detail::shape(rows, cols) + " matrix with " + std::to_string(n) + " entries");
  // Counting sort by row (stable), then sort each row by column and sum duplicates.
  std::vector<I> counts(static_cast<std::size_t>(rows) + 1, I(0));
  for (index_t k = 0; k < n; ++k) {
    const index_t r = coo.row[k], c = coo.col[k];
    if (r < 0 || r >= rows || c < 0 || c >= cols)
      throw IndexOutOfRange("COO entry " + std::to_string(k) + " at (" + std::to_string(r) + ", " +
                            std::to_string(c) + ") is outside a " + detail::shape(rows, cols) +
                            " matrix");
    ++counts[r + 1];
  }
  detail::check_finite(coo.val.data(), n, "COO values");
  std::partial_sum(counts.begin(), counts.end(), counts.begin());
  std::vector<I> cols_sorted(static_cast<std::size_t>(n));
  std::vector<V> vals_sorted(static_cast<std::size_t>(n));
  {
    std::vector<I> next(counts.begin(), counts.end() - 1);
    for (index_t k = 0; k < n; ++k) {
      const I dst = next[coo.row[k]]++;
      cols_sorted[dst] = coo.col[k];
      vals_sorted[dst] = coo.val[k];
    }
  }
  // Per row: sort by column if needed, then compact duplicates. Rows only shrink, so new_ptr[r]
  // <= counts[r] and the compaction can run in place, one row after another.
  Array<I> row_ptr(static_cast<std::size_t>(rows) + 1);
  std::vector<std::pair<I, V>> scratch;
  I out = 0;
  for (index_t r = 0; r < rows; ++r) {
    const I lo = counts[r], hi = counts[r + 1];
    const bool sorted = std::is_sorted(cols_sorted.begin() + lo, cols_sorted.begin() + hi);
    if (!sorted) {
      scratch.clear();
      for (I k = lo; k < hi; ++k) scratch.emplace_back(cols_sorted[k], vals_sorted[k]);
      std::stable_sort(scratch.begin(), scratch.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      for (I k = lo; k < hi; ++k) {
        cols_sorted[k] = scratch[k - lo].first;
        vals_sorted[k] = scratch[k - lo].second;
      }
    }
    for (I k = lo; k < hi; ++k) {
      if (out > row_ptr[r] && cols_sorted[out - 1] == cols_sorted[k]) {
        vals_sorted[out - 1] += vals_sorted[k];
      } else {
        cols_sorted[out] = cols_sorted[k];
        vals_sorted[out] = vals_sorted[k];
        ++out;
      }
    }
    row_ptr[r + 1] = out;
  }
  cols_sorted.resize(static_cast<std::size_t>(out));
  vals_sorted.resize(static_cast<std::size_t>(out));
  detail::check_finite(vals_sorted.data(), out, "COO values (after summing duplicates)");
  return CsrMatrix<V, I>::adopt(rows, cols, std::move(row_ptr), Array<I>::from_vector(cols_sorted),
                                Array<V>::from_vector(vals_sorted));
}

template <class V, class I>
CooMatrix<V, I> csr_to_coo(const CsrMatrix<V, I>& csr) {
  require_host(csr, "csr_to_coo");
  CooMatrix<V, I> coo;
  coo.rows = csr.rows();
  coo.cols = csr.cols();
  const auto n = static_cast<std::size_t>(csr.nnz());
  coo.row.resize(n);
  coo.col.assign(csr.col_idx().data(), csr.col_idx().data() + n);
  coo.val.assign(csr.values().data(), csr.values().data() + n);
  for (index_t r = 0; r < csr.rows(); ++r)
    for (I k = csr.row_ptr()[r]; k < csr.row_ptr()[r + 1]; ++k) coo.row[k] = static_cast<I>(r);
  return coo;
}

template <class V, class I>
CsrMatrix<V, I> transpose(const CsrMatrix<V, I>& csr) {
  require_host(csr, "transpose");
  // The CPU twin of the device transpose does the work (it uses no context state).
  return transpose(Context(ContextOptions{Backend::Cpu, 0, 1, true, false}), csr);
}

template <class V, class I>
CscMatrix<V, I> csr_to_csc(const CsrMatrix<V, I>& csr) {
  return CscMatrix<V, I>(transpose(csr));
}

template <class V, class I>
CsrMatrix<V, I> csc_to_csr(const CscMatrix<V, I>& csc) {
  return transpose(csc.transposed());
}

template <class V, class I>
DenseMatrix<V> csr_to_dense(const CsrMatrix<V, I>& csr, Layout layout) {
  require_host(csr, "csr_to_dense");
  DenseMatrix<V> d(csr.rows(), csr.cols(), layout);
  for (index_t r = 0; r < csr.rows(); ++r)
    for (I k = csr.row_ptr()[r]; k < csr.row_ptr()[r + 1]; ++k)
      d(r, csr.col_idx()[k]) = csr.values()[k];
  return d;
}

template <class V, class I>
CsrMatrix<V, I> dense_to_csr(DenseView<const V> dense) {
  if (dense.space != MemorySpace::Host)
    throw InvalidArgument("dense_to_csr: the matrix is in device memory; copy it to the host first");
  detail::check_fits_index<I>(dense.rows, "dense rows");
  detail::check_fits_index<I>(dense.cols, "dense cols");
  Array<I> rp(static_cast<std::size_t>(dense.rows) + 1);
  std::vector<I> ci;
  std::vector<V> vals;
  for (index_t r = 0; r < dense.rows; ++r) {
    for (index_t c = 0; c < dense.cols; ++c) {
      const V v = dense(r, c);
      if (!std::isfinite(v))
        throw NonFinite("dense matrix entry (" + std::to_string(r) + ", " + std::to_string(c) +
                        ") is not finite");
      if (v != V(0)) {
        ci.push_back(static_cast<I>(c));
        vals.push_back(v);
      }
    }
    detail::check_fits_index<I>(static_cast<index_t>(vals.size()), "dense nnz");
    rp[r + 1] = static_cast<I>(vals.size());
  }
  return CsrMatrix<V, I>::adopt(dense.rows, dense.cols, std::move(rp), Array<I>::from_vector(ci),
                                Array<V>::from_vector(vals));
}

template <class V>
DenseMatrix<V> dense_to_layout(DenseView<const V> dense, Layout layout) {
  if (dense.space != MemorySpace::Host)
    throw InvalidArgument("dense_to_layout: the matrix is in device memory");
  DenseMatrix<V> out(dense.rows, dense.cols, layout);
  for (index_t r = 0; r < dense.rows; ++r)
    for (index_t c = 0; c < dense.cols; ++c) out(r, c) = dense(r, c);
  return out;
}

template <class V2, class I2, class V, class I>
CsrMatrix<V2, I2> cast(const CsrMatrix<V, I>& csr) {
  require_host(csr, "cast");
  detail::check_fits_index<I2>(csr.rows(), "rows");
  detail::check_fits_index<I2>(csr.cols(), "cols");
  detail::check_fits_index<I2>(csr.nnz(), "nnz");
  const auto n = static_cast<std::size_t>(csr.nnz());
  Array<I2> rp(static_cast<std::size_t>(csr.rows()) + 1), ci(n);
  Array<V2> vals(n);
  for (std::size_t i = 0; i < rp.size(); ++i) rp[i] = static_cast<I2>(csr.row_ptr()[i]);
  for (std::size_t k = 0; k < n; ++k) {
    ci[k] = static_cast<I2>(csr.col_idx()[k]);
    vals[k] = static_cast<V2>(csr.values()[k]);
  }
  detail::check_finite(vals.data(), static_cast<index_t>(n), "converted values");
  return CsrMatrix<V2, I2>::adopt(csr.rows(), csr.cols(), std::move(rp), std::move(ci),
                                  std::move(vals));
}

template <class V2, class V>
DenseMatrix<V2> cast(const DenseMatrix<V>& dense) {
  if (dense.space() != MemorySpace::Host) throw InvalidArgument("cast: device matrix");
  DenseMatrix<V2> out(dense.rows(), dense.cols(), dense.layout());
  const auto n = static_cast<std::size_t>(dense.rows() * dense.cols());
  for (std::size_t i = 0; i < n; ++i) out.data()[i] = static_cast<V2>(dense.data()[i]);
  detail::check_finite(out.data(), static_cast<index_t>(n), "converted values");
  return out;
}

template class DenseMatrix<float>;
template class DenseMatrix<double>;
template DenseMatrix<float> dense_to_layout<float>(DenseView<const float>, Layout);
template DenseMatrix<double> dense_to_layout<double>(DenseView<const double>, Layout);
template DenseMatrix<float> cast<float, double>(const DenseMatrix<double>&);
template DenseMatrix<double> cast<double, float>(const DenseMatrix<float>&);
template DenseMatrix<float> cast<float, float>(const DenseMatrix<float>&);
template DenseMatrix<double> cast<double, double>(const DenseMatrix<double>&);

#define SHRINK_INSTANTIATE(V, I)                                                         \
  template class CsrMatrix<V, I>;                                                        \
  template CsrMatrix<V, I> coo_to_csr<V, I>(const CooMatrix<V, I>&);                     \
  template CooMatrix<V, I> csr_to_coo<V, I>(const CsrMatrix<V, I>&);                     \
  template CscMatrix<V, I> csr_to_csc<V, I>(const CsrMatrix<V, I>&);                     \
  template CsrMatrix<V, I> csc_to_csr<V, I>(const CscMatrix<V, I>&);                     \
  template CsrMatrix<V, I> transpose<V, I>(const CsrMatrix<V, I>&);                      \
  template DenseMatrix<V> csr_to_dense<V, I>(const CsrMatrix<V, I>&, Layout);            \
  template CsrMatrix<V, I> dense_to_csr<V, I>(DenseView<const V>);

SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE)
#undef SHRINK_INSTANTIATE
#define SHRINK_INSTANTIATE_CAST(V2, I2, V, I) \
  template CsrMatrix<V2, I2> cast<V2, I2, V, I>(const CsrMatrix<V, I>&);
#define SHRINK_CAST_FROM(V, I)                                  \
  SHRINK_INSTANTIATE_CAST(float, std::int32_t, V, I)            \
  SHRINK_INSTANTIATE_CAST(float, std::int64_t, V, I)            \
  SHRINK_INSTANTIATE_CAST(double, std::int32_t, V, I)           \
  SHRINK_INSTANTIATE_CAST(double, std::int64_t, V, I)
SHRINK_CAST_FROM(float, std::int32_t)
SHRINK_CAST_FROM(float, std::int64_t)
SHRINK_CAST_FROM(double, std::int32_t)
SHRINK_CAST_FROM(double, std::int64_t)
#undef SHRINK_CAST_FROM
#undef SHRINK_INSTANTIATE_CAST

}  // namespace shrink
