// G = A^T A (the Gram solver's build) through shrink's `gram` against one OpenBLAS SYRK on the same
// threads, in the same run. On 2 to 4 threads `gram` sums column tiles with single-threaded BLAS
// calls (kernels/cpu/blas.cpp); elsewhere it is that SYRK. Reports GFLOP/s (n p^2 flops: the lower
// triangle's n p (p + 1) / 2 multiply-adds).
#include <cblas.h>
#include <omp.h>

#include "bench/bench_common.hpp"

namespace shrink::bench {
namespace {

void BM_Gram(benchmark::State& state, bool library) {
  const Context* ctx = context_for(Backend::Cpu);
  if (!ctx) return state.SkipWithError("no CPU context");
  const index_t n = state.range(0), p = state.range(1);
  const auto values = generate_vector<double>(n * p, 5);
  DenseMatrix<double> a(n, p, Layout::ColMajor), c(p, p, Layout::ColMajor);
  std::copy_n(values.data(), static_cast<std::size_t>(n * p), a.data());
  omp_set_num_threads(ctx->cpu_threads());
  run_timed(state, *ctx, 8.0 * static_cast<double>(n * p + p * p), [&] {
    if (library)
      cblas_dsyrk(CblasColMajor, CblasLower, CblasTrans, static_cast<int>(p), static_cast<int>(n), 1.0, a.data(),
                  static_cast<int>(n), 0.0, c.data(), static_cast<int>(p));
    else
      gram<double>(*ctx, 1.0, DenseView<const double>(a.view()), 0.0, c.view());
  });
  state.counters["GFLOP/s"] = benchmark::Counter(static_cast<double>(n) * static_cast<double>(p) * static_cast<double>(p) * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = ctx->cpu_threads();
}

void gram_shapes(benchmark::internal::Benchmark* b) {
  for (auto [n, p] : {std::pair<int, int>{2000, 2000}, {1500, 1000}, {5000, 1000}, {400, 4000}, {10000, 400}})
    b->Args({n, p});
  b->UseManualTime()->Repetitions(5)->ReportAggregatesOnly(true);
}
BENCHMARK_CAPTURE(BM_Gram, shrink, false)->Apply(gram_shapes);
BENCHMARK_CAPTURE(BM_Gram, openblas_syrk, true)->Apply(gram_shapes);

}  // namespace
}  // namespace shrink::bench
