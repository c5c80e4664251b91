// What the C face costs: the same call through shrink.h and through the C++ API, on a call that is
// almost all overhead (soft-threshold of 16 values) and on one that is almost all work (an SpMV with
// 10M non-zeros). The C wrapper converts views, checks them and guards against exceptions.
#include "bench/bench_common.hpp"
#include "shrink/shrink.h"

namespace shrink::bench {
namespace {

void BM_SoftThreshold16(benchmark::State& state, bool through_c) {
  const Context cpp(ContextOptions{Backend::Cpu, 0, 1, true, false});
  shrink_context_options_t o;
  shrink_context_options_init(&o, sizeof(o));
  o.backend = SHRINK_BACKEND_CPU;
  o.cpu_threads = 1;
  o.honour_environment = 0;
  shrink_context_t c = nullptr;
  shrink_context_create(&o, &c);
  std::vector<double> v(16), x(16);
  for (int i = 0; i < 16; ++i) v[i] = 0.1 * (i - 8);
  const shrink_vector_t cv{SHRINK_F64, SHRINK_MEMORY_HOST, 16, v.data()};
  shrink_vector_t cx{SHRINK_F64, SHRINK_MEMORY_HOST, 16, x.data()};
  for (auto _ : state) {
    if (through_c) shrink_soft_threshold(c, &cv, 0.25, nullptr, 0, &cx);
    else soft_threshold<double>(cpp, VectorView<const double>(v), 0.25, {}, false, VectorView<double>(x));
    benchmark::DoNotOptimize(x.data());
  }
  shrink_context_destroy(c);
}
BENCHMARK_CAPTURE(BM_SoftThreshold16, cpp, false)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK_CAPTURE(BM_SoftThreshold16, c, true)->Repetitions(5)->ReportAggregatesOnly(true);

void BM_Spmv10M(benchmark::State& state, bool through_c) {
  const Context cpp(ContextOptions{Backend::Cpu, 0, 0, true, false});
  shrink_context_options_t o;
  shrink_context_options_init(&o, sizeof(o));
  o.backend = SHRINK_BACKEND_CPU;
  o.honour_environment = 0;
  shrink_context_t c = nullptr;
  shrink_context_create(&o, &c);
  const auto a = generate_uniform<double, std::int32_t>(1 << 20, 1 << 20, 10, 3);
  const auto x = generate_vector<double>(a.cols(), 4);
  auto y = generate_vector<double>(a.rows(), 5);
  const shrink_sparse_t ca{SHRINK_CSR, SHRINK_F64, SHRINK_I32, SHRINK_MEMORY_HOST, a.rows(), a.cols(), a.nnz(),
                           a.row_ptr().data(), a.col_idx().data(), a.values().data()};
  const shrink_vector_t cx{SHRINK_F64, SHRINK_MEMORY_HOST, x.size() == 0 ? 0 : static_cast<int64_t>(x.size()),
                           const_cast<double*>(x.data())};
  shrink_vector_t cy{SHRINK_F64, SHRINK_MEMORY_HOST, static_cast<int64_t>(y.size()), y.data()};
  for (auto _ : state) {
    if (through_c) shrink_spmv(c, SHRINK_OP_N, 1.0, &ca, &cx, 0.0, &cy);
    else spmv(cpp, Op::NoTranspose, 1.0, a.view(), x.view(), 0.0, y.view());
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(a.nnz() * 12 + a.rows() * 12));
  shrink_context_destroy(c);
}
BENCHMARK_CAPTURE(BM_Spmv10M, cpp, false)->Unit(benchmark::kMillisecond)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK_CAPTURE(BM_Spmv10M, c, true)->Unit(benchmark::kMillisecond)->Repetitions(5)->ReportAggregatesOnly(true);

}  // namespace
}  // namespace shrink::bench
