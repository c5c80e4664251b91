// Distributed CSR products (dist.hpp): a ghost plan built once, neighbourhood collectives, interior
// rows computed while the halo is in flight.
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <string>

#include "host/dist/comm.hpp"
#include "kernels/ops/instantiate.hpp"
#include "shrink/error.hpp"

namespace shrink::dist {
namespace {

// The rank owning global column j (ranges in rank order, possibly empty).
int owner(const std::vector<RowRange>& ranges, index_t j) {
  const auto it = std::upper_bound(ranges.begin(), ranges.end(), j,
                                   [](index_t v, const RowRange& r) { return v < r.end; });
  return static_cast<int>(it - ranges.begin());
}

template <class I>
std::vector<int> as_int(const std::vector<I>& v, const char* what) {
  std::vector<int> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = detail::checked_count(static_cast<std::size_t>(v[i]), what);
  return out;
}

std::vector<int> displacements(const std::vector<int>& counts) {
  std::vector<int> d(counts.size(), 0);
  for (std::size_t i = 1; i < counts.size(); ++i) d[i] = d[i - 1] + counts[i - 1];
  return d;
}

template <class V>
MPI_Datatype mpi_type() {
  return std::is_same_v<V, double> ? MPI_DOUBLE : MPI_FLOAT;
}

}  // namespace

template <class V, class I>
DistributedCsr<V, I>::DistributedCsr(MPI_Comm comm, const CsrView<V, I>& a, index_t global_cols,
                                     std::vector<RowRange> column_ranges)
    : comm_(comm) {
  const detail::Comm c(comm, nullptr);
  rank_ = c.rank();
  const int ranks = c.size();
  c.agree([&] {
    if (a.space != MemorySpace::Host) throw InvalidArgument("DistributedCsr needs the rows in host memory");
    if (a.cols != global_cols)
      throw DimensionMismatch("this rank's rows have " + std::to_string(a.cols) + " columns but global_cols is " +
                              std::to_string(global_cols));
    validate(a, "A (rank " + std::to_string(rank_) + "'s rows)");
    if (!column_ranges.empty()) {
      if (static_cast<int>(column_ranges.size()) != ranks)
        throw DimensionMismatch("column_ranges has " + std::to_string(column_ranges.size()) + " entries for " +
                                std::to_string(ranks) + " ranks");
      index_t at = 0;
      for (const auto& r : column_ranges) {
        if (r.begin != at || r.end < r.begin)
          throw InvalidArgument("column_ranges must tile [0, " + std::to_string(global_cols) + ") in rank order");
        at = r.end;
      }
      if (at != global_cols)
        throw InvalidArgument("column_ranges cover " + std::to_string(at) + " columns, not " + std::to_string(global_cols));
    }
  });
  rows_ = row_ranges(comm, a.rows);
  const index_t total_rows = rows_.back().end;
  if (column_ranges.empty()) column_ranges = total_rows == global_cols ? rows_ : even_ranges(global_cols, ranks);
  cols_ = std::move(column_ranges);
  const RowRange mine = cols_[rank_];
  local_cols_ = mine.size();

  // Ghosts: every column outside our range that a local entry touches, sorted (so grouped by owner).
  for (index_t e = 0; e < a.nnz; ++e) {
    const index_t j = a.col_idx[e];
    if (j < mine.begin || j >= mine.end) ghost_cols_.push_back(j);
  }
  std::sort(ghost_cols_.begin(), ghost_cols_.end());
  ghost_cols_.erase(std::unique(ghost_cols_.begin(), ghost_cols_.end()), ghost_cols_.end());
  std::vector<std::int64_t> need(static_cast<std::size_t>(ranks), 0);
  for (const index_t j : ghost_cols_) ++need[owner(cols_, j)];
  std::vector<std::int64_t> give(static_cast<std::size_t>(ranks), 0);
  MPI_Alltoall(need.data(), 1, MPI_INT64_T, give.data(), 1, MPI_INT64_T, comm);
  // The column indices each owner must send us (setup only: a dense alltoallv once).
  const auto need_counts = as_int(need, "ghosts"), give_counts = as_int(give, "ghosts");
  const auto need_displs = displacements(need_counts), give_displs = displacements(give_counts);
  std::vector<std::int64_t> asked(static_cast<std::size_t>(std::accumulate(give.begin(), give.end(), std::int64_t{0})));
  std::vector<std::int64_t> ghosts64(ghost_cols_.begin(), ghost_cols_.end());
  MPI_Alltoallv(ghosts64.data(), need_counts.data(), need_displs.data(), MPI_INT64_T, asked.data(), give_counts.data(),
                give_displs.data(), MPI_INT64_T, comm);
  for (int r = 0; r < ranks; ++r) {
    if (need[r] > 0) {
      recv_from_.push_back(r);
      recv_counts_.push_back(need_counts[r]);
    }
    if (give[r] > 0) {
      send_to_.push_back(r);
      send_counts_.push_back(give_counts[r]);
    }
  }
  recv_displs_ = displacements(recv_counts_);
  send_displs_ = displacements(send_counts_);
  send_index_.resize(asked.size());
  for (std::size_t t = 0; t < asked.size(); ++t) send_index_[t] = static_cast<index_t>(asked[t]) - mine.begin;
  // Forward (A x): we receive ghosts from their owners; backward (A^T x): we send them contributions.
  MPI_Dist_graph_create_adjacent(comm, static_cast<int>(recv_from_.size()), recv_from_.data(), MPI_UNWEIGHTED,
                                 static_cast<int>(send_to_.size()), send_to_.data(), MPI_UNWEIGHTED, MPI_INFO_NULL, 0,
                                 &forward_);
  MPI_Dist_graph_create_adjacent(comm, static_cast<int>(send_to_.size()), send_to_.data(), MPI_UNWEIGHTED,
                                 static_cast<int>(recv_from_.size()), recv_from_.data(), MPI_UNWEIGHTED, MPI_INFO_NULL,
                                 0, &backward_);

  // The local block renumbered, entries kept in their stored order; rows split interior/boundary.
  row_ptr_.assign(a.row_ptr, a.row_ptr + a.rows + 1);
  col_.resize(static_cast<std::size_t>(a.nnz));
  values_ = a.values;
  for (index_t i = 0; i < a.rows; ++i) {
    bool interior = true;
    for (auto e = a.row_ptr[i]; e < a.row_ptr[i + 1]; ++e) {
      const index_t j = a.col_idx[e];
      if (j >= mine.begin && j < mine.end) {
        col_[e] = j - mine.begin;
      } else {
        interior = false;
        col_[e] = local_cols_ + (std::lower_bound(ghost_cols_.begin(), ghost_cols_.end(), j) - ghost_cols_.begin());
      }
    }
    (interior ? interior_ : boundary_).push_back(i);
  }
}

template <class V, class I>
DistributedCsr<V, I>::~DistributedCsr() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  if (forward_ != MPI_COMM_NULL) MPI_Comm_free(&forward_);
  if (backward_ != MPI_COMM_NULL) MPI_Comm_free(&backward_);
}

template <class V, class I>
void DistributedCsr<V, I>::multiply(const V* x, V* y) const {
  // x extended by the ghosts: [owned | ghosts].
  std::vector<V> ext(static_cast<std::size_t>(local_cols_) + ghost_cols_.size());
  std::copy_n(x, local_cols_, ext.begin());
  std::vector<V> send(send_index_.size());
  for (std::size_t t = 0; t < send.size(); ++t) send[t] = x[send_index_[t]];
  MPI_Request request;
  MPI_Ineighbor_alltoallv(send.data(), send_counts_.data(), send_displs_.data(), mpi_type<V>(),
                          ext.data() + local_cols_, recv_counts_.data(), recv_displs_.data(), mpi_type<V>(), forward_,
                          &request);
  auto row = [&](index_t i) {
    V s = V(0);
    for (auto e = row_ptr_[i]; e < row_ptr_[i + 1]; ++e) s += values_[e] * ext[col_[e]];
    y[i] = s;
  };
  // Interior rows read owned entries only: computed while the ghosts travel.
#pragma omp parallel for schedule(static)
  for (std::size_t t = 0; t < interior_.size(); ++t) row(interior_[t]);
  MPI_Wait(&request, MPI_STATUS_IGNORE);
#pragma omp parallel for schedule(static)
  for (std::size_t t = 0; t < boundary_.size(); ++t) row(boundary_[t]);
}

template <class V, class I>
void DistributedCsr<V, I>::multiply_transpose(const V* x, V* y) const {
  // Contributions to owned columns go to y; to ghosts, to their owners, who add them in rank order.
  std::vector<V> ext(static_cast<std::size_t>(local_cols_) + ghost_cols_.size(), V(0));
  const index_t rows = static_cast<index_t>(row_ptr_.size()) - 1;
  for (index_t i = 0; i < rows; ++i)
    for (auto e = row_ptr_[i]; e < row_ptr_[i + 1]; ++e) ext[col_[e]] += values_[e] * x[i];
  std::vector<V> received(send_index_.size());
  MPI_Neighbor_alltoallv(ext.data() + local_cols_, recv_counts_.data(), recv_displs_.data(), mpi_type<V>(),
                         received.data(), send_counts_.data(), send_displs_.data(), mpi_type<V>(), backward_);
  // Our own rows' part first, then each sender's in rank order: a fixed order for a given number of ranks.
  std::copy_n(ext.begin(), local_cols_, y);
  for (std::size_t t = 0; t < received.size(); ++t) y[send_index_[t]] += received[t];
}

#define SHRINK_INSTANTIATE_DIST_SPMV(V, I) template class DistributedCsr<V, I>;
SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE_DIST_SPMV)

}  // namespace shrink::dist
