// Data where it lives: the solvers read X in place or convert it once, the context counts every copy,
// and the routes a device X takes (the operator's Gram build, null model and unpenalized block, the
// zero-weight folds of cross-validation) agree with the host routes. The routes run here on the CPU
// twin; the device test at the end runs them on a GPU and waits for one.
#include <gtest/gtest.h>

#include <random>

#include "host/lasso/solvers.hpp"
#include "tests/test_util.hpp"

namespace shrink {
namespace {

using test::make_context;

struct Problem {
  DenseMatrix<double> x;  // row-major
  std::vector<double> y;
};

// n x p with column offsets and scales that differ, so that centering and standardization matter,
// a constant column (never usable) and roughly half the entries zero.
Problem offset_problem(index_t n, index_t p, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::bernoulli_distribution keep(0.5);
  Problem d{DenseMatrix<double>(n, p, Layout::RowMajor), std::vector<double>(static_cast<std::size_t>(n))};
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < p; ++j)
      d.x(i, j) = j == 3 ? 2.5 : (keep(rng) ? (1.0 + j % 4) * normal(rng) + (j % 3 == 0 ? 3.0 : 0.0) : 0.0);
  for (index_t i = 0; i < n; ++i) d.y[i] = 1.0 + 2.0 * d.x(i, 0) - 1.5 * d.x(i, 5) + d.x(i, 7) + 0.2 * normal(rng);
  return d;
}

DenseMatrix<double> column_major(const DenseMatrix<double>& x) {
  DenseMatrix<double> c(x.rows(), x.cols(), Layout::ColMajor);
  for (index_t i = 0; i < x.rows(); ++i)
    for (index_t j = 0; j < x.cols(); ++j) c(i, j) = x(i, j);
  return c;
}

SaeConfig topk_config(index_t inputs, index_t latents, index_t k) {
  SaeConfig c;
  c.inputs = inputs;
  c.latents = latents;
  c.activation = SaeActivation::TopK;
  c.k = k;
  return c;
}

void expect_same_path(const LassoPath& got, const LassoPath& want, double rel, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  EXPECT_NEAR(got.lambda_max.front(), want.lambda_max.front(), 1e-12 * want.lambda_max.front()) << what;
  for (std::size_t l = 0; l < want.size(); ++l) {
    EXPECT_EQ(got.status[l], FitStatus::Converged) << what << " lambda " << l;
    EXPECT_NEAR(got.objective[l], want.objective[l], rel * want.objective[l]) << what << " lambda " << l;
  }
}

// A column-major X and a CSC X are read in place (no copy at all); a row-major X and a CSR X are
// converted once. Every layout gives the same path.
TEST(Placement, HostInputsAreReadInPlaceOrConvertedOnce) {
  const Context ctx = make_context(Backend::Cpu);
  const auto d = offset_problem(120, 30, 3);
  const auto cm = column_major(d.x);
  const auto csr = dense_to_csr<double, std::int32_t>(d.x.view());
  const CscMatrix<double, std::int32_t> csc(transpose(csr));
  const VectorView<const double> y(d.y);
  for (const auto solver : {LassoSolver::CoordinateDescent, LassoSolver::ProximalGradient, LassoSolver::WorkingSetGram}) {
    SCOPED_TRACE(to_string(solver));
    LassoOptions o;
    o.n_lambdas = 12;
    o.tol = 1e-10;
    o.standardize = true;
    o.solver = solver;
    ctx.reset_transfers();
    const auto ref = lasso_path<double>(ctx, cm.view(), y, o);
    EXPECT_EQ(ctx.transfers().input_host_copies, 0) << "column-major X";
    ctx.reset_transfers();
    expect_same_path(lasso_path(ctx, csc, y, o), ref, 1e-8, "CSC");
    EXPECT_EQ(ctx.transfers().input_host_copies, 0) << "CSC X";
    ctx.reset_transfers();
    expect_same_path(lasso_path<double>(ctx, d.x.view(), y, o), ref, 1e-8, "row-major");
    EXPECT_EQ(ctx.transfers().input_host_copies, 1) << "row-major X";
    ctx.reset_transfers();
    expect_same_path(lasso_path(ctx, csr, y, o), ref, 1e-8, "CSR");
    EXPECT_EQ(ctx.transfers().input_host_copies, 1) << "CSR X";
    EXPECT_EQ(ctx.transfers().input_device_copies, 0);
    EXPECT_EQ(ctx.transfers().host_to_device + ctx.transfers().device_to_host, 0);
  }
  // The Gram solver and the batch read a column-major X in place too.
  LassoOptions gram;
  gram.solver = LassoSolver::Gram;
  gram.n_lambdas = 5;
  ctx.reset_transfers();
  (void)lasso_path<double>(ctx, cm.view(), y, gram);
  EXPECT_EQ(ctx.transfers().input_host_copies, 0) << "Gram";
  BatchLassoOptions b;
  b.lambda_ratio = 0.1;
  DenseMatrix<double> yb(120, 2, Layout::ColMajor);
  for (index_t i = 0; i < 120; ++i) yb(i, 0) = yb(i, 1) = d.y[i];
  ctx.reset_transfers();
  const auto batch = lasso_batch<double>(ctx, cm.view(), yb.view(), b);
  EXPECT_EQ(ctx.transfers().input_host_copies, 0) << "batch";
  const auto batch_csc = lasso_batch<double>(ctx, csc, yb.view(), b);
  EXPECT_EQ(ctx.transfers().input_host_copies, 0) << "batch, CSC";
  for (std::size_t k = 0; k < 2; ++k) EXPECT_NEAR(batch_csc.objective[k], batch.objective[k], 1e-8 * batch.objective[k]);
}

// A column block of a wider matrix (leading dimension > n) is read in place.
TEST(Placement, StridedColumnMajorViewIsReadInPlace) {
  const Context ctx = make_context(Backend::Cpu);
  const auto d = offset_problem(60, 12, 5);
  const auto cm = column_major(d.x);
  DenseMatrix<double> wide(70, 12, Layout::ColMajor);
  for (index_t i = 0; i < 60; ++i)
    for (index_t j = 0; j < 12; ++j) wide(i, j) = cm(i, j);
  for (index_t i = 60; i < 70; ++i)
    for (index_t j = 0; j < 12; ++j) wide(i, j) = std::nan("");  // never read
  const DenseView<const double> part(wide.data(), 60, 12, 70, Layout::ColMajor);
  LassoOptions o;
  o.n_lambdas = 8;
  o.tol = 1e-10;
  ctx.reset_transfers();
  const auto got = lasso_path<double>(ctx, part, VectorView<const double>(d.y), o);
  EXPECT_EQ(ctx.transfers().input_host_copies, 0);
  expect_same_path(got, lasso_path<double>(ctx, cm.view(), VectorView<const double>(d.y), o), 1e-12, "strided");
}

// The routes a device X takes, run on the CPU twin against the host routes: G and q gathered through
// the operator, the null model's correlations, and the unpenalized block's Gram.
TEST(Placement, OperatorRoutesAgreeWithHostRoutes) {
  const Context ctx = make_context(Backend::Cpu);
  const auto d = offset_problem(90, 14, 9);
  const auto cm = column_major(d.x);
  const auto csr = dense_to_csr<double, std::int64_t>(d.x.view());
  LassoOptions o;
  o.standardize = true;
  o.penalty_factors.assign(14, 1.0);
  o.penalty_factors[0] = 0;
  o.penalty_factors[9] = 0;
  o.sample_weights.assign(90, 1.0);
  for (std::size_t i = 0; i < 90; i += 4) o.sample_weights[i] = 3.0;
  for (int sparse = 0; sparse < 2; ++sparse) {
    SCOPED_TRACE(sparse ? "sparse" : "dense");
    const auto design = sparse ? lasso_detail::make_design(ctx, csr.view())
                               : lasso_detail::make_design<double>(ctx, cm.view());
    const auto prob = lasso_detail::make_problem(ctx, design, d.y, o);
    ASSERT_EQ(prob.unpenalized.size(), 2u);
    EXPECT_FALSE(prob.usable(3));  // the constant column
    const lasso_detail::DesignOperator<double> op(ctx, prob);
    const lasso_detail::UnpenalizedSolver host_unpen(prob), op_unpen(op.unpenalized_gram());
    for (std::size_t a = 0; a < 2; ++a)
      for (std::size_t b = 0; b < 2; ++b) EXPECT_NEAR(op_unpen.gram(a, b), host_unpen.gram(a, b), 1e-12);
    const auto host_g = lasso_detail::build_gram(ctx, prob, host_unpen, static_cast<const lasso_detail::DesignOperator<double>*>(nullptr));
    const auto op_g = lasso_detail::build_gram(ctx, prob, host_unpen, &op);
    for (index_t e = 0; e < 14 * 14; ++e) EXPECT_NEAR(op_g->gram.data()[e], host_g->gram.data()[e], 1e-12) << e;
    for (index_t j = 0; j < 14; ++j) EXPECT_NEAR(op_g->q.data()[j], host_g->q.data()[j], 1e-12) << j;
    std::vector<double> host_bu, op_bu;
    const auto host_c = lasso_detail::null_model_gradient(prob, host_unpen, host_bu,
                                                          static_cast<const lasso_detail::DesignOperator<double>*>(nullptr));
    const auto op_c = op.null_gradient(host_unpen, op_bu);
    ASSERT_EQ(op_bu.size(), host_bu.size());
    for (std::size_t u = 0; u < host_bu.size(); ++u) EXPECT_NEAR(op_bu[u], host_bu[u], 1e-10);
    for (index_t j = 0; j < 14; ++j) EXPECT_NEAR(op_c[j], host_c[j], 1e-12) << j;
    EXPECT_NEAR(op_c[0], 0.0, 1e-12);  // unpenalized features are fitted: no correlation left
  }
}

// In float the operator's Gram build widens X before centering it, as the host build does: a column
// far from zero keeps its small spread.
TEST(Placement, OperatorGramInFloatCentersInDouble) {
  const Context ctx = make_context(Backend::Cpu);
  const index_t n = 200, p = 6;
  std::mt19937_64 rng(21);
  std::normal_distribution<double> normal;
  DenseMatrix<float> x(n, p, Layout::ColMajor);
  std::vector<double> y(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) {
    for (index_t j = 0; j < p; ++j) x(i, j) = static_cast<float>((j == 2 ? 1e4 : 0.0) + normal(rng));
    y[i] = normal(rng);
  }
  const auto design = lasso_detail::make_design<float>(ctx, x.view());
  const auto prob = lasso_detail::make_problem(ctx, design, y, LassoOptions{});
  const lasso_detail::DesignOperator<float> op(ctx, prob);
  const lasso_detail::UnpenalizedSolver none(prob);
  const auto host_g = lasso_detail::build_gram(ctx, prob, none, static_cast<const lasso_detail::DesignOperator<float>*>(nullptr));
  const auto op_g = lasso_detail::build_gram(ctx, prob, none, &op);
  for (index_t e = 0; e < p * p; ++e)
    EXPECT_NEAR(op_g->gram.data()[e], host_g->gram.data()[e], 1e-12 * std::abs(host_g->gram.data()[e]) + 1e-14) << e;
  EXPECT_NEAR(op_g->gram.data()[2 * p + 2], prob.lipschitz[2], 1e-12 * prob.lipschitz[2]);
}

// What cross-validation on a device X relies on: weights of zero on the test rows give the same
// problem as the training rows alone (weights are normalized to sum n).
TEST(Placement, ZeroWeightRowsAreTheRowSubset) {
  const Context ctx = make_context(Backend::Cpu);
  const auto d = offset_problem(100, 20, 11);
  std::vector<index_t> train;
  LassoOptions zero;
  zero.sample_weights.assign(100, 1.0);
  for (index_t i = 0; i < 100; ++i) {
    if (i % 5 == 2) zero.sample_weights[i] = 0.0;
    else train.push_back(i);
  }
  DenseMatrix<double> xt(static_cast<index_t>(train.size()), 20, Layout::ColMajor);
  std::vector<double> yt;
  for (std::size_t t = 0; t < train.size(); ++t) {
    for (index_t j = 0; j < 20; ++j) xt(static_cast<index_t>(t), j) = d.x(train[t], j);
    yt.push_back(d.y[train[t]]);
  }
  for (const bool standardize : {false, true}) {
    LassoOptions sub;
    sub.standardize = zero.standardize = standardize;
    sub.tol = zero.tol = 1e-12;
    sub.n_lambdas = zero.n_lambdas = 15;
    const auto want = lasso_path<double>(ctx, xt.view(), VectorView<const double>(yt), sub);
    const auto got = lasso_path<double>(ctx, d.x.view(), VectorView<const double>(d.y), zero);
    expect_same_path(got, want, 1e-9, standardize ? "standardized" : "plain");
    for (std::size_t l = 0; l < want.size(); ++l) {
      EXPECT_NEAR(got.intercepts[l], want.intercepts[l], 1e-6);
      const auto a = got.coefficients_at(l), b = want.coefficients_at(l);
      for (index_t j = 0; j < 20; ++j) EXPECT_NEAR(a[j], b[j], 1e-6) << "lambda " << l << " feature " << j;
    }
  }
}

// The SAE takes data in any layout: a column-major matrix is packed once and trains exactly as its
// row-major twin.
TEST(Placement, SaeTakesAnyLayoutWithOneCopy) {
  const Context ctx = make_context(Backend::Cpu);
  const auto d = offset_problem(64, 10, 13);
  const auto cm = column_major(d.x);
  const SaeConfig c = topk_config(10, 6, 2);
  SaeTrainOptions o;
  o.epochs = 2;
  o.batch_size = 16;
  SparseAutoencoder<double> a(ctx, c, 7), b(ctx, c, 7);
  SaeTrainState sa, sb;
  ctx.reset_transfers();
  const auto ra = sae_train<double>(ctx, a, d.x.view(), o, sa);
  EXPECT_EQ(ctx.transfers().input_host_copies, 0);
  const auto rb = sae_train<double>(ctx, b, cm.view(), o, sb);
  EXPECT_EQ(ctx.transfers().input_host_copies, 1);
  EXPECT_TRUE(test::same_bits(ra.epoch_loss, rb.epoch_loss));
  EXPECT_TRUE(test::same_bits(a.parameters().to_vector(ctx), b.parameters().to_vector(ctx)));
}

// ---- on a device ------------------------------------------------------------------------------------------

template <class T>
Array<T> on_device(const Context& gpu, const std::vector<T>& v) {
  return Array<T>::from_vector(v).copy_to(gpu, MemorySpace::Device);
}

// A device-resident X (dense in both layouts, CSR, CSC) and y give the host X's answers on every
// device solver, with no host copy of X and only vectors and scalars crossing back; a host X is
// copied over once. Cross-validation, the batch and the SAE keep their device data where it is.
TEST(Placement, DeviceResidentXGivesTheHostAnswer) {
  SHRINK_SKIP_IF_ABSENT(Backend::Cuda);
  const Context gpu = make_context(Backend::Cuda);
  const index_t n = 300, p = 40;
  const auto d = offset_problem(n, p, 17);
  const auto cm = column_major(d.x);
  const auto csr = dense_to_csr<double, std::int32_t>(d.x.view());
  const CscMatrix<double, std::int32_t> csc(transpose(csr));
  const auto cm_dev = cm.copy_to(gpu, MemorySpace::Device);
  const auto rm_dev = d.x.copy_to(gpu, MemorySpace::Device);
  const auto csr_dev = csr.copy_to(gpu, MemorySpace::Device);
  const auto csc_dev = csc.copy_to(gpu, MemorySpace::Device);
  const auto y_dev = on_device(gpu, d.y);
  const VectorView<const double> y(d.y), yd(y_dev.data(), n, MemorySpace::Device);
  const std::int64_t x_bytes = static_cast<std::int64_t>(n * p * sizeof(double));
  LassoOptions o;
  o.n_lambdas = 10;
  o.tol = 1e-9;
  o.standardize = true;
  o.penalty_factors.assign(static_cast<std::size_t>(p), 1.0);
  o.penalty_factors[1] = 0;
  for (const auto solver : {LassoSolver::Gram, LassoSolver::ProximalGradient, LassoSolver::WorkingSetGram,
                            LassoSolver::CoordinateDescent}) {
    SCOPED_TRACE(to_string(solver));
    LassoOptions s = o;
    s.solver = solver;
    gpu.reset_transfers();
    const auto ref = lasso_path<double>(gpu, cm.view(), y, s);
    EXPECT_EQ(gpu.transfers().input_host_copies, 0) << "host X";
    EXPECT_EQ(gpu.transfers().input_device_copies, solver == LassoSolver::CoordinateDescent ? 0 : 1) << "host X";
    gpu.reset_transfers();
    const auto got = lasso_path<double>(gpu, cm_dev.view(), yd, s);
    EXPECT_EQ(gpu.transfers().input_host_copies, solver == LassoSolver::CoordinateDescent ? 1 : 0) << "device X";
    if (solver != LassoSolver::CoordinateDescent) {
      EXPECT_EQ(gpu.transfers().input_device_copies, 0);
      EXPECT_LT(gpu.transfers().device_to_host_bytes, x_bytes / 2) << "only vectors and scalars come back";
    }
    expect_same_path(got, ref, 1e-7, "dense device X");
    gpu.reset_transfers();
    expect_same_path(lasso_path(gpu, csc_dev.view(), yd, s), ref, 1e-7, "CSC device X");
    if (solver != LassoSolver::CoordinateDescent) EXPECT_EQ(gpu.transfers().input_host_copies, 0);
    gpu.reset_transfers();
    expect_same_path(lasso_path(gpu, csr_dev.view(), yd, s), ref, 1e-7, "CSR device X");
    if (solver != LassoSolver::CoordinateDescent) EXPECT_EQ(gpu.transfers().input_host_copies, 0);
  }
  gpu.reset_transfers();
  expect_same_path(lasso_path<double>(gpu, rm_dev.view(), yd, o), lasso_path<double>(gpu, cm.view(), y, o), 1e-7,
                   "row-major device X");
  // Cross-validation: the device X stays put; the errors match the host folds.
  LassoOptions cvo;
  cvo.n_lambdas = 8;
  cvo.tol = 1e-10;
  const auto cv_host = lasso_cv<double>(gpu, cm.view(), y, cvo);
  gpu.reset_transfers();
  const auto cv_dev = lasso_cv<double>(gpu, cm_dev.view(), yd, cvo);
  EXPECT_EQ(gpu.transfers().input_host_copies, 0);
  for (std::size_t l = 0; l < cv_host.cv_mean.size(); ++l)
    EXPECT_NEAR(cv_dev.cv_mean[l], cv_host.cv_mean[l], 1e-6 * cv_host.cv_mean[l]) << l;
  // The batch on a device X and a device Y.
  DenseMatrix<double> yb(n, 3, Layout::ColMajor);
  for (index_t i = 0; i < n; ++i)
    for (index_t k = 0; k < 3; ++k) yb(i, k) = d.y[i] * (1.0 + 0.5 * k);
  const auto yb_dev = yb.copy_to(gpu, MemorySpace::Device);
  BatchLassoOptions bo;
  bo.lambda_ratio = 0.05;
  const auto batch_host = lasso_batch<double>(gpu, cm.view(), yb.view(), bo);
  gpu.reset_transfers();
  const auto batch_dev = lasso_batch<double>(gpu, cm_dev.view(), yb_dev.view(), bo);
  EXPECT_EQ(gpu.transfers().input_host_copies, 0);
  EXPECT_EQ(gpu.transfers().input_device_copies, 0);
  for (std::size_t k = 0; k < 3; ++k)
    EXPECT_NEAR(batch_dev.objective[k], batch_host.objective[k], 1e-9 * batch_host.objective[k]);
  const auto batch_csr = lasso_batch(gpu, csr_dev.view(), yb_dev.view(), bo);
  for (std::size_t k = 0; k < 3; ++k)
    EXPECT_NEAR(batch_csr.objective[k], batch_host.objective[k], 1e-7 * batch_host.objective[k]);
  // The SAE trains on a strided device matrix (relayout on the device) as on the host one.
  const SaeConfig c = topk_config(p, 8, 3);
  SaeTrainOptions so;
  so.epochs = 1;
  so.batch_size = 50;
  SparseAutoencoder<double> a(gpu, c, 7), b(gpu, c, 7);
  SaeTrainState sa, sb;
  const auto ra = sae_train<double>(gpu, a, d.x.view(), so, sa);
  gpu.reset_transfers();
  const auto rb = sae_train<double>(gpu, b, cm_dev.view(), so, sb);
  EXPECT_EQ(gpu.transfers().input_host_copies, 0);
  EXPECT_EQ(gpu.transfers().input_device_copies, 1);
  ASSERT_EQ(ra.epoch_loss.size(), rb.epoch_loss.size());
  for (std::size_t e = 0; e < ra.epoch_loss.size(); ++e) EXPECT_NEAR(rb.epoch_loss[e], ra.epoch_loss[e], 1e-12);
}

}  // namespace
}  // namespace shrink
