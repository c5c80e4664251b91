// Counted collectives and the agreement on errors (comm.hpp).
#include "host/dist/comm.hpp"

#include <climits>
#include <cstdint>
#include <numeric>

#include "shrink/error.hpp"

namespace shrink::dist {

std::vector<RowRange> even_ranges(index_t total, int ranks) {
  std::vector<RowRange> out(static_cast<std::size_t>(ranks));
  const index_t base = total / ranks, extra = total % ranks;
  index_t at = 0;
  for (int r = 0; r < ranks; ++r) {
    const index_t size = base + (r < extra ? 1 : 0);
    out[r] = {at, at + size};
    at += size;
  }
  return out;
}

std::vector<RowRange> row_ranges(MPI_Comm comm, index_t local_rows) {
  const detail::Comm c(comm, nullptr);
  const auto counts = c.allgather(static_cast<std::int64_t>(local_rows));
  std::vector<RowRange> out(counts.size());
  index_t at = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    out[r] = {at, at + counts[r]};
    at += counts[r];
  }
  return out;
}

void agree_on_errors(MPI_Comm comm, const std::function<void()>& local) { detail::Comm(comm, nullptr).agree(local); }

namespace detail {

int checked_count(std::size_t count, const char* what) {
  if (count > static_cast<std::size_t>(INT_MAX))
    throw IndexOverflow(std::string(what) + ": " + std::to_string(count) +
                        " elements in one MPI message exceed INT_MAX");
  return static_cast<int>(count);
}

Comm::Comm(MPI_Comm comm, CommCounts* counts) : comm_(comm), counts_(counts) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) throw InvalidArgument("MPI is not initialized: call MPI_Init before shrink::dist");
  if (comm == MPI_COMM_NULL) throw InvalidArgument("comm is MPI_COMM_NULL");
  MPI_Comm_rank(comm, &rank_);
  MPI_Comm_size(comm, &size_);
}

void Comm::check_peers(bool failed_here) const {
  if (!guarded_ && !failed_here) return;
  int failed = failed_here ? 1 : 0;
  MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, comm_);
  if (counts_) ++counts_->status_checks;
  if (failed && !failed_here) throw PeerFailed{};
}

void Comm::sum(double* values, std::size_t count) const {
  check_peers();
  MPI_Allreduce(MPI_IN_PLACE, values, checked_count(count, "allreduce"), MPI_DOUBLE, MPI_SUM, comm_);
  count_sum(static_cast<std::int64_t>(count), static_cast<std::int64_t>(count * sizeof(double)));
}

void Comm::max(double* values, std::size_t count) const {
  check_peers();
  MPI_Allreduce(MPI_IN_PLACE, values, checked_count(count, "allreduce"), MPI_DOUBLE, MPI_MAX, comm_);
  if (counts_) {
    counts_->maxima.push_back(static_cast<std::int64_t>(count));
    counts_->bytes += static_cast<std::int64_t>(count * sizeof(double));
  }
}

void Comm::broadcast(double* values, std::size_t count, int root) const {
  check_peers();
  MPI_Bcast(values, checked_count(count, "broadcast"), MPI_DOUBLE, root, comm_);
  count_broadcast(static_cast<std::int64_t>(count), static_cast<std::int64_t>(count * sizeof(double)));
}

void Comm::count_sum(std::int64_t count, std::int64_t bytes) const {
  if (!counts_) return;
  counts_->sums.push_back(count);
  counts_->bytes += bytes;
}

void Comm::count_broadcast(std::int64_t count, std::int64_t bytes) const {
  if (!counts_) return;
  counts_->broadcasts.push_back(count);
  counts_->bytes += bytes;
}

void Comm::count_device_transport() const {
  if (counts_) counts_->device_transport = true;
}

void Comm::count_other(std::int64_t bytes) const {
  if (!counts_) return;
  ++counts_->other_collectives;
  counts_->bytes += bytes;
}

std::vector<std::int64_t> Comm::allgather(std::int64_t mine) const {
  std::vector<std::int64_t> all(static_cast<std::size_t>(size_));
  MPI_Allgather(&mine, 1, MPI_INT64_T, all.data(), 1, MPI_INT64_T, comm_);
  count_other(sizeof(std::int64_t));
  return all;
}

std::vector<double> Comm::allgather(const std::vector<double>& mine) const {
  const auto sizes = allgather(static_cast<std::int64_t>(mine.size()));
  std::vector<int> counts(sizes.size()), displs(sizes.size());
  std::int64_t total = 0;
  for (std::size_t r = 0; r < sizes.size(); ++r) {
    counts[r] = checked_count(static_cast<std::size_t>(sizes[r]), "allgather");
    displs[r] = checked_count(static_cast<std::size_t>(total), "allgather");
    total += sizes[r];
  }
  std::vector<double> all(static_cast<std::size_t>(total));
  MPI_Allgatherv(mine.data(), counts[rank_], MPI_DOUBLE, all.data(), counts.data(), displs.data(), MPI_DOUBLE, comm_);
  count_other(static_cast<std::int64_t>(mine.size() * sizeof(double)));
  return all;
}

namespace {

[[noreturn]] void throw_kind(ErrorKind kind, const std::string& message) {
  switch (kind) {
    case ErrorKind::InvalidArgument: throw InvalidArgument(message);
    case ErrorKind::DimensionMismatch: throw DimensionMismatch(message);
    case ErrorKind::IndexOutOfRange: throw IndexOutOfRange(message);
    case ErrorKind::InvalidStructure: throw InvalidStructure(message);
    case ErrorKind::NonFinite: throw NonFinite(message);
    case ErrorKind::IndexOverflow: throw IndexOverflow(message);
    case ErrorKind::OutOfMemory: throw OutOfMemory(message);
    case ErrorKind::CudaError: throw CudaError(message);
    case ErrorKind::NotCompiled: throw NotCompiled(message);
    case ErrorKind::NoDevice: throw NoDevice(message);
    case ErrorKind::IoError: throw IoError(message);
    default: throw Error(kind, message);
  }
}

}  // namespace

void Comm::agree(const std::function<void()>& local) const {
  int kind = -1;
  std::string message;
  try {
    local();
  } catch (const Error& e) {
    kind = static_cast<int>(e.kind());
    message = e.what();
  } catch (const std::bad_alloc&) {
    kind = static_cast<int>(ErrorKind::OutOfMemory);
    message = "out of host memory";
  } catch (const std::exception& e) {
    kind = static_cast<int>(ErrorKind::InvalidArgument);
    message = e.what();
  }
  int first = kind >= 0 ? rank_ : size_;
  MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN, comm_);
  count_other(sizeof(int));
  if (first == size_) return;
  // The failing rank's kind and message to everyone.
  long long header[2] = {kind, static_cast<long long>(message.size())};
  MPI_Bcast(header, 2, MPI_LONG_LONG, first, comm_);
  message.resize(static_cast<std::size_t>(header[1]));
  MPI_Bcast(message.data(), checked_count(message.size(), "error message"), MPI_CHAR, first, comm_);
  throw_kind(static_cast<ErrorKind>(header[0]), "rank " + std::to_string(first) + ": " + message);
}

}  // namespace detail
}  // namespace shrink::dist
