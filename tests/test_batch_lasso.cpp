// Batched Lasso: every problem against the single-problem solver (itself checked against
// scikit-learn and glmnet) to the certificate, the objective recomputed from the returned answer,
// edge cases, chunking and layouts, distinct problems, boundary errors, and the kernel twins.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "host/core/dispatch.hpp"
#include "tests/test_paths.hpp"
#include "tests/test_util.hpp"

namespace shrink {
namespace {

using test::make_context;

// X n x p (column-major) and Y n x k (column-major) with a few planted columns of Y.
struct Batch {
  index_t n = 0, p = 0, k = 0;
  std::vector<double> x, y;
  DenseView<const double> xv() const { return {x.data(), n, p, n, Layout::ColMajor}; }
  DenseView<const double> yv() const { return {y.data(), n, k, n, Layout::ColMajor}; }
  std::vector<double> column(index_t b) const { return {y.begin() + b * n, y.begin() + (b + 1) * n}; }
  std::vector<double> rows() const {  // X row-major, for the lambda_max reference
    std::vector<double> r(x.size());
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j < p; ++j) r[i * p + j] = x[j * n + i];
    return r;
  }
};

Batch random_batch(index_t n, index_t p, index_t k, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  Batch d{n, p, k, std::vector<double>(static_cast<std::size_t>(n * p)), std::vector<double>(static_cast<std::size_t>(n * k))};
  for (auto& e : d.x) e = normal(rng) + 0.5;
  for (index_t b = 0; b < k; ++b) {
    std::vector<double> beta(static_cast<std::size_t>(p), 0.0);
    for (index_t t = 0; t < 1 + b % 5; ++t) beta[(b * 3 + t * 7) % p] = normal(rng) * 2;
    for (index_t i = 0; i < n; ++i) {
      double s = 0.7 * b + 0.5 * normal(rng);
      for (index_t j = 0; j < p; ++j) s += d.x[j * n + i] * beta[j];
      d.y[b * n + i] = s;
    }
  }
  return d;
}

LassoOptions single_options(const BatchLassoOptions& o, double lambda, double tol) {
  LassoOptions s;
  s.l1_ratio = o.l1_ratio;
  s.fit_intercept = o.fit_intercept;
  s.positive = o.positive;
  s.penalty_factors = o.penalty_factors;
  s.lambdas = {lambda};
  s.tol = tol;
  s.solver = LassoSolver::CoordinateDescent;
  return s;
}

// The primal objective of problem b at the returned answer, in long double.
long double primal_of_answer(const Batch& d, const BatchLassoResult& r, const BatchLassoOptions& o, index_t b) {
  const auto beta = r.coefficients_at(static_cast<std::size_t>(b));
  long double fit = 0;
  for (index_t i = 0; i < d.n; ++i) {
    long double e = d.y[b * d.n + i] - r.intercepts[b];
    for (index_t j = 0; j < d.p; ++j) e -= static_cast<long double>(d.x[j * d.n + i]) * beta[j];
    fit += e * e;
  }
  long double l1 = 0, l2 = 0;
  for (index_t j = 0; j < d.p; ++j) {
    const double v = o.penalty_factors.empty() ? 1.0 : o.penalty_factors[j];
    l1 += v * std::abs(beta[j]);
    l2 += v * beta[j] * beta[j];
  }
  return fit / (2.0L * d.n) + r.lambdas[b] * (o.l1_ratio * l1 + 0.5L * (1 - o.l1_ratio) * l2);
}

// Every problem certified, its objective that of its answer, and equal to the single-problem solver's
// optimum to the two certificates.
void expect_matches_single(const Context& ctx, const Batch& d, const BatchLassoResult& r, const BatchLassoOptions& o,
                           const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_EQ(r.size(), static_cast<std::size_t>(d.k));
  ASSERT_EQ(r.coefficients.rows(), d.p);
  ASSERT_EQ(r.coefficients.cols(), d.k);
  for (index_t b = 0; b < d.k; ++b) {
    SCOPED_TRACE("problem " + std::to_string(b));
    EXPECT_EQ(r.status[b], FitStatus::Converged);
    EXPECT_LE(r.duality_gap[b], r.tol * r.objective[b] + 1e-15);
    EXPECT_NEAR(static_cast<double>(primal_of_answer(d, r, o, b)), r.objective[b], 1e-9 * (r.objective[b] + 1e-12));
    const auto y = d.column(b);
    const auto one = lasso_path<double>(ctx, d.xv(), VectorView<const double>(y), single_options(o, r.lambdas[b], 1e-10));
    if (o.l1_ratio > 0) {
      // lambda_max from its definition (test_util.hpp), not from the library's own formula.
      const double want = static_cast<double>(test::lambda_max_by_definition(d.n, d.p, d.rows(), y, single_options(o, 1, 0)));
      EXPECT_NEAR(r.lambda_max[b], want, 1e-9 * (want + 1e-12));
    } else {
      EXPECT_EQ(r.lambda_max[b], 0.0);  // ridge: no lambda_max
    }
    const double slack = r.duality_gap[b] + one.duality_gap[0] + 1e-12 * (one.objective[0] + 1e-12);
    EXPECT_NEAR(r.objective[b], one.objective[0], slack);
    const auto beta = r.coefficients_at(b);
    EXPECT_EQ(r.nnz[b], std::count_if(beta.begin(), beta.end(), [](double v) { return v != 0; }));
  }
}

struct Variant {
  const char* name;
  double l1_ratio;
  bool intercept, positive, factors;
};

class BatchLassoVariants : public testing::TestWithParam<Variant> {};
INSTANTIATE_TEST_SUITE_P(All, BatchLassoVariants,
                         testing::Values(Variant{"lasso", 1.0, true, false, false},
                                         Variant{"enet", 0.5, true, false, false},
                                         Variant{"positive", 1.0, true, true, false},
                                         Variant{"no_intercept", 1.0, false, false, false},
                                         Variant{"factors", 0.8, true, false, true}),
                         [](const testing::TestParamInfo<Variant>& i) { return std::string(i.param.name); });

TEST_P(BatchLassoVariants, EachProblemMatchesTheSingleProblemSolver) {
  const Variant v = GetParam();
  const Context ctx = make_context(Backend::Cpu);
  auto d = random_batch(50, 30, 14, 7);
  // An all-zero response, a constant one, and one that is a column of X.
  std::fill(d.y.begin() + 3 * d.n, d.y.begin() + 4 * d.n, 0.0);
  std::fill(d.y.begin() + 5 * d.n, d.y.begin() + 6 * d.n, 4.0);
  std::copy_n(d.x.begin() + 2 * d.n, d.n, d.y.begin() + 9 * d.n);
  BatchLassoOptions o;
  o.l1_ratio = v.l1_ratio;
  o.fit_intercept = v.intercept;
  o.positive = v.positive;
  o.tol = 1e-9;
  if (v.factors) {
    o.penalty_factors.assign(30, 1.0);
    o.penalty_factors[1] = 0;  // unpenalized
    o.penalty_factors[4] = 2.5;
    o.penalty_factors[7] = 0.3;
  }
  o.lambda_ratio = 0.1;
  const auto csr = dense_to_csr<double, std::int32_t>(d.xv());
  const auto csc = csr_to_csc(dense_to_csr<double, std::int64_t>(d.xv()));
  expect_matches_single(ctx, d, lasso_batch<double>(ctx, d.xv(), d.yv(), o), o, "dense, ratio");
  expect_matches_single(ctx, d, lasso_batch(ctx, csr, d.yv(), o), o, "csr, ratio");
  expect_matches_single(ctx, d, lasso_batch(ctx, csc, d.yv(), o), o, "csc, ratio");
  o.lambda_ratio = 0;
  o.lambda = 0.05;
  expect_matches_single(ctx, d, lasso_batch<double>(ctx, d.xv(), d.yv(), o), o, "dense, one lambda");
}

// scikit-learn's multi-output Lasso(precompute=True).fit(X, Y) fixtures (scripts/make_lasso_golden.py).
TEST(BatchLasso, MatchesScikitLearnMultiOutput) {
  const Context ctx = make_context(Backend::Cpu);
  int cases = 0;
  for (const auto& e : std::filesystem::directory_iterator(shrink::test::data_dir() + "/lasso_batch")) {
    if (e.path().extension() != ".json") continue;
    std::ifstream in(e.path());
    const auto j = nlohmann::json::parse(in);
    SCOPED_TRACE(e.path().filename().string() + " (" + j["reference"].get<std::string>() + ")");
    const auto& xs = j["X"];
    const auto& ys = j["Y"];
    Batch d{static_cast<index_t>(xs.size()), static_cast<index_t>(xs[0].size()), static_cast<index_t>(ys[0].size()), {}, {}};
    d.x.resize(static_cast<std::size_t>(d.n * d.p));
    d.y.resize(static_cast<std::size_t>(d.n * d.k));
    for (index_t i = 0; i < d.n; ++i) {
      for (index_t c = 0; c < d.p; ++c) d.x[c * d.n + i] = xs[i][c].get<double>();
      for (index_t b = 0; b < d.k; ++b) d.y[b * d.n + i] = ys[i][b].get<double>();
    }
    BatchLassoOptions o;
    o.lambda = j["lambda"].get<double>();
    o.l1_ratio = j["l1_ratio"].get<double>();
    o.fit_intercept = j["fit_intercept"].get<bool>();
    o.positive = j["positive"].get<bool>();
    o.tol = 1e-11;
    const auto csr = dense_to_csr<double, std::int32_t>(d.xv());
    for (const auto& r : {lasso_batch<double>(ctx, d.xv(), d.yv(), o), lasso_batch(ctx, csr, d.yv(), o)}) {
      for (index_t b = 0; b < d.k; ++b) {
        SCOPED_TRACE("problem " + std::to_string(b));
        const double want = j["objective"][b].get<double>();
        EXPECT_EQ(r.status[b], FitStatus::Converged);
        EXPECT_LE(r.objective[b], want * (1 + 1e-9) + 1e-14);
        EXPECT_GE(r.objective[b] - r.duality_gap[b], want * (1 - 1e-9) - 1e-14);
        const auto beta = r.coefficients_at(b);
        for (index_t c = 0; c < d.p; ++c) EXPECT_NEAR(beta[c], j["coef"][b][c].get<double>(), 1e-5) << c;
        EXPECT_NEAR(r.intercepts[b], j["intercept"][b].get<double>(), 1e-5);
      }
    }
    ++cases;
  }
  EXPECT_GE(cases, 3) << "run scripts/make_lasso_golden.py";
}

// Every problem's lambda_max (from a fit at lambda_max itself, which certifies at once).
std::vector<double> lambda_max_of(const Context& ctx, const Batch& d) {
  BatchLassoOptions o;
  o.lambda_ratio = 1;
  const auto r = lasso_batch<double>(ctx, d.xv(), d.yv(), o);
  for (index_t b = 0; b < d.k; ++b) EXPECT_EQ(r.nnz[b], 0);  // exactly lambda_max: the null model
  return r.lambda_max;
}

TEST(BatchLasso, PerProblemLambdasIncludingAboveLambdaMax) {
  const Context ctx = make_context(Backend::Cpu);
  const auto d = random_batch(40, 20, 9, 3);
  BatchLassoOptions o;
  o.tol = 1e-10;
  const auto lambda_max = lambda_max_of(ctx, d);
  for (index_t b = 0; b < d.k; ++b) o.lambdas.push_back(lambda_max[b] * (b % 3 == 0 ? 1.5 : 0.05 * (b + 1)));
  const auto r = lasso_batch<double>(ctx, d.xv(), d.yv(), o);
  expect_matches_single(ctx, d, r, o, "per-problem lambdas");
  for (index_t b = 0; b < d.k; ++b) {
    EXPECT_EQ(r.lambdas[b], o.lambdas[b]);
    if (b % 3 == 0) {
      EXPECT_EQ(r.nnz[b], 0) << b;  // lambda >= lambda_max: the null model, certified at once
      EXPECT_EQ(r.iterations[b], 0) << b;
    } else {
      EXPECT_GT(r.nnz[b], 0) << b;
    }
  }
}

TEST(BatchLasso, EdgeCases) {
  const Context ctx = make_context(Backend::Cpu);
  BatchLassoOptions o;
  o.tol = 1e-9;
  o.lambda_ratio = 0.05;
  {  // k = 1
    const auto d = random_batch(30, 10, 1, 11);
    expect_matches_single(ctx, d, lasso_batch<double>(ctx, d.xv(), d.yv(), o), o, "k = 1");
  }
  {  // ridge (l1_ratio = 0): every coefficient non-zero, lambdas given
    const auto d = random_batch(30, 10, 4, 14);
    BatchLassoOptions ridge;
    ridge.tol = 1e-10;
    ridge.l1_ratio = 0;
    ridge.lambda = 0.3;
    const auto r = lasso_batch<double>(ctx, d.xv(), d.yv(), ridge);
    expect_matches_single(ctx, d, r, ridge, "ridge");
    for (index_t b = 0; b < d.k; ++b) EXPECT_EQ(r.nnz[b], 10);
  }
  {  // p > n, with duplicate and zero columns and an all-zero response
    auto d = random_batch(15, 40, 6, 12);
    std::copy_n(d.x.begin() + 3 * d.n, d.n, d.x.begin() + 5 * d.n);
    std::fill(d.x.begin() + 8 * d.n, d.x.begin() + 9 * d.n, 0.0);
    std::fill(d.x.begin() + 9 * d.n, d.x.begin() + 10 * d.n, 2.0);  // constant: unusable with an intercept
    std::fill(d.y.begin() + 2 * d.n, d.y.begin() + 3 * d.n, 0.0);
    const auto r = lasso_batch<double>(ctx, d.xv(), d.yv(), o);
    expect_matches_single(ctx, d, r, o, "p > n");
    for (index_t b = 0; b < d.k; ++b) {
      const auto beta = r.coefficients_at(b);
      EXPECT_EQ(beta[8], 0.0);
      EXPECT_EQ(beta[9], 0.0);
    }
    EXPECT_EQ(r.lambda_max[2], 0.0);
    EXPECT_EQ(r.nnz[2], 0);
    EXPECT_EQ(r.objective[2], 0.0);
  }
}

TEST(BatchLasso, MixedConvergenceIsCounted) {
  const Context ctx = make_context(Backend::Cpu);
  const auto d = random_batch(60, 40, 10, 5);
  BatchLassoOptions o;
  o.tol = 1e-14;
  o.max_iter = 1;
  const auto lambda_max = lambda_max_of(ctx, d);
  for (index_t b = 0; b < d.k; ++b) o.lambdas.push_back(lambda_max[b] * (b < 4 ? 2.0 : 0.01));
  const auto r = lasso_batch<double>(ctx, d.xv(), d.yv(), o);
  std::size_t stopped = 0;
  for (index_t b = 0; b < d.k; ++b) {
    if (b < 4) EXPECT_EQ(r.status[b], FitStatus::Converged) << b;
    if (r.status[b] == FitStatus::MaxIterations) {
      ++stopped;
      EXPECT_GT(r.duality_gap[b], r.tol * r.objective[b]) << b;
      EXPECT_EQ(r.iterations[b], 1) << b;
    }
  }
  EXPECT_GT(stopped, 0u);
  EXPECT_EQ(r.n_not_converged(), stopped);
}

// A tol below what double precision certifies ends each problem where its gap stops falling (as
// the path's solvers do), not at max_iter.
TEST(BatchLasso, TolBelowTheRoundingFloorStopsWhereTheGapStalls) {
  const Context ctx = make_context(Backend::Cpu);
  const auto d = random_batch(200, 20, 12, 13);
  BatchLassoOptions o;
  o.tol = 1e-17;
  o.lambda_ratio = 0.01;
  const auto r = lasso_batch<double>(ctx, d.xv(), d.yv(), o);
  EXPECT_GT(r.n_not_converged(), 0u);
  for (index_t b = 0; b < d.k; ++b) {
    EXPECT_LT(r.iterations[b], 5000) << b;  // of the default max_iter
    EXPECT_LE(r.duality_gap[b], 1e-11 * r.objective[b]) << b;
  }
}

TEST(BatchLasso, ChunksLayoutsAndDenseOutputGiveTheSameAnswer) {
  const Context ctx = make_context(Backend::Cpu);
  const auto d = random_batch(35, 12, 11, 9);
  BatchLassoOptions o;
  o.lambda_ratio = 0.2;
  o.dense_output = true;
  const auto whole = lasso_batch<double>(ctx, d.xv(), d.yv(), o);
  o.chunk = 3;
  std::vector<double> row_major(d.y.size());
  for (index_t i = 0; i < d.n; ++i)
    for (index_t b = 0; b < d.k; ++b) row_major[i * d.k + b] = d.y[b * d.n + i];
  const DenseView<const double> yr(row_major.data(), d.n, d.k, d.k, Layout::RowMajor);
  std::size_t progress_calls = 0;
  o.progress = [&](std::size_t done, std::size_t total) {
    ++progress_calls;
    EXPECT_LE(done, total);
  };
  // The layout of Y changes nothing; chunks change only BLAS's blocking of C, so the answers agree
  // to the certificate.
  const auto chunked = lasso_batch<double>(ctx, d.xv(), d.yv(), o), rows = lasso_batch<double>(ctx, d.xv(), yr, o);
  EXPECT_EQ(rows.objective, chunked.objective);
  EXPECT_EQ(rows.dense_coefficients, chunked.dense_coefficients);
  for (index_t b = 0; b < d.k; ++b) {
    EXPECT_NEAR(chunked.objective[b], whole.objective[b], chunked.duality_gap[b] + whole.duality_gap[b] + 1e-12 * whole.objective[b]);
    EXPECT_NEAR(chunked.intercepts[b], whole.intercepts[b], 1e-4);
  }
  EXPECT_EQ(progress_calls, 8u);  // 4 chunks, twice
  for (index_t b = 0; b < d.k; ++b) {
    const auto sparse = whole.coefficients_at(b);
    EXPECT_TRUE(std::equal(sparse.begin(), sparse.end(), whole.dense_coefficients.begin() + b * d.p));
  }
}

TEST(BatchLasso, Float32MatchesFloat64ToItsTolerance) {
  const Context ctx = make_context(Backend::Cpu);
  const auto d = random_batch(60, 25, 8, 13);
  BatchLassoOptions o;
  o.lambda_ratio = 0.1;
  const auto want = lasso_batch<double>(ctx, d.xv(), d.yv(), o);
  const std::vector<float> x32(d.x.begin(), d.x.end()), y32(d.y.begin(), d.y.end());
  const auto got = lasso_batch<float>(ctx, DenseView<const float>(x32.data(), d.n, d.p, d.n, Layout::ColMajor),
                                      DenseView<const float>(y32.data(), d.n, d.k, d.n, Layout::ColMajor), o);
  EXPECT_EQ(got.tol, 1e-4);
  for (index_t b = 0; b < d.k; ++b) {
    EXPECT_EQ(got.status[b], FitStatus::Converged);
    EXPECT_NEAR(got.objective[b], want.objective[b], 3e-4 * want.objective[b]) << b;
  }
}

// Distinct problems: X_b with padding between columns and between problems.
TEST(BatchLasso, DistinctProblemsMatchTheSingleProblemSolver) {
  const Context ctx = make_context(Backend::Cpu);
  const index_t n = 30, p = 12, ldx = 33, k = 7;
  const index_t x_stride = ldx * p + 5, y_stride = n + 2;
  std::mt19937_64 rng(17);
  std::normal_distribution<double> normal;
  std::vector<double> x(static_cast<std::size_t>(x_stride * k), std::nan("")), y(static_cast<std::size_t>(y_stride * k), std::nan(""));
  for (index_t b = 0; b < k; ++b) {
    for (index_t j = 0; j < p; ++j)
      for (index_t i = 0; i < n; ++i) x[b * x_stride + j * ldx + i] = normal(rng) + b;
    for (index_t i = 0; i < n; ++i) y[b * y_stride + i] = x[b * x_stride + (b % p) * ldx + i] * 2 + normal(rng);
  }
  for (index_t i = 0; i < n; ++i) y[3 * y_stride + i] = 0;  // an all-zero response
  for (int variant = 0; variant < 3; ++variant) {
    BatchLassoOptions o;
    o.tol = 1e-9;
    o.l1_ratio = variant == 1 ? 0.5 : 1.0;
    o.positive = variant == 2;
    for (index_t b = 0; b < k; ++b) o.lambdas.push_back(0.02 + 0.03 * b);
    const auto r = lasso_batch(ctx, StridedBatch<double>{x.data(), n, p, ldx, x_stride, y.data(), y_stride, k}, o);
    for (index_t b = 0; b < k; ++b) {
      SCOPED_TRACE("variant " + std::to_string(variant) + " problem " + std::to_string(b));
      Batch one{n, p, 1, {}, {}};
      for (index_t j = 0; j < p; ++j)
        one.x.insert(one.x.end(), x.begin() + b * x_stride + j * ldx, x.begin() + b * x_stride + j * ldx + n);
      one.y.assign(y.begin() + b * y_stride, y.begin() + b * y_stride + n);
      EXPECT_EQ(r.status[b], FitStatus::Converged);
      const auto want = lasso_path<double>(ctx, one.xv(), VectorView<const double>(one.y), single_options(o, o.lambdas[b], 1e-10));
      EXPECT_NEAR(r.objective[b], want.objective[0], r.duality_gap[b] + want.duality_gap[0] + 1e-13);
      const auto got = r.coefficients_at(b), ref = want.coefficients_at(0);
      for (index_t j = 0; j < p; ++j) EXPECT_NEAR(got[j], ref[j], 1e-4) << j;
      EXPECT_NEAR(r.intercepts[b], want.intercepts[0], 1e-4);
    }
  }
}

TEST(BatchLasso, RefusesBadInput) {
  const Context ctx = make_context(Backend::Cpu);
  const auto d = random_batch(20, 6, 4, 1);
  BatchLassoOptions o;
  o.lambda = 0.1;
  auto fit = [&](const BatchLassoOptions& opt) { return lasso_batch<double>(ctx, d.xv(), d.yv(), opt); };
  EXPECT_NO_THROW(fit(o));
  const DenseView<const double> short_y(d.y.data(), 19, 4, 20, Layout::ColMajor);
  EXPECT_THROW(lasso_batch<double>(ctx, d.xv(), short_y, o), DimensionMismatch);
  EXPECT_THROW(lasso_batch<double>(ctx, d.xv(), DenseView<const double>(d.y.data(), 20, 0, 20, Layout::ColMajor), o),
               InvalidArgument);
  BatchLassoOptions bad = o;
  bad.lambda_ratio = 0.1;  // two lambda rules
  EXPECT_THROW(fit(bad), InvalidArgument);
  bad = {};
  EXPECT_THROW(fit(bad), InvalidArgument);  // none
  bad = o;
  bad.lambda = -1;
  EXPECT_THROW(fit(bad), InvalidArgument);
  bad = {};
  bad.lambdas = {0.1, 0.2};
  EXPECT_THROW(fit(bad), DimensionMismatch);
  bad.lambdas = {0.1, 0.2, std::nan(""), 0.3};
  EXPECT_THROW(fit(bad), InvalidArgument);
  bad = {};
  bad.lambda_ratio = 0.1;
  bad.l1_ratio = 0;
  EXPECT_THROW(fit(bad), InvalidArgument);
  bad = o;
  bad.positive = true;
  bad.penalty_factors = {1, 0, 1, 1, 1, 1};
  try {
    fit(bad);
    ADD_FAILURE() << "positive with an unpenalized feature was accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("feature 1"), std::string::npos) << e.what();
  }
  bad = o;
  bad.penalty_factors = {1, 1};
  EXPECT_THROW(fit(bad), DimensionMismatch);
  auto y = d.y;
  y[2 * 20 + 7] = std::numeric_limits<double>::infinity();
  try {
    lasso_batch<double>(ctx, d.xv(), DenseView<const double>(y.data(), 20, 4, 20, Layout::ColMajor), o);
    ADD_FAILURE() << "Inf in Y was accepted";
  } catch (const NonFinite& e) {
    EXPECT_NE(std::string(e.what()).find("(7, 2)"), std::string::npos) << e.what();
  }
  const std::vector<double> xs(20 * 6, 1.0), ys(20, 1.0);
  EXPECT_THROW(lasso_batch(ctx, StridedBatch<double>{xs.data(), 20, 6, 20, 100, ys.data(), 20, 2}, o), InvalidArgument);
  EXPECT_THROW(lasso_batch(ctx, StridedBatch<double>{xs.data(), 20, 6, 19, 120, ys.data(), 20, 1}, o), InvalidArgument);
}

// ---- the kernel twins ----------------------------------------------------------------------------------------
class BatchLassoKernels : public test::BackendTest {};
INSTANTIATE_TEST_SUITE_P(AllBackends, BatchLassoKernels, testing::Values(Backend::Cpu, Backend::Cuda),
                         test::backend_name);

using test::to_backend;

TEST_P(BatchLassoKernels, CenterAndCompressColumnsMatchReference) {
  const Context ctx = make_context(GetParam());
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal;
  for (index_t n : {1, 31, 70}) {
    const index_t m = 9;
    std::vector<double> y(static_cast<std::size_t>(n * m));
    for (auto& e : y) e = 1e3 + normal(rng);
    for (bool center : {false, true}) {
      auto yd = to_backend(ctx, y);
      Array<double> mean(ctx, static_cast<std::size_t>(m), ctx.memory_space()), sumsq(ctx, static_cast<std::size_t>(m), ctx.memory_space());
      SHRINK_DISPATCH(ctx, center_columns, ctx, DenseView<double>(yd.data(), n, m, n, Layout::ColMajor, ctx.memory_space()),
                      center, mean.data(), sumsq.data());
      const auto got = yd.to_vector(ctx), gm = mean.to_vector(ctx), gs = sumsq.to_vector(ctx);
      for (index_t b = 0; b < m; ++b) {
        long double mu = 0, dev = 0;
        if (center)
          for (index_t i = 0; i < n; ++i) mu += y[b * n + i];
        mu /= n;
        for (index_t i = 0; i < n; ++i) {
          const long double e = y[b * n + i] - mu;
          dev += e * e;
          EXPECT_NEAR(got[b * n + i], static_cast<double>(center ? e : y[b * n + i]), 1e-9);
        }
        EXPECT_NEAR(gm[b], static_cast<double>(mu), 1e-10);
        EXPECT_NEAR(gs[b], static_cast<double>(dev / n), 1e-9 * static_cast<double>(dev / n + 1));
      }
    }
  }
  {  // n = 0: means and variances are 0, as on the CPU, not 0/0
    Array<double> mean(ctx, 3, ctx.memory_space()), sumsq(ctx, 3, ctx.memory_space());
    for (bool center : {false, true}) {
      SHRINK_DISPATCH(ctx, center_columns, ctx, DenseView<double>(nullptr, 0, 3, 1, Layout::ColMajor, ctx.memory_space()),
                      center, mean.data(), sumsq.data());
      EXPECT_EQ(mean.to_vector(ctx), std::vector<double>(3, 0.0));
      EXPECT_EQ(sumsq.to_vector(ctx), std::vector<double>(3, 0.0));
    }
  }
  // compress: columns with 0, some, and every entry non-zero, across several warps' worth of rows.
  const index_t p = 75, m = 5;
  std::vector<float> a(static_cast<std::size_t>(p * m), 0.0f);
  for (index_t j = 0; j < p; ++j) {
    a[1 * p + j] = (j % 9 == 0) ? static_cast<float>(j) + 0.5f : 0.0f;
    a[2 * p + j] = static_cast<float>(j) - 37.0f;  // one zero at j = 37
    a[4 * p + j] = j == p - 1 ? -2.0f : 0.0f;
  }
  std::vector<std::int64_t> offsets{0};
  for (index_t b = 0; b < m; ++b)
    offsets.push_back(offsets.back() + std::count_if(a.begin() + b * p, a.begin() + (b + 1) * p, [](float v) { return v != 0; }));
  const auto nnz = static_cast<std::size_t>(offsets.back());
  const auto ad = to_backend(ctx, a);
  const auto od = to_backend(ctx, offsets);
  Array<std::int64_t> rows(ctx, nnz, ctx.memory_space());
  Array<double> values(ctx, nnz, ctx.memory_space());
  SHRINK_DISPATCH(ctx, compress_columns, ctx, DenseView<const float>(ad.data(), p, m, p, Layout::ColMajor, ctx.memory_space()),
                  od.data(), rows.data(), values.data());
  const auto r = rows.to_vector(ctx);
  const auto v = values.to_vector(ctx);
  std::size_t at = 0;
  for (index_t b = 0; b < m; ++b)
    for (index_t j = 0; j < p; ++j)
      if (a[b * p + j] != 0) {
        ASSERT_LT(at, nnz);
        EXPECT_EQ(r[at], j);
        EXPECT_EQ(v[at], static_cast<double>(a[b * p + j]));
        ++at;
      }
  EXPECT_EQ(at, nnz);
}

// batch_gram_build and batch_gram_cd on this backend for distinct problems (each its own G), in
// float64 and float32, against an independent reference: each problem solved alone by lasso_path in
// float64 at the same lambda (lambda_ratio times lambda_max from its definition). On CUDA the result
// is also held against the CPU twin. p = 37 stages G_b in shared memory on CUDA; p = 120 does not
// (48 KiB holds p <= 78 in float64, 110 in float32).
template <class V>
void check_build_and_solve(const Context& ctx, index_t p) {
  const Context cpu = make_context(Backend::Cpu);
  const index_t n = p + 23, m = 5;
  std::mt19937_64 rng(29 + p);
  std::normal_distribution<double> normal;
  std::vector<V> x(static_cast<std::size_t>(n * p * m)), y(static_cast<std::size_t>(n * m));
  for (auto& e : x) e = static_cast<V>(normal(rng) + 2);
  for (index_t b = 0; b < m; ++b)
    for (index_t i = 0; i < n; ++i) y[b * n + i] = static_cast<V>(x[b * n * p + ((3 * b) % p) * n + i] + 0.3 * normal(rng));
  for (index_t i = 0; i < n; ++i) x[2 * n * p + 5 * n + i] = V(3);  // a constant column
  struct Out {
    std::vector<kernels::BatchProblemResult> res;
    std::vector<V> beta;
  };
  const double ratio = 0.1, alpha = 0.9;
  auto run = [&](const Context& c) {
    const auto space = c.memory_space();
    auto xd = to_backend(c, x), yd = to_backend(c, y);
    Array<V> gram(c, static_cast<std::size_t>(p * p * m), space), lip(c, static_cast<std::size_t>(p * m), space),
        mu(c, static_cast<std::size_t>(p * m), space), q(c, static_cast<std::size_t>(p * m), space),
        beta(c, static_cast<std::size_t>(p * m), space), grad(c, static_cast<std::size_t>(p * m), space),
        active_grad(c, static_cast<std::size_t>(p * m), space), active_moves(c, static_cast<std::size_t>(p * m), space);
    Array<std::int64_t> active(c, static_cast<std::size_t>(p * m), space);
    Array<double> yy(c, static_cast<std::size_t>(m), space), ybar(c, static_cast<std::size_t>(m), space);
    Array<kernels::BatchProblemResult> res(c, static_cast<std::size_t>(m), space);
    const auto bb = kernels::packed_batch<V>(n, p, m, xd.data(), yd.data(), true, gram.data(), lip.data(), mu.data(),
                                             q.data(), yy.data(), ybar.data());
    SHRINK_DISPATCH(c, batch_gram_build, c, bb);
    kernels::BatchGramArgs<V> a;
    a.p = p;
    a.m = m;
    kernels::attach_built(a, bb);
    a.lambda_ratio = ratio;
    a.alpha = alpha;
    a.tol = std::is_same_v<V, float> ? 1e-5 : 1e-10;
    a.max_iter = 10000;
    kernels::attach_work(a, beta.data(), grad.data(), active.data(), active_grad.data(), active_moves.data(), res.data());
    SHRINK_DISPATCH(c, batch_gram_cd, c, a);
    return Out{res.to_vector(c), beta.to_vector(c)};
  };
  const Out got = run(ctx);
  const bool f32 = std::is_same_v<V, float>;
  for (index_t b = 0; b < m; ++b) {
    SCOPED_TRACE("p " + std::to_string(p) + " problem " + std::to_string(b));
    // Problem b alone: X_b (n x p column-major) and y_b, in float64 from the same values.
    DenseMatrix<double> xb(n, p, Layout::RowMajor);
    std::vector<double> rows(static_cast<std::size_t>(n * p)), yb(static_cast<std::size_t>(n));
    for (index_t i = 0; i < n; ++i) {
      yb[i] = y[b * n + i];
      for (index_t j = 0; j < p; ++j) rows[i * p + j] = xb(i, j) = x[b * n * p + j * n + i];
    }
    LassoOptions o;
    o.l1_ratio = alpha;
    const double lambda_max = static_cast<double>(test::lambda_max_by_definition(n, p, rows, yb, o));
    o.lambdas = {ratio * lambda_max};
    o.tol = 1e-12;
    const auto ref = lasso_path<double>(cpu, xb.view(), VectorView<const double>(yb), o);
    const double rel = f32 ? 1e-5 : 1e-9;  // float32: its data's own rounding and its tolerance
    EXPECT_EQ(got.res[b].converged, 1);
    EXPECT_NEAR(got.res[b].lambda_max, lambda_max, rel * lambda_max);
    // Both objectives are certified: they agree to the two gaps (float32: to its tolerance).
    EXPECT_NEAR(got.res[b].objective, ref.objective[0],
                got.res[b].gap + ref.duality_gap[0] + rel * 10 * ref.objective[0]);
    EXPECT_EQ(got.beta[b * p + 5] == V(0) || b != 2, true);  // the constant column never moves
  }
  if (ctx.backend() == Backend::Cuda) {  // and the CUDA twin against the CPU twin
    const Out want = run(cpu);
    const double tol = f32 ? 1e-3 : 1e-8;
    for (index_t b = 0; b < m; ++b) {
      EXPECT_NEAR(got.res[b].objective, want.res[b].objective, tol * want.res[b].objective) << b;
      EXPECT_NEAR(got.res[b].intercept, want.res[b].intercept, 10 * tol * (1 + std::abs(want.res[b].intercept))) << b;
      for (index_t j = 0; j < p; ++j) EXPECT_NEAR(got.beta[b * p + j], want.beta[b * p + j], 50 * tol) << b << " " << j;
    }
  }
}

TEST_P(BatchLassoKernels, BuildAndSolveAgreeWithTheCpuTwin) {
  const Context ctx = make_context(GetParam());
  for (index_t p : {37, 120}) {
    check_build_and_solve<double>(ctx, p);
    check_build_and_solve<float>(ctx, p);
  }
}

// The whole batched fit twice on this backend: the same bits (README: deterministic).
TEST_P(BatchLassoKernels, RepeatedFitsAreBitIdentical) {
  const Context ctx = make_context(GetParam());
  const auto d = random_batch(60, 30, 70, 41);
  BatchLassoOptions o;
  o.lambda_ratio = 0.1;
  o.chunk = 32;
  const auto a = lasso_batch<double>(ctx, d.xv(), d.yv(), o), b = lasso_batch<double>(ctx, d.xv(), d.yv(), o);
  EXPECT_EQ(a.objective, b.objective);
  EXPECT_EQ(a.duality_gap, b.duality_gap);
  EXPECT_EQ(a.intercepts, b.intercepts);
  EXPECT_EQ(a.iterations, b.iterations);
  for (std::size_t k = 0; k < a.size(); ++k) EXPECT_EQ(a.coefficients_at(k), b.coefficients_at(k)) << k;
  const StridedBatch<double> s{d.x.data(), 20, 10, 20, 200, d.y.data(), 60, 3};
  BatchLassoOptions od;
  od.lambda = 0.05;
  const auto c = lasso_batch(ctx, s, od), e = lasso_batch(ctx, s, od);
  EXPECT_EQ(c.objective, e.objective);
  for (std::size_t k = 0; k < c.size(); ++k) EXPECT_EQ(c.coefficients_at(k), e.coefficients_at(k)) << k;
}

// The whole batched solver on a GPU against the CPU: shared dense and sparse designs, float64 and
// float32, with an unpenalized feature, in chunks; and a distinct batch.
TEST(BatchLasso, CudaAgreesWithCpu) {
  SHRINK_SKIP_IF_ABSENT(Backend::Cuda);
  const Context gpu = make_context(Backend::Cuda), cpu = make_context(Backend::Cpu);
  const auto d = random_batch(80, 40, 300, 23);
  BatchLassoOptions o;
  o.lambda_ratio = 0.1;
  o.tol = 1e-9;
  o.chunk = 128;
  o.l1_ratio = 0.9;
  o.penalty_factors.assign(40, 1.0);
  o.penalty_factors[6] = 0;
  const auto want = lasso_batch<double>(cpu, d.xv(), d.yv(), o);
  const auto csr = dense_to_csr<double, std::int32_t>(d.xv());
  for (const auto& got : {lasso_batch<double>(gpu, d.xv(), d.yv(), o), lasso_batch(gpu, csr, d.yv(), o)}) {
    EXPECT_EQ(got.n_not_converged(), 0u);
    for (index_t b = 0; b < d.k; ++b) {
      EXPECT_NEAR(got.objective[b], want.objective[b], 1e-8 * want.objective[b]) << b;
      EXPECT_NEAR(got.intercepts[b], want.intercepts[b], 1e-5 * (1 + std::abs(want.intercepts[b]))) << b;
    }
  }
  const std::vector<float> x32(d.x.begin(), d.x.end()), y32(d.y.begin(), d.y.end());
  o.tol = 0;
  const auto got32 = lasso_batch<float>(gpu, DenseView<const float>(x32.data(), d.n, d.p, d.n, Layout::ColMajor),
                                        DenseView<const float>(y32.data(), d.n, d.k, d.n, Layout::ColMajor), o);
  EXPECT_EQ(got32.n_not_converged(), 0u);
  for (index_t b = 0; b < d.k; ++b) EXPECT_NEAR(got32.objective[b], want.objective[b], 3e-4 * want.objective[b]) << b;
  // Distinct problems: the columns of Y against slices of X.
  BatchLassoOptions od;
  od.lambda = 0.05;
  od.tol = 1e-9;
  const StridedBatch<double> s{d.x.data(), 20, 10, 20, 200, d.y.data(), 80, 4};
  const auto a = lasso_batch(cpu, s, od), b = lasso_batch(gpu, s, od);
  for (index_t t = 0; t < 4; ++t) EXPECT_NEAR(b.objective[t], a.objective[t], 1e-8 * a.objective[t]) << t;
}

}  // namespace
}  // namespace shrink
