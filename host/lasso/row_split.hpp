// A problem whose rows are split over several processes, each holding one block of rows (host/dist
// gives one over MPI). The solvers form every sum over rows on their own block, then complete it here;
// everything else (coefficients, lambdas, decisions) is replicated. No split (a null pointer) is one
// block holding every row.
#pragma once
#include <cstddef>
#include <initializer_list>
#include <vector>

#include "shrink/matrix.hpp"

namespace shrink::lasso_detail {

class RowSplit {
 public:
  virtual ~RowSplit() = default;
  virtual index_t total_rows() const = 0;
  // In place, host memory; every block receives the same result.
  virtual void sum(double* values, std::size_t count) const = 0;
  virtual void max(double* values, std::size_t count) const = 0;
  // The first block's values to every block: keeps replicated iterates bit-identical.
  virtual void broadcast(double* values, std::size_t count) const = 0;

  // Device memory moved without the host, on the context's stream, where the split has a device
  // transport (NCCL between GPUs); false when it has none, and the caller stages through the host.
  struct DeviceValues {
    void* data;
    std::size_t count;
    bool is_double;  // else float
  };
  // Sums every buffer in place, as one grouped collective.
  virtual bool sum_on_device(std::initializer_list<DeviceValues>) const { return false; }
  virtual bool broadcast_on_device(DeviceValues) const { return false; }
};

template <class V>
RowSplit::DeviceValues device_values(V* data, std::size_t count) {
  return {data, count, sizeof(V) == sizeof(double)};
}

// The same on vectors of any value type, staged through double (a float iterate, a device array's
// host copy).
template <class T>
void split_sum(const RowSplit* split, std::vector<T>& values) {
  if (!split) return;
  std::vector<double> d(values.begin(), values.end());
  split->sum(d.data(), d.size());
  for (std::size_t i = 0; i < d.size(); ++i) values[i] = static_cast<T>(d[i]);
}
template <class T>
void split_broadcast(const RowSplit* split, std::vector<T>& values) {
  if (!split) return;
  std::vector<double> d(values.begin(), values.end());
  split->broadcast(d.data(), d.size());
  for (std::size_t i = 0; i < d.size(); ++i) values[i] = static_cast<T>(d[i]);
}

}  // namespace shrink::lasso_detail
