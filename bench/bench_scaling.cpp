// What a second core gives a memory-bound sweep on this machine. A Lasso path on two threads runs
// two lanes, each sweeping its own residual over the same X (host/lasso/path.cpp), so two lanes can
// be at most 2 / (per-thread time at Threads(2) / time at Threads(1)) times one. The sweep is the
// library's own column reads (sparse_dot, sparse_axpy of host/lasso/design.hpp) over every column
// of a 30000 x 3000 X with 90 entries a column at random rows (counts_ones_std's shape).
#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "bench/bench_common.hpp"
#include "host/lasso/design.hpp"

namespace shrink::bench {
namespace {

struct SweepData {
  static constexpr index_t kRows = 30000, kCols = 3000, kPerColumn = 90;
  std::vector<std::int32_t> row_ptr, rows;
  std::vector<double> values;
  SweepData() {
    std::mt19937_64 rng(7);
    std::uniform_int_distribution<std::int32_t> row(0, kRows - 1);
    row_ptr.push_back(0);
    for (index_t j = 0; j < kCols; ++j) {
      std::vector<std::int32_t> col;
      while (static_cast<index_t>(col.size()) < kPerColumn) col.push_back(row(rng));
      std::sort(col.begin(), col.end());
      col.erase(std::unique(col.begin(), col.end()), col.end());
      for (auto i : col) {
        rows.push_back(i);
        values.push_back(1.0 + static_cast<double>(i % 7));
      }
      row_ptr.push_back(static_cast<std::int32_t>(rows.size()));
    }
  }
  CsrView<double, std::int32_t> columns() const {  // X^T: a row per column of X
    return {kCols, kRows, static_cast<index_t>(rows.size()), row_ptr.data(), rows.data(), values.data()};
  }
};

// Per thread: one sweep (a dot and an axpy on every column) on its own residual, over the shared X.
void BM_SparseSweep(benchmark::State& state) {
  static const SweepData data;
  const auto xt = data.columns();
  std::vector<double> r(SweepData::kRows);
  for (std::size_t i = 0; i < r.size(); ++i) r[i] = 1.0 / static_cast<double>(i + 1 + state.thread_index());
  for (auto _ : state) {
    for (index_t j = 0; j < SweepData::kCols; ++j) {
      const double d = lasso_detail::design_detail::sparse_dot(xt, j, nullptr, r.data());
      lasso_detail::design_detail::sparse_axpy(xt, j, -1e-9 * d, r.data());
    }
    benchmark::DoNotOptimize(r.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(data.rows.size()));  // entries
}
BENCHMARK(BM_SparseSweep)->Threads(1)->Threads(2)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);

}  // namespace
}  // namespace shrink::bench
