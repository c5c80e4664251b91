// CPU twins of the coordinate-descent family. The sweeps are written once over a team
// (kernels/common/cd_team.hpp); the CPU's team is one thread: gram_cd runs on one, the batched
// solver spreads its problems over OpenMP threads.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "kernels/common/cd_team.hpp"
#include "kernels/cpu/isa.hpp"
#include "kernels/cpu/launch.hpp"

namespace shrink::kernels::cpu {

namespace {

// y_k -= delta x_k (x a column of G, y the gradient: never the same memory): the Gram solver's hot
// loop, compiled for AVX2 + FMA and for the baseline (isa.hpp).
template <class V>
[[gnu::always_inline]] inline void subtract_body(index_t count, V delta, const V* __restrict x, V* __restrict y) noexcept {
#pragma omp simd
  for (index_t k = 0; k < count; ++k) y[k] -= delta * x[k];
}
template <class V>
__attribute__((target("avx2,fma"))) void subtract_avx2(index_t count, V delta, const V* __restrict x,
                                                       V* __restrict y) noexcept {
  subtract_body(count, delta, x, y);
}

struct SerialTeam {
  index_t rank() const noexcept { return 0; }
  index_t size() const noexcept { return 1; }
  void sync() const noexcept {}
  double sum(double x) const noexcept { return x; }
  double max(double x) const noexcept { return x; }
  template <class V>
  void subtract(index_t count, V delta, const V* __restrict x, V* __restrict y) const noexcept {
    if (has_avx2_fma()) subtract_avx2(count, delta, x, y);
    else subtract_body(count, delta, x, y);
  }
  // y_u -= delta x_{at_u}
  template <class V>
  void subtract_at(index_t count, V delta, const V* __restrict x, const std::int64_t* at, V* __restrict y) const noexcept {
#pragma omp simd
    for (index_t u = 0; u < count; ++u) y[u] -= delta * x[at[u]];
  }
};

}  // namespace

template <class V>
void gram_cd(const Context&, index_t p, const V* gram, index_t ld, const V* l1, const V* denom,
             const V* lipschitz, bool positive, int rounds, int active_sweeps, V* beta, V* grad,
             index_t* active, V* active_work) {
  gram_cd_rounds(SerialTeam{}, p, gram, ld, l1, denom, lipschitz, positive, rounds, active_sweeps, beta, grad,
                 active, active_work);
}

template <class V>
index_t lasso_working_set(const Context&, index_t p, const V* c, const V* beta, const V* l1, const V* l2,
                          const V* lipschitz, bool positive, index_t k, index_t* out) {
  std::vector<double> key(static_cast<std::size_t>(p));
  index_t nonzero = 0;
  for (index_t j = 0; j < p; ++j) {
    key[j] = working_set_key(c[j], beta[j], l1[j], l2[j], lipschitz[j], positive);
    nonzero += beta[j] != 0;
  }
  std::vector<index_t> order(static_cast<std::size_t>(p));
  std::iota(order.begin(), order.end(), index_t{0});
  // (key, index) is a total order, so the first k are the same set a stable sort by key gives.
  auto before = [&](index_t a, index_t b) { return key[a] < key[b] || (key[a] == key[b] && a < b); };
  k = std::min(k, p);
  std::nth_element(order.begin(), order.begin() + k, order.end(), before);
  std::sort(order.begin(), order.begin() + k);
  std::copy_n(order.begin(), k, out);
  return nonzero;
}

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

SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_CD)

}  // namespace shrink::kernels::cpu
