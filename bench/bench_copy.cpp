// The bandwidth ceiling: a plain copy (bytes read + written), host with all threads and device.
#include <omp.h>

#include <cstring>

#include "bench/bench_common.hpp"

namespace shrink::bench {
namespace {

void BM_HostCopy(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0)) << 20;  // doubles
  Array<double> a(n), b(n);
  for (std::size_t i = 0; i < n; ++i) a[i] = static_cast<double>(i);
  const Context& ctx = *context_for(Backend::Cpu);
  run_timed(state, ctx, 2.0 * n * sizeof(double), [&] {
    const double* src = a.data();
    double* dst = b.data();
#pragma omp parallel for schedule(static)
    for (std::size_t i = 0; i < n; ++i) dst[i] = src[i];
  });
  state.counters["threads"] = omp_get_max_threads();
}
BENCHMARK(BM_HostCopy)->Arg(64)->UseManualTime()->Repetitions(5)->ReportAggregatesOnly(true);

void BM_DeviceCopy(benchmark::State& state) {
  const Context* ctx = context_for(Backend::Cuda);
  if (!ctx) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const auto n = static_cast<std::size_t>(state.range(0)) << 20;
  Array<double> a(*ctx, n, MemorySpace::Device), b(*ctx, n, MemorySpace::Device);
  run_timed(state, *ctx, 2.0 * n * sizeof(double), [&] { copy(*ctx, a.view(), b.view()); });
}
BENCHMARK(BM_DeviceCopy)->Arg(256)->UseManualTime()->Repetitions(5)->ReportAggregatesOnly(true);

}  // namespace
}  // namespace shrink::bench
