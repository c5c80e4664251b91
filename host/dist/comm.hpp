// The communicator as the distributed code uses it: counted collectives, the agreement on errors,
// and the RowSplit the Lasso solvers complete their sums through.
#pragma once
#include <mpi.h>

#include <exception>
#include <stdexcept>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "host/lasso/row_split.hpp"
#include "shrink/dist.hpp"

namespace shrink::dist::detail {

class Comm {
 public:
  Comm(MPI_Comm comm, CommCounts* counts);
  int rank() const noexcept { return rank_; }
  int size() const noexcept { return size_; }
  MPI_Comm get() const noexcept { return comm_; }

  void sum(double* values, std::size_t count) const;
  void max(double* values, std::size_t count) const;
  void broadcast(double* values, std::size_t count, int root = 0) const;
  // Every rank's `mine` concatenated in rank order.
  std::vector<double> allgather(const std::vector<double>& mine) const;
  std::vector<std::int64_t> allgather(std::int64_t mine) const;
  void count_other(std::int64_t bytes) const;
  // Records a sum or broadcast (MPI's here, NCCL's in nccl.cpp).
  void count_sum(std::int64_t count, std::int64_t bytes) const;
  void count_broadcast(std::int64_t count, std::int64_t bytes) const;
  void count_device_transport() const;

  // Runs `local` (validation, or work with no collectives in it), then agrees: when it threw on any
  // rank, every rank throws the error of the lowest such rank, its kind and message (prefixed with
  // the rank). One allreduce when all went well.
  void agree(const std::function<void()>& local) const;

  // Runs `work`, whose collectives go through this Comm (sum, max, broadcast, the device sums), so
  // that an error on some ranks in the middle of it (out of memory, a device error) becomes the same
  // error on every rank instead of a hang. Each of those collectives is preceded by a status
  // allreduce of one int, and the work ends with one more: a failing rank announces its failure in
  // the status allreduce the others meet next (the ranks go through the same collectives in the same
  // order, so it is the one it would have entered next), and every rank then throws the lowest
  // failing rank's error, as agree() does.
  template <class Work>
  auto guarded(Work&& work) const -> decltype(work()) {
    std::exception_ptr error;
    {
      const StatusChecks on(*this);
      try {
        auto result = work();
        check_peers(false);  // a rank that failed after the last collective is heard here
        return result;
      } catch (const PeerFailed&) {
      } catch (...) {
        error = std::current_exception();
        check_peers(true);
      }
    }
    agree([&] {
      if (error) std::rethrow_exception(error);
    });
    throw std::logic_error("Comm::guarded: a failure was announced but no rank reported it");
  }
  // The status allreduce before a collective inside guarded(): PeerFailed when another rank failed.
  void check_peers(bool failed_here = false) const;

 private:
  struct PeerFailed {};  // not a std::exception: nothing on the way out catches it by accident
  struct StatusChecks {  // status allreduces on for the scope of guarded()
    explicit StatusChecks(const Comm& c) : comm(c) { comm.guarded_ = true; }
    ~StatusChecks() { comm.guarded_ = false; }
    const Comm& comm;
  };

  MPI_Comm comm_;
  CommCounts* counts_;
  int rank_ = 0, size_ = 1;
  mutable bool guarded_ = false;
};

// Sums and broadcasts of a CUDA context's device buffers between the ranks' GPUs with NCCL, on the
// context's stream (nccl.cpp). open() is collective and gives every rank the same answer: null when
// NCCL is not built, the context is a CPU one, SHRINK_NCCL=0 is set on any rank, two ranks share a
// device (NCCL wants one rank per GPU), or NCCL fails to start on any rank; the solvers then stage
// device buffers through the host and MPI.
class DeviceCollectives {
 public:
  static std::unique_ptr<DeviceCollectives> open(const Comm& comm, const Context& ctx);
  virtual ~DeviceCollectives() = default;
  virtual void sum(std::initializer_list<lasso_detail::RowSplit::DeviceValues> buffers) const = 0;
  virtual void broadcast(lasso_detail::RowSplit::DeviceValues buffer) const = 0;
};

// The Lasso solvers' sums over rows, over the ranks.
class MpiRowSplit final : public lasso_detail::RowSplit {
 public:
  MpiRowSplit(const Comm& comm, index_t total_rows, const DeviceCollectives* device = nullptr)
      : comm_(comm), total_(total_rows), device_(device) {}
  index_t total_rows() const override { return total_; }
  void sum(double* values, std::size_t count) const override { comm_.sum(values, count); }
  void max(double* values, std::size_t count) const override { comm_.max(values, count); }
  void broadcast(double* values, std::size_t count) const override { comm_.broadcast(values, count); }
  bool sum_on_device(std::initializer_list<DeviceValues> buffers) const override {
    if (!device_) return false;
    device_->sum(buffers);
    return true;
  }
  bool broadcast_on_device(DeviceValues buffer) const override {
    if (!device_) return false;
    device_->broadcast(buffer);
    return true;
  }

 private:
  const Comm& comm_;
  index_t total_;
  const DeviceCollectives* device_;
};

// MPI_Count-safe element counts: a message over INT_MAX elements is an error, not a wrap.
int checked_count(std::size_t count, const char* what);

}  // namespace shrink::dist::detail
