// SpMV and transpose SpMV on generated banded, uniform and power-law matrices (1M to 50M
// nonzeros): CPU, our CUDA merge-path kernel, and cuSPARSE's CSR algorithms in the same run.
#include "bench/bench_common.hpp"

namespace shrink::bench {
namespace {

template <class V>
const CsrMatrix<V, std::int32_t>& pick(MatrixKind kind, int mnnz) {
  if constexpr (sizeof(V) == 4) return matrix_f32(kind, mnnz);
  else return matrix(kind, mnnz);
}

template <class V>
void BM_Spmv(benchmark::State& state, Backend backend, SpmvAlgorithm algorithm, Op op) {
  const auto kind = static_cast<MatrixKind>(state.range(0));
  const int mnnz = static_cast<int>(state.range(1));
  const Context* ctx = context_for(backend);
  if (!ctx) return state.SkipWithError("backend not available");
  if (mnnz > max_mnnz()) return state.SkipWithError("above SHRINK_BENCH_MAX_MNNZ");
  const auto& host = pick<V>(kind, mnnz);
  SparseOperator<V, std::int32_t> a(*ctx, host);
  if (op == Op::Transpose && algorithm != SpmvAlgorithm::Cusparse &&
      algorithm != SpmvAlgorithm::CusparseAlg2)
    (void)a.transposed();  // built once, like a CSC copy
  const index_t in = op == Op::NoTranspose ? host.cols() : host.rows();
  const index_t out = op == Op::NoTranspose ? host.rows() : host.cols();
  const auto x = generate_vector<V>(in, 5).copy_to(*ctx, ctx->memory_space());
  Array<V> y(*ctx, static_cast<std::size_t>(out), ctx->memory_space());
  const double bytes = static_cast<double>(host.nnz()) * (sizeof(V) + 4) + (host.rows() + 1) * 4.0 +
                       static_cast<double>(in + out) * sizeof(V);
  const bool library_transpose = op == Op::Transpose && (algorithm == SpmvAlgorithm::Cusparse ||
                                                         algorithm == SpmvAlgorithm::CusparseAlg2);
  run_timed(state, *ctx, bytes, [&] {
    if (library_transpose)
      spmv(*ctx, Op::Transpose, V(1), a.matrix().view(), x.view(), V(0), y.view(), algorithm);
    else
      a.apply(op, V(1), x.view(), V(0), y.view(), algorithm);
  });
  state.counters["nnz"] = static_cast<double>(host.nnz());
  state.SetLabel(std::string(to_string(kind)) + " " + std::to_string(mnnz) + "M " + to_string(algorithm));
}

void BM_SpmvF64(benchmark::State& state, Backend backend, SpmvAlgorithm algorithm, Op op) {
  BM_Spmv<double>(state, backend, algorithm, op);
}
void BM_SpmvF32(benchmark::State& state, Backend backend, SpmvAlgorithm algorithm, Op op) {
  BM_Spmv<float>(state, backend, algorithm, op);
}

void sizes(benchmark::internal::Benchmark* b) {
  for (int kind = 0; kind < 3; ++kind)
    for (int mnnz : {1, 10, 50}) b->Args({kind, mnnz});
  b->UseManualTime()->Repetitions(5)->ReportAggregatesOnly(true)->Unit(benchmark::kMillisecond);
}

BENCHMARK_CAPTURE(BM_SpmvF64, cpu_f64, Backend::Cpu, SpmvAlgorithm::Auto, Op::NoTranspose)->Apply(sizes);
BENCHMARK_CAPTURE(BM_SpmvF64, cpu_f64_transpose, Backend::Cpu, SpmvAlgorithm::Auto, Op::Transpose)->Apply(sizes);
BENCHMARK_CAPTURE(BM_SpmvF32, cpu_f32, Backend::Cpu, SpmvAlgorithm::Auto, Op::NoTranspose)->Apply(sizes);
BENCHMARK_CAPTURE(BM_SpmvF64, cuda_f64_mergepath, Backend::Cuda, SpmvAlgorithm::MergePath, Op::NoTranspose)->Apply(sizes);
BENCHMARK_CAPTURE(BM_SpmvF64, cuda_f64_cusparse_alg1, Backend::Cuda, SpmvAlgorithm::Cusparse, Op::NoTranspose)->Apply(sizes);
BENCHMARK_CAPTURE(BM_SpmvF64, cuda_f64_cusparse_alg2, Backend::Cuda, SpmvAlgorithm::CusparseAlg2, Op::NoTranspose)->Apply(sizes);
BENCHMARK_CAPTURE(BM_SpmvF64, cuda_f64_mergepath_transpose, Backend::Cuda, SpmvAlgorithm::MergePath, Op::Transpose)->Apply(sizes);
BENCHMARK_CAPTURE(BM_SpmvF64, cuda_f64_cusparse_transpose, Backend::Cuda, SpmvAlgorithm::Cusparse, Op::Transpose)->Apply(sizes);
BENCHMARK_CAPTURE(BM_SpmvF32, cuda_f32_mergepath, Backend::Cuda, SpmvAlgorithm::MergePath, Op::NoTranspose)->Apply(sizes);
BENCHMARK_CAPTURE(BM_SpmvF32, cuda_f32_cusparse_alg1, Backend::Cuda, SpmvAlgorithm::Cusparse, Op::NoTranspose)->Apply(sizes);

}  // namespace
}  // namespace shrink::bench
