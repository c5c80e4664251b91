// Deterministic test and benchmark matrices. The same seed gives the same matrix whatever the
// thread count (each row draws from its own counter-based stream).
#pragma once
#include <cstdint>

#include "shrink/matrix.hpp"

namespace shrink {

// n x n band with `half_width` entries on each side of the diagonal (a 1-D stencil when 1).
template <class V, class I = std::int32_t>
CsrMatrix<V, I> generate_banded(index_t n, index_t half_width, std::uint64_t seed = 1);
// rows x cols with `per_row` distinct uniformly random columns per row.
template <class V, class I = std::int32_t>
CsrMatrix<V, I> generate_uniform(index_t rows, index_t cols, index_t per_row, std::uint64_t seed = 1);
// rows x cols whose row lengths follow a Pareto law with tail index `exponent` (> 1) and the given
// mean, capped at cols: a few very long rows among many short ones (web/social graphs).
template <class V, class I = std::int32_t>
CsrMatrix<V, I> generate_power_law(index_t rows, index_t cols, double mean_per_row,
                                   double exponent = 1.5, std::uint64_t seed = 1);
// Vector of n values uniform in [-1, 1).
template <class V>
Array<V> generate_vector(index_t n, std::uint64_t seed = 1);

}  // namespace shrink
