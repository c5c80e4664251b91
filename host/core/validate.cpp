#include "kernels/ops/instantiate.hpp"
#include "host/core/validate.hpp"

#include <cstdint>

namespace shrink {

namespace detail {

std::string shape(index_t rows, index_t cols) {
  return std::to_string(rows) + " x " + std::to_string(cols);
}

index_t checked_product(index_t rows, index_t cols, const std::string& what) {
  if (rows < 0 || cols < 0)
    throw InvalidArgument(what + ": negative dimension " + shape(rows, cols));
  index_t out = 0;
  if (__builtin_mul_overflow(rows, cols, &out))
    throw IndexOverflow(what + ": " + shape(rows, cols) + " elements overflow a 64-bit count");
  return out;
}

void check_vector_size(index_t size, index_t expected, const std::string& what,
                       const std::string& why) {
  if (size != expected)
    throw DimensionMismatch(what + " has " + std::to_string(size) + " entries but " + why +
                            " needs " + std::to_string(expected));
}

}  // namespace detail

template <class V, class I>
void validate(const CsrView<V, I>& a, const std::string& name) {
  using detail::check_fits_index;
  if (a.space != MemorySpace::Host)
    throw InvalidArgument(name + ": validate() needs a host matrix");
  check_fits_index<I>(a.rows, name + " rows");
  check_fits_index<I>(a.cols, name + " cols");
  check_fits_index<I>(a.nnz, name + " nnz");
  if (a.row_ptr == nullptr)
    throw InvalidArgument(name + ": row_ptr is null (it needs rows + 1 = " +
                          std::to_string(a.rows + 1) + " entries)");
  if (a.row_ptr[0] != 0)
    throw InvalidStructure(name + ": row_ptr[0] = " + std::to_string(a.row_ptr[0]) +
                           ", expected 0");
  for (index_t r = 0; r < a.rows; ++r) {
    if (a.row_ptr[r + 1] < a.row_ptr[r])
      throw InvalidStructure(name + ": row_ptr is not monotone at row " + std::to_string(r) + " (" +
                             std::to_string(a.row_ptr[r]) + " > " +
                             std::to_string(a.row_ptr[r + 1]) + ")");
    if (a.row_ptr[r + 1] > a.nnz)
      throw InvalidStructure(name + ": row_ptr[" + std::to_string(r + 1) +
                             "] = " + std::to_string(a.row_ptr[r + 1]) + " exceeds nnz = " +
                             std::to_string(a.nnz));
  }
  if (a.row_ptr[a.rows] != a.nnz)
    throw InvalidStructure(name + ": row_ptr[rows] = " + std::to_string(a.row_ptr[a.rows]) +
                           " but nnz = " + std::to_string(a.nnz));
  for (index_t r = 0; r < a.rows; ++r) {
    for (index_t k = a.row_ptr[r]; k < a.row_ptr[r + 1]; ++k) {
      const index_t c = a.col_idx[k];
      if (c < 0 || c >= a.cols)
        throw IndexOutOfRange(name + ": column index " + std::to_string(c) + " in row " +
                              std::to_string(r) + " is outside [0, " + std::to_string(a.cols) +
                              ") for a " + detail::shape(a.rows, a.cols) + " matrix");
      if (k > a.row_ptr[r] && a.col_idx[k - 1] >= c)
        throw InvalidStructure(name + ": column indices of row " + std::to_string(r) +
                               (a.col_idx[k - 1] == c ? " repeat " : " are not sorted at ") +
                               std::to_string(c) +
                               "; unsorted or duplicate input belongs in a CooMatrix (coo_to_csr)");
    }
  }
  detail::check_finite(a.values, a.nnz, name + " values");
}

#define SHRINK_INSTANTIATE(V, I) template void validate<V, I>(const CsrView<V, I>&, const std::string&);
SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE)
#undef SHRINK_INSTANTIATE

}  // namespace shrink
