// Shared pieces of the benchmarks: contexts per backend, cached generated matrices, timing.
#pragma once
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "shrink/shrink.hpp"

namespace shrink::bench {

// The backend of a benchmark, or nullptr (the benchmark then skips) when it is not available.
const Context* context_for(Backend backend);

enum class MatrixKind { Banded, Uniform, PowerLaw };
const char* to_string(MatrixKind kind);

// Generated once per (kind, nnz target) and reused; nnz targets in millions.
const CsrMatrix<double, std::int32_t>& matrix(MatrixKind kind, int mnnz);
const CsrMatrix<float, std::int32_t>& matrix_f32(MatrixKind kind, int mnnz);

// Largest size to run, in millions of nonzeros (SHRINK_BENCH_MAX_MNNZ, default 50).
int max_mnnz();

// Times `body` with the context's Timer; reports GB/s from `bytes` per iteration.
template <class F>
void run_timed(benchmark::State& state, const Context& ctx, double bytes, F body) {
  body();  // warm-up
  ctx.synchronize();
  Timer timer(ctx);
  for (auto _ : state) {
    timer.start();
    body();
    state.SetIterationTime(timer.stop_seconds());
  }
  state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["bytes"] = bytes;
}

}  // namespace shrink::bench
