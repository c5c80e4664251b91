// Soft-threshold, the fused proximal-gradient step and the fused FISTA step against their byte
// floor (the copy benchmark in the same binary gives the ceiling).
#include "bench/bench_common.hpp"

namespace shrink::bench {
namespace {

enum class Kind { SoftThreshold, ProxGrad, Fista };

void BM_Prox(benchmark::State& state, Backend backend, Kind kind) {
  const Context* ctx = context_for(backend);
  if (!ctx) return state.SkipWithError("backend not available");
  const index_t n = state.range(0) << 20;
  const auto v = generate_vector<double>(n, 1).copy_to(*ctx, ctx->memory_space());
  const auto g = generate_vector<double>(n, 2).copy_to(*ctx, ctx->memory_space());
  auto x = generate_vector<double>(n, 3).copy_to(*ctx, ctx->memory_space());
  auto y = generate_vector<double>(n, 4).copy_to(*ctx, ctx->memory_space());
  const Penalty<double> pen{0.1, 0.01, {}, false};
  // Bytes: soft-threshold reads v, writes x; prox-grad reads v, g, writes x; FISTA reads y, g, x
  // and writes y, x.
  const double per = kind == Kind::SoftThreshold ? 2 : (kind == Kind::ProxGrad ? 3 : 5);
  run_timed(state, *ctx, per * n * sizeof(double), [&] {
    switch (kind) {
      case Kind::SoftThreshold: soft_threshold(*ctx, v.view(), 0.1, {}, false, x.view()); break;
      case Kind::ProxGrad: prox_grad_step(*ctx, v.view(), g.view(), 0.5, pen, x.view()); break;
      case Kind::Fista: fista_step(*ctx, y.view(), g.view(), x.view(), 0.5, pen, 0.3); break;
    }
  });
}

#define SHRINK_PROX_BENCH(name, backend, kind)                                                  \
  BENCHMARK_CAPTURE(BM_Prox, name, backend, kind)->Arg(32)->UseManualTime()->Repetitions(5)     \
      ->ReportAggregatesOnly(true)
SHRINK_PROX_BENCH(cpu_soft_threshold, Backend::Cpu, Kind::SoftThreshold);
SHRINK_PROX_BENCH(cpu_prox_grad, Backend::Cpu, Kind::ProxGrad);
SHRINK_PROX_BENCH(cpu_fista, Backend::Cpu, Kind::Fista);
SHRINK_PROX_BENCH(cuda_soft_threshold, Backend::Cuda, Kind::SoftThreshold);
SHRINK_PROX_BENCH(cuda_prox_grad, Backend::Cuda, Kind::ProxGrad);
SHRINK_PROX_BENCH(cuda_fista, Backend::Cuda, Kind::Fista);

}  // namespace
}  // namespace shrink::bench
