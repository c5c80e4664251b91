// CPU twins of the reductions: fixed static partition and a fixed combine order, so results are
// deterministic for a given thread count.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/common/elementwise.hpp"
#include "kernels/cpu/launch.hpp"
#include "kernels/ops/reduce_kernels.hpp"
#include "shrink/context.hpp"

namespace shrink::kernels::cpu {

namespace {

// Each thread sums a contiguous slice in double (float terms too: every float product is exact in
// double, so a float result carries one rounding plus double's summation error); the partials are
// added in thread order.
template <class F>
double reduce_sum(const Context& ctx, index_t n, F term) {
  const int t_count =
      static_cast<int>(std::clamp<index_t>(n / kForkEntries, 1, std::max(1, ctx.cpu_threads())));
  std::vector<double> partial(static_cast<std::size_t>(t_count), 0.0);
#pragma omp parallel num_threads(t_count)
  {
    const int t = omp_get_thread_num();
    const index_t lo = n * t / t_count, hi = n * (t + 1) / t_count;
    double acc = 0;
    for (index_t i = lo; i < hi; ++i) acc += term(i);
    partial[static_cast<std::size_t>(t)] = acc;
  }
  double total = 0;
  for (double p : partial) total += p;
  return total;
}

}  // namespace

template <class V>
V dot(const Context& ctx, index_t n, const V* x, const V* y) {
  return static_cast<V>(reduce_sum(ctx, n, [=](index_t i) { return static_cast<double>(x[i]) * y[i]; }));
}

template <class V>
V sum(const Context& ctx, index_t n, const V* x) {
  return static_cast<V>(reduce_sum(ctx, n, [=](index_t i) { return static_cast<double>(x[i]); }));
}

template <class V>
V amax(const Context& ctx, index_t n, const V* x) {
  V m = 0;
#pragma omp parallel for reduction(max : m) num_threads(ctx.cpu_threads()) if (n > kForkEntries)
  for (index_t i = 0; i < n; ++i) m = std::max(m, std::abs(x[i]));
  return m;
}

template <class V>
V nrm2(const Context& ctx, index_t n, const V* x) {
  // Plain sum of squares first; rescale by the largest magnitude only when it over/underflows
  // (never for float, whose squares are summed in double).
  const double ss = reduce_sum(ctx, n, [=](index_t i) { return static_cast<double>(x[i]) * x[i]; });
  if (std::isfinite(ss) && ss >= std::numeric_limits<double>::min() * 1e6) return static_cast<V>(std::sqrt(ss));
  const V scale = amax(ctx, n, x);
  if (scale == V(0) || !std::isfinite(scale)) return scale;
  const double inv = 1.0 / static_cast<double>(scale);
  const double scaled = reduce_sum(ctx, n, [=](index_t i) {
    const double s = x[i] * inv;
    return s * s;
  });
  return static_cast<V>(scale * std::sqrt(scaled));
}

template <class V>
index_t count_nonfinite(const Context& ctx, index_t n, const V* x) {
  index_t bad = 0;
#pragma omp parallel for reduction(+ : bad) num_threads(ctx.cpu_threads()) if (n > kForkEntries)
  for (index_t i = 0; i < n; ++i) bad += std::isfinite(x[i]) ? 0 : 1;
  return bad;
}

template <class V>
LassoDualTerms lasso_dual_terms(const Context& ctx, index_t p, const V* c, const V* beta, const V* factors,
                                LassoDualArgs args) {
  // The same static slices and in-order combine as reduce_sum: deterministic for a thread count.
  const int t_count =
      static_cast<int>(std::clamp<index_t>(p / kForkEntries, 1, std::max(1, ctx.cpu_threads())));
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

template <class V>
void column_sums(const Context&, DenseView<const V> m, V* out) {
  // Columns split among threads; each column summed in row order.
#pragma omp parallel
  {
    const int threads = omp_get_num_threads(), t = omp_get_thread_num();
    const index_t c0 = m.cols * t / threads, c1 = m.cols * (t + 1) / threads;
    for (index_t j = c0; j < c1; ++j) out[j] = 0;
    for (index_t i = 0; i < m.rows; ++i) {
      const V* row = m.layout == Layout::RowMajor ? m.data + i * m.ld : nullptr;
      for (index_t j = c0; j < c1; ++j) out[j] += row ? row[j] : m.data[j * m.ld + i];
    }
  }
}

#include "kernels/common/moments_bodies.inl"

SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_REDUCE)
SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE_REDUCE_SPARSE)

}  // namespace shrink::kernels::cpu
