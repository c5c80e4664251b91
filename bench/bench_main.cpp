#include <cstdlib>
#include <iostream>

#include "bench/bench_common.hpp"

namespace shrink::bench {

const Context* context_for(Backend backend) {
  static std::map<Backend, std::unique_ptr<Context>> contexts;
  auto it = contexts.find(backend);
  if (it == contexts.end()) {
    std::unique_ptr<Context> ctx;
    try {
      ctx = std::make_unique<Context>(ContextOptions{backend, 0, 0, true, false});
    } catch (const Error&) {
    }
    it = contexts.emplace(backend, std::move(ctx)).first;
  }
  return it->second.get();
}

const char* to_string(MatrixKind kind) {
  switch (kind) {
    case MatrixKind::Banded: return "banded";
    case MatrixKind::Uniform: return "uniform";
    case MatrixKind::PowerLaw: return "power-law";
  }
  return "?";
}

int max_mnnz() {
  const char* env = std::getenv("SHRINK_BENCH_MAX_MNNZ");
  return env ? std::atoi(env) : 50;
}

const CsrMatrix<double, std::int32_t>& matrix(MatrixKind kind, int mnnz) {
  static std::map<std::pair<int, int>, CsrMatrix<double, std::int32_t>> cache;
  const auto key = std::make_pair(static_cast<int>(kind), mnnz);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  const index_t nnz = static_cast<index_t>(mnnz) * 1000000;
  CsrMatrix<double, std::int32_t> a;
  switch (kind) {
    case MatrixKind::Banded: a = generate_banded<double, std::int32_t>(nnz / 5, 2, 1); break;  // 5-point band
    case MatrixKind::Uniform: a = generate_uniform<double, std::int32_t>(nnz / 16, nnz / 16, 16, 2); break;
    case MatrixKind::PowerLaw:
      a = generate_power_law<double, std::int32_t>(nnz / 12, nnz / 12, 16.0, 1.5, 3);  // capped tail: ~12/row
      break;
  }
  return cache.emplace(key, std::move(a)).first->second;
}

const CsrMatrix<float, std::int32_t>& matrix_f32(MatrixKind kind, int mnnz) {
  static std::map<std::pair<int, int>, CsrMatrix<float, std::int32_t>> cache;
  const auto key = std::make_pair(static_cast<int>(kind), mnnz);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, cast<float, std::int32_t>(matrix(kind, mnnz))).first;
  return it->second;
}

}  // namespace shrink::bench

int main(int argc, char** argv) {
  shrink::rerun_with_better_blas(argv);  // the library's figures, not generic SSE3 BLAS kernels'
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::cerr << "shrink " << shrink::version() << ", CUDA devices: " << shrink::cuda_device_count() << "\n";
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
