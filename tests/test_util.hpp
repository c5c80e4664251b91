// Shared test helpers: the backends present on this machine, and float64 references.
#pragma once
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cmath>
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

template <class V>
constexpr double tolerance() {
  return sizeof(V) == 4 ? 2e-5 : 1e-13;
}

}  // namespace shrink::test
