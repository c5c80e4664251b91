// Reliability: the memory budget (a size read from input is checked before anything is allocated),
// recoverable allocation failure along whole calls, 64-bit dimensions, and eight contexts on eight
// threads giving the serial answers bit for bit (the tsan preset runs "Concurrency*" under TSan).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "host/core/fault_injection.hpp"
#include "tests/test_util.hpp"

namespace shrink {
namespace {

using test::make_context;

// The memory limit back to its default when a test ends.
struct LimitGuard {
  ~LimitGuard() { set_memory_limit(0); }
};

TEST(Budget, HostileSizesFailBeforeAllocating) {
  // 120 bytes declaring 3e9 rows: its CSR row pointers would need tens of GB.
  const std::string tall =
      "%%MatrixMarket matrix coordinate real general\n3000000000 3 2\n1 1 1.0\n2999999999 3 2.0\n";
  const LimitGuard guard;
  set_memory_limit(std::size_t{1} << 30);
  try {
    (void)parse_matrix_market<double, std::int64_t>(tall, "tall.mtx");
    ADD_FAILURE() << "accepted";
  } catch (const OutOfMemory& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("3000000000 x 3"), std::string::npos) << m;  // what
    EXPECT_NE(m.find("GiB"), std::string::npos) << m;             // how much
    EXPECT_NE(m.find("limit is 1.0 GiB"), std::string::npos) << m;  // against what
  }
  // With 32-bit indices the count does not fit: an index overflow, before any allocation.
  EXPECT_THROW(((void)parse_matrix_market<double, std::int32_t>(tall, "tall.mtx")), IndexOverflow);
  // The same for a scipy .npz declaring the shape, and for a plain allocation past the limit.
  set_memory_limit(std::size_t{1} << 20);
  EXPECT_THROW(Array<double>(std::size_t{1} << 20), OutOfMemory);  // 8 MiB > 1 MiB
  EXPECT_NO_THROW(Array<double>(std::size_t{1} << 10));
  set_memory_limit(0);
  EXPECT_EQ(memory_limit().source, "available memory");
  EXPECT_GT(memory_limit().bytes, std::size_t{1} << 20);
}

TEST(Budget, MemorySizesParse) {
  EXPECT_EQ(parse_memory_size("4096"), 4096u);
  EXPECT_EQ(parse_memory_size("512K"), 512u * 1024);
  EXPECT_EQ(parse_memory_size("2G"), std::size_t{2} << 30);
  EXPECT_EQ(parse_memory_size("1.5g"), std::size_t{3} << 29);
  EXPECT_EQ(parse_memory_size("3GiB"), std::size_t{3} << 30);
  EXPECT_EQ(parse_memory_size("1T"), std::size_t{1} << 40);
  for (const char* bad : {"", "G", "-1G", "0", "12Q", "nan", "1e30T"})
    EXPECT_THROW((void)parse_memory_size(bad), InvalidArgument) << bad;
}

// A matrix whose dimension exceeds 2^31 with few entries works end to end in 64-bit indices: read,
// converted, written and read back in every sparse format.
TEST(IndexWidth, WideMatrixRoundTrips) {
  const std::string wide =
      "%%MatrixMarket matrix coordinate real general\n3 3000000000 3\n1 1 1.5\n2 2999999999 -2\n3 2147483648 4\n";
  const auto a = parse_matrix_market<double, std::int64_t>(wide, "wide.mtx").take_csr();
  ASSERT_EQ(a.cols(), 3000000000);
  EXPECT_EQ(a.col_idx().data()[1], 2999999998);
  EXPECT_THROW(((void)parse_matrix_market<double, std::int32_t>(wide, "wide.mtx")), IndexOverflow);
  for (const char* ext : {".mtx", ".npz", ".svm"}) {
    const std::string path = test::unique_temp_path(std::string("wide") + ext);
    MatrixFile<double, std::int64_t> f;
    f.sparse = a.copy_to(make_context(Backend::Cpu), MemorySpace::Host);
    write_matrix(path, f);
    const auto back = read_matrix<double, std::int64_t>(path).take_csr();
    EXPECT_EQ(back.rows(), 3) << ext;
    if (std::string(ext) != ".svm") EXPECT_EQ(back.cols(), 3000000000) << ext;  // svmlight has no width
    for (index_t k = 0; k < 3; ++k) {
      EXPECT_EQ(back.col_idx().data()[k], a.col_idx().data()[k]) << ext;
      EXPECT_EQ(back.values().data()[k], a.values().data()[k]) << ext;
    }
    std::remove(path.c_str());
  }
}

// Fails the k-th allocation of `call` for k = 1, 2, ... until the call no longer reaches it: each time
// the call throws OutOfMemory, and the same call afterwards, on the same objects, gives `check`'s
// answer. (The asan preset checks that nothing leaks on the way.)
template <class Call, class Check>
void every_allocation_can_fail(const char* what, Call call, Check check) {
  SCOPED_TRACE(what);
  int failures = 0;
  for (std::int64_t k = 1;; ++k) {
    detail::fail_allocation(k);
    bool threw = false;
    try {
      call();
    } catch (const OutOfMemory&) {
      threw = true;
    }
    detail::fail_allocation(0);
    if (!threw) break;  // the call made fewer than k allocations
    ++failures;
    call();  // recovers
    check();
    ASSERT_LT(k, 10000) << "no end to the allocations";
  }
  EXPECT_GT(failures, 0) << "the call allocated nothing through the library's allocator";
}

TEST(Faults, EveryAllocationFailureIsRecoverable) {
  const Context ctx = make_context(Backend::Cpu);
  // SpMV through an operator (its construction and the transposed product allocate).
  const auto a = generate_power_law<double, std::int32_t>(400, 300, 6.0, 1.4, 2);
  const auto x = generate_vector<double>(400, 3);
  std::vector<double> want(300), got(300);
  SparseOperator<double, std::int32_t>(ctx, a).apply(Op::Transpose, 1.0, x.view(), 0.0, VectorView<double>(want));
  every_allocation_can_fail(
      "spmv", [&] { SparseOperator<double, std::int32_t>(ctx, a).apply(Op::Transpose, 1.0, x.view(), 0.0, VectorView<double>(got)); },
      [&] { EXPECT_TRUE(test::same_bits(got, want)); });
  // A Lasso path (FISTA: its iterates are arrays) and a batch.
  DenseMatrix<double> xm(60, 12, Layout::ColMajor);
  std::vector<double> y(60);
  const auto r = generate_vector<double>(60 * 13, 5);
  for (index_t i = 0; i < 60; ++i) {
    for (index_t j = 0; j < 12; ++j) xm(i, j) = r[i * 12 + j];
    y[i] = xm(i, 0) - 2 * xm(i, 3) + 0.1 * r[720 + i];
  }
  LassoOptions o;
  o.n_lambdas = 4;
  o.solver = LassoSolver::ProximalGradient;
  const auto path_want = lasso_path<double>(ctx, xm.view(), VectorView<const double>(y), o);
  LassoPath path_got;
  every_allocation_can_fail(
      "lasso_path", [&] { path_got = lasso_path<double>(ctx, xm.view(), VectorView<const double>(y), o); },
      [&] { EXPECT_EQ(path_got.objective, path_want.objective); });
  DenseMatrix<double> ys(60, 3, Layout::ColMajor);
  for (index_t i = 0; i < 60; ++i)
    for (index_t k = 0; k < 3; ++k) ys(i, k) = y[i] * (1 + k);
  BatchLassoOptions bo;
  bo.lambda_ratio = 0.2;
  const auto batch_want = lasso_batch<double>(ctx, xm.view(), ys.view(), bo);
  LassoFit batch_got;
  every_allocation_can_fail(
      "lasso_batch", [&] { batch_got = lasso_batch<double>(ctx, xm.view(), ys.view(), bo); },
      [&] { EXPECT_EQ(batch_got.objective, batch_want.objective); });
  // A layer's forward, backward and step, repeated on the same layer after each failure.
  DenseMatrix<float> w(32, 48);
  const auto wv = generate_vector<float>(32 * 48, 7);
  std::copy(wv.data(), wv.data() + wv.size(), w.data());
  const auto pruned = prune_blocks<float>(w.view(), {{8, 8}, 0.5});
  DenseMatrix<float> lx(16, 48), ly(16, 32), dy(16, 32), dx(16, 48);
  const auto lxv = generate_vector<float>(16 * 48, 8);
  std::copy(lxv.data(), lxv.data() + lxv.size(), lx.data());
  std::fill(dy.data(), dy.data() + 16 * 32, 0.01f);
  auto layer_step = [&](BlockSparseLinear<float>& layer) {
    layer.forward(lx.view(), ly.view());
    layer.backward(lx.view(), dy.view(), dx.view());
    layer.step({OptimizerKind::Adam, 1e-3});
  };
  BlockSparseLinear<float> reference(ctx, pruned.weights);
  layer_step(reference);
  std::unique_ptr<BlockSparseLinear<float>> layer;
  every_allocation_can_fail(
      "layer step",
      [&] {
        layer = std::make_unique<BlockSparseLinear<float>>(ctx, pruned.weights);
        layer_step(*layer);
      },
      [&] { EXPECT_TRUE(test::same_bits(layer->weights().values().to_vector(ctx), reference.weights().values().to_vector(ctx))); });
  // An SAE step (evaluate with its gradient, then the optimizer).
  SaeConfig c;
  c.inputs = 12;
  c.latents = 16;
  c.activation = SaeActivation::TopK;
  c.k = 3;
  DenseMatrix<double> sx(20, 12);
  for (index_t i = 0; i < 20; ++i)
    for (index_t j = 0; j < 12; ++j) sx(i, j) = r[i * 12 + j];
  auto sae_step = [&](SparseAutoencoder<double>& m) {
    (void)m.evaluate(sx.view(), sx.view(), true, false);
    m.step({OptimizerKind::Adam, 1e-3});
  };
  SparseAutoencoder<double> sae_want(ctx, c, 3);
  sae_step(sae_want);
  std::unique_ptr<SparseAutoencoder<double>> sae;
  every_allocation_can_fail(
      "sae step",
      [&] {
        sae = std::make_unique<SparseAutoencoder<double>>(ctx, c, 3);
        sae_step(*sae);
      },
      [&] { EXPECT_TRUE(test::same_bits(sae->parameters().to_vector(ctx), sae_want.parameters().to_vector(ctx))); });
}

// Eight host threads, each with its own context, run SpMV, a Lasso path and SAE steps at the same
// time: every result equals the serial one bit for bit.
TEST(Concurrency, EightContextsOnEightThreadsMatchSerial) {
  const auto a = generate_power_law<double, std::int32_t>(3000, 2000, 8.0, 1.4, 4);
  const auto x = generate_vector<double>(2000, 5);
  DenseMatrix<double> xm(80, 20, Layout::ColMajor);
  std::vector<double> y(80);
  const auto r = generate_vector<double>(80 * 21, 6);
  for (index_t i = 0; i < 80; ++i) {
    for (index_t j = 0; j < 20; ++j) xm(i, j) = r[i * 20 + j];
    y[i] = xm(i, 1) + 0.5 * xm(i, 7) + 0.1 * r[1600 + i];
  }
  DenseMatrix<double> samples(80, 20);  // row-major, as the SAE takes them
  for (index_t i = 0; i < 80; ++i)
    for (index_t j = 0; j < 20; ++j) samples(i, j) = xm(i, j);
  SaeConfig c;
  c.inputs = 20;
  c.latents = 24;
  c.activation = SaeActivation::TopK;
  c.k = 4;
  struct Answer {
    std::vector<double> spmv, objective, params;
  };
  auto work = [&](int threads) {
    const Context ctx(ContextOptions{Backend::Cpu, 0, threads, true, false});
    Answer out;
    out.spmv.resize(3000);
    spmv(ctx, Op::NoTranspose, 1.0, a.view(), x.view(), 0.0, VectorView<double>(out.spmv));
    LassoOptions o;
    o.n_lambdas = 10;
    out.objective = lasso_path<double>(ctx, xm.view(), VectorView<const double>(y), o).objective;
    SparseAutoencoder<double> m(ctx, c, 11);
    for (int s = 0; s < 5; ++s) {
      (void)m.evaluate(samples.view(), samples.view(), true, false);
      m.step({OptimizerKind::Adam, 1e-3});
    }
    out.params = m.parameters().to_vector(ctx);
    return out;
  };
  const Answer serial = work(1);
  std::vector<Answer> answers(8);
  std::vector<std::thread> pool;
  for (int t = 0; t < 8; ++t) pool.emplace_back([&, t] { answers[t] = work(1); });
  for (auto& t : pool) t.join();
  for (int t = 0; t < 8; ++t) {
    EXPECT_TRUE(test::same_bits(answers[t].spmv, serial.spmv)) << t;
    EXPECT_TRUE(test::same_bits(answers[t].objective, serial.objective)) << t;
    EXPECT_TRUE(test::same_bits(answers[t].params, serial.params)) << t;
  }
}

}  // namespace
}  // namespace shrink
