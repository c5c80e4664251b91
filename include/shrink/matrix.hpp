// Dense and sparse matrix types. Owning types are move-only; views are cheap and carry the memory
// space. CSC is stored as the CSR of the transpose; COO is the interchange form used by the readers.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "shrink/array.hpp"

namespace shrink {

enum class Layout { RowMajor, ColMajor };
// How a matrix is applied: A or A^T.
enum class Op { NoTranspose, Transpose };
const char* to_string(Layout layout) noexcept;

template <class T>
struct DenseView {
  T* data = nullptr;
  index_t rows = 0, cols = 0;
  index_t ld = 0;  // leading dimension: row stride (RowMajor) or column stride (ColMajor)
  Layout layout = Layout::RowMajor;
  MemorySpace space = MemorySpace::Host;

  DenseView() = default;
  DenseView(T* d, index_t r, index_t c, index_t lead, Layout l, MemorySpace s = MemorySpace::Host)
      : data(d), rows(r), cols(c), ld(lead), layout(l), space(s) {}
  template <class U, class = std::enable_if_t<std::is_same_v<const U, T>>>
  DenseView(const DenseView<U>& o)
      : data(o.data), rows(o.rows), cols(o.cols), ld(o.ld), layout(o.layout), space(o.space) {}
  // Host only.
  T& operator()(index_t i, index_t j) const noexcept {
    return layout == Layout::RowMajor ? data[i * ld + j] : data[j * ld + i];
  }
};

template <class V>
class DenseMatrix {
 public:
  DenseMatrix() = default;
  DenseMatrix(index_t rows, index_t cols, Layout layout = Layout::RowMajor);  // host, zero-filled
  DenseMatrix(const Context& ctx, index_t rows, index_t cols, Layout layout, MemorySpace space);

  index_t rows() const noexcept { return rows_; }
  index_t cols() const noexcept { return cols_; }
  Layout layout() const noexcept { return layout_; }
  index_t ld() const noexcept { return layout_ == Layout::RowMajor ? cols_ : rows_; }
  MemorySpace space() const noexcept { return data_.space(); }
  V* data() noexcept { return data_.data(); }
  const V* data() const noexcept { return data_.data(); }
  V& operator()(index_t i, index_t j) noexcept { return view()(i, j); }
  const V& operator()(index_t i, index_t j) const noexcept { return view()(i, j); }
  DenseView<V> view() noexcept { return {data_.data(), rows_, cols_, ld(), layout_, space()}; }
  DenseView<const V> view() const noexcept {
    return {data_.data(), rows_, cols_, ld(), layout_, space()};
  }
  DenseMatrix copy_to(const Context& ctx, MemorySpace space) const;

 private:
  index_t rows_ = 0, cols_ = 0;
  Layout layout_ = Layout::RowMajor;
  Array<V> data_;
};

template <class V, class I>
struct CsrView {
  index_t rows = 0, cols = 0, nnz = 0;
  const I* row_ptr = nullptr;  // rows + 1 entries
  const I* col_idx = nullptr;  // nnz entries, strictly increasing within a row
  const V* values = nullptr;   // nnz entries
  MemorySpace space = MemorySpace::Host;
};

// CSC as a view: column j's entries are positions col_ptr[j] .. col_ptr[j + 1] (rows ascending).
// The same arrays are the CSR view of the transpose (transposed()).
template <class V, class I>
struct CscView {
  index_t rows = 0, cols = 0, nnz = 0;
  const I* col_ptr = nullptr;  // cols + 1 entries
  const I* row_idx = nullptr;  // nnz entries, strictly increasing within a column
  const V* values = nullptr;   // nnz entries
  MemorySpace space = MemorySpace::Host;
  CsrView<V, I> transposed() const noexcept { return {cols, rows, nnz, col_ptr, row_idx, values, space}; }
};

template <class V, class I = std::int32_t>
class CsrMatrix {
 public:
  using value_type = V;
  using index_type = I;
  CsrMatrix() = default;
  // An empty rows x cols matrix (row_ptr all zero) on the host.
  CsrMatrix(index_t rows, index_t cols);
  // From raw host arrays: validated (sizes, monotone row pointers, sorted unique column indices in
  // range, finite values). Unsorted or duplicate input belongs in a CooMatrix and coo_to_csr().
  static CsrMatrix from_arrays(index_t rows, index_t cols, std::vector<I> row_ptr,
                               std::vector<I> col_idx, std::vector<V> values);
  // Takes arrays that are already valid (used by converters and copies); no checks.
  static CsrMatrix adopt(index_t rows, index_t cols, Array<I> row_ptr, Array<I> col_idx,
                         Array<V> values);

  index_t rows() const noexcept { return rows_; }
  index_t cols() const noexcept { return cols_; }
  index_t nnz() const noexcept { return static_cast<index_t>(values_.size()); }
  MemorySpace space() const noexcept { return row_ptr_.space(); }
  const Array<I>& row_ptr() const noexcept { return row_ptr_; }
  const Array<I>& col_idx() const noexcept { return col_idx_; }
  const Array<V>& values() const noexcept { return values_; }
  Array<V>& values() noexcept { return values_; }
  CsrView<V, I> view() const noexcept {
    return {rows_, cols_, nnz(), row_ptr_.data(), col_idx_.data(), values_.data(), space()};
  }
  CsrMatrix copy_to(const Context& ctx, MemorySpace space) const;

 private:
  index_t rows_ = 0, cols_ = 0;
  Array<I> row_ptr_, col_idx_;
  Array<V> values_;
};

// CSC stored as the CSR of the transpose: column j's entries are row j of transposed().
template <class V, class I = std::int32_t>
class CscMatrix {
 public:
  CscMatrix() = default;
  explicit CscMatrix(CsrMatrix<V, I> transposed) : t_(std::move(transposed)) {}
  index_t rows() const noexcept { return t_.cols(); }
  index_t cols() const noexcept { return t_.rows(); }
  index_t nnz() const noexcept { return t_.nnz(); }
  MemorySpace space() const noexcept { return t_.space(); }
  const CsrMatrix<V, I>& transposed() const noexcept { return t_; }
  CscView<V, I> view() const noexcept {
    return {rows(), cols(), nnz(), t_.row_ptr().data(), t_.col_idx().data(), t_.values().data(), space()};
  }
  CscMatrix copy_to(const Context& ctx, MemorySpace space) const {
    return CscMatrix(t_.copy_to(ctx, space));
  }

 private:
  CsrMatrix<V, I> t_;
};

// Block sparse row: the matrix is cut into a grid of R x C blocks and only some blocks are stored,
// each dense and row-major. A dimension that R or C does not divide gets a partial last block row or
// column; its blocks are still stored R x C, and the padding outside the matrix holds zeros (checked
// by validation, never read as part of the matrix).
template <class V, class I>
struct BsrView {
  index_t rows = 0, cols = 0;                  // the matrix, without padding
  index_t block_height = 1, block_width = 1;   // R, C
  index_t nnzb = 0;                            // stored blocks
  const I* block_row_ptr = nullptr;            // block_grid_rows() + 1 entries
  const I* block_col_idx = nullptr;            // nnzb entries, strictly increasing in a block row
  const V* values = nullptr;                   // nnzb * R * C entries, block after block
  MemorySpace space = MemorySpace::Host;
  index_t block_grid_rows() const noexcept { return (rows + block_height - 1) / block_height; }
  index_t block_grid_cols() const noexcept { return (cols + block_width - 1) / block_width; }
  index_t block_size() const noexcept { return block_height * block_width; }
};

template <class V, class I = std::int32_t>
class BsrMatrix {
 public:
  using value_type = V;
  using index_type = I;
  BsrMatrix() = default;
  // A rows x cols matrix with no stored blocks, on the host. Block sizes must be >= 1.
  BsrMatrix(index_t rows, index_t cols, index_t block_height, index_t block_width);
  // From host arrays, validated like CSR (see validate(BsrView)).
  static BsrMatrix from_arrays(index_t rows, index_t cols, index_t block_height,
                               index_t block_width, std::vector<I> block_row_ptr,
                               std::vector<I> block_col_idx, std::vector<V> values);
  // Takes arrays that are already valid; no checks.
  static BsrMatrix adopt(index_t rows, index_t cols, index_t block_height, index_t block_width,
                         Array<I> block_row_ptr, Array<I> block_col_idx, Array<V> values);

  index_t rows() const noexcept { return rows_; }
  index_t cols() const noexcept { return cols_; }
  index_t block_height() const noexcept { return bh_; }
  index_t block_width() const noexcept { return bw_; }
  index_t block_grid_rows() const noexcept { return view().block_grid_rows(); }
  index_t block_grid_cols() const noexcept { return view().block_grid_cols(); }
  index_t nnzb() const noexcept { return static_cast<index_t>(col_idx_.size()); }
  MemorySpace space() const noexcept { return row_ptr_.space(); }
  const Array<I>& block_row_ptr() const noexcept { return row_ptr_; }
  const Array<I>& block_col_idx() const noexcept { return col_idx_; }
  const Array<V>& values() const noexcept { return values_; }
  Array<V>& values() noexcept { return values_; }
  BsrView<V, I> view() const noexcept {
    return {rows_, cols_, bh_, bw_, static_cast<index_t>(col_idx_.size()), row_ptr_.data(),
            col_idx_.data(), values_.data(), row_ptr_.space()};
  }
  BsrMatrix copy_to(const Context& ctx, MemorySpace space) const;

 private:
  index_t rows_ = 0, cols_ = 0, bh_ = 1, bw_ = 1;
  Array<I> row_ptr_, col_idx_;
  Array<V> values_;
};

// Triplets in any order, duplicates allowed (summed on conversion). Host only.
template <class V, class I = std::int32_t>
struct CooMatrix {
  index_t rows = 0, cols = 0;
  std::vector<I> row, col;
  std::vector<V> val;
  index_t nnz() const noexcept { return static_cast<index_t>(val.size()); }
};

// ---- conversions (host; copy device matrices to the host first) ------------------------------------
// COO -> CSR sorts and sums duplicates; range and finiteness are checked.
template <class V, class I> CsrMatrix<V, I> coo_to_csr(const CooMatrix<V, I>& coo);
template <class V, class I> CooMatrix<V, I> csr_to_coo(const CsrMatrix<V, I>& csr);
template <class V, class I> CscMatrix<V, I> csr_to_csc(const CsrMatrix<V, I>& csr);
template <class V, class I> CsrMatrix<V, I> csc_to_csr(const CscMatrix<V, I>& csc);
// The CSR of A^T (a plain transpose; same as csr_to_csc(a).transposed()).
template <class V, class I> CsrMatrix<V, I> transpose(const CsrMatrix<V, I>& csr);
template <class V, class I>
DenseMatrix<V> csr_to_dense(const CsrMatrix<V, I>& csr, Layout layout = Layout::RowMajor);
// Keeps the non-zero entries; refuses NaN/Inf.
template <class V, class I> CsrMatrix<V, I> dense_to_csr(DenseView<const V> dense);
template <class V> DenseMatrix<V> dense_to_layout(DenseView<const V> dense, Layout layout);
// Changes value and index types; IndexOverflow when nnz or a dimension does not fit the new index.
template <class V2, class I2, class V, class I> CsrMatrix<V2, I2> cast(const CsrMatrix<V, I>& csr);
template <class V2, class V> DenseMatrix<V2> cast(const DenseMatrix<V>& dense);
// BSR conversions. dense_to_bsr and csr_to_bsr store every block holding a non-zero (CSR: a stored
// entry, so explicit zeros keep their block); bsr_to_csr keeps every entry of the stored blocks inside
// the matrix, zeros included, so that BSR -> CSR -> BSR gives back the same pattern.
template <class V, class I>
BsrMatrix<V, I> dense_to_bsr(DenseView<const V> dense, index_t block_height, index_t block_width);
// The BSR holding exactly the grid blocks `blocks` of dense (row-major grid indices br * grid_cols +
// bc, strictly increasing), zeros included.
template <class V, class I>
BsrMatrix<V, I> dense_to_bsr(DenseView<const V> dense, index_t block_height, index_t block_width,
                             const std::vector<index_t>& blocks);
template <class V, class I>
DenseMatrix<V> bsr_to_dense(const BsrMatrix<V, I>& bsr, Layout layout = Layout::RowMajor);
template <class V, class I>
BsrMatrix<V, I> csr_to_bsr(const CsrMatrix<V, I>& csr, index_t block_height, index_t block_width);
template <class V, class I> CsrMatrix<V, I> bsr_to_csr(const BsrMatrix<V, I>& bsr);

}  // namespace shrink

namespace shrink {
// Full structural check of a host CSR view, throwing the specific error with `name` in the message:
// row_ptr[0] == 0, monotone, row_ptr[rows] == nnz, column indices in range and strictly increasing
// within each row, values finite, and nnz/dimensions that fit the index type.
template <class V, class I> void validate(const CsrView<V, I>& a, const std::string& name);
// The same for BSR: block sizes >= 1, block row pointers, block column indices in the block grid and
// strictly increasing, finite values, zero padding, and counts that fit the index type.
template <class V, class I> void validate(const BsrView<V, I>& a, const std::string& name);
}  // namespace shrink
