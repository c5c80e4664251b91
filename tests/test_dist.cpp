// shrink::dist under mpiexec (ctest runs this binary on 1, 2, 3 and 4 ranks). Every rank builds the
// same global problem from a seed, keeps its rows, and compares with the serial answer it computes
// itself.
#include <gtest/gtest.h>
#include <mpi.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <random>

#include "host/core/fault_injection.hpp"
#include "shrink/dist.hpp"
#include "shrink/error.hpp"
#include "shrink/lasso.hpp"
#include "shrink/ops.hpp"

namespace {

using shrink::index_t;
namespace dist = shrink::dist;

int rank_of() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
int ranks() {
  int s = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &s);
  return s;
}

const shrink::Context& cpu() {
  static const shrink::Context ctx(shrink::ContextOptions{shrink::Backend::Cpu});
  return ctx;
}

// A global design: column-major n x p, correlated columns, a sparse truth, noise; zeros sprinkled in
// so that the CSR form differs from the dense one.
struct Global {
  index_t n = 0, p = 0;
  std::vector<double> x;  // column-major
  std::vector<double> y, w;
};

Global make_global(index_t n, index_t p, std::uint64_t seed, double zeros = 0.3) {
  Global g{n, p, std::vector<double>(static_cast<std::size_t>(n * p)), std::vector<double>(n), std::vector<double>(n)};
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> unit(0, 1);
  for (index_t i = 0; i < n; ++i) {
    double prev = normal(rng);
    for (index_t j = 0; j < p; ++j) {
      prev = 0.5 * prev + normal(rng);
      g.x[j * n + i] = unit(rng) < zeros ? 0.0 : prev + 0.1 * j;
    }
  }
  for (index_t i = 0; i < n; ++i) {
    double s = 3;
    for (index_t j = 0; j < std::min<index_t>(p, 8); ++j) s += (j % 2 ? -1.5 : 2.0) * g.x[j * n + i];
    g.y[i] = s + 0.5 * normal(rng);
    g.w[i] = 0.5 + unit(rng);
  }
  return g;
}

// Rows [begin, end) of the global problem: the dense block (column-major), its CSR, y and w.
struct Block {
  dist::RowRange rows;
  std::vector<double> x, y, w;
  std::vector<std::int64_t> row_ptr, col_idx;
  std::vector<double> values;
  index_t p = 0;
  shrink::DenseView<const double> dense() const {
    return {x.data(), rows.size(), p, std::max<index_t>(rows.size(), 1), shrink::Layout::ColMajor};
  }
};

Block block_of(const Global& g, dist::RowRange r) {
  Block b;
  b.rows = r;
  b.p = g.p;
  const index_t m = r.size();
  b.x.resize(static_cast<std::size_t>(m * g.p));
  b.row_ptr.push_back(0);
  for (index_t i = 0; i < m; ++i) {
    for (index_t j = 0; j < g.p; ++j) {
      const double v = g.x[j * g.n + r.begin + i];
      b.x[j * m + i] = v;
      if (v != 0) {
        b.col_idx.push_back(j);
        b.values.push_back(v);
      }
    }
    b.row_ptr.push_back(static_cast<std::int64_t>(b.col_idx.size()));
    b.y.push_back(g.y[r.begin + i]);
    b.w.push_back(g.w[r.begin + i]);
  }
  return b;
}

// The rows each rank holds: even, or with rank 1 holding none (when there are two or more ranks).
std::vector<dist::RowRange> split(index_t n, bool empty_rank) {
  const int size = ranks();
  if (!empty_rank || size < 2) return dist::even_ranges(n, size);
  auto r = dist::even_ranges(n, size - 1);
  r.insert(r.begin() + 1, dist::RowRange{r[0].end, r[0].end});
  return r;
}

shrink::LassoOptions options_for(int variant, const Block& b, index_t p) {
  shrink::LassoOptions o;
  o.n_lambdas = 20;
  o.tol = 1e-12;
  switch (variant) {
    case 1: o.fit_intercept = false; break;
    case 2: o.sample_weights = b.w; break;
    case 3:
      o.penalty_factors.assign(static_cast<std::size_t>(p), 1.0);
      o.penalty_factors[2] = 0;
      o.penalty_factors[5] = 2;
      break;
    case 4: o.positive = true; break;
    case 5:
      o.l1_ratio = 0.5;
      o.standardize = true;
      break;
    default: break;
  }
  return o;
}
const char* variant_name(int v) {
  static const char* names[] = {"plain", "no intercept", "weights", "penalty factors with a zero", "positive",
                                "elastic net, standardized"};
  return names[v];
}

// Every rank's vector equals rank 0's, bit for bit.
bool same_on_every_rank(const std::vector<double>& v) {
  std::vector<double> first(v);
  MPI_Bcast(first.data(), static_cast<int>(first.size()), MPI_DOUBLE, 0, MPI_COMM_WORLD);
  int same = std::memcmp(first.data(), v.data(), v.size() * sizeof(double)) == 0 ? 1 : 0;
  MPI_Allreduce(MPI_IN_PLACE, &same, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  return same == 1;
}

std::vector<double> all_coefficients(const shrink::LassoPath& path) {
  std::vector<double> out;
  for (std::size_t l = 0; l < path.size(); ++l) {
    const auto c = path.coefficients_at(l);
    out.insert(out.end(), c.begin(), c.end());
    out.push_back(path.intercepts[l]);
  }
  return out;
}

// The serial path of the same global problem (on every rank, from the global data).
shrink::LassoPath serial_path(const Global& g, shrink::LassoOptions o, bool weights) {
  if (weights) o.sample_weights = g.w;
  const shrink::DenseView<const double> x(g.x.data(), g.n, g.p, g.n, shrink::Layout::ColMajor);
  return shrink::lasso_path(cpu(), x, shrink::VectorView<const double>(g.y), o);
}

void expect_paths_agree(const shrink::LassoPath& d, const shrink::LassoPath& s, double objective_tol,
                        const std::string& what) {
  ASSERT_EQ(d.size(), s.size()) << what;
  for (std::size_t l = 0; l < d.size(); ++l) {
    EXPECT_NEAR(d.lambdas[l], s.lambdas[l], 1e-12 * s.lambdas[0]) << what << " lambda " << l;
    EXPECT_LE(d.duality_gap[l], d.tol * d.objective[l] * (1 + 1e-9)) << what << " lambda " << l;
    EXPECT_NEAR(d.objective[l], s.objective[l], objective_tol * std::abs(s.objective[l]))
        << what << " lambda " << l;
    // Identical supports: a coefficient that one side holds at zero is zero on the other side
    // too, unless both are within rounding of zero.
    const auto a = d.coefficients_at(l), b = s.coefficients_at(l);
    for (std::size_t j = 0; j < a.size(); ++j)
      if ((a[j] == 0) != (b[j] == 0))
        EXPECT_LT(std::max(std::abs(a[j]), std::abs(b[j])), 1e-9) << what << " lambda " << l << " feature " << j;
  }
}

class DistLasso : public ::testing::TestWithParam<std::tuple<int, bool, std::string>> {};

// At tol 1e-12 the objectives agree with the serial path to 1e-10 relative, the supports are the
// same, every gap is within tolerance, and every rank holds the same bits.
TEST_P(DistLasso, PathMatchesTheSerialPathOnEveryRank) {
  const auto [variant, sparse, solver] = GetParam();
  const Global g = make_global(1001, 30, 7);
  const auto ranges = split(g.n, variant == 2);  // weights also run with an empty rank
  const Block b = block_of(g, ranges[rank_of()]);
  auto o = options_for(variant, b, g.p);
  o.solver = shrink::parse_lasso_solver(solver);
  shrink::LassoPath d;
  if (sparse) {
    const shrink::CsrView<double, std::int64_t> x(b.rows.size(), g.p,
                                                               static_cast<index_t>(b.values.size()), b.row_ptr.data(),
                                                               b.col_idx.data(), b.values.data());
    d = dist::lasso_path(cpu(), MPI_COMM_WORLD, x, shrink::VectorView<const double>(b.y), o);
  } else {
    d = dist::lasso_path(cpu(), MPI_COMM_WORLD, b.dense(), shrink::VectorView<const double>(b.y), o);
  }
  EXPECT_EQ(d.n_samples, g.n);
  auto so = options_for(variant, b, g.p);
  so.sample_weights.clear();
  const auto s = serial_path(g, so, variant == 2);
  expect_paths_agree(d, s, 1e-10, std::string(variant_name(variant)) + (sparse ? ", CSR, " : ", dense, ") + solver);
  EXPECT_TRUE(same_on_every_rank(all_coefficients(d)));
}

INSTANTIATE_TEST_SUITE_P(Cases, DistLasso,
                         ::testing::Combine(::testing::Range(0, 6), ::testing::Bool(),
                                            ::testing::Values(std::string("auto"), std::string("gram"), std::string("ws-gram"))));

// A CSC block and a float32 block: the same path as the serial fit of the same data, to their
// certificates (float32 at its default tolerance, 1e-4).
TEST(DistLassoInputs, CscAndFloat32BlocksMatchTheSerialPath) {
  const Global g = make_global(500, 15, 13);
  const Block b = block_of(g, split(g.n, false)[rank_of()]);
  shrink::LassoOptions o;
  o.n_lambdas = 12;
  o.tol = 1e-11;
  // CSC of the block: column j's rows, ascending.
  std::vector<std::int64_t> cp{0}, ri;
  std::vector<double> cv;
  for (index_t j = 0; j < g.p; ++j) {
    for (index_t i = 0; i < b.rows.size(); ++i)
      if (b.x[j * b.rows.size() + i] != 0) {
        ri.push_back(i);
        cv.push_back(b.x[j * b.rows.size() + i]);
      }
    cp.push_back(static_cast<std::int64_t>(ri.size()));
  }
  const shrink::CscView<double, std::int64_t> csc(b.rows.size(), g.p, static_cast<index_t>(cv.size()), cp.data(),
                                                   ri.data(), cv.data());
  const auto d = dist::lasso_path(cpu(), MPI_COMM_WORLD, csc, shrink::VectorView<const double>(b.y), o);
  const auto s = serial_path(g, o, false);
  expect_paths_agree(d, s, 1e-9, "CSC");
  EXPECT_TRUE(same_on_every_rank(all_coefficients(d)));

  const std::vector<float> xf(b.x.begin(), b.x.end()), yf(b.y.begin(), b.y.end());
  shrink::LassoOptions of;
  of.n_lambdas = 12;
  const auto df = dist::lasso_path<float>(
      cpu(), MPI_COMM_WORLD,
      shrink::DenseView<const float>(xf.data(), b.rows.size(), g.p, std::max<index_t>(b.rows.size(), 1),
                                     shrink::Layout::ColMajor),
      shrink::VectorView<const float>(yf), of);
  ASSERT_EQ(df.size(), s.size());
  for (std::size_t l = 0; l < df.size(); ++l) {
    EXPECT_LE(df.duality_gap[l], df.tol * df.objective[l] * (1 + 1e-6)) << l;
    EXPECT_NEAR(df.objective[l], s.objective[l], 2e-4 * s.objective[l]) << l;
  }
  EXPECT_TRUE(same_on_every_rank(all_coefficients(df)));
}

// Cross-validation on split rows: the serial lasso_cv's folds, errors and choices (both fitted to
// tol 1e-12, so the fits differ by rounding: the serial one drops a fold's test rows, the split one
// weighs them 0).
TEST(DistLassoCv, MatchesTheSerialCrossValidation) {
  const Global g = make_global(450, 12, 17);
  const Block b = block_of(g, split(g.n, true)[rank_of()]);
  shrink::LassoOptions o;
  o.n_lambdas = 15;
  o.tol = 1e-12;
  o.sample_weights = b.w;
  shrink::CrossValidationOptions cv;
  cv.folds = 4;
  cv.seed = 3;
  const auto d = dist::lasso_cv(cpu(), MPI_COMM_WORLD, b.dense(), shrink::VectorView<const double>(b.y), o, cv);
  o.sample_weights = g.w;
  const shrink::DenseView<const double> x(g.x.data(), g.n, g.p, g.n, shrink::Layout::ColMajor);
  const auto s = shrink::lasso_cv(cpu(), x, shrink::VectorView<const double>(g.y), o, cv);
  ASSERT_EQ(d.cv_mean.size(), s.cv_mean.size());
  for (std::size_t l = 0; l < s.cv_mean.size(); ++l) {
    EXPECT_NEAR(d.cv_mean[l], s.cv_mean[l], 1e-8 * s.cv_mean[l]) << l;
    EXPECT_NEAR(d.cv_se[l], s.cv_se[l], 1e-6 * s.cv_se[l] + 1e-12) << l;
  }
  EXPECT_EQ(d.index_min, s.index_min);
  EXPECT_EQ(d.index_1se, s.index_1se);
  expect_paths_agree(d.path, s.path, 1e-10, "cv refit");
  EXPECT_TRUE(same_on_every_rank(d.cv_mean));
  cv.folds = 1;
  EXPECT_THROW(dist::lasso_cv(cpu(), MPI_COMM_WORLD, b.dense(), shrink::VectorView<const double>(b.y), {}, cv),
               shrink::InvalidArgument);
}

// A split decides how many threads and lanes a fit runs from the whole X's entries, not each
// block's: with one rank's block empty (under kForkEntries on its own) every rank still runs ws-gram
// on the context's two threads, and gram on two lanes (the progress callback runs in their team).
TEST(DistLassoThreads, EveryRankRunsTheThreadsAndLanesOfTheWholeX) {
  const Global g = make_global(3000, 30, 17, 0.0);  // 90,000 entries, above kForkEntries (65,536)
  const Block b = block_of(g, split(g.n, true)[rank_of()]);
  const shrink::Context two(shrink::ContextOptions{shrink::Backend::Cpu, 0, 2});
  for (const auto solver : {shrink::LassoSolver::WorkingSetGram, shrink::LassoSolver::Gram}) {
    shrink::LassoOptions o;
    o.n_lambdas = 6;
    o.solver = solver;
    int fewest = 1 << 20, most = 0;
    o.progress = [&](std::size_t, std::size_t) {
      const int t = solver == shrink::LassoSolver::Gram ? omp_get_num_threads() : omp_get_max_threads();
      fewest = std::min(fewest, t);
      most = std::max(most, t);
    };
    dist::lasso_path(two, MPI_COMM_WORLD, b.dense(), shrink::VectorView<const double>(b.y), o);
    MPI_Allreduce(MPI_IN_PLACE, &fewest, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &most, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    EXPECT_EQ(fewest, 2) << shrink::to_string(solver);
    EXPECT_EQ(most, 2) << shrink::to_string(solver);
  }
}

// FISTA, the reference on the same first allreduce, reaches the same objectives (at a looser
// tolerance: it converges linearly at best).
TEST(DistLassoFista, ReachesTheSerialObjectives) {
  const Global g = make_global(400, 12, 11, 0.0);
  const Block b = block_of(g, split(g.n, false)[rank_of()]);
  shrink::LassoOptions o;
  o.n_lambdas = 8;
  o.lambda_min_ratio = 0.05;
  o.tol = 1e-8;
  o.solver = shrink::LassoSolver::ProximalGradient;
  const auto d = dist::lasso_path(cpu(), MPI_COMM_WORLD, b.dense(), shrink::VectorView<const double>(b.y), o);
  o.solver = shrink::LassoSolver::Auto;
  o.tol = 1e-12;
  const auto s = serial_path(g, o, false);
  for (std::size_t l = 0; l < d.size(); ++l) {
    EXPECT_LE(d.duality_gap[l], d.tol * d.objective[l] * (1 + 1e-9));
    EXPECT_NEAR(d.objective[l], s.objective[l], 2e-8 * s.objective[l]);
  }
  EXPECT_TRUE(same_on_every_rank(all_coefficients(d)));
}

// On a well-conditioned design at a stagnation tolerance the coefficients themselves agree to 1e-8.
// The gap alone bounds them only by its square root: with a strongly convex fit of modulus m,
// (m/2)|beta - beta*|^2 <= gap, so a gap of 1e-16 says |beta - beta*| <= ~1e-8 / sqrt(m); the
// comparison needs both sides converged that far.
TEST(DistLassoCoefficients, AgreeToOneInTenToTheEightAtStagnation) {
  const Global g = make_global(600, 10, 3, 0.0);
  const Block b = block_of(g, split(g.n, false)[rank_of()]);
  shrink::LassoOptions o;
  o.n_lambdas = 10;
  o.tol = 1e-15;     // below what rounding allows: the solvers stagnate, and stop at max_iter
  o.max_iter = 300;
  for (const auto solver : {shrink::LassoSolver::Gram, shrink::LassoSolver::WorkingSetGram}) {
    o.solver = solver;
    const auto d = dist::lasso_path(cpu(), MPI_COMM_WORLD, b.dense(), shrink::VectorView<const double>(b.y), o);
    const auto s = serial_path(g, o, false);
    for (std::size_t l = 0; l < d.size(); ++l) {
      const auto a = d.coefficients_at(l), c = s.coefficients_at(l);
      for (std::size_t j = 0; j < a.size(); ++j) EXPECT_NEAR(a[j], c[j], 1e-8) << to_string(solver) << " " << l;
      EXPECT_NEAR(d.intercepts[l], s.intercepts[l], 1e-8);
    }
  }
}

// The traffic of a ws-gram path stays within the design's bound: per outer iteration one sum of
// p + 2 numbers (the certificate), at most one sum of a k x k block and one broadcast of its k
// coefficients; per lambda one broadcast of p + 3 numbers; a fixed set-up.
TEST(DistLassoCommunication, StaysWithinTheDesignBoundPerOuterIteration) {
  const Global g = make_global(800, 40, 5);
  const Block b = block_of(g, split(g.n, false)[rank_of()]);
  shrink::LassoOptions o;
  o.n_lambdas = 15;
  o.solver = shrink::LassoSolver::WorkingSetGram;
  o.max_working_set = 16;
  dist::CommCounts counts;
  const auto d = dist::lasso_path(cpu(), MPI_COMM_WORLD, b.dense(), shrink::VectorView<const double>(b.y), o, &counts);
  const std::int64_t p = g.p, k = o.max_working_set, lambdas = static_cast<std::int64_t>(d.size());
  std::int64_t certificates = 0, blocks = 0, setup = 0;
  for (const auto s : counts.sums) {
    if (s == p + 2) ++certificates;
    else if (s <= k * k) ++blocks;
    else ++setup;
  }
  EXPECT_GT(certificates, 0);
  EXPECT_LE(blocks, certificates + 8);  // set-up sums of a few numbers fall under k*k too
  EXPECT_LE(setup, 4);                  // the column moments and the null model
  std::int64_t block_broadcasts = 0, solution_broadcasts = 0;
  for (const auto s : counts.broadcasts) (s == p + 3 ? solution_broadcasts : block_broadcasts) += 1;
  EXPECT_EQ(solution_broadcasts, lambdas);
  EXPECT_LE(block_broadcasts, certificates);
  const std::int64_t bound = (certificates + 1) * (p + 2 + k * k + k) * 8 + lambdas * (p + 3) * 8 + 64 * p * 8;
  EXPECT_LE(counts.bytes, bound);
  EXPECT_LE(counts.collectives(), 3 * (certificates + 1) + lambdas + 16);
  // The status allreduces that carry a failure between the ranks: one before each sum, max and
  // broadcast of the solve, and one at its end.
  EXPECT_GT(counts.status_checks, 0);
  EXPECT_LE(counts.status_checks,
            static_cast<std::int64_t>(counts.sums.size() + counts.maxima.size() + counts.broadcasts.size()) + 1);
}

// An allocation that fails on the last rank, at points spread over the whole call (validation, set-up,
// inside the path's solver, at its end): every rank throws the same OutOfMemory naming that rank,
// never a hang and never a result on some ranks only.
TEST(DistLassoErrors, AFailureInsideTheSolverOnOneRankFailsEveryRank) {
  const Global g = make_global(600, 25, 23);
  const Block b = block_of(g, split(g.n, false)[rank_of()]);
  const int failing = ranks() - 1;
  shrink::LassoOptions o;
  o.n_lambdas = 10;
  o.solver = shrink::LassoSolver::WorkingSetGram;
  auto run = [&] {
    return dist::lasso_path(cpu(), MPI_COMM_WORLD, b.dense(), shrink::VectorView<const double>(b.y), o);
  };
  const auto before = shrink::detail::allocations_made();
  (void)run();
  long long total = shrink::detail::allocations_made() - before;
  MPI_Bcast(&total, 1, MPI_LONG_LONG, failing, MPI_COMM_WORLD);
  ASSERT_GT(total, 4);
  for (const long long k : {1LL, total / 4, total / 2, 3 * total / 4, total - 1, total}) {
    if (rank_of() == failing) shrink::detail::fail_allocation(k);
    std::string message;
    try {
      (void)run();
    } catch (const shrink::OutOfMemory& e) {
      message = e.what();
    } catch (const std::exception& e) {
      message = std::string("another error: ") + e.what();
    }
    shrink::detail::fail_allocation(0);
    EXPECT_EQ(message.rfind("rank " + std::to_string(failing) + ": ", 0), 0u) << "allocation " << k << ": " << message;
    std::vector<double> codes(message.begin(), message.end());
    codes.resize(256, 0.0);
    EXPECT_TRUE(same_on_every_rank(codes)) << "allocation " << k;
  }
}

// On a GPU (each rank on its node's device local_rank % devices): the same path as the CPU's serial
// fit, to the certificate. One rank per GPU sums with NCCL when it is built; ranks sharing a GPU
// stage through the host.
TEST(DistLassoDevice, MatchesTheCpuPathWithNcclOrHostStaging) {
  const int devices = shrink::cuda_device_count();
  if (devices == 0) GTEST_SKIP() << "no CUDA device (" << (shrink::cuda_compiled() ? "none found" : "CUDA not built") << ")";
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  int local = 0, local_size = 1;
  MPI_Comm_rank(node, &local);
  MPI_Comm_size(node, &local_size);
  MPI_Comm_free(&node);
  int shared = local_size > devices ? 1 : 0;
  MPI_Allreduce(MPI_IN_PLACE, &shared, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  const shrink::Context gpu(shrink::ContextOptions{shrink::Backend::Cuda, local % devices});
  const Global g = make_global(1001, 30, 17);
  const Block b = block_of(g, split(g.n, false)[rank_of()]);
  for (const bool sparse : {false, true}) {
    shrink::LassoOptions o;
    o.n_lambdas = 15;
    o.tol = 1e-10;
    o.solver = shrink::LassoSolver::WorkingSetGram;
    dist::CommCounts counts;
    shrink::LassoPath d;
    if (sparse) {
      const shrink::CsrView<double, std::int64_t> x(b.rows.size(), g.p, static_cast<index_t>(b.values.size()),
                                                    b.row_ptr.data(), b.col_idx.data(), b.values.data());
      d = dist::lasso_path(gpu, MPI_COMM_WORLD, x, shrink::VectorView<const double>(b.y), o, &counts);
    } else {
      d = dist::lasso_path(gpu, MPI_COMM_WORLD, b.dense(), shrink::VectorView<const double>(b.y), o, &counts);
    }
    EXPECT_EQ(counts.device_transport, dist::nccl_available() && !shared);
    const auto s = serial_path(g, o, false);
    expect_paths_agree(d, s, 1e-8, sparse ? "CSR on the GPU" : "dense on the GPU");
    EXPECT_TRUE(same_on_every_rank(all_coefficients(d)));
  }
}

// A NaN or a malformed CSR on one rank: every rank throws the same error, naming the rank.
TEST(DistLassoErrors, BadDataOnOneRankGivesTheSameErrorEverywhere) {
  const Global g = make_global(200, 6, 9);
  const int last = ranks() - 1;
  Block b = block_of(g, split(g.n, false)[rank_of()]);
  auto message_everywhere = [&](const std::function<void()>& call, shrink::ErrorKind kind) {
    std::string message;
    try {
      call();
      ADD_FAILURE() << "no error";
    } catch (const shrink::Error& e) {
      EXPECT_EQ(e.kind(), kind) << e.what();
      message = e.what();
    }
    std::vector<double> hash{static_cast<double>(std::hash<std::string>{}(message) % (1ull << 50))};
    EXPECT_TRUE(same_on_every_rank(hash)) << message;
    return message;
  };
  {
    Block bad = b;
    if (rank_of() == last && !bad.x.empty()) bad.x[0] = std::numeric_limits<double>::quiet_NaN();
    const auto m = message_everywhere(
        [&] { dist::lasso_path(cpu(), MPI_COMM_WORLD, bad.dense(), shrink::VectorView<const double>(bad.y)); },
        shrink::ErrorKind::NonFinite);
    EXPECT_NE(m.find("rank " + std::to_string(last)), std::string::npos) << m;
  }
  {
    Block bad = b;
    if (rank_of() == 0 && bad.col_idx.size() > 1) bad.col_idx[1] = 99;  // outside the 6 columns
    const shrink::CsrView<double, std::int64_t> x(bad.rows.size(), g.p, static_cast<index_t>(bad.values.size()),
                                                               bad.row_ptr.data(), bad.col_idx.data(), bad.values.data());
    message_everywhere([&] { dist::lasso_path(cpu(), MPI_COMM_WORLD, x, shrink::VectorView<const double>(bad.y)); },
                       shrink::ErrorKind::IndexOutOfRange);
  }
  {
    auto y = b.y;
    if (rank_of() == last) y.pop_back();
    message_everywhere([&] { dist::lasso_path(cpu(), MPI_COMM_WORLD, b.dense(), shrink::VectorView<const double>(y)); },
                       shrink::ErrorKind::DimensionMismatch);
  }
}

// ---- SpMV ---------------------------------------------------------------------------------------------
// A global n x m CSR with empty rows, a band and a few far entries (ghosts from far ranks).
struct GlobalCsr {
  index_t n = 0, m = 0;
  std::vector<std::int64_t> row_ptr{0}, col;
  std::vector<double> val;
};
GlobalCsr make_csr(index_t n, index_t m, std::uint64_t seed, bool block_diagonal) {
  GlobalCsr a{n, m};
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(-1, 1);
  const auto ranges = dist::even_ranges(m, ranks());
  const auto rows = dist::even_ranges(n, ranks());
  for (index_t i = 0; i < n; ++i) {
    std::vector<index_t> cols;
    if (i % 7 != 3) {  // every 7th row empty
      if (block_diagonal) {
        int r = 0;
        while (i >= rows[r].end) ++r;
        for (index_t j = ranges[r].begin; j < ranges[r].end; j += 3) cols.push_back(j);
      } else {
        const index_t c = i * m / n;
        for (index_t j = std::max<index_t>(0, c - 2); j < std::min(m, c + 3); ++j) cols.push_back(j);
        cols.push_back((i * 37 + 11) % m);
        cols.push_back((i * 101 + 5) % m);
      }
    }
    std::sort(cols.begin(), cols.end());
    cols.erase(std::unique(cols.begin(), cols.end()), cols.end());
    for (index_t j : cols) {
      a.col.push_back(j);
      a.val.push_back(unit(rng));
    }
    a.row_ptr.push_back(static_cast<std::int64_t>(a.col.size()));
  }
  return a;
}

std::vector<double> gathered(const std::vector<double>& mine) {
  int count = static_cast<int>(mine.size());
  std::vector<int> counts(static_cast<std::size_t>(ranks())), displs(counts.size(), 0);
  MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD);
  for (std::size_t r = 1; r < counts.size(); ++r) displs[r] = displs[r - 1] + counts[r - 1];
  std::vector<double> all(static_cast<std::size_t>(displs.back() + counts.back()));
  MPI_Allgatherv(mine.data(), count, MPI_DOUBLE, all.data(), counts.data(), displs.data(), MPI_DOUBLE, MPI_COMM_WORLD);
  return all;
}

void check_spmv(index_t n, index_t m, bool block_diagonal) {
  const GlobalCsr a = make_csr(n, m, 17, block_diagonal);
  const auto rows = dist::even_ranges(n, ranks())[rank_of()];
  std::vector<std::int64_t> rp;
  for (index_t i = rows.begin; i <= rows.end; ++i) rp.push_back(a.row_ptr[i] - a.row_ptr[rows.begin]);
  const auto first = a.row_ptr[rows.begin];
  const shrink::CsrView<double, std::int64_t> local(rows.size(), m, rp.back(), rp.data(),
                                                                 a.col.data() + first, a.val.data() + first);
  const dist::DistributedCsr<double, std::int64_t> op(MPI_COMM_WORLD, local, m);
  if (block_diagonal) {
    EXPECT_EQ(op.ghosts(), 0);
  }
  std::vector<double> x(static_cast<std::size_t>(m)), t(static_cast<std::size_t>(n));
  for (index_t j = 0; j < m; ++j) x[j] = std::sin(0.3 * j) + 0.1;
  for (index_t i = 0; i < n; ++i) t[i] = std::cos(0.7 * i);
  // A x: each row's entries in stored order, bit for bit against the plain sequential sum.
  const auto cr = op.columns()[rank_of()];
  std::vector<double> y(static_cast<std::size_t>(rows.size()));
  op.multiply(x.data() + cr.begin, y.data());
  const auto all_y = gathered(y);
  const shrink::CsrView<double, std::int64_t> whole(n, m, static_cast<index_t>(a.val.size()),
                                                                 a.row_ptr.data(), a.col.data(), a.val.data());
  std::vector<double> serial(static_cast<std::size_t>(n));
  shrink::spmv(cpu(), shrink::Op::NoTranspose, 1.0, whole, shrink::VectorView<const double>(x), 0.0,
               shrink::VectorView<double>(serial));
  for (index_t i = 0; i < n; ++i) {
    double s = 0;
    for (auto e = a.row_ptr[i]; e < a.row_ptr[i + 1]; ++e) s += a.val[e] * x[a.col[e]];
    ASSERT_EQ(all_y[i], s) << "row " << i;
    EXPECT_NEAR(all_y[i], serial[i], 1e-14 * (1 + std::abs(s))) << "row " << i;
  }
  // A^T x: within the summation bound of the serial product (the ranks' parts add in rank order).
  std::vector<double> z(static_cast<std::size_t>(cr.size()));
  op.multiply_transpose(t.data() + rows.begin, z.data());
  const auto all_z = gathered(z);
  std::vector<double> serial_t(static_cast<std::size_t>(m)), magnitude(static_cast<std::size_t>(m), 0.0);
  shrink::spmv(cpu(), shrink::Op::Transpose, 1.0, whole, shrink::VectorView<const double>(t), 0.0,
               shrink::VectorView<double>(serial_t));
  for (index_t i = 0; i < n; ++i)
    for (auto e = a.row_ptr[i]; e < a.row_ptr[i + 1]; ++e) magnitude[a.col[e]] += std::abs(a.val[e] * t[i]);
  const double eps = std::numeric_limits<double>::epsilon();
  for (index_t j = 0; j < m; ++j)
    EXPECT_NEAR(all_z[j], serial_t[j], 2 * static_cast<double>(n) * eps * magnitude[j] + 1e-300) << "column " << j;
}

TEST(DistSpmv, SquareMatchesTheSerialKernel) { check_spmv(503, 503, false); }
TEST(DistSpmv, RectangularMatchesTheSerialKernel) { check_spmv(301, 97, false); }
TEST(DistSpmv, BlockDiagonalNeedsNoGhosts) { check_spmv(240, 240, true); }

TEST(DistSpmv, AMalformedBlockOnOneRankFailsEverywhere) {
  std::vector<std::int64_t> rp{0, 2}, col{1, 1};  // duplicated column
  std::vector<double> val{1, 2};
  if (rank_of() != ranks() - 1) col = {0, 1};
  const shrink::CsrView<double, std::int64_t> local(1, 4, 2, rp.data(), col.data(), val.data());
  using Operator = dist::DistributedCsr<double, std::int64_t>;
  EXPECT_THROW(Operator(MPI_COMM_WORLD, local, 4), shrink::InvalidStructure);
}

// ---- batched fits -----------------------------------------------------------------------------------------
TEST(DistBatch, SplitProblemsEqualTheSingleProcessFits) {
  const Global g = make_global(300, 12, 21, 0.0);
  const index_t k = 7;
  std::vector<double> y(static_cast<std::size_t>(g.n * k));
  for (index_t b = 0; b < k; ++b)
    for (index_t i = 0; i < g.n; ++i) y[b * g.n + i] = g.y[i] * (1 + 0.1 * b) + std::sin(0.1 * i * (b + 1));
  const shrink::DenseView<const double> x(g.x.data(), g.n, g.p, g.n, shrink::Layout::ColMajor);
  const shrink::DenseView<const double> yv(y.data(), g.n, k, g.n, shrink::Layout::ColMajor);
  shrink::BatchLassoOptions o;
  o.lambda_ratio = 0.05;
  o.dense_output = true;
  const auto d = dist::lasso_batch(cpu(), MPI_COMM_WORLD, x, yv, o);
  const auto s = shrink::lasso_batch(cpu(), x, yv, o);
  // Equal up to rounding: C = Z^T Y / n is built a chunk of problems at a time, and a rank's chunk
  // holds other columns than the single process's, so BLAS may round differently in the last bit.
  ASSERT_EQ(d.size(), s.size());
  auto close = [](const std::vector<double>& a, const std::vector<double>& b, const std::string& what) {
    ASSERT_EQ(a.size(), b.size()) << what;
    for (std::size_t j = 0; j < a.size(); ++j) EXPECT_NEAR(a[j], b[j], 1e-9 * (1 + std::abs(b[j]))) << what << " " << j;
  };
  close(d.lambdas, s.lambdas, "lambdas");
  close(d.objective, s.objective, "objectives");
  close(d.intercepts, s.intercepts, "intercepts");
  for (std::size_t b = 0; b < s.size(); ++b) {
    close(d.coefficients_at(b), s.coefficients_at(b), "problem " + std::to_string(b));
    EXPECT_LE(d.duality_gap[b], d.tol * d.objective[b]);
  }
  close(d.dense_coefficients, s.dense_coefficients, "dense coefficients");
  // Per-problem lambdas are sliced with the problems.
  shrink::BatchLassoOptions per;
  for (index_t b = 0; b < k; ++b) per.lambdas.push_back(0.05 * (b + 1));
  const auto dp = dist::lasso_batch(cpu(), MPI_COMM_WORLD, x, yv, per);
  const auto sp = shrink::lasso_batch(cpu(), x, yv, per);
  for (std::size_t b = 0; b < sp.size(); ++b) close(dp.coefficients_at(b), sp.coefficients_at(b), "per-problem lambdas");
}

TEST(DistBatch, StridedProblemsEqualTheSingleProcessFits) {
  const index_t n = 40, p = 5, count = 9;
  std::vector<double> xs(static_cast<std::size_t>(n * p * count)), ys(static_cast<std::size_t>(n * count));
  std::mt19937_64 rng(4);
  std::normal_distribution<double> normal;
  for (auto& v : xs) v = normal(rng);
  for (auto& v : ys) v = normal(rng);
  shrink::StridedBatch<double> batch{xs.data(), n, p, n, n * p, ys.data(), n, count};
  shrink::BatchLassoOptions o;
  o.lambda = 0.05;
  const auto d = dist::lasso_batch(cpu(), MPI_COMM_WORLD, batch, o);
  const auto s = shrink::lasso_batch(cpu(), batch, o);
  ASSERT_EQ(d.size(), s.size());
  for (std::size_t b = 0; b < s.size(); ++b) EXPECT_EQ(d.coefficients_at(b), s.coefficients_at(b));
}

}  // namespace

// Ranks other than 0 print only their failures, each line naming the rank.
class FailurePrinter : public ::testing::EmptyTestEventListener {
  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (result.failed())
      std::fprintf(stderr, "[rank %d] %s:%d: %s\n", rank_of(), result.file_name() ? result.file_name() : "?",
                   result.line_number(), result.summary());
  }
};

// MPI around GoogleTest.
int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  if (rank_of() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new FailurePrinter);
  }
  const int result = RUN_ALL_TESTS();
  int worst = result;
  MPI_Allreduce(&result, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return worst;
}
