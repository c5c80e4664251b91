// Boundary checks shared by the host code. Each throws the specific shrink error, naming the
// argument and the sizes.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "shrink/error.hpp"
#include "shrink/context.hpp"
#include "shrink/matrix.hpp"

namespace shrink::detail {

std::string shape(index_t rows, index_t cols);

// A count (dimension or nnz) that index type I must be able to hold.
template <class I>
void check_fits_index(index_t value, const std::string& what) {
  if (value < 0) throw InvalidArgument(what + " must be >= 0, got " + std::to_string(value));
  if (static_cast<unsigned long long>(value) >
      static_cast<unsigned long long>(std::numeric_limits<I>::max()))
    throw IndexOverflow(what + " = " + std::to_string(value) + " does not fit a " +
                        std::to_string(sizeof(I) * 8) + "-bit index; use int64 indices");
}

// rows * cols without wrapping (IndexOverflow otherwise).
index_t checked_product(index_t rows, index_t cols, const std::string& what);

template <class V>
void check_finite(const V* values, index_t n, const std::string& what) {
  for (index_t i = 0; i < n; ++i)
    if (!std::isfinite(values[i]))
      throw NonFinite(what + "[" + std::to_string(i) + "] is " +
                      (std::isnan(values[i]) ? "NaN" : "Inf") + "; only finite values are accepted");
}

// Every entry of a host dense matrix; NonFinite names `what` and the entry otherwise.
template <class V>
void check_finite(DenseView<const V> m, const std::string& what) {
  for (index_t i = 0; i < m.rows; ++i)
    for (index_t j = 0; j < m.cols; ++j)
      if (!std::isfinite(m(i, j)))
        throw NonFinite(what + " entry (" + std::to_string(i) + ", " + std::to_string(j) + ") is " +
                        (std::isnan(m(i, j)) ? "NaN" : "Inf") + "; only finite values are accepted");
}

void check_vector_size(index_t size, index_t expected, const std::string& what,
                       const std::string& why);

// OutOfMemory when `bytes` (for `what`) exceed the memory limit (context.hpp); a double so that a
// size computed from untrusted input cannot wrap before it is checked.
using shrink::check_memory;

inline void check_space(MemorySpace have, const Context& ctx, const std::string& what) {
  if (have != ctx.memory_space())
    throw InvalidArgument(what + " is in " + to_string(have) + " memory but the " +
                          to_string(ctx.backend()) + " backend needs " +
                          to_string(ctx.memory_space()) + " memory; copy it with copy_to()");
}

// Argument checks of the public kernels: memory space, sizes, leading dimensions, finite scalars.
template <class T>
void check_vec(const Context& ctx, const VectorView<T>& v, index_t n, const char* name,
               const std::string& why) {
  check_space(v.space, ctx, name);
  check_vector_size(v.size, n, name, why);
  if (n > 0 && v.data == nullptr) throw InvalidArgument(std::string(name) + " is null");
}

template <class T>
void check_dense(const Context& ctx, const DenseView<T>& m, const char* name) {
  check_space(m.space, ctx, name);
  if (m.rows < 0 || m.cols < 0)
    throw InvalidArgument(std::string(name) + ": negative shape " + detail::shape(m.rows, m.cols));
  const index_t inner = m.layout == Layout::RowMajor ? m.cols : m.rows;
  if (m.ld < std::max<index_t>(inner, 1) && m.rows > 0 && m.cols > 0)
    throw InvalidArgument(std::string(name) + ": leading dimension " + std::to_string(m.ld) +
                          " is smaller than " + std::to_string(inner) + " for a " +
                          to_string(m.layout) + " " + detail::shape(m.rows, m.cols) + " matrix");
}

template <class V>
void check_scalar(V s, const char* name) {
  if (!std::isfinite(s))
    throw NonFinite(std::string(name) + " must be finite, got " + std::to_string(s));
}

}  // namespace shrink::detail
