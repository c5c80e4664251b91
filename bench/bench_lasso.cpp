// Lasso paths on the problems of scripts/make_lasso_problems.py (set SHRINK_BENCH_LASSO_DIR to the
// folder it wrote; the benchmarks skip otherwise). One full 100-lambda path to a relative duality gap
// of 1e-6 per iteration; the peers (glmnet, scikit-learn, celer, skglm) are timed on the same files
// by scripts/bench_lasso_peers.py. Counters: lambdas, total epochs, and the worst relative gap.
#include <cstdlib>
#include <filesystem>

#include "bench/bench_common.hpp"

namespace shrink::bench {
namespace {

std::string lasso_file(const char* name) {
  const char* dir = std::getenv("SHRINK_BENCH_LASSO_DIR");
  if (!dir) return {};
  const auto path = std::filesystem::path(dir) / name;
  return std::filesystem::exists(path) ? path.string() : std::string();
}

void report(benchmark::State& state, const LassoPath& path) {
  double worst = 0;
  std::int64_t epochs = 0;
  for (std::size_t l = 0; l < path.size(); ++l) {
    worst = std::max(worst, path.duality_gap[l] / path.objective[l]);
    epochs += path.iterations[l];
  }
  state.counters["lambdas"] = static_cast<double>(path.size());
  state.counters["epochs"] = static_cast<double>(epochs);
  state.counters["worst_rel_gap"] = worst;
  state.counters["not_converged"] = static_cast<double>(path.n_not_converged());
  state.SetLabel(to_string(path.solver));
}

template <class V>
void BM_LassoPath(benchmark::State& state, Backend backend, const char* problem, LassoSolver solver) {
  const Context* ctx = context_for(backend);
  const std::string x_file = lasso_file((std::string(problem) + (problem[0] == 'a' ? "_X.npy" : "_X.mtx")).c_str());
  const std::string y_file = lasso_file((std::string(problem) + "_y.txt").c_str());
  if (!ctx || x_file.empty() || y_file.empty()) {
    state.SkipWithError("no device, or SHRINK_BENCH_LASSO_DIR unset (scripts/make_lasso_problems.py)");
    return;
  }
  auto xf = read_matrix<V, std::int32_t>(x_file);
  const auto ym = read_columns<V>(y_file);
  const VectorView<const V> y(ym.data(), ym.rows());
  LassoOptions o;
  o.solver = solver;
  LassoPath path;
  for (auto _ : state) {
    if (xf.is_dense) path = lasso_path<V>(*ctx, xf.dense.view(), y, o);
    else path = lasso_path(*ctx, xf.sparse, y, o);
  }
  report(state, path);
}

void BM_LassoPath_f64(benchmark::State& s, Backend b, const char* p, LassoSolver v) { BM_LassoPath<double>(s, b, p, v); }
void BM_LassoPath_f32(benchmark::State& s, Backend b, const char* p, LassoSolver v) { BM_LassoPath<float>(s, b, p, v); }

#define SHRINK_LASSO_BENCH(name, precision, backend, problem, solver)                                  \
  BENCHMARK_CAPTURE(BM_LassoPath_##precision, name, backend, problem, solver)                          \
      ->Unit(benchmark::kMillisecond)->Iterations(3)
SHRINK_LASSO_BENCH(a_cpu_auto, f64, Backend::Cpu, "a", LassoSolver::Auto);
SHRINK_LASSO_BENCH(a_cpu_cd, f64, Backend::Cpu, "a", LassoSolver::CoordinateDescent);
SHRINK_LASSO_BENCH(b_cpu_cd, f64, Backend::Cpu, "b", LassoSolver::CoordinateDescent);
SHRINK_LASSO_BENCH(b_cpu_f32, f32, Backend::Cpu, "b", LassoSolver::CoordinateDescent);
SHRINK_LASSO_BENCH(c_cpu_cd, f64, Backend::Cpu, "c", LassoSolver::CoordinateDescent);
SHRINK_LASSO_BENCH(b_cuda_fista, f64, Backend::Cuda, "b", LassoSolver::ProximalGradient);
SHRINK_LASSO_BENCH(b_cuda_ws_gram, f64, Backend::Cuda, "b", LassoSolver::WorkingSetGram);
SHRINK_LASSO_BENCH(c_cuda_ws_gram, f64, Backend::Cuda, "c", LassoSolver::WorkingSetGram);
SHRINK_LASSO_BENCH(c_cuda_ws_gram_f32, f32, Backend::Cuda, "c", LassoSolver::WorkingSetGram);
SHRINK_LASSO_BENCH(c_cuda_fista, f64, Backend::Cuda, "c", LassoSolver::ProximalGradient);
SHRINK_LASSO_BENCH(c_cuda_fista_f32, f32, Backend::Cuda, "c", LassoSolver::ProximalGradient);

}  // namespace
}  // namespace shrink::bench
