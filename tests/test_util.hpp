// Shared test helpers: the backends present on this machine, and float64 references.
#pragma once
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "shrink/shrink.hpp"

namespace shrink::test {

// Every test body that takes a Backend runs once per backend; CUDA skips without a device.
inline std::string backend_name(const testing::TestParamInfo<Backend>& info) {
  return to_string(info.param);
}

#define SHRINK_SKIP_IF_ABSENT(backend)                                                        \
  do {                                                                                        \
    if ((backend) == ::shrink::Backend::Cuda && ::shrink::cuda_device_count() == 0)           \
      GTEST_SKIP() << (::shrink::cuda_compiled() ? "CUDA built but no usable device here"      \
                                                 : "built without CUDA");                     \
  } while (0)

inline Context make_context(Backend b) { return Context(ContextOptions{b, 0, 0, true, false}); }

// Base of the suites parameterized by backend: a backend absent here skips.
class BackendTest : public testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { SHRINK_SKIP_IF_ABSENT(GetParam()); }
};

// A host vector copied into the context's memory space.
template <class V>
Array<V> to_backend(const Context& ctx, const std::vector<V>& v) {
  return Array<V>::from_vector(v).copy_to(ctx, ctx.memory_space());
}

template <class V, class I>
std::vector<long double> reference_spmv(const CsrMatrix<V, I>& a, const std::vector<V>& x,
                                        bool transpose) {
  std::vector<long double> y(static_cast<std::size_t>(transpose ? a.cols() : a.rows()), 0.0L);
  for (index_t r = 0; r < a.rows(); ++r)
    for (I k = a.row_ptr()[r]; k < a.row_ptr()[r + 1]; ++k) {
      const auto c = a.col_idx()[k];
      if (transpose) y[c] += static_cast<long double>(a.values()[k]) * x[r];
      else y[r] += static_cast<long double>(a.values()[k]) * x[c];
    }
  return y;
}

// |got - want| <= tol * (sum of |terms|), i.e. relative to the magnitude that was summed.
template <class V>
void expect_close(const std::vector<V>& got, const std::vector<long double>& want,
                  const std::vector<long double>& magnitude, double tol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const long double bound = tol * std::max<long double>(magnitude[i], 1e-300L);
    ASSERT_LE(std::fabs(static_cast<long double>(got[i]) - want[i]), bound)
        << what << " at " << i << ": got " << got[i] << ", want " << static_cast<double>(want[i]);
  }
}

// n values uniform in [-1, 1), reproducible from the seed.
template <class V>
std::vector<V> random_vector(index_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<V> v(static_cast<std::size_t>(n));
  for (auto& e : v) e = static_cast<V>(dist(gen));
  return v;
}

// Bit-identical vectors (== would tie -0.0 with +0.0 and fail NaN == NaN); empty ones compare equal
// without handing memcmp a null pointer.
template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

// A scratch file name no other test, parameter instance or process uses: the CPU and CUDA instances
// of one test may run at once (sharded or parallel ctest) and must not share a checkpoint.
inline std::string unique_temp_path(const std::string& name) {
  static std::atomic<int> counter{0};
  std::string test = "test";
  if (const auto* info = testing::UnitTest::GetInstance()->current_test_info())
    test = std::string(info->test_suite_name()) + "." + info->name();
  for (auto& c : test)
    if (c == '/' || c == ' ') c = '_';
  return testing::TempDir() + "shrink_" + std::to_string(::getpid()) + "_" + test + "_" +
         std::to_string(counter++) + "_" + name;
}

// lambda_max from its definition, in long double, written here and nowhere in the library: the null
// model fits the intercept (when asked) and the unpenalized features (v_j = 0) by weighted least
// squares, r0 is its residual, and lambda_max = max over penalized j of |g_j| / (alpha v_j) with
// g_j = (1/n) sum_i w_i x_ij r0_i / s_j (w normalized to sum n; s_j the weighted 1/n standard
// deviation with standardize, else 1; constant columns with an intercept never enter). Under
// positivity only g_j > 0 counts. x is n x p, row i at x[i * p]. (Positivity with unpenalized
// features would need a nonnegative fit of the null model; callers do not ask for it.)
inline long double lambda_max_by_definition(index_t n, index_t p, const std::vector<double>& x,
                                            const std::vector<double>& y, const LassoOptions& o) {
  std::vector<long double> w(static_cast<std::size_t>(n), 1.0L);
  if (!o.sample_weights.empty()) {
    long double total = 0;
    for (double v : o.sample_weights) total += v;
    for (index_t i = 0; i < n; ++i) w[i] = o.sample_weights[i] * static_cast<long double>(n) / total;
  }
  auto factor = [&](index_t j) { return o.penalty_factors.empty() ? 1.0 : o.penalty_factors[j]; };
  // Columns of the null model: a column of ones, then the unpenalized features.
  std::vector<std::vector<long double>> z;
  if (o.fit_intercept) z.emplace_back(static_cast<std::size_t>(n), 1.0L);
  for (index_t j = 0; j < p; ++j)
    if (factor(j) == 0) {
      z.emplace_back(static_cast<std::size_t>(n));
      for (index_t i = 0; i < n; ++i) z.back()[i] = x[i * p + j];
    }
  const std::size_t k = z.size();
  // Normal equations (Z^T W Z) c = Z^T W y by Gaussian elimination with partial pivoting.
  std::vector<std::vector<long double>> m(k, std::vector<long double>(k + 1, 0.0L));
  for (std::size_t a = 0; a < k; ++a) {
    for (std::size_t b = 0; b < k; ++b)
      for (index_t i = 0; i < n; ++i) m[a][b] += w[i] * z[a][i] * z[b][i];
    for (index_t i = 0; i < n; ++i) m[a][k] += w[i] * z[a][i] * y[i];
  }
  for (std::size_t c = 0; c < k; ++c) {
    std::size_t pivot = c;
    for (std::size_t r = c + 1; r < k; ++r)
      if (std::fabs(m[r][c]) > std::fabs(m[pivot][c])) pivot = r;
    std::swap(m[c], m[pivot]);
    for (std::size_t r = 0; r < k; ++r)
      if (r != c && m[c][c] != 0) {
        const long double f = m[r][c] / m[c][c];
        for (std::size_t q = c; q <= k; ++q) m[r][q] -= f * m[c][q];
      }
  }
  std::vector<long double> r0(y.begin(), y.end());
  for (std::size_t a = 0; a < k; ++a) {
    const long double coef = m[a][a] != 0 ? m[a][k] / m[a][a] : 0.0L;
    for (index_t i = 0; i < n; ++i) r0[i] -= coef * z[a][i];
  }
  long double best = 0;
  for (index_t j = 0; j < p; ++j) {
    if (factor(j) == 0) continue;
    long double mean = 0, var = 0, g = 0;
    if (o.fit_intercept)
      for (index_t i = 0; i < n; ++i) mean += w[i] * x[i * p + j] / n;
    for (index_t i = 0; i < n; ++i) var += w[i] * (x[i * p + j] - mean) * (x[i * p + j] - mean) / n;
    if (var <= 1e-24L * (1 + mean * mean)) continue;  // a constant (or zero) column
    for (index_t i = 0; i < n; ++i) g += w[i] * x[i * p + j] * r0[i];
    g /= n;
    if (o.standardize) g /= std::sqrt(var);
    const long double score = o.positive ? std::max(g, 0.0L) : std::fabs(g);
    best = std::max(best, score / (o.l1_ratio * factor(j)));
  }
  return best;
}

// A magnitude histogram against the non-zero values it summarizes, without restating its formula:
// every value lies between the first and last edges, and each bin holds at least the values strictly
// inside its edges and at most those on or inside them (edges are rounded, so a value on one may
// land either side; the slack is a few ulps).
inline void expect_histogram_of(const std::vector<double>& values, const MagnitudeHistogram& h, const std::string& what) {
  const std::size_t bins = h.counts.size();
  ASSERT_EQ(h.edges.size(), bins + 1) << what;
  const double slack = 1e-12;
  std::int64_t total = 0;
  for (double v : values) {
    if (v == 0) continue;
    ++total;
    EXPECT_GE(std::fabs(v), h.edges.front() * (1 - slack)) << what;
    EXPECT_LE(std::fabs(v), h.edges.back() * (1 + slack)) << what;
  }
  std::int64_t counted = 0;
  for (std::size_t b = 0; b < bins; ++b) {
    std::int64_t inside = 0, near = 0;
    for (double v : values) {
      if (v == 0) continue;
      const double a = std::fabs(v);
      inside += a > h.edges[b] * (1 + slack) && a < h.edges[b + 1] * (1 - slack);
      near += a >= h.edges[b] * (1 - slack) && a <= h.edges[b + 1] * (1 + slack);
    }
    EXPECT_GE(h.counts[b], inside) << what << " bin " << b;
    EXPECT_LE(h.counts[b], near) << what << " bin " << b;
    counted += h.counts[b];
  }
  EXPECT_EQ(counted, total) << what;
}

template <class V>
constexpr double tolerance() {
  return sizeof(V) == 4 ? 2e-5 : 1e-13;
}

}  // namespace shrink::test
