// The block-sparse layer against its dense peer in the same run: forward Y = X W^T and backward
// (dX + dW), float32, square in = out layers, at 50% and 90% block sparsity.
//   CPU:  1024 features, batch 1024 (the GPU case scaled down), peer OpenBLAS sgemm;
//   CUDA: 4096 features, batch 8192, 32x32 blocks, peers cuBLAS sgemm and cuSPARSE bsrmm.
// Counters: TFLOP/s of useful work (2 * batch * stored weights, or the dense product's FLOPs).
#include <algorithm>
#include <map>
#include <tuple>

#include "bench/bench_common.hpp"

namespace shrink::bench {
namespace {

DenseMatrix<float> generate_dense(index_t rows, index_t cols, std::uint64_t seed) {
  DenseMatrix<float> m(rows, cols);
  const auto v = generate_vector<float>(rows * cols, seed);
  std::copy_n(v.data(), rows * cols, m.data());
  return m;
}

enum class Part { SparseForward, SparseBackward, DenseForward, DenseBackward, CusparseForward };

struct Layer {
  DenseMatrix<float> dense;  // the pruned weights, densified (the dense peer's operand)
  BsrMatrix<float, std::int32_t> bsr;
};

const Layer& layer(index_t features, index_t block, int sparsity_percent) {
  static std::map<std::tuple<index_t, index_t, int>, Layer> cache;
  const auto key = std::make_tuple(features, block, sparsity_percent);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  const auto w = generate_dense(features, features, 7);
  auto pruned = prune_blocks<float, std::int32_t>(w.view(), {{block, block}, sparsity_percent / 100.0});
  Layer l{bsr_to_dense(pruned.weights), std::move(pruned.weights)};
  return cache.emplace(key, std::move(l)).first->second;
}

void BM_Layer(benchmark::State& state, Backend backend, Part part, MatmulPrecision precision) {
  const index_t features = state.range(0), batch = state.range(1), block = state.range(2);
  const int sparsity = static_cast<int>(state.range(3));
  const Context* ctx = context_for(backend);
  if (!ctx) return state.SkipWithError("backend not available");
  const auto& l = layer(features, block, sparsity);
  const MemorySpace space = ctx->memory_space();
  const auto x = generate_dense(batch, features, 8).copy_to(*ctx, space);
  const auto dy = generate_dense(batch, features, 9).copy_to(*ctx, space);
  DenseMatrix<float> y(*ctx, batch, features, Layout::RowMajor, space), dx(*ctx, batch, features, Layout::RowMajor, space);
  const bool sparse = part == Part::SparseForward || part == Part::SparseBackward || part == Part::CusparseForward;
  const double weights = sparse ? double(l.bsr.nnzb()) * block * block : double(features) * features;
  const bool backward = part == Part::SparseBackward || part == Part::DenseBackward;
  const double flops = 2.0 * batch * weights * (backward ? 2 : 1);
  if (sparse) {
    BlockSparseLinear<float> net(*ctx, l.bsr);
    net.set_precision(precision);
    const auto algorithm = part == Part::CusparseForward ? BsrAlgorithm::CusparseBsr : BsrAlgorithm::Auto;
    try {
      run_timed(state, *ctx, 0, [&] {
        if (backward) net.backward(x.view(), dy.view(), dx.view());
        else bsr_linear_forward<float, std::int32_t>(*ctx, x.view(), net.weights().view(), net.bias().view(),
                                                     y.view(), precision, algorithm);
      });
    } catch (const Error& e) {
      return state.SkipWithError(e.what());
    }
  } else {
    const auto w = l.dense.copy_to(*ctx, space);
    DenseMatrix<float> dw(*ctx, features, features, Layout::RowMajor, space);
    run_timed(state, *ctx, 0, [&] {
      if (backward) {
        gemm<float>(*ctx, Op::NoTranspose, Op::NoTranspose, 1.0f, dy.view(), w.view(), 0.0f, dx.view());
        gemm<float>(*ctx, Op::Transpose, Op::NoTranspose, 1.0f, dy.view(), x.view(), 0.0f, dw.view());
      } else {
        gemm<float>(*ctx, Op::NoTranspose, Op::Transpose, 1.0f, x.view(), w.view(), 0.0f, y.view());
      }
    });
  }
  state.counters["TFLOP/s"] = benchmark::Counter(flops * 1e-12, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["block_sparsity"] = 1.0 - double(l.bsr.nnzb()) / double(l.bsr.block_grid_rows() * l.bsr.block_grid_cols());
  state.SetLabel(std::to_string(features) + " features, batch " + std::to_string(batch) + ", " + std::to_string(block) +
                 "x" + std::to_string(block) + ", " + std::to_string(sparsity) + "% " + to_string(precision));
}

void cpu_sizes(benchmark::internal::Benchmark* b) {
  for (int s : {50, 90}) b->Args({1024, 1024, 32, s});
  b->UseManualTime()->Repetitions(5)->ReportAggregatesOnly(true)->Unit(benchmark::kMillisecond);
}
void gpu_sizes(benchmark::internal::Benchmark* b) {
  for (int s : {50, 90}) b->Args({4096, 8192, 32, s});
  b->UseManualTime()->Repetitions(5)->ReportAggregatesOnly(true)->Unit(benchmark::kMillisecond);
}

using MP = MatmulPrecision;
BENCHMARK_CAPTURE(BM_Layer, cpu_bsr_forward, Backend::Cpu, Part::SparseForward, MP::Strict)->Apply(cpu_sizes);
BENCHMARK_CAPTURE(BM_Layer, cpu_dense_forward, Backend::Cpu, Part::DenseForward, MP::Strict)->Apply(cpu_sizes);
BENCHMARK_CAPTURE(BM_Layer, cpu_bsr_backward, Backend::Cpu, Part::SparseBackward, MP::Strict)->Apply(cpu_sizes);
BENCHMARK_CAPTURE(BM_Layer, cpu_dense_backward, Backend::Cpu, Part::DenseBackward, MP::Strict)->Apply(cpu_sizes);
BENCHMARK_CAPTURE(BM_Layer, cuda_bsr_forward_fp32, Backend::Cuda, Part::SparseForward, MP::Strict)->Apply(gpu_sizes);
BENCHMARK_CAPTURE(BM_Layer, cuda_bsr_forward_tf32, Backend::Cuda, Part::SparseForward, MP::Tf32)->Apply(gpu_sizes);
BENCHMARK_CAPTURE(BM_Layer, cuda_bsr_forward_bf16, Backend::Cuda, Part::SparseForward, MP::Bf16)->Apply(gpu_sizes);
BENCHMARK_CAPTURE(BM_Layer, cuda_bsr_backward_fp32, Backend::Cuda, Part::SparseBackward, MP::Strict)->Apply(gpu_sizes);
BENCHMARK_CAPTURE(BM_Layer, cuda_bsr_backward_tf32, Backend::Cuda, Part::SparseBackward, MP::Tf32)->Apply(gpu_sizes);
BENCHMARK_CAPTURE(BM_Layer, cuda_dense_forward_fp32, Backend::Cuda, Part::DenseForward, MP::Strict)->Apply(gpu_sizes);
BENCHMARK_CAPTURE(BM_Layer, cuda_dense_backward_fp32, Backend::Cuda, Part::DenseBackward, MP::Strict)->Apply(gpu_sizes);
BENCHMARK_CAPTURE(BM_Layer, cuda_cusparse_bsr_forward, Backend::Cuda, Part::CusparseForward, MP::Strict)->Apply(gpu_sizes);

}  // namespace
}  // namespace shrink::bench
