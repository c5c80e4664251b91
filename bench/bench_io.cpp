// Matrix Market reading speed in MB/s of file text: to COO (what fast_matrix_market's published
// figures measure) and to CSR, on 1 and 2 threads. scripts/bench_mm_peers.py times SciPy and
// fast_matrix_market on the same file.
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "bench/bench_common.hpp"

namespace shrink::bench {
namespace {

const std::string& mm_text() {
  static const std::string text = [] {
    // About 30 MB: 1.2M entries of a uniform random matrix, written by our writer.
    const auto a = generate_uniform<double, std::int32_t>(100000, 100000, 12, 9);
    const auto path = (std::filesystem::temp_directory_path() /
                       ("shrink_bench_" + std::to_string(::getpid()) + ".mtx")).string();
    write_matrix_market(path, a);
    std::string t = read_file(path);
    if (const char* keep = std::getenv("SHRINK_BENCH_KEEP_MTX")) {
      std::filesystem::rename(path, keep);
    } else {
      std::filesystem::remove(path);
    }
    return t;
  }();
  return text;
}

enum class Target { Coo, Csr, CooFromFile, CsrFromFile };

void BM_MatrixMarketRead(benchmark::State& state, Target target) {
  const std::string& text = mm_text();
  const ReadOptions options{static_cast<int>(state.range(0))};
  const std::string path = (std::filesystem::temp_directory_path() / "shrink_bench_read.mtx").string();
  const bool from_file = target == Target::CooFromFile || target == Target::CsrFromFile;
  if (from_file) write_file_atomic(path, text);
  for (auto _ : state) {
    // From a path (page cache, mapping included) or from text already in memory.
    if (target == Target::CooFromFile) {
      auto coo = read_matrix_market_coo<double, std::int32_t>(path, options);
      benchmark::DoNotOptimize(coo.val.data());
    } else if (target == Target::CsrFromFile) {
      auto m = read_matrix_market<double, std::int32_t>(path, options);
      benchmark::DoNotOptimize(m.sparse.nnz());
    } else if (target == Target::Csr) {
      auto m = parse_matrix_market<double, std::int32_t>(text, "bench.mtx", options);
      benchmark::DoNotOptimize(m.sparse.nnz());
    } else {
      auto coo = parse_matrix_market_coo<double, std::int32_t>(text, "bench.mtx", options);
      benchmark::DoNotOptimize(coo.val.data());
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
  state.counters["MB/s"] =
      benchmark::Counter(static_cast<double>(text.size()) * 1e-6, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["file_MB"] = static_cast<double>(text.size()) * 1e-6;
  if (from_file) std::filesystem::remove(path);
}
BENCHMARK_CAPTURE(BM_MatrixMarketRead, coo, Target::Coo)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)
    ->Repetitions(3)->ReportAggregatesOnly(true)->UseRealTime();
BENCHMARK_CAPTURE(BM_MatrixMarketRead, coo_from_file, Target::CooFromFile)->Arg(1)->Arg(2)
    ->Unit(benchmark::kMillisecond)->Repetitions(3)->ReportAggregatesOnly(true)->UseRealTime();
BENCHMARK_CAPTURE(BM_MatrixMarketRead, csr_from_file, Target::CsrFromFile)->Arg(1)->Arg(2)
    ->Unit(benchmark::kMillisecond)->Repetitions(3)->ReportAggregatesOnly(true)->UseRealTime();
BENCHMARK_CAPTURE(BM_MatrixMarketRead, csr, Target::Csr)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)
    ->Repetitions(3)->ReportAggregatesOnly(true)->UseRealTime();

}  // namespace
}  // namespace shrink::bench
