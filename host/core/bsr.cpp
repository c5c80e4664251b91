// BsrMatrix, its validation and its host conversions to and from dense and CSR.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/ops/instantiate.hpp"
#include "host/core/validate.hpp"
#include "shrink/matrix.hpp"

namespace shrink {

namespace {

void check_block_size(index_t bh, index_t bw, const std::string& what) {
  if (bh < 1 || bw < 1)
    throw InvalidArgument(what + ": block size " + std::to_string(bh) + "x" + std::to_string(bw) +
                          " is malformed; both sides must be >= 1");
}

template <class M>
void require_host(const M& m, const char* what) {
  if (m.space() != MemorySpace::Host)
    throw InvalidArgument(std::string(what) + ": the matrix is in device memory; copy it to the host first");
}

// Visits every entry (r, c, value) of the stored blocks that lies inside the matrix.
template <class V, class I, class F>
void for_each_entry(const BsrView<V, I>& a, F f) {
  const index_t bh = a.block_height, bw = a.block_width;
  for (index_t br = 0; br < a.block_grid_rows(); ++br)
    for (index_t k = a.block_row_ptr[br]; k < a.block_row_ptr[br + 1]; ++k) {
      const index_t bc = a.block_col_idx[k];
      const V* block = a.values + k * bh * bw;
      for (index_t i = 0; i < bh && br * bh + i < a.rows; ++i)
        for (index_t j = 0; j < bw && bc * bw + j < a.cols; ++j)
          f(br * bh + i, bc * bw + j, block[i * bw + j]);
    }
}

}  // namespace

template <class V, class I>
void validate(const BsrView<V, I>& a, const std::string& name) {
  if (a.space != MemorySpace::Host) throw InvalidArgument(name + ": validate() needs a host matrix");
  check_block_size(a.block_height, a.block_width, name);
  if (a.rows < 0 || a.cols < 0)
    throw InvalidArgument(name + ": negative shape " + detail::shape(a.rows, a.cols));
  const index_t values = detail::checked_product(a.nnzb, a.block_size(), name + " values");
  detail::check_fits_index<I>(values, name + " stored values (nnzb * R * C)");
  // The block pattern is a CSR pattern over the block grid.
  const CsrView<V, I> pattern{a.block_grid_rows(), a.block_grid_cols(), a.nnzb, a.block_row_ptr,
                              a.block_col_idx,      a.values,            MemorySpace::Host};
  validate(pattern, name + " (block pattern, indices in blocks)");
  detail::check_finite(a.values, values, name + " values");
  const index_t bh = a.block_height, bw = a.block_width;
  for (index_t br = 0; br < a.block_grid_rows(); ++br)
    for (index_t k = a.block_row_ptr[br]; k < a.block_row_ptr[br + 1]; ++k) {
      const V* block = a.values + k * bh * bw;
      for (index_t i = 0; i < bh; ++i)
        for (index_t j = 0; j < bw; ++j) {
          const bool inside = br * bh + i < a.rows && a.block_col_idx[k] * bw + j < a.cols;
          if (!inside && block[i * bw + j] != V(0))
            throw InvalidStructure(name + ": block " + std::to_string(k) + " holds " +
                                   std::to_string(block[i * bw + j]) + " in its padding at (" +
                                   std::to_string(i) + ", " + std::to_string(j) +
                                   "), outside the " + detail::shape(a.rows, a.cols) +
                                   " matrix; padding must be zero");
        }
    }
}

template <class V, class I>
BsrMatrix<V, I>::BsrMatrix(index_t rows, index_t cols, index_t block_height, index_t block_width)
    : rows_(rows), cols_(cols), bh_(block_height), bw_(block_width) {
  check_block_size(block_height, block_width, "BsrMatrix");
  if (rows < 0 || cols < 0) throw InvalidArgument("BsrMatrix: negative shape " + detail::shape(rows, cols));
  detail::check_fits_index<I>(block_grid_rows(), "BsrMatrix block rows");
  detail::check_fits_index<I>(block_grid_cols(), "BsrMatrix block cols");
  row_ptr_ = Array<I>(static_cast<std::size_t>(block_grid_rows() + 1));
}

template <class V, class I>
BsrMatrix<V, I> BsrMatrix<V, I>::from_arrays(index_t rows, index_t cols, index_t block_height,
                                             index_t block_width, std::vector<I> block_row_ptr,
                                             std::vector<I> block_col_idx, std::vector<V> values) {
  check_block_size(block_height, block_width, "BsrMatrix");
  if (rows < 0 || cols < 0) throw InvalidArgument("BsrMatrix: negative shape " + detail::shape(rows, cols));
  const index_t grid_rows = (rows + block_height - 1) / block_height;
  detail::check_vector_size(static_cast<index_t>(block_row_ptr.size()), grid_rows + 1,
                            "block_row_ptr", "a grid of " + std::to_string(grid_rows) + " block rows");
  const auto nnzb = static_cast<index_t>(block_col_idx.size());
  detail::check_vector_size(static_cast<index_t>(values.size()),
                            detail::checked_product(nnzb, block_height * block_width, "BSR values"),
                            "values", std::to_string(nnzb) + " blocks of " +
                                          std::to_string(block_height) + "x" + std::to_string(block_width));
  const BsrView<V, I> view{rows, cols, block_height, block_width, nnzb, block_row_ptr.data(),
                           block_col_idx.data(), values.data(), MemorySpace::Host};
  validate(view, "BSR matrix");
  return adopt(rows, cols, block_height, block_width, Array<I>::from_vector(block_row_ptr),
               Array<I>::from_vector(block_col_idx), Array<V>::from_vector(values));
}

template <class V, class I>
BsrMatrix<V, I> BsrMatrix<V, I>::adopt(index_t rows, index_t cols, index_t block_height,
                                       index_t block_width, Array<I> block_row_ptr,
                                       Array<I> block_col_idx, Array<V> values) {
  BsrMatrix m;
  m.rows_ = rows;
  m.cols_ = cols;
  m.bh_ = block_height;
  m.bw_ = block_width;
  m.row_ptr_ = std::move(block_row_ptr);
  m.col_idx_ = std::move(block_col_idx);
  m.values_ = std::move(values);
  return m;
}

template <class V, class I>
BsrMatrix<V, I> BsrMatrix<V, I>::copy_to(const Context& ctx, MemorySpace space) const {
  return adopt(rows_, cols_, bh_, bw_, row_ptr_.copy_to(ctx, space), col_idx_.copy_to(ctx, space),
               values_.copy_to(ctx, space));
}

template <class V, class I>
BsrMatrix<V, I> dense_to_bsr(DenseView<const V> d, index_t bh, index_t bw, const std::vector<index_t>& blocks) {
  if (d.space != MemorySpace::Host)
    throw InvalidArgument("dense_to_bsr: the matrix is in device memory; copy it to the host first");
  const BsrMatrix<V, I> shape(d.rows, d.cols, bh, bw);  // checks the block size and the grid
  const index_t grid_cols = shape.block_grid_cols(), total = shape.block_grid_rows() * grid_cols;
  detail::check_fits_index<I>(detail::checked_product(static_cast<index_t>(blocks.size()), bh * bw, "BSR values"),
                              "BSR stored values");
  std::vector<I> rp(static_cast<std::size_t>(shape.block_grid_rows() + 1), 0), ci;
  std::vector<V> vals(blocks.size() * static_cast<std::size_t>(bh * bw), V(0));
  for (std::size_t q = 0; q < blocks.size(); ++q) {
    if (blocks[q] < 0 || blocks[q] >= total || (q > 0 && blocks[q] <= blocks[q - 1]))
      throw InvalidArgument("dense_to_bsr: block " + std::to_string(blocks[q]) + " (entry " + std::to_string(q) +
                            ") is outside the grid of " + std::to_string(total) + " blocks or out of order");
    const index_t br = blocks[q] / grid_cols, bc = blocks[q] % grid_cols;
    rp[br + 1]++;
    ci.push_back(static_cast<I>(bc));
    for (index_t i = 0; i < bh && br * bh + i < d.rows; ++i)
      for (index_t j = 0; j < bw && bc * bw + j < d.cols; ++j)
        vals[q * bh * bw + i * bw + j] = d(br * bh + i, bc * bw + j);
  }
  for (std::size_t b = 0; b + 1 < rp.size(); ++b) rp[b + 1] += rp[b];
  return BsrMatrix<V, I>::adopt(d.rows, d.cols, bh, bw, Array<I>::from_vector(rp), Array<I>::from_vector(ci),
                                Array<V>::from_vector(vals));
}

template <class V, class I>
BsrMatrix<V, I> dense_to_bsr(DenseView<const V> d, index_t bh, index_t bw) {
  if (d.space != MemorySpace::Host)
    throw InvalidArgument("dense_to_bsr: the matrix is in device memory; copy it to the host first");
  check_block_size(bh, bw, "dense_to_bsr");
  detail::check_finite(d, "dense matrix");
  const index_t grid_cols = (d.cols + bw - 1) / bw;
  std::vector<char> nonzero(static_cast<std::size_t>((d.rows + bh - 1) / bh * grid_cols), 0);
  for (index_t r = 0; r < d.rows; ++r)
    for (index_t c = 0; c < d.cols; ++c)
      if (d(r, c) != V(0)) nonzero[(r / bh) * grid_cols + c / bw] = 1;
  std::vector<index_t> blocks;
  for (std::size_t k = 0; k < nonzero.size(); ++k)
    if (nonzero[k]) blocks.push_back(static_cast<index_t>(k));
  return dense_to_bsr<V, I>(d, bh, bw, blocks);
}

template <class V, class I>
DenseMatrix<V> bsr_to_dense(const BsrMatrix<V, I>& bsr, Layout layout) {
  require_host(bsr, "bsr_to_dense");
  DenseMatrix<V> out(bsr.rows(), bsr.cols(), layout);
  for_each_entry(bsr.view(), [&](index_t r, index_t c, V v) { out(r, c) = v; });
  return out;
}

template <class V, class I>
BsrMatrix<V, I> csr_to_bsr(const CsrMatrix<V, I>& csr, index_t bh, index_t bw) {
  require_host(csr, "csr_to_bsr");
  BsrMatrix<V, I> shape(csr.rows(), csr.cols(), bh, bw);  // checks the block size and the grid
  const index_t grid_rows = shape.block_grid_rows(), grid_cols = shape.block_grid_cols();
  // One block row at a time: slot[bc] is the stored position of block column bc, or -1.
  std::vector<std::int64_t> slot(static_cast<std::size_t>(grid_cols), -1);
  Array<I> rp(static_cast<std::size_t>(grid_rows + 1));
  std::vector<I> ci;
  std::vector<V> vals;
  for (index_t br = 0; br < grid_rows; ++br) {
    const index_t r0 = br * bh, r1 = std::min(csr.rows(), r0 + bh);
    const auto first = static_cast<index_t>(ci.size());
    for (index_t r = r0; r < r1; ++r)
      for (I k = csr.row_ptr()[r]; k < csr.row_ptr()[r + 1]; ++k) {
        const index_t bc = csr.col_idx()[k] / bw;
        if (slot[bc] < 0) {
          slot[bc] = 1;
          ci.push_back(static_cast<I>(bc));
        }
      }
    std::sort(ci.begin() + first, ci.end());
    for (auto k = first; k < static_cast<index_t>(ci.size()); ++k) slot[ci[k]] = k;
    detail::check_fits_index<I>(detail::checked_product(static_cast<index_t>(ci.size()), bh * bw, "BSR values"),
                                "BSR stored values");
    vals.resize(ci.size() * static_cast<std::size_t>(bh * bw), V(0));
    for (index_t r = r0; r < r1; ++r)
      for (I k = csr.row_ptr()[r]; k < csr.row_ptr()[r + 1]; ++k) {
        const index_t c = csr.col_idx()[k];
        vals[static_cast<std::size_t>((slot[c / bw] * bh + (r - r0)) * bw + c % bw)] = csr.values()[k];
      }
    for (auto k = first; k < static_cast<index_t>(ci.size()); ++k) slot[ci[k]] = -1;
    rp[br + 1] = static_cast<I>(ci.size());
  }
  return BsrMatrix<V, I>::adopt(csr.rows(), csr.cols(), bh, bw, std::move(rp), Array<I>::from_vector(ci),
                                Array<V>::from_vector(vals));
}

template <class V, class I>
CsrMatrix<V, I> bsr_to_csr(const BsrMatrix<V, I>& bsr) {
  require_host(bsr, "bsr_to_csr");
  const auto a = bsr.view();
  const index_t bh = a.block_height, bw = a.block_width;
  Array<I> rp(static_cast<std::size_t>(a.rows + 1));
  std::vector<I> ci;
  std::vector<V> vals;
  for (index_t r = 0; r < a.rows; ++r) {
    const index_t br = r / bh, i = r % bh;
    for (index_t k = a.block_row_ptr[br]; k < a.block_row_ptr[br + 1]; ++k) {
      const index_t bc = a.block_col_idx[k];
      for (index_t j = 0; j < bw && bc * bw + j < a.cols; ++j) {
        ci.push_back(static_cast<I>(bc * bw + j));
        vals.push_back(a.values[(k * bh + i) * bw + j]);
      }
    }
    detail::check_fits_index<I>(static_cast<index_t>(vals.size()), "CSR nnz");
    rp[r + 1] = static_cast<I>(vals.size());
  }
  return CsrMatrix<V, I>::adopt(a.rows, a.cols, std::move(rp), Array<I>::from_vector(ci),
                                Array<V>::from_vector(vals));
}

#define SHRINK_INSTANTIATE(V, I)                                                            \
  template class BsrMatrix<V, I>;                                                           \
  template void validate<V, I>(const BsrView<V, I>&, const std::string&);                   \
  template BsrMatrix<V, I> dense_to_bsr<V, I>(DenseView<const V>, index_t, index_t);        \
  template BsrMatrix<V, I> dense_to_bsr<V, I>(DenseView<const V>, index_t, index_t,         \
                                              const std::vector<index_t>&);                 \
  template DenseMatrix<V> bsr_to_dense<V, I>(const BsrMatrix<V, I>&, Layout);               \
  template BsrMatrix<V, I> csr_to_bsr<V, I>(const CsrMatrix<V, I>&, index_t, index_t);      \
  template CsrMatrix<V, I> bsr_to_csr<V, I>(const BsrMatrix<V, I>&);
SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE)
#undef SHRINK_INSTANTIATE

}  // namespace shrink
