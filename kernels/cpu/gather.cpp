// CPU twins of the gather family: rows copied to or from a dense block, and dense rows taken out of
// a CSR matrix. One writer per output row.
#include <algorithm>
#include <cstring>

#include "kernels/cpu/launch.hpp"
#include "kernels/common/elementwise.hpp"
#include "kernels/ops/gather_kernels.hpp"

namespace shrink::kernels::cpu {

namespace {
constexpr index_t kGrain = 16384;  // copy work: cheap per item

template <class V>
V* row(DenseView<V> m, index_t i) {
  return m.data + i * m.ld;
}
}  // namespace

template <class V>
void gather_rows(const Context& ctx, DenseView<const V> src, const index_t* rows, DenseView<V> dst) {
#pragma omp parallel for num_threads(threads_for(ctx, dst.rows * dst.cols, kGrain))
  for (index_t i = 0; i < dst.rows; ++i)
    std::memcpy(row(dst, i), src.data + rows[i] * src.ld, sizeof(V) * static_cast<std::size_t>(dst.cols));
}

template <class V>
void scatter_rows(const Context& ctx, DenseView<const V> src, const index_t* rows, DenseView<V> dst) {
#pragma omp parallel for num_threads(threads_for(ctx, src.rows * src.cols, kGrain))
  for (index_t i = 0; i < src.rows; ++i)
    std::memcpy(dst.data + rows[i] * dst.ld, src.data + i * src.ld, sizeof(V) * static_cast<std::size_t>(src.cols));
}

template <class V, class I>
void csr_gather_rows_dense(const Context& ctx, const CsrView<V, I>& a, const index_t* rows, index_t col_first,
                           DenseView<V> dst) {
  const I first = static_cast<I>(col_first), last = static_cast<I>(col_first + dst.cols);
#pragma omp parallel for num_threads(threads_for(ctx, dst.rows * dst.cols))
  for (index_t t = 0; t < dst.rows; ++t) {
    V* out = dst.data + t * dst.ld;
    std::fill(out, out + dst.cols, V(0));
    const I* begin = a.col_idx + a.row_ptr[rows[t]];
    const I* end = a.col_idx + a.row_ptr[rows[t] + 1];
    // Columns increase within a row: find the first in range, stop at the first past it.
    for (const I* e = std::lower_bound(begin, end, first); e != end && *e < last; ++e)
      out[*e - first] = a.values[e - a.col_idx];
  }
}

#include "kernels/common/block_bodies.inl"

SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_GATHER)
SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE_GATHER_SPARSE)

}  // namespace shrink::kernels::cpu
