// Merge-path coordinate search (Merrill & Garland, SC16). The CSR product walks a path that merges
// the row ends (row_ptr[1..rows]) with the nonzero indices 0..nnz-1; splitting the path into equal
// pieces balances work whatever the row lengths. Shared by the CPU and CUDA twins.
#pragma once
#include <cstdint>

#include "kernels/ops/host_device.hpp"

namespace shrink::kernels {

// Returns the row coordinate i of the path point on `diagonal` (the nonzero coordinate is
// diagonal - i). row_end[r] = row_ptr[r + 1]. A row end sorts before a nonzero with the same
// index, so a row is finished before the next row's first nonzero is taken.
template <class I>
SHRINK_HD std::int64_t merge_path_row(std::int64_t diagonal, const I* row_end, std::int64_t rows,
                                         std::int64_t nnz) {
  std::int64_t lo = diagonal > nnz ? diagonal - nnz : 0;
  std::int64_t hi = diagonal < rows ? diagonal : rows;
  while (lo < hi) {
    const std::int64_t mid = (lo + hi) >> 1;
    if (static_cast<std::int64_t>(row_end[mid]) <= diagonal - mid - 1) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

}  // namespace shrink::kernels
