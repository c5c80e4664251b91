// Splitting n rows into parts (the readers' `part` of `parts`, read_matrix_part in io.hpp).
#pragma once
#include "shrink/matrix.hpp"

namespace shrink::io_detail {

// Part `part` of `parts` of n rows begins at this row: [part n / parts, (part + 1) n / parts)
// without overflow.
inline index_t split_point(index_t n, int part, int parts) { return n / parts * part + n % parts * part / parts; }

}  // namespace shrink::io_detail
