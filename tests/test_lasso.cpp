// Lasso / Elastic Net: reference agreement (scikit-learn, glmnet fixtures from
// scripts/make_lasso_golden.py), KKT conditions on every returned solution, solver and format
// agreement, edge cases, cross-validation and boundary errors.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>

#include "host/core/dispatch.hpp"
#include "host/lasso/design.hpp"
#include "host/lasso/newton.hpp"
#include "kernels/ops/fork.hpp"
#include "tests/test_paths.hpp"
#include "tests/test_util.hpp"

namespace shrink {
namespace {

using test::make_context;

struct Data {
  DenseMatrix<double> x;
  std::vector<double> y;
};

Data random_problem(index_t n, index_t p, std::uint64_t seed, int true_nonzeros = 5) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  Data d{DenseMatrix<double>(n, p, Layout::RowMajor), std::vector<double>(static_cast<std::size_t>(n))};
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < p; ++j) d.x(i, j) = normal(rng);
  std::vector<double> beta(static_cast<std::size_t>(p), 0.0);
  for (int k = 0; k < true_nonzeros && k < p; ++k) beta[(k * 7) % p] = 2.0 * (k % 2 ? -1 : 1);
  for (index_t i = 0; i < n; ++i) {
    double s = 1.5 + 0.3 * normal(rng);
    for (index_t j = 0; j < p; ++j) s += d.x(i, j) * beta[j];
    d.y[i] = s;
  }
  return d;
}

// Normalized weights and the column scales s_j the penalty applies to (0: constant column).
struct Scaling {
  std::vector<double> w, s;
};

Scaling scaling(const DenseMatrix<double>& x, const LassoOptions& o) {
  const index_t n = x.rows(), p = x.cols();
  std::vector<double> w(static_cast<std::size_t>(n), 1.0);
  if (!o.sample_weights.empty()) {
    double total = 0;
    for (double v : o.sample_weights) total += v;
    for (index_t i = 0; i < n; ++i) w[i] = o.sample_weights[i] * n / total;
  }
  std::vector<double> s(static_cast<std::size_t>(p), 1.0), mu(static_cast<std::size_t>(p), 0.0);
  for (index_t j = 0; j < p; ++j) {
    if (o.fit_intercept)
      for (index_t i = 0; i < n; ++i) mu[j] += w[i] * x(i, j) / n;
    double var = 0;
    for (index_t i = 0; i < n; ++i) var += w[i] * (x(i, j) - mu[j]) * (x(i, j) - mu[j]) / n;
    if (o.standardize) s[j] = std::sqrt(var);
    if (var < 1e-24) s[j] = 0;  // constant column: never in the model
  }
  return {w, s};
}

// y - intercept - X b for the answer at lambda #l.
std::vector<double> residual_of_answer(const DenseMatrix<double>& x, const std::vector<double>& y,
                                       const LassoPath& path, std::size_t l) {
  const auto b = path.coefficients_at(l);
  std::vector<double> r(static_cast<std::size_t>(x.rows()));
  for (index_t i = 0; i < x.rows(); ++i) {
    double f = path.intercepts[l];
    for (index_t j = 0; j < x.cols(); ++j) f += x(i, j) * b[j];
    r[i] = y[i] - f;
  }
  return r;
}

// The reported objective is the primal at the reported coefficients and intercept, recomputed here
// in float64 from the original-scale answer.
void expect_objective_of_answer(const DenseMatrix<double>& x, const std::vector<double>& y,
                                const LassoOptions& o, const LassoPath& path, double rel,
                                const std::string& what) {
  const index_t n = x.rows(), p = x.cols();
  const auto [w, s] = scaling(x, o);
  for (std::size_t l = 0; l < path.size(); ++l) {
    const auto b = path.coefficients_at(l);
    const auto r = residual_of_answer(x, y, path, l);
    double fit = 0, penalty = 0;
    for (index_t i = 0; i < n; ++i) fit += w[i] * r[i] * r[i];
    for (index_t j = 0; j < p; ++j) {
      const double beta = b[j] * (o.standardize ? s[j] : 1.0);
      const double v = o.penalty_factors.empty() ? 1.0 : o.penalty_factors[j];
      penalty += v * (o.l1_ratio * std::abs(beta) + 0.5 * (1 - o.l1_ratio) * beta * beta);
    }
    const double objective = 0.5 * fit / n + path.lambdas[l] * penalty;
    EXPECT_NEAR(path.objective[l], objective, rel * objective) << what << " lambda " << l;
  }
}

// The optimality conditions of the problem, checked in float64 from the original-scale answer:
// g_j = (1/n) s_j x~_j^T W r must equal lambda v_j (alpha sign(beta_j) + (1-alpha) beta_j) on the
// support and stay within lambda alpha v_j off it, and W r sums to zero with an intercept.
void expect_kkt(const DenseMatrix<double>& x, const std::vector<double>& y, const LassoOptions& o,
                const LassoPath& path, double tol, const std::string& what) {
  const index_t n = x.rows(), p = x.cols();
  const auto [w, s] = scaling(x, o);
  const double a = o.l1_ratio;
  for (std::size_t l = 0; l < path.size(); ++l) {
    const double lambda = path.lambdas[l];
    const auto b = path.coefficients_at(l);
    const auto r = residual_of_answer(x, y, path, l);
    double scale = 0, wr = 0;
    for (index_t i = 0; i < n; ++i) {
      wr += w[i] * r[i];
      scale = std::max(scale, std::abs(y[i]));
    }
    if (o.fit_intercept) {
      EXPECT_NEAR(wr / n, 0.0, 1e-6 * (scale + 1)) << what << " lambda " << l;
    }
    for (index_t j = 0; j < p; ++j) {
      if (s[j] == 0) {
        EXPECT_EQ(b[j], 0.0);
        continue;
      }
      double g = 0;
      for (index_t i = 0; i < n; ++i) g += w[i] * x(i, j) * r[i];
      g = g / n / (o.standardize ? s[j] : 1.0);  // gradient with respect to beta_j = s_j b_j
      const double v = o.penalty_factors.empty() ? 1.0 : o.penalty_factors[j];
      const double beta = b[j] * (o.standardize ? s[j] : 1.0);
      const double bound = tol * (lambda * std::max(v, 1.0) + std::abs(g) + 1e-12);
      if (beta != 0) {
        const double want = lambda * v * (a * (beta > 0 ? 1 : -1) + (1 - a) * beta);
        EXPECT_NEAR(g, want, bound) << what << " lambda " << l << " feature " << j << " (support)";
      } else if (o.positive) {
        EXPECT_LE(g, lambda * a * v + bound) << what << " lambda " << l << " feature " << j;
      } else {
        EXPECT_LE(std::abs(g), lambda * a * v + bound) << what << " lambda " << l << " feature " << j;
      }
    }
  }
}

// ---- reference fixtures ------------------------------------------------------------------------------
struct Fixture {
  std::string name, reference;
  bool sparse = false;
  LassoOptions options;
  DenseMatrix<double> x;
  std::vector<double> y;
  std::vector<double> objective;
  std::vector<std::vector<double>> coef;
};

Fixture load_fixture(const std::filesystem::path& file) {
  std::ifstream in(file);
  const auto j = nlohmann::json::parse(in);
  Fixture f;
  f.name = j["name"];
  f.reference = j["reference"];
  f.sparse = j["sparse"];
  f.options.l1_ratio = j["l1_ratio"];
  f.options.fit_intercept = j["fit_intercept"];
  f.options.positive = j["positive"];
  f.options.standardize = j["standardize"];
  f.options.sample_weights = j["sample_weights"].get<std::vector<double>>();
  f.options.penalty_factors = j["penalty_factors"].get<std::vector<double>>();
  const auto rows = j["X"].get<std::vector<std::vector<double>>>();
  f.x = DenseMatrix<double>(static_cast<index_t>(rows.size()), static_cast<index_t>(rows[0].size()));
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t c = 0; c < rows[i].size(); ++c) f.x(static_cast<index_t>(i), static_cast<index_t>(c)) = rows[i][c];
  f.y = j["y"].get<std::vector<double>>();
  for (const auto& s : j["solutions"]) {
    f.options.lambdas.push_back(s["lambda"]);
    f.objective.push_back(s["objective"]);
    f.coef.push_back(s["coef"].get<std::vector<double>>());
  }
  return f;
}

std::vector<Fixture> all_fixtures() {
  std::vector<Fixture> out;
  for (const auto& e : std::filesystem::directory_iterator(shrink::test::data_dir() + "/lasso"))
    if (e.path().extension() == ".json") out.push_back(load_fixture(e.path()));
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return out;
}

LassoPath fit_fixture(const Context& ctx, const Fixture& f, const LassoOptions& o) {
  if (f.sparse) return lasso_path(ctx, dense_to_csr<double, std::int32_t>(f.x.view()), VectorView<const double>(f.y), o);
  return lasso_path<double>(ctx, f.x.view(), VectorView<const double>(f.y), o);
}

class LassoReference : public testing::TestWithParam<LassoSolver> {};

TEST_P(LassoReference, ObjectivesMatchScikitLearnAndGlmnet) {
  const auto fixtures = all_fixtures();
  ASSERT_GE(fixtures.size(), 8u) << "run scripts/make_lasso_golden.py";
  const Context ctx = make_context(Backend::Cpu);
  for (const auto& f : fixtures) {
    LassoOptions o = f.options;
    o.solver = GetParam();
    o.tol = 1e-10;
    const LassoPath path = fit_fixture(ctx, f, o);
    ASSERT_EQ(path.size(), f.objective.size());
    for (std::size_t l = 0; l < path.size(); ++l) {
      SCOPED_TRACE(f.name + " (" + f.reference + ") lambda #" + std::to_string(l));
      EXPECT_EQ(path.status[l], FitStatus::Converged);
      EXPECT_LE(path.duality_gap[l], 1e-10 * path.objective[l] + 1e-15);
      // The reference's objective is at least the optimum, so ours exceeds it by at most our gap
      // (plus the rounding of two float64 objective evaluations, a few ulps). The other side is the
      // reference's own suboptimality: scikit-learn stops at a gap of 1e-13 ||y||^2 / 2n and glmnet
      // at thresh 1e-15, measured at most 7e-11 of the objective on these fixtures.
      EXPECT_LE(path.objective[l] - f.objective[l], path.duality_gap[l] + 1e-14 * f.objective[l]);
      EXPECT_LE(f.objective[l] - path.objective[l], 2e-10 * f.objective[l]);
      const auto coef = path.coefficients_at(l);
      double biggest = 1e-12;
      for (double c : f.coef[l]) biggest = std::max(biggest, std::abs(c));
      for (std::size_t j = 0; j < coef.size(); ++j)
        EXPECT_NEAR(coef[j], f.coef[l][j], 1e-4 * biggest) << "feature " << j;
    }
    expect_kkt(f.x, f.y, o, path, 1e-4, f.name);
    expect_objective_of_answer(f.x, f.y, o, path, 1e-11, f.name);
    // The same problem with X sparse (implicit centering and scaling) gives the same answers.
    if (!f.sparse) {
      const auto sparse = lasso_path(ctx, dense_to_csr<double, std::int32_t>(f.x.view()),
                                     VectorView<const double>(f.y), o);
      for (std::size_t l = 0; l < path.size(); ++l)
        EXPECT_NEAR(sparse.objective[l], f.objective[l], 1e-6 * f.objective[l]) << f.name << " as CSR, lambda #" << l;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Solvers, LassoReference,
                         testing::Values(LassoSolver::CoordinateDescent, LassoSolver::Gram,
                                         LassoSolver::ProximalGradient, LassoSolver::WorkingSetGram),
                         [](const auto& info) {
                           std::string name = to_string(info.param);
                           std::replace(name.begin(), name.end(), '-', '_');  // gtest names: [A-Za-z0-9_]
                           return name;
                         });

// ---- paths, formats, precision ----------------------------------------------------------------------
TEST(Lasso, DefaultPathIsCertifiedAndDecreasing) {
  const auto d = random_problem(80, 40, 1);
  const Context ctx = make_context(Backend::Cpu);
  const LassoPath path = lasso_path<double>(ctx, d.x.view(), VectorView<const double>(d.y));
  ASSERT_EQ(path.size(), 100u);
  EXPECT_DOUBLE_EQ(path.lambdas.front(), path.lambda_max.front());
  EXPECT_NEAR(path.lambdas.back() / path.lambdas.front(), 1e-3, 1e-12);  // n > p
  EXPECT_EQ(path.nnz.front(), 0);
  for (std::size_t l = 1; l < path.size(); ++l) EXPECT_LT(path.lambdas[l], path.lambdas[l - 1]);
  EXPECT_TRUE(path.all_converged());
  for (std::size_t l = 0; l < path.size(); ++l) EXPECT_LE(path.duality_gap[l], 1e-6 * path.objective[l]);
  EXPECT_GT(path.nnz.back(), 5);
  expect_kkt(d.x, d.y, LassoOptions{}, path, 1e-2, "default path");
  // The wide case uses lambda_min_ratio 1e-2.
  const auto wide = random_problem(20, 50, 2);
  const auto wp = lasso_path<double>(ctx, wide.x.view(), VectorView<const double>(wide.y));
  EXPECT_NEAR(wp.lambdas.back() / wp.lambdas.front(), 1e-2, 1e-12);
}

TEST(Lasso, DenseSparseLayoutsAndSolversAgree) {
  const auto d = random_problem(60, 30, 3);
  const Context ctx = make_context(Backend::Cpu);
  LassoOptions o;
  o.n_lambdas = 20;
  o.tol = 1e-10;
  o.l1_ratio = 0.8;
  const auto base = lasso_path<double>(ctx, d.x.view(), VectorView<const double>(d.y), o);
  const auto col = dense_to_layout<double>(d.x.view(), Layout::ColMajor);
  const auto csr = dense_to_csr<double, std::int64_t>(d.x.view());
  std::vector<LassoPath> others;
  others.push_back(lasso_path<double>(ctx, col.view(), VectorView<const double>(d.y), o));
  others.push_back(lasso_path(ctx, csr, VectorView<const double>(d.y), o));
  others.push_back(lasso_path(ctx, csr_to_csc(csr), VectorView<const double>(d.y), o));
  for (auto s : {LassoSolver::CoordinateDescent, LassoSolver::Gram, LassoSolver::ProximalGradient,
                 LassoSolver::WorkingSetGram}) {
    o.solver = s;
    others.push_back(lasso_path<double>(ctx, d.x.view(), VectorView<const double>(d.y), o));
  }
  for (const auto& other : others)
    for (std::size_t l = 0; l < base.size(); ++l) {
      EXPECT_NEAR(other.objective[l], base.objective[l], 1e-9 * base.objective[l]) << to_string(other.solver);
      const auto a = base.coefficients_at(l), b = other.coefficients_at(l);
      for (std::size_t j = 0; j < a.size(); ++j) EXPECT_NEAR(a[j], b[j], 1e-4);
    }
}

// Sparse columns with few distinct values (indicators, 0/1/2 genotypes, small counts) are read by
// value group; their dots and axpys, and whole paths with weights and standardization, give what the
// entry-by-entry reads and the Gram solver on the dense X give.
// The dense column reads (out of line, AVX2 + FMA or the baseline as the CPU allows) against plain
// loops in long double, for both value types, with and without weights, at lengths around the
// vector widths.
TEST(Lasso, DenseColumnReadsMatchPlainLoops) {
  auto check = [](auto tag) {
    using V = decltype(tag);
    for (index_t n : {0, 1, 3, 4, 7, 8, 17, 64, 1001}) {
      std::vector<V> col(static_cast<std::size_t>(n));
      std::vector<double> w(col.size()), r(col.size());
      for (index_t i = 0; i < n; ++i) {
        col[i] = static_cast<V>(std::sin(0.3 * i + 1));
        w[i] = 0.5 + std::cos(0.7 * i) * 0.4;
        r[i] = std::cos(1.1 * i) - 0.2;
      }
      for (const double* weights : {static_cast<const double*>(nullptr), static_cast<const double*>(w.data())}) {
        long double want = 0, scale = 0;
        for (index_t i = 0; i < n; ++i) {
          const long double term = (weights ? weights[i] : 1.0L) * static_cast<long double>(col[i]) * r[i];
          want += term;
          scale += std::abs(term);
        }
        EXPECT_NEAR(lasso_detail::design_detail::dense_dot(col.data(), weights, r.data(), n),
                    static_cast<double>(want), 1e-14 * static_cast<double>(scale) + 1e-300)
            << "n = " << n;
      }
      auto y = r;
      lasso_detail::design_detail::dense_axpy(col.data(), -0.75, y.data(), n);
      for (index_t i = 0; i < n; ++i) EXPECT_NEAR(y[i], r[i] - 0.75 * static_cast<double>(col[i]), 1e-15) << i;
    }
  };
  check(double{});
  check(float{});
}

TEST(Lasso, GroupedSparseColumnsGiveTheEntryByEntryAnswer) {
  const index_t n = 150, p = 36;
  std::mt19937_64 rng(44);
  std::uniform_real_distribution<double> unit(0, 1);
  std::normal_distribution<double> normal;
  DenseMatrix<double> x(n, p, Layout::RowMajor);
  const double levels[] = {1.0, 2.0, -0.5, 3.0, 7.0};
  for (index_t j = 0; j < p; ++j) {
    const int kinds = j % 6 == 5 ? 0 : 1 + static_cast<int>(j % 5);  // 0: continuous; 5: too many values
    for (index_t i = 0; i < n; ++i) {
      if (unit(rng) > 0.3) continue;
      x(i, j) = kinds == 0 ? normal(rng) : levels[static_cast<int>(unit(rng) * kinds)];
    }
  }
  std::vector<double> y(static_cast<std::size_t>(n)), w(static_cast<std::size_t>(n)), r(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) {
    y[i] = normal(rng) + x(i, 0) - 0.5 * x(i, 3) + 0.3 * x(i, 7);
    w[i] = 0.5 + unit(rng);
    r[i] = normal(rng);
  }
  const Context ctx = make_context(Backend::Cpu);
  const auto csr = dense_to_csr<double, std::int32_t>(x.view());
  const auto grouped = lasso_detail::make_design(ctx, csr.view());
  ASSERT_TRUE(grouped.groups);
  auto plain = grouped;
  plain.groups.reset();
  for (index_t j = 0; j < p; ++j) {
    const bool few = j % 6 != 5 && j % 5 != 4;  // at most four distinct values
    EXPECT_EQ(grouped.groups->first[j + 1] > grouped.groups->first[j], few) << j;
    for (const double* weights : {static_cast<const double*>(nullptr), static_cast<const double*>(w.data())}) {
      const double a = lasso_detail::column_dot(grouped, j, weights, r.data());
      EXPECT_NEAR(a, lasso_detail::column_dot(plain, j, weights, r.data()), 1e-12 * (1 + std::abs(a))) << j;
    }
    auto r1 = r, r2 = r;
    lasso_detail::column_axpy(grouped, j, -0.7, r1.data());
    lasso_detail::column_axpy(plain, j, -0.7, r2.data());
    for (index_t i = 0; i < n; ++i) ASSERT_NEAR(r1[i], r2[i], 1e-14) << j << " " << i;
  }
  // Mostly continuous columns: nothing is grouped (the copy of the rows would not pay).
  DenseMatrix<double> cont(n, p, Layout::RowMajor);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < p; ++j) cont(i, j) = j < 4 ? 1.0 : normal(rng);
  const auto cont_csr = dense_to_csr<double, std::int32_t>(cont.view());
  EXPECT_FALSE(lasso_detail::make_design(ctx, cont_csr.view()).groups);

  // Paths: the grouped sparse X under cd, the same X dense under cd (70% zeros: cd runs on its sparse
  // copy, one counted copy beyond the column-major one) and under the Gram solver (X read as given).
  const auto cm = dense_to_layout<double>(x.view(), Layout::ColMajor);
  for (bool standardize : {false, true}) {
    SCOPED_TRACE(standardize ? "standardized" : "raw");
    LassoOptions o;
    o.n_lambdas = 30;
    o.tol = 1e-10;
    o.standardize = standardize;
    o.sample_weights = w;
    o.solver = LassoSolver::CoordinateDescent;
    const auto sparse = lasso_path(ctx, csr.view(), VectorView<const double>(y), o);
    ctx.reset_transfers();
    const auto dense_cd = lasso_path<double>(ctx, cm.view(), VectorView<const double>(y), o);
    EXPECT_EQ(ctx.transfers().input_host_copies, 1) << "the sparse copy of a mostly-zero dense X";
    o.solver = LassoSolver::Gram;
    ctx.reset_transfers();
    const auto dense = lasso_path<double>(ctx, cm.view(), VectorView<const double>(y), o);
    EXPECT_EQ(ctx.transfers().input_host_copies, 0);
    ASSERT_EQ(dense_cd.size(), dense.size());
    for (std::size_t l = 0; l < dense.size(); ++l)
      EXPECT_NEAR(dense_cd.objective[l], dense.objective[l], 1e-9 * dense.objective[l]) << l;
    ASSERT_EQ(sparse.size(), dense.size());
    for (std::size_t l = 0; l < dense.size(); ++l) {
      EXPECT_LE(sparse.duality_gap[l], 1e-10 * sparse.objective[l]);
      EXPECT_NEAR(sparse.objective[l], dense.objective[l], 1e-9 * dense.objective[l]) << l;
      const auto a = dense.coefficients_at(l), b = sparse.coefficients_at(l);
      for (std::size_t j = 0; j < a.size(); ++j) EXPECT_NEAR(a[j], b[j], 1e-4) << l << " " << j;
    }
  }
}

TEST(Lasso, PathStopsOnACallbackError) {
  // An exception while lambda 10 is recorded (here the progress callback's) ends the path with that
  // exception, whatever the thread count.
  const auto d = random_problem(200, 80, 23);
  LassoOptions o;
  o.n_lambdas = 40;
  o.solver = LassoSolver::CoordinateDescent;
  o.progress = [](std::size_t done, std::size_t) {
    if (done == 10) throw InvalidArgument("stopped at lambda 10");
  };
  for (int threads : {1, 2})
    EXPECT_THROW(lasso_path(Context(ContextOptions{Backend::Cpu, 0, threads, true, false}),
                            DenseView<const double>(d.x.view()), VectorView<const double>(d.y), o),
                 InvalidArgument)
        << threads << " threads";
}

TEST(Lasso, LanesDoNotCarryApartNonUniqueSolutions) {
  // Every column twice: the Lasso's solution is not unique, and two lanes may split a coefficient
  // between its copies differently. Continuing the line between their solutions would carry that
  // difference on, growing, at every lambda. Two threads take about as many epochs as one.
  const auto half = random_problem(200, 40, 31, 12);
  Data d{DenseMatrix<double>(200, 80), half.y};
  for (index_t i = 0; i < 200; ++i)
    for (index_t j = 0; j < 40; ++j) d.x(i, j) = d.x(i, j + 40) = half.x(i, j);
  for (const auto solver : {LassoSolver::Gram, LassoSolver::CoordinateDescent}) {
    LassoOptions o;
    o.n_lambdas = 100;
    o.solver = solver;
    std::int64_t epochs[2] = {0, 0};
    for (int threads : {1, 2}) {
      const auto path = lasso_path<double>(Context(ContextOptions{Backend::Cpu, 0, threads, true, false}), d.x.view(),
                                           VectorView<const double>(d.y), o);
      EXPECT_TRUE(path.all_converged());
      for (const auto e : path.iterations) epochs[threads - 1] += e;
    }
    EXPECT_LE(epochs[1], 2 * epochs[0] + 100) << "solver " << static_cast<int>(solver);
  }
}

TEST(Lasso, PathDoesNotDependOnThreadCount) {
  // With two threads or more the path runs two lanes of lambdas at once; which lane solves a
  // lambda, and from what, is fixed, so any such thread count gives the same bits. One thread
  // solves the lambdas in turn: another certified path, equal to the tolerance. Sparse, with an
  // unpenalized feature and Elastic Net in the mix. X has more than kForkEntries entries: below
  // that the fit runs on one thread whatever the context has (SmallFitRunsOnOneThread).
  const auto d = random_problem(600, 120, 21);
  const auto csc = csr_to_csc(dense_to_csr<double, std::int64_t>(d.x.view()));
  LassoOptions o;
  o.n_lambdas = 30;
  o.solver = LassoSolver::CoordinateDescent;
  for (double ratio : {1.0, 0.7}) {
    o.l1_ratio = ratio;
    o.penalty_factors.assign(120, 1.0);
    o.penalty_factors[5] = 0;
    std::vector<LassoPath> paths;
    for (int threads : {2, 3, 1})
      paths.push_back(lasso_path(Context(ContextOptions{Backend::Cpu, 0, threads, true, false}), csc,
                                 VectorView<const double>(d.y), o));
    EXPECT_TRUE(paths[0].all_converged());
    EXPECT_TRUE(paths[2].all_converged());
    for (std::size_t l = 0; l < paths[0].size(); ++l)
      EXPECT_NEAR(paths[2].objective[l], paths[0].objective[l], 2 * paths[0].tol * paths[0].objective[l]) << l;
    paths.pop_back();
    for (std::size_t t = 1; t < paths.size(); ++t)
      for (std::size_t l = 0; l < paths[0].size(); ++l) {
        SCOPED_TRACE("l1_ratio " + std::to_string(ratio) + ", lambda #" + std::to_string(l));
        EXPECT_EQ(paths[t].iterations[l], paths[0].iterations[l]);
        EXPECT_EQ(paths[t].duality_gap[l], paths[0].duality_gap[l]);
        EXPECT_EQ(paths[t].coefficients_at(l), paths[0].coefficients_at(l));
      }
    expect_kkt(d.x, d.y, o, paths[1], 1e-2, "threaded path");
  }
  // The Gram solver's blocks share one G.
  const auto tall = random_problem(1200, 60, 22);
  o = LassoOptions{};
  o.n_lambdas = 30;
  o.solver = LassoSolver::Gram;
  std::vector<LassoPath> gram;
  for (int threads : {1, 2, 3})
    gram.push_back(lasso_path<double>(Context(ContextOptions{Backend::Cpu, 0, threads, true, false}),
                                      tall.x.view(), VectorView<const double>(tall.y), o));
  EXPECT_TRUE(gram[0].all_converged());
  // G comes from BLAS, whose blocking may follow its thread count: agreement to the tolerance here.
  for (std::size_t t = 1; t < gram.size(); ++t)
    for (std::size_t l = 0; l < gram[0].size(); ++l)
      EXPECT_NEAR(gram[t].objective[l], gram[0].objective[l], 2e-6 * gram[0].objective[l]) << "gram lambda #" << l;
  expect_kkt(tall.x, tall.y, o, gram[1], 1e-2, "threaded gram path");
}

TEST(Lasso, SmallFitRunsOnOneThread) {
  // Below kForkEntries of X's entries a fork wakes a worker whose spinning costs more than it
  // shares (probe_tiny_wide, 50 x 1000: 3x its one-thread time on two threads), so the fit keeps
  // OpenMP to one thread; a larger X gets the context's threads (FISTA runs one lane).
  for (const auto& [rows, threads] : {std::pair{50, 1}, std::pair{600, 2}}) {
    const auto d = random_problem(rows, 120, 23);
    ASSERT_EQ(static_cast<std::int64_t>(rows) * 120 < kernels::kForkEntries, threads == 1);
    LassoOptions o;
    o.n_lambdas = 5;
    o.solver = LassoSolver::ProximalGradient;
    std::vector<int> seen;
    o.progress = [&](std::size_t, std::size_t) { seen.push_back(omp_get_max_threads()); };
    const auto path = lasso_path<double>(Context(ContextOptions{Backend::Cpu, 0, 2, true, false}), d.x.view(),
                                         VectorView<const double>(d.y), o);
    EXPECT_TRUE(path.all_converged());
    ASSERT_EQ(seen.size(), path.size());
    for (const int t : seen) EXPECT_EQ(t, threads) << rows << " rows";
  }
}

TEST(Lasso, GramBuiltInRowBlocksMatchesCoordinateDescent) {
  // p = 1000 makes the Gram solver build G from two blocks of rows (4194 + 306).
  const auto d = random_problem(4500, 1000, 15, 30);
  const Context ctx = make_context(Backend::Cpu);
  LassoOptions o;
  o.n_lambdas = 3;
  o.lambda_min_ratio = 0.05;
  o.tol = 1e-9;
  o.sample_weights.assign(4500, 1.0);
  for (std::size_t i = 0; i < 4500; i += 3) o.sample_weights[i] = 2.5;
  o.solver = LassoSolver::Gram;
  const auto gram = lasso_path<double>(ctx, d.x.view(), VectorView<const double>(d.y), o);
  o.solver = LassoSolver::CoordinateDescent;
  const auto cd = lasso_path<double>(ctx, d.x.view(), VectorView<const double>(d.y), o);
  for (std::size_t l = 0; l < gram.size(); ++l) {
    EXPECT_EQ(gram.status[l], FitStatus::Converged);
    EXPECT_NEAR(gram.objective[l], cd.objective[l], 1e-8 * cd.objective[l]);
  }
}

// Shifting columns by constants changes nothing but the intercept. Small shifts take the direct
// paths (the Gram solver's SYRK on X as it lies, centered after: gram_direct; cd's residual as
// rt + m); large ones (mu^2 / var about 1e10) the centered ones (the Gram solver's centered blocks;
// cd's centered copy, centered_if_offset: before it, cd stopped at max_iter with gaps of 1e-2).
// Both solvers, standardized or not, give the unshifted path's coefficients, and intercepts moved by
// exactly shift . b.
TEST(Lasso, ShiftedColumnsGiveTheUnshiftedPath) {
  const auto d = random_problem(300, 40, 12, 41);
  const Context ctx = make_context(Backend::Cpu);
  for (const bool standardize : {false, true}) {
    for (const auto solver : {LassoSolver::Gram, LassoSolver::CoordinateDescent}) {
      LassoOptions o;
      o.n_lambdas = 8;
      o.lambda_min_ratio = 0.02;
      o.tol = 1e-10;
      o.standardize = standardize;
      o.solver = solver;
      const auto base = lasso_path<double>(ctx, d.x.view(), VectorView<const double>(d.y), o);
      for (const double level : {3.0, 1e5}) {
        DenseMatrix<double> shifted(300, 40);
        std::vector<double> shift(40);
        for (index_t j = 0; j < 40; ++j) shift[j] = j % 2 ? level * (1 + 0.1 * j) : 0.0;
        for (index_t i = 0; i < 300; ++i)
          for (index_t j = 0; j < 40; ++j) shifted(i, j) = d.x(i, j) + shift[j];
        const auto got = lasso_path<double>(ctx, shifted.view(), VectorView<const double>(d.y), o);
        ASSERT_EQ(got.size(), base.size());
        for (std::size_t l = 0; l < got.size(); ++l) {
          EXPECT_EQ(got.status[l], FitStatus::Converged) << level << " " << l;
          EXPECT_NEAR(got.objective[l], base.objective[l], 1e-8 * base.objective[l]) << level << " " << l;
          const auto b = got.coefficients_at(l), want = base.coefficients_at(l);
          double moved = 0;
          for (index_t j = 0; j < 40; ++j) {
            EXPECT_NEAR(b[j], want[j], 1e-5) << "level " << level << " lambda " << l << " feature " << j;
            moved += shift[j] * b[j];
          }
          EXPECT_NEAR(got.intercepts[l], base.intercepts[l] - moved, 1e-5 * (1 + std::abs(moved))) << level << " " << l;
        }
      }
    }
  }
}

// The same on a sparse X whose dense columns are shifted far from zero (a price level beside
// sparse indicators): cd stores those columns whole and centered (centered_if_offset). Before, a
// 2000 x 301 such X ran 3.8 million epochs (37 s) and left 29 of 100 lambdas uncertified.
TEST(Lasso, SparseColumnsFarFromZeroGiveTheUnshiftedPath) {
  auto d = random_problem(400, 30, 8, 43);
  for (index_t i = 0; i < 400; ++i)
    for (index_t j = 0; j < 30; j += 2)
      if ((i * 7 + j * 3) % 5 != 0) d.x(i, j) = 0;  // even columns 80% zeros; odd ones full
  const Context ctx = make_context(Backend::Cpu);
  LassoOptions o;
  o.n_lambdas = 8;
  o.lambda_min_ratio = 0.02;
  o.tol = 1e-10;
  o.solver = LassoSolver::CoordinateDescent;
  const auto base = lasso_path(ctx, dense_to_csr<double, std::int32_t>(d.x.view()), VectorView<const double>(d.y), o);
  DenseMatrix<double> shifted(400, 30);
  std::vector<double> shift(30, 0.0);
  for (index_t j = 1; j < 30; j += 2) shift[j] = 1e5 * (1 + 0.1 * j);
  for (index_t i = 0; i < 400; ++i)
    for (index_t j = 0; j < 30; ++j) shifted(i, j) = d.x(i, j) + shift[j];
  const auto got = lasso_path(ctx, dense_to_csr<double, std::int32_t>(shifted.view()), VectorView<const double>(d.y), o);
  ASSERT_EQ(got.size(), base.size());
  for (std::size_t l = 0; l < got.size(); ++l) {
    EXPECT_EQ(got.status[l], FitStatus::Converged) << l;
    EXPECT_NEAR(got.objective[l], base.objective[l], 1e-8 * base.objective[l]) << l;
    const auto b = got.coefficients_at(l), want = base.coefficients_at(l);
    double moved = 0;
    for (index_t j = 0; j < 30; ++j) {
      EXPECT_NEAR(b[j], want[j], 1e-5) << "lambda " << l << " feature " << j;
      moved += shift[j] * b[j];
    }
    EXPECT_NEAR(got.intercepts[l], base.intercepts[l] - moved, 1e-5 * (1 + std::abs(moved))) << l;
  }
}

TEST(Lasso, Float32AgreesWithFloat64ToItsTolerance) {
  const auto d = random_problem(70, 25, 4);
  const Context ctx = make_context(Backend::Cpu);
  std::vector<float> x32(d.x.data(), d.x.data() + 70 * 25), y32(d.y.begin(), d.y.end());
  LassoOptions o;
  o.n_lambdas = 15;
  const auto p64 = lasso_path<double>(ctx, d.x.view(), VectorView<const double>(d.y), o);
  const DenseView<const float> xv(x32.data(), 70, 25, 25, Layout::RowMajor);
  const auto p32 = lasso_path<float>(ctx, xv, VectorView<const float>(y32), o);
  EXPECT_DOUBLE_EQ(p32.tol, 1e-4);
  for (std::size_t l = 0; l < p64.size(); ++l) {
    EXPECT_EQ(p32.status[l], FitStatus::Converged);
    EXPECT_NEAR(p32.objective[l], p64.objective[l], 2e-4 * p64.objective[l]);
  }
}

// ---- lambda_max -------------------------------------------------------------------------------------
// lambda_max against its definition, computed in the test (test_util.hpp), with weights, penalty
// factors (a zero among them), the intercept on and off, standardization, positivity and Elastic
// Net; and tight from below: just under it the first feature enters, so an overestimate would fail.
TEST(Lasso, LambdaMaxMatchesItsDefinition) {
  auto d = random_problem(70, 12, 31);
  for (index_t i = 0; i < 70; ++i) {
    d.x(i, 4) *= 30.0;  // badly scaled columns: standardization matters
    d.x(i, 9) *= 0.01;
    d.x(i, 2) = 1.5;    // constant: out with an intercept
  }
  std::vector<double> xs(static_cast<std::size_t>(70 * 12));
  for (index_t i = 0; i < 70; ++i)
    for (index_t j = 0; j < 12; ++j) xs[i * 12 + j] = d.x(i, j);
  const Context ctx = make_context(Backend::Cpu);
  std::vector<double> weights(70), factors(12, 1.0);
  for (index_t i = 0; i < 70; ++i) weights[i] = 0.2 + (i % 7) * 0.3;
  factors[3] = 0.0;  // unpenalized: fitted in the null model
  factors[5] = 2.5;
  factors[7] = 0.4;
  int checked = 0;
  for (int intercept = 0; intercept < 2; ++intercept)
    for (int standardize = 0; standardize < 2; ++standardize)
      for (int weighted = 0; weighted < 2; ++weighted)
        for (int with_factors = 0; with_factors < 2; ++with_factors)
          for (int positive = 0; positive < 2; ++positive)
            for (double ratio : {1.0, 0.5}) {
              if (positive && with_factors) continue;  // a nonnegative null model: see the helper
              LassoOptions o;
              o.fit_intercept = intercept;
              o.standardize = standardize;
              o.positive = positive;
              o.l1_ratio = ratio;
              if (weighted) o.sample_weights = weights;
              if (with_factors) o.penalty_factors = factors;
              const std::string what = "intercept " + std::to_string(intercept) + " standardize " +
                                       std::to_string(standardize) + " weights " + std::to_string(weighted) +
                                       " factors " + std::to_string(with_factors) + " positive " +
                                       std::to_string(positive) + " l1_ratio " + std::to_string(ratio);
              const double want = static_cast<double>(test::lambda_max_by_definition(70, 12, xs, d.y, o));
              ASSERT_GT(want, 0) << what;
              for (auto solver : {LassoSolver::CoordinateDescent, LassoSolver::Gram}) {
                o.solver = solver;
                o.lambdas = {want, want * (1 - 1e-4)};
                o.tol = 1e-12;
                const auto path = lasso_path<double>(ctx, d.x.view(), VectorView<const double>(d.y), o);
                EXPECT_NEAR(path.lambda_max.front(), want, 1e-12 * want) << what;
                EXPECT_EQ(path.nnz[0], with_factors ? 1 : 0) << what;  // the unpenalized feature is in the null model
                EXPECT_GE(path.nnz[1], 1 + (with_factors ? 1 : 0)) << what << ": nothing entered just below lambda_max";
              }
              ++checked;
            }
  EXPECT_EQ(checked, 48);
}

// ---- edge cases ----------------------------------------------------------------------------------------
TEST(Lasso, LambdaAtOrAboveLambdaMaxGivesExactZeros) {
  const auto d = random_problem(40, 15, 5);
  const Context ctx = make_context(Backend::Cpu);
  LassoOptions o;
  o.n_lambdas = 1;
  const auto top = lasso_path<double>(ctx, d.x.view(), VectorView<const double>(d.y), o);
  o.lambdas = {top.lambda_max.front(), 2 * top.lambda_max.front(), top.lambda_max.front() * (1 - 1e-9)};
  for (auto s : {LassoSolver::CoordinateDescent, LassoSolver::Gram, LassoSolver::ProximalGradient,
                 LassoSolver::WorkingSetGram}) {
    o.solver = s;
    const auto p = lasso_path<double>(ctx, d.x.view(), VectorView<const double>(d.y), o);
    EXPECT_EQ(p.nnz[0], 0);
    EXPECT_EQ(p.nnz[1], 0);
    EXPECT_EQ(p.iterations[0], 0);
    EXPECT_LE(p.nnz[2], 1);  // just below: the first feature may enter, by a hair
    double ybar = 0;
    for (double v : d.y) ybar += v / 40;
    EXPECT_NEAR(p.intercepts[0], ybar, 1e-12);
  }
}

TEST(Lasso, EdgeCasesGiveAnswersNotNaN) {
  const Context ctx = make_context(Backend::Cpu);
  auto check = [&](const DenseMatrix<double>& x, const std::vector<double>& y, LassoOptions o,
                   const std::string& what) {
    for (auto s : {LassoSolver::CoordinateDescent, LassoSolver::Gram, LassoSolver::ProximalGradient,
                 LassoSolver::WorkingSetGram}) {
      o.solver = s;
      const auto p = lasso_path<double>(ctx, x.view(), VectorView<const double>(y), o);
      for (std::size_t l = 0; l < p.size(); ++l) {
        EXPECT_TRUE(std::isfinite(p.objective[l]) && std::isfinite(p.duality_gap[l])) << what;
        EXPECT_TRUE(std::isfinite(p.intercepts[l])) << what;
        EXPECT_EQ(p.status[l], FitStatus::Converged) << what << " " << to_string(s) << " lambda " << l;
        for (double c : p.coefficients_at(l)) EXPECT_TRUE(std::isfinite(c)) << what;
      }
      expect_kkt(x, y, o, p, 1e-2, what + " " + to_string(s));
    }
  };
  LassoOptions o;
  o.n_lambdas = 10;
  auto d = random_problem(30, 12, 6);
  for (index_t i = 0; i < 30; ++i) {
    d.x(i, 2) = 4.0;         // constant column
    d.x(i, 5) = 0.0;         // all-zero column
    d.x(i, 7) = d.x(i, 0);   // duplicate column
  }
  check(d.x, d.y, o, "constant, zero and duplicate columns");
  o.standardize = true;
  check(d.x, d.y, o, "the same, standardized");
  o.standardize = false;

  std::vector<double> flat(30, 2.5);
  check(d.x, flat, o, "constant y");
  const auto flat_path = lasso_path<double>(ctx, d.x.view(), VectorView<const double>(flat), o);
  EXPECT_EQ(flat_path.lambda_max.front(), 0.0);
  for (std::size_t l = 0; l < flat_path.size(); ++l) EXPECT_NEAR(flat_path.intercepts[l], 2.5, 1e-12);

  const auto one = random_problem(1, 4, 7);
  check(one.x, one.y, o, "n = 1");

  const auto wide = random_problem(15, 60, 8);
  check(wide.x, wide.y, o, "p > n");

  DenseMatrix<double> single(25, 1);
  std::vector<double> ys(25);
  for (index_t i = 0; i < 25; ++i) {
    single(i, 0) = std::sin(i + 1.0);
    ys[i] = 3 * single(i, 0) + 0.1 * std::cos(3.0 * i);
  }
  check(single, ys, o, "one feature");

  auto scaled = random_problem(50, 10, 9);
  for (index_t i = 0; i < 50; ++i)
    for (index_t j = 0; j < 10; ++j) scaled.x(i, j) *= std::pow(10.0, -8 + 16.0 * j / 9);
  o.standardize = true;
  check(scaled.x, scaled.y, o, "scales 1e-8 to 1e8, standardized");
  o.standardize = false;
  check(scaled.x, scaled.y, o, "scales 1e-8 to 1e8");
}

// lambda = 0 is least squares: no dual bounds it, so the certificate is the KKT residual (the
// largest |c_j| relative to the null model's, times the objective). It converges, says so, and
// gives the normal equations' solution (solved here by Gaussian elimination in long double).
TEST(Lasso, LambdaZeroIsLeastSquaresWithAKktCertificate) {
  const Context ctx = make_context(Backend::Cpu);
  const index_t n = 120, p = 8;
  const auto d = random_problem(n, p, 33);
  // Normal equations of the centered problem: (Xc^T Xc) b = Xc^T yc.
  std::vector<long double> mean(p, 0.0L), a(p * (p + 1), 0.0L);
  long double ybar = 0;
  for (index_t i = 0; i < n; ++i) {
    ybar += d.y[i];
    for (index_t j = 0; j < p; ++j) mean[j] += d.x(i, j);
  }
  ybar /= n;
  for (auto& m : mean) m /= n;
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < p; ++j) {
      for (index_t k = 0; k < p; ++k) a[j * (p + 1) + k] += (d.x(i, j) - mean[j]) * (d.x(i, k) - mean[k]);
      a[j * (p + 1) + p] += (d.x(i, j) - mean[j]) * (d.y[i] - ybar);
    }
  for (index_t c = 0; c < p; ++c)
    for (index_t r = c + 1; r < p; ++r) {
      const long double f = a[r * (p + 1) + c] / a[c * (p + 1) + c];
      for (index_t k = c; k <= p; ++k) a[r * (p + 1) + k] -= f * a[c * (p + 1) + k];
    }
  std::vector<long double> want(p);
  for (index_t r = p; r-- > 0;) {
    long double s = a[r * (p + 1) + p];
    for (index_t k = r + 1; k < p; ++k) s -= a[r * (p + 1) + k] * want[k];
    want[r] = s / a[r * (p + 1) + r];
  }
  for (const auto solver : {LassoSolver::CoordinateDescent, LassoSolver::Gram, LassoSolver::ProximalGradient,
                            LassoSolver::WorkingSetGram}) {
    SCOPED_TRACE(to_string(solver));
    LassoOptions o;
    o.lambdas = {0.0};
    o.solver = solver;
    o.tol = 1e-10;
    const auto path = lasso_path<double>(ctx, d.x.view(), VectorView<const double>(d.y), o);
    ASSERT_EQ(path.size(), 1u);
    EXPECT_EQ(path.status[0], FitStatus::Converged);
    EXPECT_LE(path.duality_gap[0], 1e-10 * path.objective[0]);
    EXPECT_LT(path.iterations[0], 100000);
    const auto b = path.coefficients_at(0);
    for (index_t j = 0; j < p; ++j) EXPECT_NEAR(b[j], static_cast<double>(want[j]), 1e-6 * (1 + std::fabs(static_cast<double>(want[j])))) << j;
  }
}

TEST(Lasso, MaxIterationsIsAStatusNotAnException) {
  const auto d = random_problem(60, 40, 10);
  const Context ctx = make_context(Backend::Cpu);
  LassoOptions o;
  o.n_lambdas = 5;
  o.max_iter = 1;
  o.tol = 1e-14;
  o.lambda_min_ratio = 1e-4;
  const auto p = lasso_path<double>(ctx, d.x.view(), VectorView<const double>(d.y), o);
  EXPECT_GT(p.n_not_converged(), 0u);
  EXPECT_EQ(p.status.back(), FitStatus::MaxIterations);
  EXPECT_GT(p.duality_gap.back(), 1e-14 * p.objective.back());
}

// A tol below what double precision can certify ends each fit where its gap stops falling, not at
// max_iter: the fits that miss it say so (MaxIterations), each after far fewer epochs than allowed,
// with a gap at the rounding floor; the rest converge.
TEST(Lasso, TolBelowTheRoundingFloorStopsWhereTheGapStalls) {
  const auto d = random_problem(300, 20, 12);
  const Context ctx = make_context(Backend::Cpu);
  for (const auto solver : {LassoSolver::CoordinateDescent, LassoSolver::Gram, LassoSolver::ProximalGradient,
                            LassoSolver::WorkingSetGram}) {
    SCOPED_TRACE(to_string(solver));
    LassoOptions o;
    o.n_lambdas = 20;
    o.tol = 1e-17;
    o.solver = solver;
    const auto p = lasso_path<double>(ctx, d.x.view(), VectorView<const double>(d.y), o);
    EXPECT_GT(p.n_not_converged(), 0u);
    for (std::size_t l = 0; l < p.size(); ++l) {
      EXPECT_LT(p.iterations[l], 5000) << l;  // of the default max_iter 100000
      EXPECT_LE(p.duality_gap[l], 1e-11 * p.objective[l]) << l;
    }
  }
}

TEST(Lasso, SparsityAndHistogram) {
  const auto d = random_problem(60, 30, 11);
  const Context ctx = make_context(Backend::Cpu);
  LassoOptions o;
  o.n_lambdas = 10;
  const auto p = lasso_path<double>(ctx, d.x.view(), VectorView<const double>(d.y), o);
  const std::size_t l = p.size() - 1;
  // nnz and the sparsity ratio counted here from the dense coefficients, not from the path's nnz.
  const auto coef = p.coefficients_at(l);
  const auto zeros = std::count(coef.begin(), coef.end(), 0.0);
  EXPECT_EQ(p.nnz[l], 30 - zeros);
  EXPECT_DOUBLE_EQ(p.sparsity_ratio(l), static_cast<double>(zeros) / 30);
  EXPECT_GT(zeros, 0);
  EXPECT_LT(zeros, 30);
  const auto h = coefficient_histogram(p, l, 6);
  ASSERT_EQ(h.edges.size(), 7u);
  test::expect_histogram_of(coef, h, "coefficients");
  EXPECT_EQ(p.coefficients.cols(), 10);
  EXPECT_EQ(p.coefficients.rows(), 30);
}

// ---- cross-validation ----------------------------------------------------------------------------------
TEST(Lasso, CrossValidationIsSeededAndPicksSensibleLambdas) {
  const auto d = random_problem(100, 20, 12);
  const Context ctx = make_context(Backend::Cpu);
  LassoOptions o;
  o.n_lambdas = 30;
  const auto a = lasso_cv<double>(ctx, d.x.view(), VectorView<const double>(d.y), o, {5, 42});
  const auto b = lasso_cv<double>(ctx, d.x.view(), VectorView<const double>(d.y), o, {5, 42});
  const auto c = lasso_cv<double>(ctx, d.x.view(), VectorView<const double>(d.y), o, {5, 43});
  ASSERT_EQ(a.cv_mean.size(), 30u);
  EXPECT_EQ(a.cv_mean, b.cv_mean);
  EXPECT_NE(a.cv_mean, c.cv_mean);
  EXPECT_GE(a.lambda_1se, a.lambda_min);
  EXPECT_LE(a.cv_mean[a.index_1se], a.cv_mean[a.index_min] + a.cv_se[a.index_min]);
  for (std::size_t l = 0; l < 30; ++l) EXPECT_GE(a.cv_mean[l], a.cv_mean[a.index_min]);
  // Noise variance is 0.09: the chosen model predicts close to it, the null model does not.
  EXPECT_LT(a.cv_mean[a.index_min], 0.2);
  EXPECT_GT(a.cv_mean[0], 1.0);
  EXPECT_EQ(a.fold_fits_not_converged, 0u);
  EXPECT_TRUE(a.path.all_converged());
}

// Given folds (a caller's splitter): each fold's error is the path fitted without its rows, scored on
// them; the mean over folds is cv_mean.
TEST(Lasso, CrossValidationTakesGivenFoldsAndReportsEachFold) {
  const auto d = random_problem(60, 8, 21);
  const Context ctx = make_context(Backend::Cpu);
  LassoOptions o;
  o.n_lambdas = 12;
  CrossValidationOptions cv{3, 0, {}};
  for (index_t i = 0; i < 60; ++i) cv.fold_of_sample.push_back(static_cast<int>(i / 20));  // contiguous
  const auto r = lasso_cv<double>(ctx, d.x.view(), VectorView<const double>(d.y), o, cv);
  ASSERT_EQ(r.cv_folds.size(), 12u * 3u);
  for (std::size_t l = 0; l < 12; ++l)
    EXPECT_NEAR((r.cv_folds[l * 3] + r.cv_folds[l * 3 + 1] + r.cv_folds[l * 3 + 2]) / 3, r.cv_mean[l], 1e-12);
  // Fold 0 by hand: train on rows 20..59, score rows 0..19.
  DenseMatrix<double> train(40, 8);
  std::vector<double> y_train;
  for (index_t i = 20; i < 60; ++i) {
    for (index_t j = 0; j < 8; ++j) train(i - 20, j) = d.x(i, j);
    y_train.push_back(d.y[i]);
  }
  LassoOptions fixed = o;
  fixed.lambdas = r.path.lambdas;
  const auto fp = lasso_path<double>(ctx, train.view(), VectorView<const double>(y_train), fixed);
  for (std::size_t l = 0; l < 12; ++l) {
    const auto b = fp.coefficients_at(l);
    double sse = 0;
    for (index_t i = 0; i < 20; ++i) {
      double pred = fp.intercepts[l];
      for (index_t j = 0; j < 8; ++j) pred += d.x(i, j) * b[j];
      sse += (d.y[i] - pred) * (d.y[i] - pred);
    }
    EXPECT_NEAR(r.cv_folds[l * 3], sse / 20, 1e-9 * (1 + sse / 20)) << l;
  }
  cv.fold_of_sample[5] = 3;
  EXPECT_THROW(lasso_cv<double>(ctx, d.x.view(), VectorView<const double>(d.y), o, cv), InvalidArgument);
  cv.fold_of_sample.assign(60, 0);
  EXPECT_THROW(lasso_cv<double>(ctx, d.x.view(), VectorView<const double>(d.y), o, cv), InvalidArgument);  // empty folds
  cv.fold_of_sample.resize(59);
  EXPECT_THROW(lasso_cv<double>(ctx, d.x.view(), VectorView<const double>(d.y), o, cv), DimensionMismatch);
}

// ---- boundary errors -----------------------------------------------------------------------------------
TEST(Lasso, BadInputIsRefusedWithItsName) {
  const auto d = random_problem(10, 4, 13);
  const Context ctx = make_context(Backend::Cpu);
  const VectorView<const double> y(d.y);
  auto fails = [&](LassoOptions o, const std::string& needle, const std::vector<double>* yy = nullptr) {
    try {
      lasso_path<double>(ctx, d.x.view(), yy ? VectorView<const double>(*yy) : y, o);
      ADD_FAILURE() << "accepted; expected an error naming " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  LassoOptions o;
  const std::vector<double> short_y(9, 1.0);
  fails(o, "y", &short_y);
  std::vector<double> nan_y = d.y;
  nan_y[3] = std::nan("");
  fails(o, "y[3] is NaN", &nan_y);
  o.l1_ratio = 1.5;
  fails(o, "l1_ratio");
  o = {};
  o.lambdas = {0.1, -1};
  fails(o, "lambdas[1]");
  o = {};
  o.sample_weights = {1, 1, 1};
  fails(o, "sample_weights");
  o.sample_weights.assign(10, 0.0);
  fails(o, "all zero");
  o.sample_weights.assign(10, 1.0);
  o.sample_weights[2] = -1;
  fails(o, "sample_weights[2]");
  o = {};
  o.sample_weights.assign(10, 1.0);
  o.sample_weights[4] = std::numeric_limits<double>::infinity();
  fails(o, "sample_weights[4] is Inf");
  o = {};
  o.penalty_factors = {1, 1, -2, 1};
  fails(o, "penalty_factors[2]");
  o.penalty_factors = {1, std::nan(""), 1, 1};
  fails(o, "penalty_factors[1] is NaN");
  o.penalty_factors = {1, 1, 1, std::numeric_limits<double>::infinity()};
  fails(o, "penalty_factors[3] is Inf");
  o = {};
  o.lambdas = {0.5, std::nan("")};
  fails(o, "lambdas[1]");
  o.lambdas = {std::numeric_limits<double>::infinity()};
  fails(o, "lambdas[0]");
  o.penalty_factors = {1, 1};
  fails(o, "penalty_factors");
  DenseMatrix<double> bad = dense_to_layout<double>(d.x.view(), Layout::RowMajor);
  bad(1, 1) = std::nan("");
  EXPECT_THROW(lasso_path<double>(ctx, bad.view(), y, {}), NonFinite);
  EXPECT_THROW(lasso_cv<double>(ctx, d.x.view(), y, {}, {1, 0}), InvalidArgument);
  EXPECT_THROW(parse_lasso_solver("newton"), InvalidArgument);
}

// ---- the Lasso kernel twins, on every backend present ----------------------------------------------------
class LassoKernels : public test::BackendTest {};
INSTANTIATE_TEST_SUITE_P(AllBackends, LassoKernels, testing::Values(Backend::Cpu, Backend::Cuda),
                         test::backend_name);

using test::to_backend;

// Straightforward Gram coordinate descent in long double: the reference for kernels::gram_cd.
void gram_cd_reference(index_t p, const std::vector<double>& g, const std::vector<double>& l1,
                       const std::vector<double>& denom, const std::vector<double>& lip, bool positive,
                       int rounds, int active_sweeps, std::vector<long double>& beta,
                       std::vector<long double>& grad) {
  auto visit = [&](index_t j) {
    const long double z = lip[j] * beta[j] + grad[j];
    long double next = 0;
    if (positive) next = z > l1[j] ? (z - l1[j]) / denom[j] : 0;
    else next = z > l1[j] ? (z - l1[j]) / denom[j] : (z < -l1[j] ? (z + l1[j]) / denom[j] : 0);
    const long double delta = next - beta[j];
    beta[j] = next;
    for (index_t k = 0; k < p; ++k) grad[k] -= delta * g[j * p + k];
  };
  for (int r = 0; r < rounds; ++r) {
    std::vector<index_t> nonzero;
    for (index_t j = 0; j < p; ++j) {
      if (!(lip[j] > 0)) continue;
      visit(j);
      if (beta[j] != 0) nonzero.push_back(j);
    }
    for (int s = 0; s < active_sweeps; ++s)
      for (index_t j : nonzero) visit(j);
  }
}

TEST_P(LassoKernels, GramCoordinateDescentMatchesReference) {
  const Context ctx = make_context(GetParam());
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal;
  for (index_t p : {1, 7, 70}) {
    const index_t n = 3 * p + 5;
    std::vector<double> z(static_cast<std::size_t>(n * p));
    for (auto& e : z) e = normal(rng);
    std::vector<double> g(static_cast<std::size_t>(p * p), 0.0), q(static_cast<std::size_t>(p), 0.0);
    std::vector<double> y(static_cast<std::size_t>(n));
    for (auto& e : y) e = normal(rng);
    for (index_t j = 0; j < p; ++j) {
      for (index_t k = 0; k < p; ++k)
        for (index_t i = 0; i < n; ++i) g[j * p + k] += z[i * p + j] * z[i * p + k] / n;
      for (index_t i = 0; i < n; ++i) q[j] += z[i * p + j] * y[i] / n;
    }
    for (bool positive : {false, true})
      for (double ridge : {0.0, 0.3}) {
        std::vector<double> l1(static_cast<std::size_t>(p)), denom(l1), lip(l1), beta(l1.size(), 0.0);
        for (index_t j = 0; j < p; ++j) {
          lip[j] = j == p / 2 && p > 1 ? 0.0 : g[j * p + j];  // one unusable coordinate
          l1[j] = 0.05 * (j % 3);                              // a third unpenalized
          denom[j] = lip[j] + ridge * (j % 3);
          if (j % 4 == 1 && lip[j] > 0) beta[j] = 0.5 * normal(rng);
        }
        std::vector<long double> bref(beta.begin(), beta.end()), gref(q.begin(), q.end());
        for (index_t j = 0; j < p; ++j)
          for (index_t k = 0; k < p; ++k) gref[k] -= bref[j] * g[j * p + k];
        std::vector<double> grad(gref.begin(), gref.end());
        auto gd = to_backend(ctx, g), l1d = to_backend(ctx, l1), dd = to_backend(ctx, denom), ld = to_backend(ctx, lip);
        auto bd = to_backend(ctx, beta), grd = to_backend(ctx, grad);
        Array<index_t> active(ctx, static_cast<std::size_t>(p), ctx.memory_space());
        Array<double> work(ctx, static_cast<std::size_t>(2 * p), ctx.memory_space());
        Array<float> work_f(ctx, static_cast<std::size_t>(2 * p), ctx.memory_space());
        SHRINK_DISPATCH(ctx, gram_cd, ctx, p, gd.data(), p, l1d.data(), dd.data(), ld.data(), positive, 3, 2,
                        bd.data(), grd.data(), active.data(), work.data());
        gram_cd_reference(p, g, l1, denom, lip, positive, 3, 2, bref, gref);
        const auto bgot = bd.to_vector(ctx), ggot = grd.to_vector(ctx);
        for (index_t j = 0; j < p; ++j) {
          ASSERT_NEAR(bgot[j], static_cast<double>(bref[j]), 1e-12) << "p " << p << " j " << j;
          ASSERT_NEAR(ggot[j], static_cast<double>(gref[j]), 1e-12) << "p " << p << " j " << j;
          if (positive) ASSERT_GE(bgot[j], 0.0);
        }
        // The same sweeps again from the same start: the same bits.
        auto bd2 = to_backend(ctx, beta), grd2 = to_backend(ctx, grad);
        SHRINK_DISPATCH(ctx, gram_cd, ctx, p, gd.data(), p, l1d.data(), dd.data(), ld.data(), positive, 3, 2,
                        bd2.data(), grd2.data(), active.data(), work.data());
        ASSERT_EQ(bd2.to_vector(ctx), bgot);
        ASSERT_EQ(grd2.to_vector(ctx), ggot);
        // gram_cd<float> on the same problem, against the same long double reference: float's
        // rounding over p-term gradient updates, 3 + 2 sweeps.
        auto f = [](const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); };
        auto gf = to_backend(ctx, f(g)), l1f = to_backend(ctx, f(l1)), df = to_backend(ctx, f(denom)), lf = to_backend(ctx, f(lip));
        auto bf = to_backend(ctx, f(beta)), grf = to_backend(ctx, f(grad));
        SHRINK_DISPATCH(ctx, gram_cd, ctx, p, gf.data(), p, l1f.data(), df.data(), lf.data(), positive, 3, 2,
                        bf.data(), grf.data(), active.data(), work_f.data());
        const auto bfl = bf.to_vector(ctx);
        long double scale = 1;
        for (index_t j = 0; j < p; ++j) scale = std::max(scale, std::fabs(bref[j]));
        for (index_t j = 0; j < p; ++j) {
          ASSERT_NEAR(bfl[j], static_cast<double>(bref[j]), 2e-4 * static_cast<double>(scale)) << "float p " << p << " j " << j;
          if (positive) ASSERT_GE(bfl[j], 0.0f);
        }
      }
  }
}

template <class V>
void check_dual_terms(const Context& ctx) {
  for (index_t p : {0, 1, 1000, 200001}) {
    const auto c = test::random_vector<V>(p, 11), beta = test::random_vector<V>(p, 12);
    auto v = test::random_vector<V>(p, 13);
    for (index_t j = 0; j < p; ++j) v[j] = j % 5 == 0 ? V(0) : std::abs(v[j]) + V(0.1);
    const auto cd = to_backend(ctx, c), bd = to_backend(ctx, beta), vd = to_backend(ctx, v);
    for (bool positive : {false, true})
      for (double l2 : {0.0, 0.4}) {
        const kernels::LassoDualArgs args{0.3, l2, positive};
        const auto got = SHRINK_DISPATCH(ctx, lasso_dual_terms, ctx, p, cd.data(), bd.data(), vd.data(), args);
        long double ratio = 0, s1 = 0, s2 = 0, excess = 0, count = 0;
        for (index_t j = 0; j < p; ++j) {
          if (!(v[j] > 0)) continue;
          const long double cp = positive ? c[j] : std::abs(static_cast<long double>(c[j]));
          ratio = std::max(ratio, cp / v[j]);
          s1 += v[j] * std::abs(static_cast<long double>(beta[j]));
          s2 += static_cast<long double>(v[j]) * beta[j] * beta[j];
          const long double e = std::max<long double>(cp - 0.3L * v[j], 0);
          if (l2 > 0) excess += e * e / (2 * l2 * v[j]);
          count += 1;
        }
        const double tol = 1e-12 * static_cast<double>(p + 1);
        EXPECT_NEAR(got.max_ratio, static_cast<double>(ratio), tol * static_cast<double>(ratio));
        EXPECT_NEAR(got.l1, static_cast<double>(s1), tol * static_cast<double>(s1) + 1e-300);
        EXPECT_NEAR(got.l2, static_cast<double>(s2), tol * static_cast<double>(s2) + 1e-300);
        EXPECT_NEAR(got.excess, static_cast<double>(excess), tol * static_cast<double>(excess) + 1e-300);
        EXPECT_EQ(got.penalized, static_cast<double>(count));
      }
  }
}

TEST_P(LassoKernels, DualTermsMatchReference) {
  const Context ctx = make_context(GetParam());
  check_dual_terms<double>(ctx);
  check_dual_terms<float>(ctx);
}

// The documented order, written out as classes rather than one key: violators (worst first), then
// coefficients held non-zero or unpenalized, then zeros (closest to entering first), unusable last.
struct WorkingSetRank {
  int group;
  long double value;
};
WorkingSetRank working_set_rank(double c, double beta, double l1, double l2, double lip, bool positive) {
  if (!(lip > 0)) return {3, 0};
  const long double unit = 1.0L / std::sqrt(static_cast<long double>(lip));
  const long double reach = positive ? c : std::abs(static_cast<long double>(c));
  long double violation = 0;
  if (beta != 0) violation = std::abs(c - (beta > 0 ? l1 : -l1) - static_cast<long double>(l2) * beta);
  else violation = std::max<long double>(reach - l1, 0);
  if (violation * unit > 0) return {0, -violation * unit};
  if (beta != 0 || (l1 == 0 && l2 == 0)) return {1, 0};
  return {2, (l1 - reach) * unit};
}

template <class V>
void check_working_set(const Context& ctx) {
  std::mt19937_64 rng(17);
  std::normal_distribution<double> normal;
  for (index_t p : {1, 10, 1000, 200001})
    for (bool positive : {false, true}) {
      std::vector<V> c(static_cast<std::size_t>(p)), beta(c), l1(c), l2(c), lip(c);
      index_t nonzero = 0;
      for (index_t j = 0; j < p; ++j) {
        c[j] = static_cast<V>(normal(rng));
        beta[j] = j % 3 == 0 ? static_cast<V>(positive ? std::abs(normal(rng)) : normal(rng)) : V(0);
        nonzero += beta[j] != 0;
        const bool unpenalized = j % 11 == 5;
        l1[j] = unpenalized ? V(0) : static_cast<V>(1.2 + 0.1 * (j % 7));
        l2[j] = unpenalized ? V(0) : static_cast<V>(0.2 * (j % 2));
        lip[j] = j % 13 == 4 ? V(0) : static_cast<V>(0.5 + std::abs(normal(rng)));
      }
      // Exact KKT: a held coefficient at its optimum (zero violation) and a zero just at its bound.
      if (p >= 10) {
        c[3] = static_cast<V>(l1[3] * (beta[3] > 0 ? 1 : -1) + l2[3] * beta[3]);
        c[1] = l1[1];
      }
      std::vector<index_t> order(static_cast<std::size_t>(p));
      std::iota(order.begin(), order.end(), index_t{0});
      std::vector<WorkingSetRank> rank;
      for (index_t j = 0; j < p; ++j) rank.push_back(working_set_rank(c[j], beta[j], l1[j], l2[j], lip[j], positive));
      std::stable_sort(order.begin(), order.end(), [&](index_t a, index_t b) {
        return rank[a].group != rank[b].group ? rank[a].group < rank[b].group : rank[a].value < rank[b].value;
      });
      const auto cd = to_backend(ctx, c), bd = to_backend(ctx, beta), l1d = to_backend(ctx, l1),
                 l2d = to_backend(ctx, l2), lipd = to_backend(ctx, lip);
      for (index_t k : {index_t{1}, (p + 2) / 3, p}) {
        Array<index_t> out(ctx, static_cast<std::size_t>(k), ctx.memory_space());
        const index_t got_nonzero = SHRINK_DISPATCH(ctx, lasso_working_set, ctx, p, cd.data(), bd.data(), l1d.data(),
                                                    l2d.data(), lipd.data(), positive, k, out.data());
        EXPECT_EQ(got_nonzero, nonzero);
        std::vector<index_t> want(order.begin(), order.begin() + k);
        std::sort(want.begin(), want.end());
        EXPECT_EQ(out.to_vector(ctx), want) << "p " << p << " k " << k << " positive " << positive;
      }
    }
}

TEST_P(LassoKernels, WorkingSetMatchesReference) {
  const Context ctx = make_context(GetParam());
  check_working_set<double>(ctx);
  check_working_set<float>(ctx);
}

template <class V, class I>
void check_gather_scatter(const Context& ctx) {
  std::mt19937_64 rng(23);
  std::uniform_real_distribution<double> unit;
  for (index_t rows : {1, 9, 300})
    for (index_t cols : {1, 17, 700}) {
      DenseMatrix<V> dense(rows, cols, Layout::RowMajor);
      for (index_t i = 0; i < rows; ++i)
        for (index_t j = 0; j < cols; ++j)
          if (unit(rng) < 0.1 || (i == rows - 1 && j == cols - 1)) dense(i, j) = static_cast<V>(unit(rng) - 0.5);
      const auto a = dense_to_csr<V, I>(dense.view()).copy_to(ctx, ctx.memory_space());
      std::vector<index_t> pick;  // some rows twice, in no order
      for (index_t t = 0; t < rows + 3; ++t) pick.push_back((t * 7 + 3) % rows);
      const auto pick_d = to_backend(ctx, pick);
      for (index_t first : {index_t{0}, cols / 3}) {
        const index_t width = std::max<index_t>(cols - first - cols / 5, 1);
        DenseMatrix<V> out(ctx, static_cast<index_t>(pick.size()), width, Layout::RowMajor, ctx.memory_space());
        SHRINK_DISPATCH(ctx, csr_gather_rows_dense, ctx, a.view(), pick_d.data(), first, out.view());
        const auto got = out.copy_to(ctx, MemorySpace::Host);
        for (std::size_t t = 0; t < pick.size(); ++t)
          for (index_t c = 0; c < width; ++c)
            ASSERT_EQ(got(static_cast<index_t>(t), c), dense(pick[t], first + c)) << "row " << t << " col " << c;
      }
    }
  // scatter_rows is gather_rows' inverse; rows it does not name keep their values.
  const index_t m = 50, width = 3;
  std::vector<index_t> rows_to{7, 0, 49, 21, 8};
  DenseMatrix<V> src(static_cast<index_t>(rows_to.size()), width, Layout::RowMajor), dst(m, width, Layout::RowMajor);
  for (index_t i = 0; i < src.rows(); ++i)
    for (index_t q = 0; q < width; ++q) src(i, q) = static_cast<V>(i * 10 + q + 1);
  for (index_t i = 0; i < m; ++i)
    for (index_t q = 0; q < width; ++q) dst(i, q) = V(-1);
  const auto src_d = src.copy_to(ctx, ctx.memory_space());
  auto dst_d = dst.copy_to(ctx, ctx.memory_space());
  const auto rows_d = to_backend(ctx, rows_to);
  SHRINK_DISPATCH(ctx, scatter_rows, ctx, src_d.view(), rows_d.data(), dst_d.view());
  const auto got = dst_d.copy_to(ctx, MemorySpace::Host);
  for (index_t i = 0; i < m; ++i) {
    const auto at = std::find(rows_to.begin(), rows_to.end(), i);
    for (index_t q = 0; q < width; ++q)
      EXPECT_EQ(got(i, q), at == rows_to.end() ? V(-1) : src(at - rows_to.begin(), q)) << "row " << i;
  }
}

TEST_P(LassoKernels, GatherSparseColumnsAndScatterRows) {
  const Context ctx = make_context(GetParam());
  check_gather_scatter<double, std::int32_t>(ctx);
  check_gather_scatter<float, std::int64_t>(ctx);
}

// ---- the working-set Gram solver ---------------------------------------------------------------------------
// Equicorrelated Gaussian columns (x_ij = sqrt(rho) c_i + sqrt(1 - rho) e_ij): the ill-conditioned
// designs where plain coordinate descent needs thousands of sweeps per lambda.
Data equicorrelated_problem(index_t n, index_t p, double rho, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  Data d{DenseMatrix<double>(n, p, Layout::ColMajor), std::vector<double>(static_cast<std::size_t>(n))};
  for (index_t i = 0; i < n; ++i) {
    const double common = normal(rng);
    for (index_t j = 0; j < p; ++j) d.x(i, j) = std::sqrt(rho) * common + std::sqrt(1 - rho) * normal(rng);
  }
  for (index_t i = 0; i < n; ++i) {
    double s = 0.5 * normal(rng);
    for (index_t j = 0; j < 10; ++j) s += d.x(i, j * 3) * (j % 2 ? -1.0 : 1.0);
    d.y[i] = s;
  }
  return d;
}

TEST(LassoNewton, StepGoesToTheSmoothMinimizerOrStopsWhereACoefficientReachesZero) {
  const std::vector<index_t> support{0, 1};
  const std::vector<double> gram{2, 1, 1, 2}, factors{1, 1};
  std::vector<double> delta;
  // Signs held all the way: the full step, (G)^-1 (c - lambda s) = G^-1 (2, 2) = (2/3, 2/3).
  ASSERT_TRUE(lasso_detail::newton_move(factors, 1.0, 1.0, support, {1.0, 1.0}, {3.0, 3.0}, gram, delta));
  EXPECT_NEAR(delta[0], 2.0 / 3, 1e-14);
  EXPECT_NEAR(delta[1], 2.0 / 3, 1e-14);
  // d = G^-1 (-1, -4) = (2/3, -7/3) would take beta_1 = 0.1 through zero: the step stops there, and
  // beta_1 lands on zero exactly.
  ASSERT_TRUE(lasso_detail::newton_move(factors, 1.0, 1.0, support, {1.0, 0.1}, {0.0, -3.0}, gram, delta));
  const double t = 0.1 / (7.0 / 3);
  EXPECT_NEAR(delta[0], t * 2.0 / 3, 1e-14);
  EXPECT_EQ(delta[1], -0.1);
  // An unpenalized coefficient (v = 0) may change sign: no cut, and no l1 term in its equation.
  ASSERT_TRUE(lasso_detail::newton_move({1.0, 0.0}, 1.0, 1.0, support, {1.0, 0.1}, {0.0, -3.0}, gram, delta));
  EXPECT_NEAR(delta[0], (2 * -1.0 - -3.0) / 3, 1e-14);
  EXPECT_NEAR(delta[1], (-(-1.0) + 2 * -3.0) / 3, 1e-14);
  // The Elastic Net's ridge enters the system: (G + lambda (1 - alpha) I) d = c - lambda alpha s - ridge beta.
  ASSERT_TRUE(lasso_detail::newton_move(factors, 0.5, 2.0, support, {1.0, 1.0}, {3.0, 3.0}, gram, delta));
  EXPECT_NEAR(delta[0], (3.0 - 1.0 - 1.0) / 4, 1e-14);  // (3 I + 1 1^T)-ish: row sums 4
  // Dependent columns: the step of a lightly regularized system, here toward the minimum-norm answer.
  ASSERT_TRUE(lasso_detail::newton_move(factors, 1.0, 1.0, support, {1.0, 1.0}, {3.0, 3.0}, {1, 1, 1, 1}, delta));
  EXPECT_NEAR(delta[0], 1.0, 1e-5);
  EXPECT_NEAR(delta[1], 1.0, 1e-5);
}

TEST(LassoNewton, SupportFactorFollowsAGrowingAndShrinkingSupport) {
  // G = A^T A / m for a random 80 x 40 A: positive definite on every support.
  const index_t m = 80, p = 40;
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal;
  std::vector<double> a(static_cast<std::size_t>(m * p)), g(static_cast<std::size_t>(p * p), 0.0);
  for (auto& v : a) v = normal(rng);
  for (index_t j = 0; j < p; ++j)
    for (index_t k = 0; k < p; ++k)
      for (index_t i = 0; i < m; ++i) g[j + k * p] += a[i + j * m] * a[i + k * m] / m;
  lasso_detail::SupportFactor factor;
  const std::vector<double> ones(static_cast<std::size_t>(p), 1.0);
  auto entries = [](const std::vector<double>& gm, index_t ldg) {
    return [&gm, ldg](const std::vector<index_t>& order, index_t first, double* out, index_t ld) {
      for (std::size_t c = static_cast<std::size_t>(first); c < order.size(); ++c)
        for (std::size_t r = 0; r < order.size(); ++r) out[r + (c - first) * ld] = gm[order[r] + order[c] * ldg];
    };
  };
  auto range = [](index_t lo, index_t hi) {
    std::vector<index_t> s;
    for (index_t j = lo; j < hi; ++j) s.push_back(j);
    return s;
  };
  // Grown, the same, columns dropped from the front, middle and end, dropped and added at once,
  // everything, then a small support again.
  std::vector<std::vector<index_t>> supports{range(0, 10), range(0, 16), range(0, 16), {1, 2, 4, 5, 6, 8, 9, 10, 11, 12, 13},
                                             {1, 2, 4, 6, 8, 9, 11, 12, 13, 20, 21, 30, 39}, range(0, 40), {5, 17}};
  for (const auto& support : supports) {
    const auto k = static_cast<index_t>(support.size());
    const double fresh = static_cast<double>(k) * k * k / 3 + 2.0 * k * k;
    if (support == range(0, 16)) EXPECT_LT(factor.cost(support, 0.0), fresh);  // reuses what it holds
    ASSERT_TRUE(factor.factor(support, entries(g, p), ones, 0.0));
    EXPECT_EQ(factor.cost(support, 0.0), 2.0 * k * k);  // only the solve left for the same support
    std::vector<double> b(support.size()), block(static_cast<std::size_t>(k * k));
    for (index_t t = 0; t < k; ++t) {
      b[t] = normal(rng);
      for (index_t u = 0; u < k; ++u) block[u + t * k] = g[support[u] + support[t] * p];
    }
    auto expected = b;
    ASSERT_TRUE(lasso_detail::solve_spd(block, expected, k));
    factor.solve(b, 0.0);
    for (index_t t = 0; t < k; ++t) EXPECT_NEAR(b[t], expected[t], 1e-10 * (1 + std::abs(expected[t]))) << "k = " << k;
  }
  // The Elastic Net's ridge mu V (v_j from 0.5 to 1.5): the factor made at mu = 1 serves mu = 0.7
  // through conjugate gradients, with columns added and dropped meanwhile; mu = 0.3 is factored
  // afresh. Each solve against a fresh one of G_SS + mu V_S.
  std::vector<double> v(static_cast<std::size_t>(p));
  for (index_t j = 0; j < p; ++j) v[j] = 0.5 + static_cast<double>(j % 5) / 4;
  for (const auto& [support, mu] : std::vector<std::pair<std::vector<index_t>, double>>{
           {range(0, 12), 1.0}, {range(2, 15), 0.7}, {range(2, 15), 0.3}}) {
    const auto k = static_cast<index_t>(support.size());
    ASSERT_TRUE(factor.factor(support, entries(g, p), v, mu));
    std::vector<double> b(support.size()), block(static_cast<std::size_t>(k * k));
    for (index_t t = 0; t < k; ++t) {
      b[t] = normal(rng);
      for (index_t u = 0; u < k; ++u) block[u + t * k] = g[support[u] + support[t] * p];
      block[t + t * k] += mu * v[support[t]];
    }
    auto expected = b;
    ASSERT_TRUE(lasso_detail::solve_spd(block, expected, k));
    factor.solve(b, mu);
    for (index_t t = 0; t < k; ++t) EXPECT_NEAR(b[t], expected[t], 1e-10 * (1 + std::abs(expected[t]))) << "mu = " << mu;
  }
  // Dependent columns (G_33 = G_44 = G_34): refused, and the next support is factored afresh.
  auto singular = g;
  for (index_t j = 0; j < p; ++j) {
    singular[4 + j * p] = singular[3 + j * p];
    singular[j + 4 * p] = singular[j + 3 * p];
  }
  singular[4 + 4 * p] = singular[3 + 3 * p];
  EXPECT_FALSE(factor.factor(range(0, 8), entries(singular, p), ones, 0.0));
  ASSERT_TRUE(factor.factor(range(0, 8), entries(g, p), ones, 0.0));
  std::vector<double> b(8, 1.0), block(64), expected(8, 1.0);
  for (index_t t = 0; t < 8; ++t)
    for (index_t u = 0; u < 8; ++u) block[u + t * 8] = g[u + t * p];
  ASSERT_TRUE(lasso_detail::solve_spd(block, expected, 8));
  factor.solve(b, 0.0);
  for (index_t t = 0; t < 8; ++t) EXPECT_NEAR(b[t], expected[t], 1e-10 * (1 + std::abs(expected[t])));
}

// The options a solver must respect beside the plain Lasso: standardization, uneven sample weights
// (n of them), and penalty factors over p features with feature 3 unpenalized and 6 doubled.
void weigh_and_factor(LassoOptions& o, int n, index_t p) {
  o.standardize = true;
  o.sample_weights.resize(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) o.sample_weights[i] = 0.5 + (i % 7) / 4.0;
  o.penalty_factors.assign(static_cast<std::size_t>(p), 1.0);
  o.penalty_factors[3] = 0;
  o.penalty_factors[6] = 2;
}

TEST(Lasso, IllConditionedPathsCertifyWithinFewSweeps) {
  // p >> n with rho 0.9 (cd), and n > p with rho 0.95 in Elastic Net (gram and cd): without the
  // Newton step on the support these take thousands of sweeps per lambda at the small end of the
  // path; with it they certify within the sweep budget, agree with each other and meet the KKT
  // conditions.
  const Context ctx = make_context(Backend::Cpu);
  // Both host solvers on one problem: each certified at every lambda and meeting the KKT
  // conditions, and their objectives within `agree` (relative) of each other.
  auto cd_and_gram_agree = [&](const Data& d, LassoOptions o, double agree, const std::string& what) {
    std::vector<LassoPath> paths;
    for (auto solver : {LassoSolver::CoordinateDescent, LassoSolver::Gram}) {
      o.solver = solver;
      paths.push_back(lasso_path<double>(ctx, d.x.view(), VectorView<const double>(d.y), o));
      EXPECT_TRUE(paths.back().all_converged()) << to_string(solver) << " " << what;
      expect_kkt(d.x, d.y, o, paths.back(), 1e-3, std::string(to_string(solver)) + " " + what);
    }
    for (std::size_t l = 0; l < paths[0].size(); ++l)
      EXPECT_NEAR(paths[0].objective[l], paths[1].objective[l], agree * paths[1].objective[l])
          << what << ", lambda #" << l;
  };
  {
    LassoOptions o;
    o.n_lambdas = 30;
    o.tol = 1e-8;
    o.max_iter = 2000;
    cd_and_gram_agree(equicorrelated_problem(60, 400, 0.9, 41), o, 2e-8, "p >> n, rho 0.9");
  }
  {
    LassoOptions o;
    o.n_lambdas = 30;
    o.tol = 1e-9;
    o.l1_ratio = 0.5;
    o.max_iter = 3000;
    cd_and_gram_agree(equicorrelated_problem(200, 120, 0.95, 42), o, 2e-9, "n > p, rho 0.95, Elastic Net");
  }
  // p >> n Elastic Net whose support grows past n: cd's Newton step solves the n x n system
  // (narrow_solve), also with weights, standardization and penalty factors all above zero.
  for (int variant = 0; variant < 2; ++variant) {
    LassoOptions o;
    o.n_lambdas = 30;
    o.tol = 1e-9;
    o.l1_ratio = 0.1;
    o.max_iter = 5000;
    if (variant == 1) {
      o.standardize = true;
      o.sample_weights.resize(40);
      for (index_t i = 0; i < 40; ++i) o.sample_weights[i] = 0.5 + static_cast<double>(i % 4);
      o.penalty_factors.resize(300);
      for (index_t j = 0; j < 300; ++j) o.penalty_factors[j] = 0.5 + 0.1 * static_cast<double>(j % 7);
    }
    const auto d = equicorrelated_problem(40, 300, 0.9, 44);
    cd_and_gram_agree(d, o, 2e-9, variant ? "Elastic Net, support past n, weighted" : "Elastic Net, support past n");
    o.solver = LassoSolver::CoordinateDescent;
    const auto path = lasso_path<double>(ctx, d.x.view(), VectorView<const double>(d.y), o);
    EXPECT_GT(*std::max_element(path.nnz.begin(), path.nnz.end()), 40);
  }
  // The options the step must respect: sample weights, an unpenalized feature, positivity and
  // standardization, p >> n.
  for (bool positive : {false, true}) {
    LassoOptions o;
    o.n_lambdas = 25;
    o.tol = 1e-9;
    o.max_iter = 5000;
    o.positive = positive;
    weigh_and_factor(o, 50, 300);
    cd_and_gram_agree(equicorrelated_problem(50, 300, 0.9, 43), o, 2e-9,
                      positive ? "weights and factors, positive" : "weights and factors");
  }
}

// Coordinate descent leaves unread the features whose correlation it can bound below their
// penalty from an earlier read (p >> n, early on the path: most of them). Its certificates must
// still bound the true suboptimality: each lambda's objective is within its reported gap of the
// optimum, found here by the Gram solver at tol 1e-13, with weights, penalty factors and
// standardization (weigh_and_factor), positivity and the Elastic Net.
TEST(Lasso, UnreadCorrelationsKeepTheCertificate) {
  const Context ctx = make_context(Backend::Cpu);
  auto d = random_problem(60, 1500, 44, 8);
  for (index_t i = 0; i < d.x.rows(); ++i)
    for (index_t j = 0; j < d.x.cols(); ++j)
      if ((i * 31 + j * 17) % 11 != 0) d.x(i, j) = 0;  // 1 in 11 entries kept
  const auto csc = csr_to_csc(dense_to_csr<double, std::int32_t>(d.x.view()));
  for (int variant = 0; variant < 4; ++variant) {
    LassoOptions o;
    o.n_lambdas = 40;
    o.tol = 1e-8;
    o.max_iter = 20000;
    if (variant == 1) weigh_and_factor(o, 60, 1500);
    o.positive = variant == 2;
    if (variant == 3) o.l1_ratio = 0.5;
    const std::string what = "variant " + std::to_string(variant);
    o.solver = LassoSolver::CoordinateDescent;
    const auto cd = lasso_path(ctx, csc, VectorView<const double>(d.y), o);
    o.solver = LassoSolver::Gram;
    o.tol = 1e-13;
    const auto optimum = lasso_path(ctx, csc, VectorView<const double>(d.y), o);
    ASSERT_EQ(cd.size(), optimum.size());
    EXPECT_TRUE(cd.all_converged()) << what;
    for (std::size_t l = 0; l < cd.size(); ++l) {
      EXPECT_LE(cd.duality_gap[l], 1e-8 * cd.objective[l]) << what << ", lambda #" << l;
      EXPECT_LE(cd.objective[l] - optimum.objective[l], cd.duality_gap[l] + 1e-12 * optimum.objective[l])
          << what << ", lambda #" << l;
    }
    o.tol = 1e-8;
    expect_kkt(d.x, d.y, o, cd, 1e-3, what);
  }
}

// A tall sparse X of small counts with an all-ones column, standardized (counts_ones_std in small):
// the support grows to most features, so cd's strong-rule sets check at their learned level and
// whole-problem checks follow sweeps over the non-zeros. Every lambda keeps its certificate.
TEST(Lasso, LearnedCheckLevelsOnATallSparsePathKeepTheCertificate) {
  const Context ctx = make_context(Backend::Cpu);
  const index_t n = 3000, p = 301;
  DenseMatrix<double> x(n, p, Layout::RowMajor);
  std::vector<double> y(static_cast<std::size_t>(n));
  std::mt19937_64 rng(47);
  std::poisson_distribution<int> counts(2.0);
  std::normal_distribution<double> noise(0.0, 1.0);
  for (index_t i = 0; i < n; ++i) {
    x(i, p - 1) = 1.0;
    for (index_t j = 0; j + 1 < p; ++j)
      if (rng() % 40 == 0) x(i, j) = 1.0 + counts(rng);
  }
  for (index_t i = 0; i < n; ++i) {
    double s = noise(rng);
    for (index_t j = 0; j < 30; ++j) s += (j % 2 ? 1.0 : -1.0) * x(i, j * 7);
    y[static_cast<std::size_t>(i)] = s;
  }
  const auto csc = csr_to_csc(dense_to_csr<double, std::int32_t>(x.view()));
  for (const double tol : {1e-6, 1e-9}) {
    for (const bool standardize : {true, false}) {
      LassoOptions o;
      o.standardize = standardize;
      o.lambda_min_ratio = 1e-3;
      o.tol = tol;
      const std::string what = "tol " + std::to_string(tol) + (standardize ? ", standardized" : "");
      o.solver = LassoSolver::CoordinateDescent;
      const auto cd = lasso_path(ctx, csc, VectorView<const double>(y), o);
      o.solver = LassoSolver::Gram;
      o.tol = 1e-13;
      const auto optimum = lasso_path(ctx, csc, VectorView<const double>(y), o);
      ASSERT_EQ(cd.size(), optimum.size());
      EXPECT_TRUE(cd.all_converged()) << what;
      EXPECT_GT(cd.nnz.back(), p / 2) << what;  // the support the learned levels are for
      for (std::size_t l = 0; l < cd.size(); ++l) {
        EXPECT_LE(cd.duality_gap[l], tol * cd.objective[l]) << what << ", lambda #" << l;
        EXPECT_LE(cd.objective[l] - optimum.objective[l], cd.duality_gap[l] + 1e-12 * optimum.objective[l])
            << what << ", lambda #" << l;
      }
    }
  }
}

TEST(Lasso, AutoChoosesTheSolverByItsCostModel) {
  // Gram when its build is paid back over the path (dense, n > p), coordinate descent when p >> n
  // or X is sparse.
  const Context ctx = make_context(Backend::Cpu);
  LassoOptions o;
  o.lambda_min_ratio = 0.5;
  const auto tall = random_problem(600, 400, 43);
  EXPECT_EQ(lasso_path<double>(ctx, tall.x.view(), VectorView<const double>(tall.y), o).solver, LassoSolver::Gram);
  const auto wide = random_problem(100, 800, 44);
  EXPECT_EQ(lasso_path<double>(ctx, wide.x.view(), VectorView<const double>(wide.y), o).solver,
            LassoSolver::CoordinateDescent);
  // The same X as CSR (every entry stored): Gram as for the dense X, its build from pairs in a row.
  const auto csr = dense_to_csr<double, std::int64_t>(tall.x.view());
  EXPECT_EQ(lasso_path(ctx, csr, VectorView<const double>(tall.y), o).solver, LassoSolver::Gram);
  // A sparse X: Gram when tall (an update moves 50 gradient entries where cd reads 500 of its column),
  // also when a column is far from zero (G is then built from centered dense blocks of rows, not
  // from the pairs in a row, whose centering would cancel), and cd when wide.
  auto sparse_tall = [](index_t n, index_t p, double offset, std::uint64_t seed) {
    DenseMatrix<double> x(n, p, Layout::RowMajor);
    std::mt19937_64 rng(seed);
    for (index_t i = 0; i < n; ++i) {
      for (int k = 0; k < 5; ++k) x(i, static_cast<index_t>(rng() % p)) = 1.0 + static_cast<double>(rng() % 3);
      if (offset > 0) x(i, 0) = offset + static_cast<double>(rng() % 5);
    }
    return dense_to_csr<double, std::int32_t>(x.view());
  };
  std::vector<double> y_tall(20000);
  for (std::size_t i = 0; i < y_tall.size(); ++i) y_tall[i] = std::sin(0.37 * static_cast<double>(i));
  EXPECT_EQ(lasso_path(ctx, sparse_tall(20000, 50, 0, 46), VectorView<const double>(y_tall), o).solver,
            LassoSolver::Gram);
  EXPECT_EQ(lasso_path(ctx, sparse_tall(20000, 50, 1e4, 46), VectorView<const double>(y_tall), o).solver,
            LassoSolver::Gram);
  const auto wide_csr = dense_to_csr<double, std::int64_t>(random_problem(100, 800, 44, 5).x.view());
  EXPECT_EQ(lasso_path(ctx, wide_csr, VectorView<const double>(wide.y), o).solver, LassoSolver::CoordinateDescent);
  // A square sparse X of 0/1/2 columns at 28% non-zeros (genotypes): cd, whose update reads a
  // grouped column's 112 rows without their values, where a Gram update moves 400 gradient entries
  // (a 3000 x 3000 X of this kind took gram 2.8x cd's time).
  {
    DenseMatrix<double> g(400, 400, Layout::RowMajor);
    std::mt19937_64 draw(47);
    std::vector<double> y_g(400);
    for (index_t i = 0; i < 400; ++i) {
      for (index_t j = 0; j < 400; ++j) {
        const auto u = draw() % 100;
        g(i, j) = u < 4 ? 2.0 : u < 28 ? 1.0 : 0.0;
      }
      y_g[static_cast<std::size_t>(i)] = g(i, 3) - 2 * g(i, 7) + std::sin(0.37 * static_cast<double>(i));
    }
    EXPECT_EQ(lasso_path(ctx, dense_to_csr<double, std::int32_t>(g.view()), VectorView<const double>(y_g), o).solver,
              LassoSolver::CoordinateDescent);
  }
  // A tall dense X of one-hot columns (2% non-zero, as from pandas' get_dummies): cd on its sparse
  // copy reads 12 entries a column where gram's build costs n p / 2 each.
  DenseMatrix<double> onehot(600, 400, Layout::ColMajor);
  std::mt19937_64 rng(45);
  for (index_t i = 0; i < 600; ++i)
    for (index_t v = 0; v < 8; ++v) onehot(i, v * 50 + static_cast<index_t>(rng() % 50)) = 1.0;
  EXPECT_EQ(lasso_path<double>(ctx, onehot.view(), VectorView<const double>(tall.y), o).solver,
            LassoSolver::CoordinateDescent);
  // A tall mostly-zero dense X is weighed as its sparse copy: the solver its CSR form gets (Gram,
  // built from the copy's pairs), and the same path.
  const auto tall_csr = sparse_tall(20000, 50, 0, 46);
  DenseMatrix<double> tall_dense(20000, 50, Layout::ColMajor);
  for (index_t i = 0; i < 20000; ++i)
    for (auto k = tall_csr.row_ptr()[i]; k < tall_csr.row_ptr()[i + 1]; ++k) tall_dense(i, tall_csr.col_idx()[k]) = tall_csr.values()[k];
  ctx.reset_transfers();
  const auto from_dense = lasso_path<double>(ctx, tall_dense.view(), VectorView<const double>(y_tall), o);
  EXPECT_EQ(from_dense.solver, LassoSolver::Gram);
  EXPECT_EQ(ctx.transfers().input_host_copies, 1) << "the sparse copy";
  const auto from_csr = lasso_path(ctx, tall_csr, VectorView<const double>(y_tall), o);
  ASSERT_EQ(from_dense.size(), from_csr.size());
  for (std::size_t l = 0; l < from_csr.size(); ++l)
    EXPECT_NEAR(from_dense.objective[l], from_csr.objective[l], 1e-12 * from_csr.objective[l]) << l;
}

TEST(Lasso, SparseGramBuildGivesTheDensePath) {
  // G and q from a sparse X's products (pairs of entries in a row, centered and scaled after) against
  // the dense build on the same X: weights, standardization, no intercept, an unpenalized feature,
  // positivity, Elastic Net; an empty and a constant column; and a column far from zero, which
  // takes the blocked build on centered rows instead, as does an X half full (its pairs cost more
  // than the dense blocks' products: sparse_gram_build_cost). At 10% the pairs cost about 11.3M
  // multiply-adds against the blocks' 18M.
  const Context ctx = make_context(Backend::Cpu);
  const index_t n = 400, p = 300;
  for (int variant = 0; variant < 7; ++variant) {
    SCOPED_TRACE("variant " + std::to_string(variant));
    std::mt19937_64 rng(70 + static_cast<std::uint64_t>(variant));
    std::normal_distribution<double> normal;
    DenseMatrix<double> x(n, p, Layout::RowMajor);
    std::vector<double> y(static_cast<std::size_t>(n));
    for (index_t i = 0; i < n; ++i) {
      for (index_t j = 2; j < p; ++j)
        if (rng() % (variant == 6 ? 2 : 10) == 0) x(i, j) = (j % 3 == 0) ? static_cast<double>(1 + rng() % 2) : normal(rng);
      x(i, 1) = 3.0;  // constant (column 0 stays empty)
      if (variant == 5) x(i, 2) = 1e5 + normal(rng);  // far from zero: every row
      y[i] = 2 * x(i, 5) - 3 * x(i, 9) + x(i, 12) + 0.5 * normal(rng);
    }
    LassoOptions o;
    o.n_lambdas = 20;
    o.tol = 1e-10;
    o.solver = LassoSolver::Gram;
    o.standardize = variant == 1 || variant == 4;
    o.fit_intercept = variant != 2;
    o.positive = variant == 3;
    o.l1_ratio = variant == 4 ? 0.5 : 1.0;
    if (variant == 1 || variant == 5) {
      o.sample_weights.resize(static_cast<std::size_t>(n));
      for (index_t i = 0; i < n; ++i) o.sample_weights[i] = 0.25 + static_cast<double>(i % 5);
    }
    if (variant == 3) {
      o.penalty_factors.assign(static_cast<std::size_t>(p), 1.0);
      o.penalty_factors[9] = 0;
    }
    const auto dense = lasso_path<double>(ctx, x.view(), VectorView<const double>(y), o);
    const auto sparse = lasso_path(ctx, dense_to_csr<double, std::int32_t>(x.view()), VectorView<const double>(y), o);
    ASSERT_EQ(sparse.solver, LassoSolver::Gram);
    EXPECT_TRUE(sparse.all_converged());
    // (The far column's KKT sums in the check itself cancel to about 1e-6: agreement alone there.)
    if (variant != 5) expect_kkt(x, y, o, sparse, 1e-5, "sparse gram");
    ASSERT_EQ(dense.size(), sparse.size());
    for (std::size_t l = 0; l < dense.size(); ++l) {
      EXPECT_NEAR(sparse.objective[l], dense.objective[l], 1e-9 * dense.objective[l]) << "lambda #" << l;
      EXPECT_NEAR(sparse.intercepts[l], dense.intercepts[l], 1e-5 * (1 + std::abs(dense.intercepts[l]))) << "lambda #" << l;
      const auto a = dense.coefficients_at(l), b = sparse.coefficients_at(l);
      for (std::size_t j = 0; j < a.size(); ++j) EXPECT_NEAR(b[j], a[j], 1e-5 * (1 + std::abs(a[j]))) << "feature " << j;
    }
  }
}

// cd stores a sparse X with heavy columns by count (columns_by_count): the path it reports is in the
// given order, with the penalty factors that order gives, and equals the Gram solver's on the X as
// given. The copy's columns (and their value groups) are the given ones moved; a full column of
// one value is the intercept's twin and does not count as heavy; X with no heavy column is read as
// it is.
TEST(Lasso, HeavyColumnsSweptLastGiveTheGivenOrdersPath) {
  const Context ctx = make_context(Backend::Cpu);
  const index_t n = 300, p = 40;
  std::mt19937_64 rng(91);
  std::uniform_real_distribution<double> unit(0, 1);
  std::normal_distribution<double> normal;
  DenseMatrix<double> x(n, p, Layout::RowMajor);
  for (index_t i = 0; i < n; ++i) {
    x(i, 3) = 1.0;  // constant
    for (index_t j = 0; j < p; ++j) {
      if (j == 3) continue;
      const double share = j % 7 == 1 ? 0.9 : 0.06;  // columns 1, 8, 15, ...: heavy, among light ones
      if (unit(rng) < share) x(i, j) = j % 2 ? 1.0 : normal(rng);
    }
  }
  std::vector<double> y(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) y[i] = x(i, 1) - 2 * x(i, 4) + 1.5 * x(i, 8) + x(i, 10) + 0.5 * normal(rng);
  const auto csr = dense_to_csr<double, std::int32_t>(x.view());
  const auto given = lasso_detail::make_design(ctx, csr.view());

  std::vector<index_t> order;
  const auto moved = lasso_detail::columns_by_count(ctx, given, true, order);
  ASSERT_EQ(order.size(), static_cast<std::size_t>(p));
  std::vector<double> r(static_cast<std::size_t>(n));
  for (auto& v : r) v = normal(rng);
  std::int64_t last = 0;
  for (index_t k = 0; k < p; ++k) {
    const index_t j = order[static_cast<std::size_t>(k)];
    const auto count = moved.xt32.row_ptr[k + 1] - moved.xt32.row_ptr[k];
    EXPECT_EQ(count, given.xt32.row_ptr[j + 1] - given.xt32.row_ptr[j]) << k;
    if (j != 3) {  // the constant column weighs nothing: it comes first
      EXPECT_GE(count, last) << k;
      last = count;
    } else {
      EXPECT_EQ(k, 0);
    }
    EXPECT_EQ(lasso_detail::column_dot(moved, k, nullptr, r.data()), lasso_detail::column_dot(given, j, nullptr, r.data())) << k;
  }
  ASSERT_TRUE(given.groups && moved.groups);
  // Without an intercept the constant column is a full one like any other: last.
  (void)lasso_detail::columns_by_count(ctx, given, false, order);
  EXPECT_EQ(order.back(), 3);

  for (int variant = 0; variant < 5; ++variant) {
    SCOPED_TRACE("variant " + std::to_string(variant));
    LassoOptions o;
    o.n_lambdas = 25;
    o.tol = 1e-10;
    o.standardize = variant == 1 || variant == 3;
    o.fit_intercept = variant != 4;
    o.positive = variant == 2;
    o.l1_ratio = variant == 3 ? 0.5 : 1.0;
    o.penalty_factors.assign(static_cast<std::size_t>(p), 1.0);
    for (index_t j = 0; j < p; ++j) o.penalty_factors[j] = 0.5 + 0.05 * static_cast<double>(j % 9);
    o.penalty_factors[8] = 0;  // unpenalized, and heavy
    if (variant == 1) {
      o.sample_weights.resize(static_cast<std::size_t>(n));
      for (index_t i = 0; i < n; ++i) o.sample_weights[i] = 0.5 + static_cast<double>(i % 3);
    }
    o.solver = LassoSolver::CoordinateDescent;
    ctx.reset_transfers();
    const auto cd = lasso_path(ctx, csr.view(), VectorView<const double>(y), o);
    EXPECT_EQ(ctx.transfers().input_host_copies, 2) << "CSR to CSC, then by count";
    o.solver = LassoSolver::Gram;
    const auto gram = lasso_path(ctx, csr.view(), VectorView<const double>(y), o);
    EXPECT_TRUE(cd.all_converged());
    // The Elastic Net's gap of 1e-10 leaves gradients on the support within about 1e-4 of lambda's
    // (the Gram solver's too); its answer is held to the Gram solver's below.
    expect_kkt(x, y, o, cd, o.l1_ratio < 1 ? 1e-3 : 1e-5, "cd by count");
    ASSERT_EQ(cd.size(), gram.size());
    for (std::size_t l = 0; l < cd.size(); ++l) {
      EXPECT_NEAR(cd.objective[l], gram.objective[l], 1e-9 * gram.objective[l]) << "lambda #" << l;
      EXPECT_NEAR(cd.intercepts[l], gram.intercepts[l], 1e-5 * (1 + std::abs(gram.intercepts[l]))) << "lambda #" << l;
      const auto a = gram.coefficients_at(l), b = cd.coefficients_at(l);
      for (std::size_t j = 0; j < a.size(); ++j) EXPECT_NEAR(b[j], a[j], 1e-5 * (1 + std::abs(a[j]))) << "feature " << j;
    }
  }

  // No heavy column: X is read as given.
  DenseMatrix<double> even(n, p, Layout::RowMajor);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < p; ++j)
      if (unit(rng) < 0.1 + 0.01 * static_cast<double>(j % 5)) even(i, j) = normal(rng);
  const auto even_csr = dense_to_csr<double, std::int32_t>(even.view());
  const auto even_design = lasso_detail::make_design(ctx, even_csr.view());
  (void)lasso_detail::columns_by_count(ctx, even_design, true, order);
  EXPECT_TRUE(order.empty());
}

TEST(Lasso, WorkingSetGramBlocksSmallerThanTheSupportStillCertify) {
  // max_working_set below the support: every block leaves non-zero coefficients outside it (block
  // coordinate descent), and the answers must still be certified and agree with cd.
  const auto d = random_problem(40, 90, 31, 25);
  const Context ctx = make_context(Backend::Cpu);
  const auto csc = csr_to_csc(dense_to_csr<double, std::int64_t>(d.x.view()));
  LassoOptions o;
  o.n_lambdas = 12;
  o.lambda_min_ratio = 0.05;
  o.tol = 1e-9;
  for (int variant = 0; variant < 4; ++variant) {
    SCOPED_TRACE("variant " + std::to_string(variant));
    o.l1_ratio = variant == 1 ? 0.5 : 1.0;
    o.positive = variant == 2;
    o.penalty_factors.clear();
    o.sample_weights.clear();
    if (variant == 3) {
      o.penalty_factors.assign(90, 1.0);
      o.penalty_factors[4] = 0;
      o.sample_weights.assign(40, 1.0);
      for (index_t i = 0; i < 40; i += 4) o.sample_weights[i] = 3.0;
    }
    o.solver = LassoSolver::CoordinateDescent;
    const auto want = lasso_path<double>(ctx, d.x.view(), VectorView<const double>(d.y), o);
    o.solver = LassoSolver::WorkingSetGram;
    for (std::int64_t cap : {8, 1024}) {
      o.max_working_set = cap;
      for (const auto& got : {lasso_path<double>(ctx, d.x.view(), VectorView<const double>(d.y), o),
                              lasso_path(ctx, csc, VectorView<const double>(d.y), o)}) {
        EXPECT_EQ(got.solver, LassoSolver::WorkingSetGram);
        for (std::size_t l = 0; l < want.size(); ++l) {
          EXPECT_EQ(got.status[l], FitStatus::Converged) << "cap " << cap << " lambda #" << l;
          EXPECT_LE(got.duality_gap[l], 1e-9 * got.objective[l]);
          EXPECT_NEAR(got.objective[l], want.objective[l], 2e-9 * want.objective[l]) << "cap " << cap;
        }
        if (cap == 8) EXPECT_GT(*std::max_element(got.nnz.begin(), got.nnz.end()), 8);
        expect_kkt(d.x, d.y, o, got, 1e-3, "ws-gram cap " + std::to_string(cap));
        expect_objective_of_answer(d.x, d.y, o, got, 1e-11, "ws-gram cap " + std::to_string(cap));
      }
    }
  }
  // float32 to its own tolerance.
  o = {};
  o.n_lambdas = 12;
  o.lambda_min_ratio = 0.05;
  const auto want = lasso_path<double>(ctx, d.x.view(), VectorView<const double>(d.y), o);
  o.solver = LassoSolver::WorkingSetGram;
  o.max_working_set = 8;
  std::vector<float> x32(d.x.data(), d.x.data() + 40 * 90), y32(d.y.begin(), d.y.end());
  const auto got = lasso_path<float>(ctx, DenseView<const float>(x32.data(), 40, 90, 90, Layout::RowMajor),
                                     VectorView<const float>(y32), o);
  for (std::size_t l = 0; l < want.size(); ++l) {
    EXPECT_EQ(got.status[l], FitStatus::Converged) << "float32 lambda #" << l;
    EXPECT_NEAR(got.objective[l], want.objective[l], 3e-4 * want.objective[l]) << "float32 lambda #" << l;
  }
  o = {};
  o.max_working_set = 0;
  EXPECT_THROW(lasso_path<double>(ctx, d.x.view(), VectorView<const double>(d.y), o), InvalidArgument);
}

// ---- the GPU solvers -----------------------------------------------------------------------------------
// The device paths the other GPU test does not reach: float32 data on the device (ws-gram, gram,
// fista), X given as CSC, and every device solver twice with the same bits.
TEST(Lasso, CudaFloat32CscAndRepeatedRuns) {
  SHRINK_SKIP_IF_ABSENT(Backend::Cuda);
  const Context gpu = make_context(Backend::Cuda), cpu = make_context(Backend::Cpu);
  const auto wide = random_problem(120, 200, 16), tall = random_problem(500, 30, 17);
  LassoOptions o;
  o.n_lambdas = 12;
  o.lambda_min_ratio = 0.05;
  for (const auto* d : {&wide, &tall}) {
    const index_t n = d->x.rows(), p = d->x.cols();
    const auto want = lasso_path<double>(cpu, d->x.view(), VectorView<const double>(d->y), o);
    std::vector<float> x32(d->x.data(), d->x.data() + n * p), y32(d->y.begin(), d->y.end());
    const DenseView<const float> xv(x32.data(), n, p, p, Layout::RowMajor);
    const auto csr32 = dense_to_csr<float, std::int32_t>(xv);
    const auto csc32 = csr_to_csc(csr32);
    const auto csc = csr_to_csc(dense_to_csr<double, std::int32_t>(d->x.view()));
    for (auto solver : {LassoSolver::Auto, LassoSolver::WorkingSetGram, LassoSolver::ProximalGradient, LassoSolver::Gram}) {
      LassoOptions s = o;
      s.solver = solver;
      SCOPED_TRACE(std::string(to_string(solver)) + (d == &wide ? " wide" : " tall"));
      // float32 on the device, to float32's tolerance (1e-4 relative gap).
      const auto got32 = lasso_path<float>(gpu, xv, VectorView<const float>(y32), s);
      for (std::size_t l = 0; l < want.size(); ++l) {
        EXPECT_EQ(got32.status[l], FitStatus::Converged) << "float32 lambda #" << l;
        EXPECT_NEAR(got32.objective[l], want.objective[l], 3e-4 * want.objective[l]) << "float32 lambda #" << l;
      }
      const auto from_csc32 = lasso_path(gpu, csc32, VectorView<const float>(y32), s);
      for (std::size_t l = 0; l < want.size(); ++l)
        EXPECT_NEAR(from_csc32.objective[l], want.objective[l], 3e-4 * want.objective[l]) << "float32 CSC lambda #" << l;
      // X as CSC in float64, run twice: certified, equal to the CPU, and the same bits both times.
      s.tol = 1e-9;
      const auto a = lasso_path(gpu, csc, VectorView<const double>(d->y), s);
      const auto b = lasso_path(gpu, csc, VectorView<const double>(d->y), s);
      for (std::size_t l = 0; l < want.size(); ++l) {
        EXPECT_EQ(a.status[l], FitStatus::Converged) << "CSC lambda #" << l;
        EXPECT_NEAR(a.objective[l], want.objective[l], 1e-6 * want.objective[l]) << "CSC lambda #" << l;
        EXPECT_EQ(a.objective[l], b.objective[l]) << "repeat, lambda #" << l;
        EXPECT_EQ(a.duality_gap[l], b.duality_gap[l]) << "repeat, lambda #" << l;
        EXPECT_EQ(a.coefficients_at(l), b.coefficients_at(l)) << "repeat, lambda #" << l;
      }
    }
  }
}

TEST(Lasso, CudaSolverAgreesWithCpu) {
  SHRINK_SKIP_IF_ABSENT(Backend::Cuda);
  const Context gpu = make_context(Backend::Cuda), cpu = make_context(Backend::Cpu);
  const auto d = random_problem(200, 300, 14);
  LassoOptions o;
  o.n_lambdas = 10;
  o.tol = 1e-8;
  const auto ref = lasso_path<double>(cpu, d.x.view(), VectorView<const double>(d.y), o);
  const auto csr = dense_to_csr<double, std::int32_t>(d.x.view());
  // Wide or sparse X: auto is the working-set Gram solver; FISTA on request; ws-gram with blocks
  // smaller than the support (block coordinate descent on the device).
  LassoOptions fista = o, small = o;
  fista.solver = LassoSolver::ProximalGradient;
  small.solver = LassoSolver::WorkingSetGram;
  small.max_working_set = 8;
  for (const auto& got : {lasso_path<double>(gpu, d.x.view(), VectorView<const double>(d.y), o),
                          lasso_path(gpu, csr, VectorView<const double>(d.y), o),
                          lasso_path(gpu, csr, VectorView<const double>(d.y), fista),
                          lasso_path<double>(gpu, d.x.view(), VectorView<const double>(d.y), small),
                          lasso_path(gpu, csr, VectorView<const double>(d.y), small)}) {
    SCOPED_TRACE(to_string(got.solver));
    for (std::size_t l = 0; l < ref.size(); ++l) {
      EXPECT_EQ(got.status[l], FitStatus::Converged);
      EXPECT_NEAR(got.objective[l], ref.objective[l], 1e-7 * ref.objective[l]);
    }
    if (got.solver != LassoSolver::ProximalGradient) EXPECT_EQ(got.solver, LassoSolver::WorkingSetGram);
    expect_kkt(d.x, d.y, o, got, 1e-4, std::string("gpu ") + to_string(got.solver));
  }
  // Elastic Net with positivity, an unpenalized feature and weights through the device blocks.
  LassoOptions mixed = o;
  mixed.l1_ratio = 0.7;
  mixed.positive = true;
  mixed.penalty_factors.assign(300, 1.0);
  mixed.penalty_factors[2] = 0;
  mixed.sample_weights.assign(200, 1.0);
  for (std::size_t i = 0; i < 200; i += 5) mixed.sample_weights[i] = 2.0;
  const auto mixed_ref = lasso_path(cpu, csr, VectorView<const double>(d.y), mixed);
  mixed.solver = LassoSolver::WorkingSetGram;
  const auto mixed_got = lasso_path(gpu, csr, VectorView<const double>(d.y), mixed);
  for (std::size_t l = 0; l < mixed_ref.size(); ++l) {
    EXPECT_EQ(mixed_got.status[l], FitStatus::Converged);
    EXPECT_NEAR(mixed_got.objective[l], mixed_ref.objective[l], 1e-7 * mixed_ref.objective[l]) << "mixed #" << l;
  }
  // n >> p: the Gram path on the device (SYRK, then the one-warp sweeps), plain, Elastic Net with
  // positivity, and with an unpenalized feature (projected on the host).
  const auto tall = random_problem(600, 40, 15);
  for (int variant = 0; variant < 3; ++variant) {
    LassoOptions g = o;
    if (variant == 1) {
      g.l1_ratio = 0.6;
      g.positive = true;
    }
    if (variant == 2) {
      g.penalty_factors.assign(40, 1.0);
      g.penalty_factors[3] = 0;
    }
    const auto want = lasso_path<double>(cpu, tall.x.view(), VectorView<const double>(tall.y), g);
    const auto got = lasso_path<double>(gpu, tall.x.view(), VectorView<const double>(tall.y), g);
    EXPECT_EQ(want.solver, LassoSolver::Gram);
    EXPECT_EQ(got.solver, LassoSolver::Gram);
    for (std::size_t l = 0; l < want.size(); ++l) {
      EXPECT_EQ(got.status[l], FitStatus::Converged);
      EXPECT_NEAR(got.objective[l], want.objective[l], 1e-7 * want.objective[l]) << "variant " << variant;
    }
    expect_kkt(tall.x, tall.y, g, got, 1e-3, "gpu gram variant " + std::to_string(variant));
  }
}

}  // namespace
}  // namespace shrink

namespace shrink {
namespace {

// A saved model holds what the fit held (bit for bit), picks its solutions by name, interpolates
// between lambdas, predicts X b + b0, and refuses a corrupt file.
TEST(LassoModels, SaveLoadSelectInterpolatePredict) {
  const Context ctx = make_context(Backend::Cpu);
  const auto d = random_problem(60, 9, 41);
  LassoOptions o;
  o.n_lambdas = 12;
  const auto cv = lasso_cv<double>(ctx, d.x.view(), VectorView<const double>(d.y), o, {3, 2});
  std::vector<std::string> names;
  for (int j = 0; j < 9; ++j) names.push_back("f" + std::to_string(j));
  const auto model = make_lasso_model(cv.path, o, &cv, names);
  const std::string path = test::unique_temp_path("m.lasso");
  save_lasso_model(path, model);
  const auto back = load_lasso_model(path);
  EXPECT_EQ(back.feature_names, names);
  EXPECT_EQ(back.lambdas, cv.path.lambdas);
  EXPECT_EQ(back.intercepts, cv.path.intercepts);
  EXPECT_EQ(back.solution("min"), cv.index_min);
  EXPECT_EQ(back.solution("1se"), cv.index_1se);
  EXPECT_EQ(back.solution("last"), 11u);
  EXPECT_EQ(back.solution("#3"), 3u);
  EXPECT_THROW((void)back.solution("best"), InvalidArgument);
  for (std::size_t l = 0; l < back.size(); ++l) {
    double b0 = 0;
    EXPECT_EQ(back.coefficients_at_lambda(back.lambdas[l], b0), cv.path.coefficients_at(l)) << l;
    EXPECT_EQ(b0, cv.path.intercepts[l]);
  }
  // Halfway between two lambdas: halfway between their solutions.
  double b0 = 0;
  const auto mid = back.coefficients_at_lambda(0.5 * (back.lambdas[4] + back.lambdas[5]), b0);
  const auto a4 = cv.path.coefficients_at(4), a5 = cv.path.coefficients_at(5);
  for (int j = 0; j < 9; ++j) EXPECT_NEAR(mid[j], 0.5 * (a4[j] + a5[j]), 1e-12);
  EXPECT_NEAR(b0, 0.5 * (cv.path.intercepts[4] + cv.path.intercepts[5]), 1e-12);
  // Predictions: dense and CSR X give X b + b0.
  const auto b = cv.path.coefficients_at(cv.index_min);
  const auto pd = lasso_predict<double>(d.x.view(), b, cv.path.intercepts[cv.index_min]);
  const auto pc = lasso_predict(dense_to_csr<double, std::int32_t>(d.x.view()).view(), b, cv.path.intercepts[cv.index_min]);
  for (index_t i = 0; i < 60; ++i) {
    double want = cv.path.intercepts[cv.index_min];
    for (index_t j = 0; j < 9; ++j) want += d.x(i, j) * b[j];
    EXPECT_NEAR(pd[i], want, 1e-12 * (1 + std::fabs(want)));
    EXPECT_NEAR(pc[i], want, 1e-12 * (1 + std::fabs(want)));
  }
  // One kept solution; a model without CV has no min.
  const auto one = make_lasso_model(cv.path, o, nullptr, {}, {7});
  EXPECT_EQ(one.size(), 1u);
  EXPECT_THROW((void)one.solution("min"), InvalidArgument);
  // Corruption is refused with the file's name.
  std::string bytes = read_file(path);
  bytes[bytes.size() / 3] ^= 4;
  write_file_atomic(path, bytes);
  try {
    (void)load_lasso_model(path);
    ADD_FAILURE() << "accepted";
  } catch (const ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("checksum"), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
}

}  // namespace
}  // namespace shrink
