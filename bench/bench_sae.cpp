// A full SAE training step (forward, backward, Adam) against its peer in the same run, float32.
//   CPU:  the ReLU-L1 SAE, d = 256, 2048 latents, batch 1024; peer: its five GEMMs alone in OpenBLAS
//         (encoder, decoder, decoder grad, latent grad, encoder grad).
//   CUDA: the TopK SAE of the issue, d = 768, 16384 latents, k = 32, batch 8192, sparse decoder; peer:
//         the same model through the dense masked decoder (all GEMMs in cuBLAS).
// Counters: GEMM TFLOP/s of the dense step's work (10 * batch * d * latents), so rates compare.
#include "bench/bench_common.hpp"

namespace shrink::bench {
namespace {

enum class Run { Step, GemmsOnly };

void BM_SaeStep(benchmark::State& state, Backend backend, SaeActivation activation, TopKDecoder decoder, Run run) {
  const index_t d = state.range(0), m = state.range(1), batch = state.range(2), k = state.range(3);
  const Context* ctx = context_for(backend);
  if (!ctx) return state.SkipWithError("backend not available");
  const MemorySpace space = ctx->memory_space();
  DenseMatrix<float> xh(batch, d);
  const auto v = generate_vector<float>(batch * d, 3);
  std::copy_n(v.data(), batch * d, xh.data());
  const auto x = xh.copy_to(*ctx, space);
  const double flops = 10.0 * double(batch) * double(d) * double(m);
  try {
    if (run == Run::Step) {
      SaeConfig c;
      c.inputs = d;
      c.latents = m;
      c.activation = activation;
      c.k = k;
      c.l1 = 1e-3;
      c.topk_decoder = decoder;
      c.unit_norm_decoder = activation == SaeActivation::TopK;
      SparseAutoencoder<float> model(*ctx, c, 1);
      const OptimizerOptions adam{OptimizerKind::Adam, 1e-4};
      run_timed(state, *ctx, 0, [&] {
        model.evaluate(x.view(), x.view(), true);
        model.step(adam);
      });
    } else {
      DenseMatrix<float> e(*ctx, m, d, Layout::RowMajor, space), dd(*ctx, m, d, Layout::RowMajor, space);
      DenseMatrix<float> ge(*ctx, m, d, Layout::RowMajor, space), gd(*ctx, m, d, Layout::RowMajor, space);
      DenseMatrix<float> h(*ctx, batch, m, Layout::RowMajor, space), dh(*ctx, batch, m, Layout::RowMajor, space);
      DenseMatrix<float> xhat(*ctx, batch, d, Layout::RowMajor, space);
      const auto NT = Op::NoTranspose, T = Op::Transpose;
      run_timed(state, *ctx, 0, [&] {
        gemm<float>(*ctx, NT, T, 1.0f, x.view(), e.view(), 0.0f, h.view());         // Z = X E^T
        gemm<float>(*ctx, NT, NT, 1.0f, h.view(), dd.view(), 0.0f, xhat.view());    // X_hat = H D
        gemm<float>(*ctx, T, NT, 1.0f, h.view(), xhat.view(), 0.0f, gd.view());     // dD = H^T G
        gemm<float>(*ctx, NT, T, 1.0f, xhat.view(), dd.view(), 0.0f, dh.view());    // dH = G D^T
        gemm<float>(*ctx, T, NT, 1.0f, dh.view(), x.view(), 0.0f, ge.view());       // dE = dZ^T X
      });
    }
  } catch (const Error& err) {
    return state.SkipWithError(err.what());
  }
  state.counters["TFLOP/s"] = benchmark::Counter(flops * 1e-12, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel("d " + std::to_string(d) + ", latents " + std::to_string(m) + ", batch " + std::to_string(batch) +
                 (activation == SaeActivation::TopK ? ", k " + std::to_string(k) : std::string()));
}

void cpu_sizes(benchmark::internal::Benchmark* b) {
  b->Args({256, 2048, 1024, 0})->UseManualTime()->Repetitions(5)->ReportAggregatesOnly(true)->Unit(benchmark::kMillisecond);
}
void gpu_sizes(benchmark::internal::Benchmark* b) {
  b->Args({768, 16384, 8192, 32})->UseManualTime()->Repetitions(5)->ReportAggregatesOnly(true)->Unit(benchmark::kMillisecond);
}

using A = SaeActivation;
using D = TopKDecoder;
BENCHMARK_CAPTURE(BM_SaeStep, cpu_l1_step, Backend::Cpu, A::ReluL1, D::Sparse, Run::Step)->Apply(cpu_sizes);
BENCHMARK_CAPTURE(BM_SaeStep, cpu_l1_gemms_only, Backend::Cpu, A::ReluL1, D::Sparse, Run::GemmsOnly)->Apply(cpu_sizes);
BENCHMARK_CAPTURE(BM_SaeStep, cuda_topk_sparse_step, Backend::Cuda, A::TopK, D::Sparse, Run::Step)->Apply(gpu_sizes);
BENCHMARK_CAPTURE(BM_SaeStep, cuda_topk_dense_step, Backend::Cuda, A::TopK, D::Dense, Run::Step)->Apply(gpu_sizes);
BENCHMARK_CAPTURE(BM_SaeStep, cuda_l1_step, Backend::Cuda, A::ReluL1, D::Sparse, Run::Step)->Apply(gpu_sizes);
BENCHMARK_CAPTURE(BM_SaeStep, cuda_gemms_only, Backend::Cuda, A::ReluL1, D::Sparse, Run::GemmsOnly)->Apply(gpu_sizes);

}  // namespace
}  // namespace shrink::bench
