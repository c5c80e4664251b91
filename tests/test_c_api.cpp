// The C face against the C++ API: the same answers to the bit on the same context, one status per
// error kind with a message naming the argument, NULL handled everywhere, per-thread messages, and
// create/fit/destroy cycles that leak nothing (the asan preset runs this file with LeakSanitizer).
// Compiling this file as C++ is the header's C++ check; tests/capi/header_twice.c is its C check.
#include "shrink/shrink.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "tests/test_util.hpp"

namespace shrink {
namespace {

struct CContext {
  shrink_context_t ctx = nullptr;
  explicit CContext(shrink_backend_t backend = SHRINK_BACKEND_CPU) {
    shrink_context_options_t o;
    EXPECT_EQ(shrink_context_options_init(&o, sizeof(o)), SHRINK_STATUS_SUCCESS);
    o.backend = backend;
    o.honour_environment = 0;
    EXPECT_EQ(shrink_context_create(&o, &ctx), SHRINK_STATUS_SUCCESS) << shrink_last_error_message();
  }
  ~CContext() { shrink_context_destroy(ctx); }
};

template <class V>
constexpr shrink_dtype_t dtype() {
  return std::is_same_v<V, float> ? SHRINK_F32 : SHRINK_F64;
}
template <class I>
constexpr shrink_itype_t itype() {
  return std::is_same_v<I, std::int32_t> ? SHRINK_I32 : SHRINK_I64;
}

template <class V>
shrink_vector_t cvec(std::vector<V>& v) {
  return {dtype<V>(), SHRINK_MEMORY_HOST, static_cast<int64_t>(v.size()), v.data()};
}
template <class V>
shrink_dense_t cdense(const DenseMatrix<V>& m) {
  const auto v = m.view();
  return {dtype<V>(), SHRINK_MEMORY_HOST, v.layout == Layout::RowMajor ? SHRINK_ROW_MAJOR : SHRINK_COL_MAJOR,
          v.rows, v.cols, v.ld, const_cast<V*>(v.data)};
}
template <class V, class I>
shrink_sparse_t ccsr(const CsrMatrix<V, I>& a) {
  return {SHRINK_CSR, dtype<V>(), itype<I>(), SHRINK_MEMORY_HOST, a.rows(), a.cols(), a.nnz(),
          a.row_ptr().data(), a.col_idx().data(), a.values().data()};
}

template <class V, class I>
void spmv_agrees(const CsrMatrix<V, I>& a, const std::string& what) {
  SCOPED_TRACE(what);
  const Context cpp = test::make_context(Backend::Cpu);
  CContext c;
  const auto sparse = ccsr(a);
  // CSC of A^T (same arrays): A^T's products through the other format.
  shrink_sparse_t csc_of_t = sparse;
  csc_of_t.format = SHRINK_CSC;
  std::swap(csc_of_t.rows, csc_of_t.cols);
  for (const auto op : {Op::NoTranspose, Op::Transpose}) {
    const index_t in = op == Op::Transpose ? a.rows() : a.cols(), out = op == Op::Transpose ? a.cols() : a.rows();
    auto x = test::random_vector<V>(in, 3);
    std::vector<V> want = test::random_vector<V>(out, 4), got = want, got_csc = want;
    spmv(cpp, op, V(1.5), a.view(), VectorView<const V>(x), V(0.5), VectorView<V>(want));
    auto xv = cvec(x);
    auto yv = cvec(got);
    ASSERT_EQ(shrink_spmv(c.ctx, op == Op::Transpose ? SHRINK_OP_T : SHRINK_OP_N, 1.5, &sparse, &xv, 0.5, &yv),
              SHRINK_STATUS_SUCCESS)
        << shrink_last_error_message();
    EXPECT_TRUE(test::same_bits(got, want));
    // op(A) x = op'(A^T) x with A^T given as CSC.
    auto y2 = cvec(got_csc);
    ASSERT_EQ(shrink_spmv(c.ctx, op == Op::Transpose ? SHRINK_OP_N : SHRINK_OP_T, 1.5, &csc_of_t, &xv, 0.5, &y2),
              SHRINK_STATUS_SUCCESS)
        << shrink_last_error_message();
    EXPECT_TRUE(test::same_bits(got_csc, want));
  }
}

TEST(CApi, SpmvIsBitIdenticalToCpp) {
  spmv_agrees(generate_banded<double, std::int32_t>(3000, 4, 1), "banded f64");
  spmv_agrees(generate_uniform<double, std::int64_t>(2000, 1500, 12, 2), "uniform f64 int64");
  spmv_agrees(generate_power_law<double, std::int32_t>(4000, 3000, 8.0, 1.3, 3), "power law f64");
  spmv_agrees(generate_power_law<float, std::int32_t>(4000, 3000, 8.0, 1.3, 4), "power law f32");
}

TEST(CApi, OperatorSpmmAndProxMatchCpp) {
  const Context cpp = test::make_context(Backend::Cpu);
  CContext c;
  const auto a = generate_uniform<double, std::int32_t>(300, 200, 7, 5);
  const auto sparse = ccsr(a);
  shrink_operator_t op = nullptr;
  ASSERT_EQ(shrink_operator_create(c.ctx, &sparse, &op), SHRINK_STATUS_SUCCESS) << shrink_last_error_message();
  const SparseOperator<double, std::int32_t> cop(cpp, a);
  auto x = test::random_vector<double>(300, 6);
  std::vector<double> want(200), got(200);
  cop.apply(Op::Transpose, 2.0, VectorView<const double>(x), 0.0, VectorView<double>(want));
  auto xv = cvec(x);
  auto yv = cvec(got);
  ASSERT_EQ(shrink_operator_apply(op, SHRINK_OP_T, 2.0, &xv, 0.0, &yv), SHRINK_STATUS_SUCCESS);
  EXPECT_TRUE(test::same_bits(got, want));
  shrink_operator_destroy(op);
  shrink_operator_destroy(nullptr);

  DenseMatrix<double> b(200, 5, Layout::ColMajor), cm(300, 5, Layout::ColMajor), cc(300, 5, Layout::ColMajor);
  for (index_t i = 0; i < 200; ++i)
    for (index_t j = 0; j < 5; ++j) b(i, j) = std::sin(0.1 * static_cast<double>(i + 7 * j));
  spmm(cpp, 1.0, a.view(), DenseView<const double>(b.view()), 0.0, cm.view());
  auto bv = cdense(b);
  auto cv = cdense(cc);
  ASSERT_EQ(shrink_spmm(c.ctx, 1.0, &sparse, &bv, 0.0, &cv), SHRINK_STATUS_SUCCESS) << shrink_last_error_message();
  EXPECT_EQ(std::memcmp(cm.data(), cc.data(), sizeof(double) * 1500), 0);

  auto v = test::random_vector<double>(64, 7);
  auto factors = std::vector<double>(64, 1.0);
  factors[3] = 0;
  std::vector<double> st_want(64), st_got(64), prox_want(64), prox_got(64);
  soft_threshold<double>(cpp, VectorView<const double>(v), 0.3, VectorView<const double>(factors), false,
                         VectorView<double>(st_want));
  auto vv = cvec(v);
  auto fv = cvec(factors);
  auto sv = cvec(st_got);
  ASSERT_EQ(shrink_soft_threshold(c.ctx, &vv, 0.3, &fv, 0, &sv), SHRINK_STATUS_SUCCESS);
  EXPECT_TRUE(test::same_bits(st_got, st_want));
  Penalty<double> pen;
  pen.l1 = 0.2;
  pen.l2 = 0.5;
  pen.positive = true;
  prox<double>(cpp, VectorView<const double>(v), pen, VectorView<double>(prox_want));
  const shrink_penalty_t cpen{0.2, 0.5, nullptr, 1};
  auto pv = cvec(prox_got);
  ASSERT_EQ(shrink_prox(c.ctx, &vv, &cpen, &pv), SHRINK_STATUS_SUCCESS);
  EXPECT_TRUE(test::same_bits(prox_got, prox_want));
}

struct LassoData {
  DenseMatrix<double> x;
  std::vector<double> y;
};
LassoData lasso_data(index_t n, index_t p, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  LassoData d{DenseMatrix<double>(n, p, Layout::ColMajor), std::vector<double>(static_cast<std::size_t>(n))};
  for (index_t j = 0; j < p; ++j)
    for (index_t i = 0; i < n; ++i) d.x(i, j) = normal(rng);
  for (index_t i = 0; i < n; ++i) d.y[i] = 1.0 + 2.0 * d.x(i, 0) - d.x(i, 2) + 0.5 * d.x(i, 4) + 0.3 * normal(rng);
  return d;
}

// Every field of a C fit, bit for bit against the C++ one.
void expect_same_fit(shrink_lasso_fit_t c, const LassoFit& cpp) {
  int64_t count = 0, features = 0;
  ASSERT_EQ(shrink_lasso_fit_size(c, &count, &features), SHRINK_STATUS_SUCCESS);
  ASSERT_EQ(count, static_cast<int64_t>(cpp.size()));
  ASSERT_EQ(features, cpp.n_features);
  auto field = [&](shrink_fit_field_t f) {
    int64_t n = 0;
    EXPECT_EQ(shrink_lasso_fit_get(c, f, nullptr, 0, &n), SHRINK_STATUS_SUCCESS);  // the size query
    std::vector<double> out(static_cast<std::size_t>(n));
    EXPECT_EQ(shrink_lasso_fit_get(c, f, out.data(), n, &n), SHRINK_STATUS_SUCCESS);
    return out;
  };
  auto widen = [](const auto& v) { return std::vector<double>(v.begin(), v.end()); };
  EXPECT_TRUE(test::same_bits(field(SHRINK_FIT_LAMBDAS), cpp.lambdas));
  EXPECT_TRUE(test::same_bits(field(SHRINK_FIT_LAMBDA_MAX), cpp.lambda_max));
  EXPECT_TRUE(test::same_bits(field(SHRINK_FIT_INTERCEPTS), cpp.intercepts));
  EXPECT_TRUE(test::same_bits(field(SHRINK_FIT_OBJECTIVE), cpp.objective));
  EXPECT_TRUE(test::same_bits(field(SHRINK_FIT_DUALITY_GAP), cpp.duality_gap));
  EXPECT_TRUE(test::same_bits(field(SHRINK_FIT_ITERATIONS), widen(cpp.iterations)));
  EXPECT_TRUE(test::same_bits(field(SHRINK_FIT_NNZ), widen(cpp.nnz)));
  std::vector<double> coef(static_cast<std::size_t>(features));
  for (std::size_t l = 0; l < cpp.size(); ++l) {
    ASSERT_EQ(shrink_lasso_fit_coefficients(c, static_cast<int64_t>(l), coef.data(), features), SHRINK_STATUS_SUCCESS);
    EXPECT_TRUE(test::same_bits(coef, cpp.coefficients_at(l))) << l;
  }
}

TEST(CApi, PathCvAndBatchAreBitIdenticalToCpp) {
  const Context cpp = test::make_context(Backend::Cpu);
  CContext c;
  auto d = lasso_data(150, 40, 11);
  const auto xv = cdense(d.x);
  const auto yv = cvec(d.y);
  shrink_lasso_options_t o;
  ASSERT_EQ(shrink_lasso_options_init(&o, sizeof(o)), SHRINK_STATUS_SUCCESS);
  EXPECT_EQ(o.n_lambdas, 100);
  shrink_lasso_fit_t fit = nullptr;
  ASSERT_EQ(shrink_lasso_path(c.ctx, &xv, &yv, &o, &fit), SHRINK_STATUS_SUCCESS) << shrink_last_error_message();
  expect_same_fit(fit, lasso_path<double>(cpp, d.x.view(), VectorView<const double>(d.y)));
  shrink_lasso_fit_destroy(fit);

  // The sparse form (CSR and CSC), Elastic Net with weights.
  const auto csr = dense_to_csr<double, std::int64_t>(d.x.view());
  const auto sparse = ccsr(csr);
  std::vector<double> weights(150, 1.0);
  for (std::size_t i = 0; i < 150; i += 3) weights[i] = 2.0;
  o.l1_ratio = 0.6;
  o.sample_weights = weights.data();
  o.n_sample_weights = 150;
  o.n_lambdas = 30;
  LassoOptions co;
  co.l1_ratio = 0.6;
  co.sample_weights = weights;
  co.n_lambdas = 30;
  ASSERT_EQ(shrink_lasso_path_sparse(c.ctx, &sparse, &yv, &o, &fit), SHRINK_STATUS_SUCCESS) << shrink_last_error_message();
  expect_same_fit(fit, lasso_path(cpp, csr, VectorView<const double>(d.y), co));
  shrink_lasso_fit_destroy(fit);

  // Cross-validation: the refit and the fold errors.
  o.cv_folds = 4;
  o.cv_seed = 9;
  ASSERT_EQ(shrink_lasso_cv(c.ctx, &xv, &yv, &o, &fit), SHRINK_STATUS_SUCCESS) << shrink_last_error_message();
  const auto cv = lasso_cv<double>(cpp, d.x.view(), VectorView<const double>(d.y), co, {4, 9});
  expect_same_fit(fit, cv.path);
  std::vector<double> mean(30);
  int64_t n = 0;
  ASSERT_EQ(shrink_lasso_fit_get(fit, SHRINK_FIT_CV_MEAN, mean.data(), 30, &n), SHRINK_STATUS_SUCCESS);
  EXPECT_TRUE(test::same_bits(mean, cv.cv_mean));
  int64_t index_min = -1, index_1se = -1;
  ASSERT_EQ(shrink_lasso_fit_cv_choice(fit, &index_min, &index_1se), SHRINK_STATUS_SUCCESS);
  EXPECT_EQ(index_min, static_cast<int64_t>(cv.index_min));
  EXPECT_EQ(index_1se, static_cast<int64_t>(cv.index_1se));
  shrink_lasso_fit_destroy(fit);

  // A batch of 64 problems.
  DenseMatrix<double> ys(150, 64, Layout::ColMajor);
  for (index_t k = 0; k < 64; ++k)
    for (index_t i = 0; i < 150; ++i) ys(i, k) = d.y[i] * (1.0 + 0.01 * static_cast<double>(k)) + 0.1 * d.x(i, k % 40);
  shrink_batch_options_t bo;
  ASSERT_EQ(shrink_batch_options_init(&bo, sizeof(bo)), SHRINK_STATUS_SUCCESS);
  bo.lambda_ratio = 0.1;
  const auto yb = cdense(ys);
  ASSERT_EQ(shrink_lasso_batch(c.ctx, &xv, &yb, &bo, &fit), SHRINK_STATUS_SUCCESS) << shrink_last_error_message();
  BatchLassoOptions cb;
  cb.lambda_ratio = 0.1;
  expect_same_fit(fit, lasso_batch<double>(cpp, d.x.view(), ys.view(), cb));
  shrink_lasso_fit_destroy(fit);
  shrink_lasso_fit_destroy(nullptr);
}

// Each error kind through the C API: its own status, a message naming the argument.
TEST(CApi, EveryErrorKindHasItsStatusAndMessage) {
  CContext c;
  auto expect = [](shrink_status_t got, shrink_status_t want, const char* needle) {
    EXPECT_EQ(got, want) << shrink_status_string(got) << ": " << shrink_last_error_message();
    EXPECT_NE(std::string(shrink_last_error_message()).find(needle), std::string::npos)
        << "message: " << shrink_last_error_message() << " (wanted '" << needle << "')";
  };
  auto d = lasso_data(20, 5, 1);
  const auto xv = cdense(d.x);
  auto yv = cvec(d.y);
  shrink_lasso_fit_t fit = nullptr;
  // NULL handle and pointers.
  expect(shrink_lasso_path(nullptr, &xv, &yv, nullptr, &fit), SHRINK_STATUS_INVALID_ARGUMENT, "context is NULL");
  expect(shrink_lasso_path(c.ctx, nullptr, &yv, nullptr, &fit), SHRINK_STATUS_INVALID_ARGUMENT, "x is NULL");
  expect(shrink_lasso_path(c.ctx, &xv, &yv, nullptr, nullptr), SHRINK_STATUS_INVALID_ARGUMENT, "fit is NULL");
  expect(shrink_spmv(c.ctx, SHRINK_OP_N, 1.0, nullptr, &yv, 0.0, &yv), SHRINK_STATUS_INVALID_ARGUMENT, "a is NULL");
  expect(shrink_context_create(nullptr, nullptr), SHRINK_STATUS_INVALID_ARGUMENT, "context is NULL");
  shrink_context_options_t small;
  expect(shrink_context_options_init(&small, 3), SHRINK_STATUS_INVALID_ARGUMENT, "struct_size 3");
  // Dimension mismatch, named.
  auto short_y = yv;
  short_y.size = 19;
  expect(shrink_lasso_path(c.ctx, &xv, &short_y, nullptr, &fit), SHRINK_STATUS_DIMENSION_MISMATCH, "y");
  // Non-finite.
  d.x(3, 2) = std::nan("");
  expect(shrink_lasso_path(c.ctx, &xv, &yv, nullptr, &fit), SHRINK_STATUS_NON_FINITE, "X");
  d.x(3, 2) = 0;
  // Out-of-range option.
  shrink_lasso_options_t o;
  shrink_lasso_options_init(&o, sizeof(o));
  o.l1_ratio = 1.5;
  expect(shrink_lasso_path(c.ctx, &xv, &yv, &o, &fit), SHRINK_STATUS_INVALID_ARGUMENT, "l1_ratio");
  // Sparse structure: an index out of range, then row pointers that go down.
  std::vector<std::int32_t> ptr{0, 1, 2}, idx{0, 5};
  std::vector<double> val{1.0, 2.0};
  shrink_sparse_t bad{SHRINK_CSR, SHRINK_F64, SHRINK_I32, SHRINK_MEMORY_HOST, 2, 3, 2, ptr.data(), idx.data(), val.data()};
  shrink_operator_t op = nullptr;
  expect(shrink_operator_create(c.ctx, &bad, &op), SHRINK_STATUS_INDEX_OUT_OF_RANGE, "a: column index 5");
  idx[1] = 1;
  ptr = {0, 2, 1};
  expect(shrink_operator_create(c.ctx, &bad, &op), SHRINK_STATUS_INVALID_STRUCTURE, "row_ptr");
  // A count that does not fit 32-bit indices.
  shrink_sparse_t huge = bad;
  huge.nnz = std::int64_t{1} << 33;
  std::vector<double> x3(3, 1.0), y2(2, 0.0);
  auto x3v = cvec(x3);
  auto y2v = cvec(y2);
  expect(shrink_spmv(c.ctx, SHRINK_OP_N, 1.0, &huge, &x3v, 0.0, &y2v), SHRINK_STATUS_INDEX_OVERFLOW, "nnz");
  // Files: missing, then malformed (with file and line).
  shrink_matrix_file_t file = nullptr;
  expect(shrink_read_matrix("/nonexistent/m.mtx", SHRINK_F64, SHRINK_I32, &file), SHRINK_STATUS_IO_ERROR,
         "/nonexistent/m.mtx");
  const std::string path = test::unique_temp_path("bad.mtx");
  std::ofstream(path) << "%%MatrixMarket matrix coordinate real general\n2 2 1\n1 x 3.0\n";
  expect(shrink_read_matrix(path.c_str(), SHRINK_F64, SHRINK_I32, &file), SHRINK_STATUS_PARSE_ERROR, ":3");
  std::remove(path.c_str());
  // The CUDA backend without a device (or without CUDA).
  shrink_context_options_t co;
  shrink_context_options_init(&co, sizeof(co));
  co.backend = SHRINK_BACKEND_CUDA;
  shrink_context_t gpu = nullptr;
  if (shrink_cuda_device_count() == 0) {
    const auto s = shrink_context_create(&co, &gpu);
    EXPECT_EQ(s, shrink_cuda_compiled() ? SHRINK_STATUS_NO_DEVICE : SHRINK_STATUS_NOT_COMPILED)
        << shrink_last_error_message();
    EXPECT_EQ(gpu, nullptr);
  }
  // A stream on a CPU context.
  int stream_stand_in = 0;
  expect(shrink_context_set_stream(c.ctx, &stream_stand_in), SHRINK_STATUS_INVALID_ARGUMENT, "CPU context");
  EXPECT_EQ(shrink_context_set_stream(c.ctx, nullptr), SHRINK_STATUS_SUCCESS);
  // Every status has its own string.
  std::set<std::string> names;
  for (int s = SHRINK_STATUS_SUCCESS; s <= SHRINK_STATUS_STORAGE_ERROR; ++s)
    names.insert(shrink_status_string(static_cast<shrink_status_t>(s)));
  EXPECT_EQ(names.size(), static_cast<std::size_t>(SHRINK_STATUS_STORAGE_ERROR + 1));
  // Destroying NULL is a no-op everywhere.
  shrink_context_destroy(nullptr);
  shrink_matrix_file_destroy(nullptr);
  shrink_pruned_destroy(nullptr);
  shrink_sae_destroy(nullptr);
}

// Every call refuses a NULL handle or output pointer with INVALID_ARGUMENT and a message.
TEST(CApi, NullHandlesAreRefusedEverywhere) {
  CContext c;
  std::vector<double> v(4, 1.0);
  auto vv = cvec(v);
  int64_t i64 = 0;
  int flag = 0;
  double d = 0;
  shrink_backend_t backend;
  const std::vector<std::pair<const char*, shrink_status_t>> calls = {
      {"context_set_stream", shrink_context_set_stream(nullptr, nullptr)},
      {"context_synchronize", shrink_context_synchronize(nullptr)},
      {"context_backend", shrink_context_backend(nullptr, &backend)},
      {"context_backend out", shrink_context_backend(c.ctx, nullptr)},
      {"context_device", shrink_context_device(nullptr, &flag)},
      {"spmm", shrink_spmm(nullptr, 1.0, nullptr, nullptr, 0.0, nullptr)},
      {"operator_create", shrink_operator_create(c.ctx, nullptr, nullptr)},
      {"operator_apply", shrink_operator_apply(nullptr, SHRINK_OP_N, 1.0, &vv, 0.0, &vv)},
      {"soft_threshold", shrink_soft_threshold(nullptr, &vv, 0.1, nullptr, 0, &vv)},
      {"soft_threshold v", shrink_soft_threshold(c.ctx, nullptr, 0.1, nullptr, 0, &vv)},
      {"prox", shrink_prox(c.ctx, &vv, nullptr, &vv)},
      {"prox_grad_step", shrink_prox_grad_step(c.ctx, &vv, nullptr, 0.1, nullptr, &vv)},
      {"lasso_options_init", shrink_lasso_options_init(nullptr, sizeof(shrink_lasso_options_t))},
      {"batch_options_init", shrink_batch_options_init(nullptr, sizeof(shrink_batch_options_t))},
      {"lasso_path_sparse", shrink_lasso_path_sparse(c.ctx, nullptr, &vv, nullptr, nullptr)},
      {"lasso_cv", shrink_lasso_cv(nullptr, nullptr, nullptr, nullptr, nullptr)},
      {"lasso_cv_sparse", shrink_lasso_cv_sparse(nullptr, nullptr, nullptr, nullptr, nullptr)},
      {"lasso_batch", shrink_lasso_batch(nullptr, nullptr, nullptr, nullptr, nullptr)},
      {"lasso_batch_sparse", shrink_lasso_batch_sparse(nullptr, nullptr, nullptr, nullptr, nullptr)},
      {"lasso_fit_size", shrink_lasso_fit_size(nullptr, &i64, &i64)},
      {"lasso_fit_get", shrink_lasso_fit_get(nullptr, SHRINK_FIT_LAMBDAS, &d, 1, &i64)},
      {"lasso_fit_coefficients", shrink_lasso_fit_coefficients(nullptr, 0, &d, 1)},
      {"lasso_fit_cv_choice", shrink_lasso_fit_cv_choice(nullptr, &i64, &i64)},
      {"lasso_fit_not_converged", shrink_lasso_fit_not_converged(nullptr, &i64)},
      {"read_matrix path", shrink_read_matrix(nullptr, SHRINK_F64, SHRINK_I32, nullptr)},
      {"matrix_file_is_dense", shrink_matrix_file_is_dense(nullptr, &flag)},
      {"matrix_file_dense", shrink_matrix_file_dense(nullptr, nullptr)},
      {"matrix_file_sparse", shrink_matrix_file_sparse(nullptr, nullptr)},
      {"prune_blocks", shrink_prune_blocks(nullptr, 2, 2, 0.5, SHRINK_NORM_L2, nullptr)},
      {"pruned_blocks", shrink_pruned_blocks(nullptr, &i64, &i64)},
      {"pruned_dense", shrink_pruned_dense(nullptr, &d, 1)},
      {"sae_options_init", shrink_sae_options_init(nullptr, sizeof(shrink_sae_options_t))},
      {"sae_create", shrink_sae_create(c.ctx, SHRINK_F32, nullptr, nullptr)},
      {"sae_load", shrink_sae_load(c.ctx, nullptr, nullptr)},
      {"sae_save", shrink_sae_save(nullptr, "x")},
      {"sae_train", shrink_sae_train(nullptr, nullptr, nullptr, nullptr)},
      {"sae_encode", shrink_sae_encode(nullptr, nullptr, nullptr)},
      {"sae_score", shrink_sae_score(nullptr, nullptr, nullptr)},
      {"sae_dims", shrink_sae_dims(nullptr, &i64, &i64)},
      {"sae_fit", shrink_sae_fit(c.ctx, SHRINK_F64, nullptr, 0, nullptr, nullptr)},
      {"sae_normalize", shrink_sae_normalize(nullptr, nullptr)},
  };
  for (const auto& [name, status] : calls) EXPECT_EQ(status, SHRINK_STATUS_INVALID_ARGUMENT) << name;
  EXPECT_NE(std::string(shrink_last_error_message()).find("NULL"), std::string::npos);
  EXPECT_EQ(shrink_context_synchronize(c.ctx), SHRINK_STATUS_SUCCESS);
  EXPECT_STREQ(shrink_last_error_message(), "");  // a success clears it
}

// std::bad_alloc becomes OUT_OF_MEMORY: a child process under an address-space limit reads a file
// that declares a matrix far larger than the limit.
TEST(CApi, BadAllocIsOutOfMemory) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "an address-space limit cannot be set under a sanitizer (it reserves its shadow memory)";
#else
  const std::string path = test::unique_temp_path("big.mtx");
  // 3e9 rows and 2 entries: CSR needs 3e9 + 1 row pointers (24 GB).
  std::ofstream(path) << "%%MatrixMarket matrix coordinate real general\n3000000000 3 2\n1 1 1.0\n2999999999 3 2.0\n";
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const rlimit limit{std::size_t{2} << 30, std::size_t{2} << 30};
    setrlimit(RLIMIT_AS, &limit);
    shrink_matrix_file_t file = nullptr;
    const auto s = shrink_read_matrix(path.c_str(), SHRINK_F64, SHRINK_I64, &file);
    _exit(s == SHRINK_STATUS_OUT_OF_MEMORY ? 0 : 10 + static_cast<int>(s));
  }
  int status = 0;
  waitpid(child, &status, 0);
  std::remove(path.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the child's status was " << WEXITSTATUS(status) - 10;
#endif
}

// Two threads that fail differently at the same time each read their own message.
TEST(CApi, ThreadsReadTheirOwnMessages) {
  std::atomic<int> ok{0};
  auto work = [&](bool dimension) {
    CContext c;
    auto d = lasso_data(10, 5, 2);
    const auto xv = cdense(d.x);
    auto yv = cvec(d.y);
    shrink_lasso_options_t o;
    shrink_lasso_options_init(&o, sizeof(o));
    if (dimension) yv.size = 9;
    else o.l1_ratio = -1;
    bool mine = true;
    for (int k = 0; k < 200; ++k) {
      shrink_lasso_fit_t fit = nullptr;
      const auto s = shrink_lasso_path(c.ctx, &xv, &yv, &o, &fit);
      const std::string m = shrink_last_error_message();
      mine = mine && s == (dimension ? SHRINK_STATUS_DIMENSION_MISMATCH : SHRINK_STATUS_INVALID_ARGUMENT) &&
             m.find(dimension ? "y" : "l1_ratio") != std::string::npos &&
             m.find(dimension ? "l1_ratio" : "has 9") == std::string::npos;
    }
    ok += mine;
  };
  std::thread a(work, true), b(work, false);
  a.join();
  b.join();
  EXPECT_EQ(ok.load(), 2);
}

// 1000 create / fit / destroy cycles (LeakSanitizer checks them in the asan preset).
TEST(CApi, ThousandCyclesReleaseEverything) {
  auto d = lasso_data(30, 8, 3);
  const auto xv = cdense(d.x);
  const auto yv = cvec(d.y);
  shrink_lasso_options_t o;
  shrink_lasso_options_init(&o, sizeof(o));
  o.n_lambdas = 3;
  for (int k = 0; k < 1000; ++k) {
    shrink_context_t ctx = nullptr;
    ASSERT_EQ(shrink_context_create(nullptr, &ctx), SHRINK_STATUS_SUCCESS);
    shrink_lasso_fit_t fit = nullptr;
    ASSERT_EQ(shrink_lasso_path(ctx, &xv, &yv, &o, &fit), SHRINK_STATUS_SUCCESS);
    shrink_lasso_fit_destroy(fit);
    shrink_context_destroy(ctx);
  }
}

TEST(CApi, FilesPruningAndSae) {
  const Context cpp = test::make_context(Backend::Cpu);
  CContext c;
  // A matrix file read through C equals the C++ reader's.
  const std::string path = test::unique_temp_path("m.mtx");
  std::ofstream(path) << "%%MatrixMarket matrix coordinate real general\n3 4 3\n1 2 1.5\n2 4 -2\n3 1 4\n";
  shrink_matrix_file_t file = nullptr;
  ASSERT_EQ(shrink_read_matrix(path.c_str(), SHRINK_F64, SHRINK_I64, &file), SHRINK_STATUS_SUCCESS)
      << shrink_last_error_message();
  int dense = 1;
  ASSERT_EQ(shrink_matrix_file_is_dense(file, &dense), SHRINK_STATUS_SUCCESS);
  EXPECT_EQ(dense, 0);
  shrink_sparse_t view;
  ASSERT_EQ(shrink_matrix_file_sparse(file, &view), SHRINK_STATUS_SUCCESS);
  shrink_dense_t not_dense;
  EXPECT_EQ(shrink_matrix_file_dense(file, &not_dense), SHRINK_STATUS_INVALID_ARGUMENT);
  const auto cm = read_matrix<double, std::int64_t>(path);
  EXPECT_EQ(view.rows, 3);
  EXPECT_EQ(view.nnz, 3);
  EXPECT_EQ(std::memcmp(view.values, cm.sparse.values().data(), 3 * sizeof(double)), 0);
  EXPECT_EQ(std::memcmp(view.idx, cm.sparse.col_idx().data(), 3 * sizeof(std::int64_t)), 0);
  shrink_matrix_file_destroy(file);
  std::remove(path.c_str());
  // A Fortran-order .npy comes back in its stored order, and the view says so.
  const std::string fortran = test::unique_temp_path("f.npy");
  DenseMatrix<float> cf(3, 2, Layout::ColMajor);
  for (index_t i = 0; i < 3; ++i)
    for (index_t j = 0; j < 2; ++j) cf(i, j) = static_cast<float>(10 * i + j);
  write_npy<float>(fortran, cf.view());
  ASSERT_EQ(shrink_read_matrix(fortran.c_str(), SHRINK_F32, SHRINK_I64, &file), SHRINK_STATUS_SUCCESS)
      << shrink_last_error_message();
  shrink_dense_t fview;
  ASSERT_EQ(shrink_matrix_file_dense(file, &fview), SHRINK_STATUS_SUCCESS);
  EXPECT_EQ(fview.layout, SHRINK_COL_MAJOR);
  for (index_t i = 0; i < 3; ++i)
    for (index_t j = 0; j < 2; ++j) EXPECT_EQ(static_cast<const float*>(fview.data)[i + j * fview.ld], cf(i, j));
  shrink_matrix_file_destroy(file);
  std::remove(fortran.c_str());

  // Pruning: the kept blocks and the dense result equal the C++ call's.
  DenseMatrix<double> w(8, 8);
  for (index_t i = 0; i < 8; ++i)
    for (index_t j = 0; j < 8; ++j) w(i, j) = std::cos(1.0 + static_cast<double>(3 * i + j));
  shrink_pruned_t pruned = nullptr;
  const auto wv = cdense(w);
  ASSERT_EQ(shrink_prune_blocks(&wv, 2, 2, 0.5, SHRINK_NORM_L2, &pruned), SHRINK_STATUS_SUCCESS) << shrink_last_error_message();
  PruneOptions po;
  po.block = {2, 2};
  po.sparsity = 0.5;
  const auto want = prune_blocks<double, std::int64_t>(w.view(), po);
  int64_t kept = 0, total = 0;
  ASSERT_EQ(shrink_pruned_blocks(pruned, &kept, &total), SHRINK_STATUS_SUCCESS);
  EXPECT_EQ(kept, want.report.blocks_kept);
  EXPECT_EQ(total, 16);
  std::vector<double> got(64);
  ASSERT_EQ(shrink_pruned_dense(pruned, got.data(), 64), SHRINK_STATUS_SUCCESS);
  const auto wd = bsr_to_dense(want.weights);
  EXPECT_EQ(std::memcmp(got.data(), wd.data(), 64 * sizeof(double)), 0);
  EXPECT_EQ(shrink_pruned_dense(pruned, got.data(), 10), SHRINK_STATUS_DIMENSION_MISMATCH);
  shrink_pruned_destroy(pruned);

  // SAE: create, train, save, load, score; the same steps in C++ give the same bits.
  auto d = lasso_data(64, 6, 4);
  DenseMatrix<double> data(64, 6);
  for (index_t i = 0; i < 64; ++i)
    for (index_t j = 0; j < 6; ++j) data(i, j) = d.x(i, j);
  shrink_sae_options_t so;
  ASSERT_EQ(shrink_sae_options_init(&so, sizeof(so)), SHRINK_STATUS_SUCCESS);
  so.inputs = 6;
  so.latents = 8;
  so.activation = SHRINK_SAE_TOPK;
  so.k = 2;
  so.epochs = 2;
  so.batch_size = 16;
  so.seed = 5;
  shrink_sae_t sae = nullptr;
  ASSERT_EQ(shrink_sae_create(c.ctx, SHRINK_F64, &so, &sae), SHRINK_STATUS_SUCCESS) << shrink_last_error_message();
  shrink_sae_metrics_t metrics;
  const auto dv = cdense(data);
  ASSERT_EQ(shrink_sae_train(sae, &dv, &so, &metrics), SHRINK_STATUS_SUCCESS) << shrink_last_error_message();
  SaeConfig config;
  config.inputs = 6;
  config.latents = 8;
  config.activation = SaeActivation::TopK;
  config.k = 2;
  SparseAutoencoder<double> model(cpp, config, 5);
  SaeTrainOptions to;
  to.epochs = 2;
  to.batch_size = 16;
  to.seed = 5;
  SaeTrainState state;
  state.seed = 5;
  const auto r = sae_train<double>(cpp, model, data.view(), to, state);
  EXPECT_EQ(metrics.mse, r.metrics.mse);
  EXPECT_EQ(metrics.fvu, r.metrics.fvu);
  const std::string model_path = test::unique_temp_path("c.sae");
  ASSERT_EQ(shrink_sae_save(sae, model_path.c_str()), SHRINK_STATUS_SUCCESS) << shrink_last_error_message();
  shrink_sae_destroy(sae);
  ASSERT_EQ(shrink_sae_load(c.ctx, model_path.c_str(), &sae), SHRINK_STATUS_SUCCESS) << shrink_last_error_message();
  int64_t inputs = 0, latents = 0;
  ASSERT_EQ(shrink_sae_dims(sae, &inputs, &latents), SHRINK_STATUS_SUCCESS);
  EXPECT_EQ(inputs, 6);
  EXPECT_EQ(latents, 8);
  std::vector<double> scores(64), want_scores(64);
  auto sv = cvec(scores);
  ASSERT_EQ(shrink_sae_score(sae, &dv, &sv), SHRINK_STATUS_SUCCESS) << shrink_last_error_message();
  model.reconstruction_errors(data.view(), VectorView<double>(want_scores));
  EXPECT_TRUE(test::same_bits(scores, want_scores));
  DenseMatrix<double> codes(64, 8);
  auto cv = cdense(codes);
  ASSERT_EQ(shrink_sae_encode(sae, &dv, &cv), SHRINK_STATUS_SUCCESS) << shrink_last_error_message();
  index_t active = 0;
  for (index_t i = 0; i < 64 * 8; ++i) active += codes.data()[i] != 0;
  EXPECT_LE(active, 64 * 2);
  shrink_sae_destroy(sae);
  std::remove(model_path.c_str());

  // The defaults: the same settings and model as the library's sae_fit; the stored normalization
  // applied through shrink_sae_normalize gives the C++ model's scores on raw data.
  ASSERT_EQ(shrink_sae_fit(c.ctx, SHRINK_F64, &dv, 3, &sae, &metrics), SHRINK_STATUS_SUCCESS) << shrink_last_error_message();
  SaeSettings base;
  base.train.seed = 3;
  auto fit = sae_fit<double>(cpp, resolve_sae_settings({}, base, 64, 6), DenseView<const double>(data.view()));
  EXPECT_EQ(metrics.mse, fit.result.metrics.mse);
  ASSERT_EQ(shrink_sae_dims(sae, &inputs, &latents), SHRINK_STATUS_SUCCESS);
  EXPECT_EQ(latents, fit.model.config().latents);
  DenseMatrix<double> normalized(64, 6);
  for (index_t i = 0; i < 64 * 6; ++i) normalized.data()[i] = data.data()[i];
  auto nv = cdense(normalized);
  ASSERT_EQ(shrink_sae_normalize(sae, &nv), SHRINK_STATUS_SUCCESS) << shrink_last_error_message();
  ASSERT_EQ(shrink_sae_score(sae, &nv, &sv), SHRINK_STATUS_SUCCESS) << shrink_last_error_message();
  fit.model.normalizer().apply(data.view());
  fit.model.anomaly_scores(data.view(), VectorView<double>(want_scores));
  EXPECT_TRUE(test::same_bits(scores, want_scores));
  DenseMatrix<double> narrow(4, 5);
  auto bad = cdense(narrow);
  EXPECT_EQ(shrink_sae_normalize(sae, &bad), SHRINK_STATUS_DIMENSION_MISMATCH);
  shrink_sae_destroy(sae);
}

}  // namespace
}  // namespace shrink
