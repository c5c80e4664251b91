// Boundary validation (each failure its own exception, naming the argument and sizes) and
// conversions between all formats.
#include <cstdint>
#include <limits>

#include "tests/test_util.hpp"

namespace shrink::test {
namespace {

template <class E, class F>
std::string expect_error(F f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception: " << e.what();
    return {};
  }
  ADD_FAILURE() << "no exception";
  return {};
}

using Csr = CsrMatrix<double, std::int32_t>;

TEST(Validation, EachFailureIsDistinctAndNamed) {
  auto msg = expect_error<DimensionMismatch>([] { Csr::from_arrays(3, 3, {0, 1}, {0}, {1.0}); });
  EXPECT_NE(msg.find("row_ptr has 2 entries"), std::string::npos) << msg;
  msg = expect_error<IndexOutOfRange>([] { Csr::from_arrays(2, 3, {0, 1, 2}, {0, 3}, {1.0, 2.0}); });
  EXPECT_NE(msg.find("column index 3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("2 x 3"), std::string::npos) << msg;
  msg = expect_error<InvalidStructure>([] { Csr::from_arrays(2, 3, {0, 2, 1}, {0, 1}, {1.0, 2.0}); });
  EXPECT_NE(msg.find("not monotone"), std::string::npos) << msg;
  msg = expect_error<InvalidStructure>([] { Csr::from_arrays(1, 3, {0, 2}, {2, 1}, {1.0, 2.0}); });
  EXPECT_NE(msg.find("not sorted"), std::string::npos) << msg;
  msg = expect_error<InvalidStructure>([] { Csr::from_arrays(1, 3, {0, 2}, {1, 1}, {1.0, 2.0}); });
  EXPECT_NE(msg.find("repeat"), std::string::npos) << msg;
  msg = expect_error<InvalidStructure>([] { Csr::from_arrays(1, 3, {1, 2}, {1, 2}, {1.0, 2.0}); });
  EXPECT_NE(msg.find("row_ptr[0]"), std::string::npos) << msg;
  msg = expect_error<NonFinite>(
      [] { Csr::from_arrays(1, 3, {0, 1}, {1}, {std::numeric_limits<double>::quiet_NaN()}); });
  EXPECT_NE(msg.find("NaN"), std::string::npos) << msg;
  expect_error<NonFinite>(
      [] { Csr::from_arrays(1, 3, {0, 1}, {1}, {std::numeric_limits<double>::infinity()}); });
  expect_error<DimensionMismatch>([] { Csr::from_arrays(1, 3, {0, 1}, {1}, {1.0, 2.0}); });
  expect_error<InvalidArgument>([] { Csr::from_arrays(-1, 3, {}, {}, {}); });
}

TEST(Validation, IndexOverflowIsAnError) {
  const index_t big = static_cast<index_t>(std::numeric_limits<std::int32_t>::max()) + 1;
  auto msg = expect_error<IndexOverflow>([&] { CsrMatrix<float, std::int32_t>(big, 2); });
  EXPECT_NE(msg.find("int64"), std::string::npos) << msg;
  EXPECT_NO_THROW((CsrMatrix<float, std::int64_t>(2, big)));
  // Narrowing a matrix whose dimension does not fit int32.
  const CsrMatrix<float, std::int64_t> wide(1, big);
  expect_error<IndexOverflow>([&] { (void)cast<float, std::int32_t>(wide); });
  // Dense element counts that overflow 64 bits.
  expect_error<IndexOverflow>([] { DenseMatrix<double>(index_t(1) << 40, index_t(1) << 40); });
  // COO with more entries than int32 can index is refused before any work.
  CooMatrix<double, std::int32_t> coo{2, 2, {0, 5}, {0, 0}, {1.0, 1.0}};
  expect_error<IndexOutOfRange>([&] { (void)coo_to_csr(coo); });
}

TEST(Conversions, CooSortsAndSumsDuplicates) {
  CooMatrix<double, std::int64_t> coo{3, 4, {2, 0, 2, 0, 2}, {3, 1, 0, 1, 3}, {1, 2, 3, 4, 5}};
  const auto a = coo_to_csr(coo);
  EXPECT_EQ(a.nnz(), 3);
  EXPECT_EQ(a.row_ptr().to_vector(Context({Backend::Cpu})), (std::vector<std::int64_t>{0, 1, 1, 3}));
  EXPECT_EQ(a.col_idx()[0], 1);
  EXPECT_EQ(a.values()[0], 6.0);
  EXPECT_EQ(a.col_idx()[1], 0);
  EXPECT_EQ(a.values()[2], 6.0);
  validate(a.view(), "converted");
}

template <class V, class I>
void round_trips() {
  const auto a = generate_power_law<V, I>(120, 90, 4.0, 1.5, 2);
  validate(a.view(), "a");
  const auto back = coo_to_csr(csr_to_coo(a));
  ASSERT_EQ(back.nnz(), a.nnz());
  for (index_t k = 0; k < a.nnz(); ++k) {
    ASSERT_EQ(back.col_idx()[k], a.col_idx()[k]);
    ASSERT_EQ(back.values()[k], a.values()[k]);
  }
  const auto csc = csr_to_csc(a);
  EXPECT_EQ(csc.rows(), a.rows());
  EXPECT_EQ(csc.cols(), a.cols());
  validate(csc.transposed().view(), "csc");
  const auto again = csc_to_csr(csc);
  for (index_t k = 0; k < a.nnz(); ++k) ASSERT_EQ(again.values()[k], a.values()[k]);
  for (Layout layout : {Layout::RowMajor, Layout::ColMajor}) {
    const auto d = csr_to_dense(a, layout);
    for (index_t r = 0; r < a.rows(); ++r)
      for (I k = a.row_ptr()[r]; k < a.row_ptr()[r + 1]; ++k) ASSERT_EQ(d(r, a.col_idx()[k]), a.values()[k]);
    const auto s = dense_to_csr<V, I>(d.view());
    ASSERT_EQ(s.nnz(), a.nnz());
    const auto flipped = dense_to_layout<V>(d.view(), layout == Layout::RowMajor ? Layout::ColMajor : Layout::RowMajor);
    for (index_t r = 0; r < a.rows(); ++r)
      for (index_t c = 0; c < a.cols(); ++c) ASSERT_EQ(flipped(r, c), d(r, c));
  }
  const auto f = cast<float, std::int64_t>(a);
  for (index_t k = 0; k < a.nnz(); ++k) ASSERT_EQ(f.values()[k], static_cast<float>(a.values()[k]));
}

TEST(Conversions, RoundTripsAllTypes) {
  round_trips<double, std::int32_t>();
  round_trips<double, std::int64_t>();
  round_trips<float, std::int32_t>();
  round_trips<float, std::int64_t>();
}

TEST(Conversions, DenseNonFiniteRefused) {
  DenseMatrix<double> d(2, 2);
  d(1, 1) = std::numeric_limits<double>::infinity();
  expect_error<NonFinite>([&] { (void)dense_to_csr<double, std::int32_t>(d.view()); });
}

}  // namespace
}  // namespace shrink::test
