// Batched Lasso (lasso_batch) on generated problems, end to end (G, C, the solves, the sparse answer):
//  - the CPU target case, n = 500, p = 200, k = 20000 responses at 0.1 * lambda_max_b, float64 (the
//    scikit-learn figure comes from scripts/bench_batch_peers.py on the same shape);
//  - sparse coding on a GPU: 10^6 signals of dimension 64 over a 256-atom dictionary, float32, with the
//    GEMM C = D^T Y alone timed beside it (the floor the end-to-end figure is compared with).
// Counters: problems/s, mean rounds and non-zeros per problem, the worst relative gap, non-converged.
#include <random>

#include "bench/bench_common.hpp"

namespace shrink::bench {
namespace {

template <class V>
struct BatchData {
  index_t n = 0, p = 0, k = 0;
  std::vector<V> x, y;  // column-major n x p and n x k
};

// X Gaussian (columns normalized when `unit_columns`: a dictionary), Y = X B + noise with `active`
// non-zeros per column of B.
template <class V>
const BatchData<V>& batch_data(index_t n, index_t p, index_t k, int active, bool unit_columns) {
  static std::map<std::tuple<index_t, index_t, index_t>, std::unique_ptr<BatchData<V>>> cache;
  auto& slot = cache[{n, p, k}];
  if (slot) return *slot;
  slot = std::make_unique<BatchData<V>>();
  auto& d = *slot;
  d.n = n;
  d.p = p;
  d.k = k;
  std::mt19937_64 rng(42);
  std::normal_distribution<double> normal;
  d.x.resize(static_cast<std::size_t>(n * p));
  for (index_t j = 0; j < p; ++j) {
    double norm = 0;
    for (index_t i = 0; i < n; ++i) {
      const double v = normal(rng);
      d.x[j * n + i] = static_cast<V>(v);
      norm += v * v;
    }
    if (unit_columns)
      for (index_t i = 0; i < n; ++i) d.x[j * n + i] = static_cast<V>(d.x[j * n + i] / std::sqrt(norm));
  }
  d.y.resize(static_cast<std::size_t>(n * k));
  std::uniform_int_distribution<index_t> pick(0, p - 1);
#pragma omp parallel for schedule(static)
  for (index_t b = 0; b < k; ++b) {
    std::mt19937_64 r(1000 + static_cast<std::uint64_t>(b));
    std::normal_distribution<double> g;
    std::uniform_int_distribution<index_t> atom(0, p - 1);
    V* col = d.y.data() + b * n;
    for (index_t i = 0; i < n; ++i) col[i] = static_cast<V>(0.1 * g(r));
    for (int t = 0; t < active; ++t) {
      const index_t j = atom(r);
      const double c = 2 * g(r);
      for (index_t i = 0; i < n; ++i) col[i] += static_cast<V>(c * d.x[j * n + i]);
    }
  }
  return d;
}

template <class V>
void BM_BatchLasso(benchmark::State& state, Backend backend, index_t n, index_t p, index_t k, bool dictionary) {
  const Context* ctx = context_for(backend);
  if (!ctx) {
    state.SkipWithError("no device");
    return;
  }
  const auto& d = batch_data<V>(n, p, k, dictionary ? 5 : 8, dictionary);
  BatchLassoOptions o;
  o.lambda_ratio = 0.1;
  const DenseView<const V> x(d.x.data(), n, p, n, Layout::ColMajor), y(d.y.data(), n, k, n, Layout::ColMajor);
  BatchLassoResult r = lasso_batch<V>(*ctx, x, y, o);  // warm-up
  for (auto _ : state) {
    r = lasso_batch<V>(*ctx, x, y, o);
    state.SetIterationTime(r.seconds);
  }
  double rounds = 0, nnz = 0, worst = 0;
  for (std::size_t b = 0; b < r.size(); ++b) {
    rounds += static_cast<double>(r.iterations[b]);
    nnz += static_cast<double>(r.nnz[b]);
    worst = std::max(worst, r.duality_gap[b] / r.objective[b]);
  }
  state.counters["problems_per_s"] = benchmark::Counter(static_cast<double>(k), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["mean_rounds"] = rounds / static_cast<double>(k);
  state.counters["mean_nnz"] = nnz / static_cast<double>(k);
  state.counters["worst_rel_gap"] = worst;
  state.counters["not_converged"] = static_cast<double>(r.n_not_converged());
}

void BM_BatchLasso_f64(benchmark::State& s, Backend b, index_t n, index_t p, index_t k, bool dict) {
  BM_BatchLasso<double>(s, b, n, p, k, dict);
}
void BM_BatchLasso_f32(benchmark::State& s, Backend b, index_t n, index_t p, index_t k, bool dict) {
  BM_BatchLasso<float>(s, b, n, p, k, dict);
}

// C = X^T Y alone on the device, the same shape as the batch's (Y already there): the GEMM floor.
void BM_BatchGemmFloor(benchmark::State& state, index_t n, index_t p, index_t k) {
  const Context* ctx = context_for(Backend::Cuda);
  if (!ctx) {
    state.SkipWithError("no device");
    return;
  }
  const auto& d = batch_data<float>(n, p, k, 5, true);
  const auto space = ctx->memory_space();
  const auto x = Array<float>::from_vector(d.x).copy_to(*ctx, space);
  const auto y = Array<float>::from_vector(d.y).copy_to(*ctx, space);
  DenseMatrix<float> c(*ctx, p, k, Layout::ColMajor, space);
  const DenseView<const float> xv(x.data(), n, p, n, Layout::ColMajor, space), yv(y.data(), n, k, n, Layout::ColMajor, space);
  run_timed(state, *ctx, 4.0 * static_cast<double>(n * k + p * k), [&] {
    gemm<float>(*ctx, Op::Transpose, Op::NoTranspose, 1.0f, xv, yv, 0.0f, c.view());
  });
  state.counters["TFLOP/s"] = benchmark::Counter(2e-12 * static_cast<double>(n * p * k), benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK_CAPTURE(BM_BatchLasso_f64, cpu_500x200x20000, Backend::Cpu, 500, 200, 20000, false)
    ->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK_CAPTURE(BM_BatchLasso_f64, cuda_500x200x20000, Backend::Cuda, 500, 200, 20000, false)
    ->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK_CAPTURE(BM_BatchLasso_f32, cpu_sparse_coding_1e5_f32, Backend::Cpu, 64, 256, 100000, true)
    ->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_BatchLasso_f32, cuda_sparse_coding_1e6_f32, Backend::Cuda, 64, 256, 1000000, true)
    ->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK_CAPTURE(BM_BatchGemmFloor, cuda_gemm_64x256x1e6_f32, 64, 256, 1000000)
    ->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(20);

}  // namespace
}  // namespace shrink::bench
