// CPU twins of the reductions: fixed static partition and a fixed combine order, so results are
// deterministic for a given thread count.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/ops/kernels.hpp"

namespace shrink::kernels::cpu {

namespace {

// Blocked pairwise-style sum: each thread sums a contiguous slice; partials are added in order.
template <class V, class F>
V reduce_sum(const Context& ctx, index_t n, F term) {
  const int t_count =
      static_cast<int>(std::clamp<index_t>(n / 65536, 1, std::max(1, ctx.cpu_threads())));
  std::vector<V> partial(static_cast<std::size_t>(t_count), V(0));
#pragma omp parallel num_threads(t_count)
  {
    const int t = omp_get_thread_num();
    const index_t lo = n * t / t_count, hi = n * (t + 1) / t_count;
    V acc = 0;
    for (index_t i = lo; i < hi; ++i) acc += term(i);
    partial[static_cast<std::size_t>(t)] = acc;
  }
  V total = 0;
  for (V p : partial) total += p;
  return total;
}

}  // namespace

template <class V>
V dot(const Context& ctx, index_t n, const V* x, const V* y) {
  return reduce_sum<V>(ctx, n, [=](index_t i) { return x[i] * y[i]; });
}

template <class V>
V sum(const Context& ctx, index_t n, const V* x) {
  return reduce_sum<V>(ctx, n, [=](index_t i) { return x[i]; });
}

template <class V>
V amax(const Context& ctx, index_t n, const V* x) {
  V m = 0;
#pragma omp parallel for reduction(max : m) num_threads(ctx.cpu_threads()) if (n > 65536)
  for (index_t i = 0; i < n; ++i) m = std::max(m, std::abs(x[i]));
  return m;
}

template <class V>
V nrm2(const Context& ctx, index_t n, const V* x) {
  // Plain sum of squares first; rescale by the largest magnitude only when it over/underflows.
  const V ss = reduce_sum<V>(ctx, n, [=](index_t i) { return x[i] * x[i]; });
  if (std::isfinite(ss) && ss >= std::numeric_limits<V>::min() * V(1e6)) return std::sqrt(ss);
  const V scale = amax(ctx, n, x);
  if (scale == V(0) || !std::isfinite(scale)) return scale;
  const V inv = V(1) / scale;
  const V scaled = reduce_sum<V>(ctx, n, [=](index_t i) {
    const V s = x[i] * inv;
    return s * s;
  });
  return scale * std::sqrt(scaled);
}

template <class V>
index_t count_nonfinite(const Context& ctx, index_t n, const V* x) {
  index_t bad = 0;
#pragma omp parallel for reduction(+ : bad) num_threads(ctx.cpu_threads()) if (n > 65536)
  for (index_t i = 0; i < n; ++i) bad += std::isfinite(x[i]) ? 0 : 1;
  return bad;
}

template <class V>
LassoDualTerms lasso_dual_terms(const Context& ctx, index_t p, const V* c, const V* beta, const V* factors,
                                LassoDualArgs args) {
  // The same static slices and in-order combine as reduce_sum: deterministic for a thread count.
  const int t_count =
      static_cast<int>(std::clamp<index_t>(p / 65536, 1, std::max(1, ctx.cpu_threads())));
  std::vector<LassoDualTerms> partial(static_cast<std::size_t>(t_count));
#pragma omp parallel num_threads(t_count)
  {
    const int t = omp_get_thread_num();
    const index_t lo = p * t / t_count, hi = p * (t + 1) / t_count;
    LassoDualTerms acc;
    for (index_t j = lo; j < hi; ++j) accumulate_dual_terms(acc, c[j], beta[j], factors[j], args);
    partial[static_cast<std::size_t>(t)] = acc;
  }
  LassoDualTerms total;
  for (const auto& part : partial) total = combine_dual_terms(total, part);
  return total;
}

SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_REDUCE)

}  // namespace shrink::kernels::cpu
