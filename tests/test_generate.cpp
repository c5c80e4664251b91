#include <omp.h>

#include <cstring>

#include "tests/test_util.hpp"

namespace shrink::test {
namespace {

TEST(Generate, ValidAndIndependentOfThreads) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const auto a1 = generate_power_law<double, std::int32_t>(3000, 2000, 10.0, 1.5, 42);
  omp_set_num_threads(std::max(2, saved));
  const auto a2 = generate_power_law<double, std::int32_t>(3000, 2000, 10.0, 1.5, 42);
  omp_set_num_threads(saved);
  validate(a1.view(), "power law");
  ASSERT_EQ(a1.nnz(), a2.nnz());
  EXPECT_EQ(0, std::memcmp(a1.values().data(), a2.values().data(), a1.nnz() * sizeof(double)));
  EXPECT_EQ(0, std::memcmp(a1.col_idx().data(), a2.col_idx().data(), a1.nnz() * sizeof(std::int32_t)));
  // Mean near the target (capped tail pulls it down a little), and a skewed maximum.
  const double mean = static_cast<double>(a1.nnz()) / 3000;
  EXPECT_GT(mean, 5.0);
  EXPECT_LT(mean, 15.0);
  index_t longest = 0;
  for (index_t r = 0; r < 3000; ++r) longest = std::max<index_t>(longest, a1.row_ptr()[r + 1] - a1.row_ptr()[r]);
  EXPECT_GT(longest, 10 * mean);
}

TEST(Generate, BandedAndUniformShapes) {
  const auto b = generate_banded<float, std::int64_t>(100, 2);
  validate(b.view(), "banded");
  EXPECT_EQ(b.nnz(), 100 * 5 - 2 * 3);
  const auto u = generate_uniform<double, std::int32_t>(50, 1000, 30, 3);
  validate(u.view(), "uniform");
  EXPECT_EQ(u.nnz(), 50 * 30);
  const auto dense_rows = generate_uniform<double, std::int32_t>(5, 20, 15, 3);
  validate(dense_rows.view(), "uniform dense rows");
  EXPECT_EQ(dense_rows.nnz(), 5 * 15);
}

}  // namespace
}  // namespace shrink::test
