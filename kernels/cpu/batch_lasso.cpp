// CPU twins of the batched Lasso kernels: the per-problem code of batch_lasso_math.hpp run by one
// thread per problem, problems spread over OpenMP threads.
#include <omp.h>

#include <algorithm>
#include <cmath>

#include "kernels/cpu/threads.hpp"
#include "kernels/ops/kernels.hpp"

namespace shrink::kernels::cpu {

namespace {

struct SerialTeam {
  index_t rank() const noexcept { return 0; }
  index_t size() const noexcept { return 1; }
  void sync() const noexcept {}
  double sum(double x) const noexcept { return x; }
  double max(double x) const noexcept { return x; }
};

}  // namespace

template <class V>
void batch_gram_cd(const Context& ctx, const BatchGramArgs<V>& args) {
  // Problems differ in cost (support size, rounds): dynamic scheduling in small chunks.
  const int threads = threads_for(ctx, args.m, 4);
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads)
  for (index_t b = 0; b < args.m; ++b) solve_batch_problem(SerialTeam{}, args, b);
}

template <class V>
void batch_gram_build(const Context& ctx, const BatchBuildArgs<V>& args) {
  const int threads = threads_for(ctx, args.m, 4);
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads)
  for (index_t b = 0; b < args.m; ++b) build_batch_problem(SerialTeam{}, args, b);
}

template <class V>
void center_columns(const Context& ctx, DenseView<V> y, bool center, double* mean, double* sumsq) {
  const index_t n = y.rows;
  const int threads = threads_for(ctx, y.cols * n);
#pragma omp parallel for schedule(static) num_threads(threads)
  for (index_t b = 0; b < y.cols; ++b) {
    V* col = y.data + b * y.ld;
    double s = 0;
    if (center)
      for (index_t i = 0; i < n; ++i) s += col[i];
    const double mu = n > 0 ? s / static_cast<double>(n) : 0.0;
    double dev = 0;
    for (index_t i = 0; i < n; ++i) {
      const double d = static_cast<double>(col[i]) - mu;
      dev += d * d;
      if (center) col[i] = static_cast<V>(d);
    }
    mean[b] = mu;
    sumsq[b] = n > 0 ? dev / static_cast<double>(n) : 0.0;
  }
}

template <class V>
void compress_columns(const Context& ctx, DenseView<const V> a, const std::int64_t* offsets, std::int64_t* rows,
                      double* values) {
  const int threads = threads_for(ctx, a.cols * a.rows);
#pragma omp parallel for schedule(static) num_threads(threads)
  for (index_t b = 0; b < a.cols; ++b) {
    const V* col = a.data + b * a.ld;
    std::int64_t at = offsets[b];
    for (index_t j = 0; j < a.rows; ++j)
      if (col[j] != V(0)) {
        rows[at] = j;
        values[at++] = col[j];
      }
  }
}

SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_BATCH_LASSO)

}  // namespace shrink::kernels::cpu
