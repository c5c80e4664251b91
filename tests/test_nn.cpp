// Block-pruned layers: BSR format, pruning and schedules, the layer's kernels against a dense float64
// reference and finite differences, optimizer state across pattern changes, distillation, and the
// CUDA twins against the CPU ones.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <random>

#include "tests/test_util.hpp"

namespace shrink::test {
namespace {

template <class V>
DenseMatrix<V> random_dense(index_t rows, index_t cols, unsigned seed, double zero_fraction = 0.0) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(-1.0, 1.0), coin(0.0, 1.0);
  DenseMatrix<V> m(rows, cols);
  for (index_t i = 0; i < rows; ++i)
    for (index_t j = 0; j < cols; ++j) m(i, j) = coin(gen) < zero_fraction ? V(0) : static_cast<V>(dist(gen));
  return m;
}

template <class V, class I>
BsrMatrix<V, I> random_bsr(index_t rows, index_t cols, BlockShape b, double sparsity, unsigned seed) {
  const auto dense = random_dense<V>(rows, cols, seed);
  return prune_blocks<V, I>(dense.view(), {b, sparsity}).weights;
}

// ---- format -------------------------------------------------------------------------------------
TEST(Bsr, DenseRoundTripWithPartialBlocks) {
  const auto d = random_dense<double>(7, 10, 1, 0.6);
  const auto b = dense_to_bsr<double, std::int32_t>(d.view(), 3, 4);  // 3 x 3 grid, partial edges
  EXPECT_EQ(b.block_grid_rows(), 3);
  EXPECT_EQ(b.block_grid_cols(), 3);
  validate(b.view(), "b");
  const auto back = bsr_to_dense(b);
  for (index_t i = 0; i < 7; ++i)
    for (index_t j = 0; j < 10; ++j) EXPECT_EQ(back(i, j), d(i, j));
  // The padding of the last block row (rows 7 and 8 of the grid) is zero.
  const auto csr = bsr_to_csr(b);
  const auto b2 = csr_to_bsr(csr, 3, 4);
  ASSERT_EQ(b2.nnzb(), b.nnzb());
  for (std::size_t k = 0; k < b.values().size(); ++k) EXPECT_EQ(b2.values()[k], b.values()[k]);
}

TEST(Bsr, CsrKeepsExplicitZerosAsBlocks) {
  // One stored zero makes its block exist; BSR -> CSR writes every entry of a stored block.
  const auto csr = CsrMatrix<float, std::int64_t>::from_arrays(4, 4, {0, 1, 1, 1, 2}, {3, 0}, {0.0f, 2.0f});
  const auto b = csr_to_bsr(csr, 2, 2);
  EXPECT_EQ(b.nnzb(), 2);
  const auto back = bsr_to_csr(b);
  EXPECT_EQ(back.nnz(), 8);
  const auto again = csr_to_bsr(back, 2, 2);
  EXPECT_EQ(again.nnzb(), 2);
}

TEST(Bsr, MatrixMarketRoundTrip) {
  const auto w = random_bsr<double, std::int32_t>(12, 20, {4, 5}, 0.5, 3);
  const std::string path = testing::TempDir() + "/bsr_round_trip.mtx";
  write_matrix_market(path, bsr_to_csr(w));
  auto file = read_matrix_market<double, std::int32_t>(path);
  const auto back = csr_to_bsr(file.take_csr(), 4, 5);
  ASSERT_EQ(back.nnzb(), w.nnzb());
  for (std::size_t k = 0; k < w.values().size(); ++k) EXPECT_DOUBLE_EQ(back.values()[k], w.values()[k]);
  std::remove(path.c_str());
}

TEST(Bsr, ValidationNamesTheProblem) {
  using B = BsrMatrix<float, std::int32_t>;
  EXPECT_THROW(B(4, 4, 0, 2), InvalidArgument);
  // block column out of the grid
  EXPECT_THROW(B::from_arrays(4, 4, 2, 2, {0, 1, 1}, {2}, std::vector<float>(4, 1.0f)), IndexOutOfRange);
  // unsorted block columns
  EXPECT_THROW(B::from_arrays(4, 4, 2, 2, {0, 2, 2}, {1, 0}, std::vector<float>(8, 1.0f)), InvalidStructure);
  // NaN
  EXPECT_THROW(B::from_arrays(4, 4, 2, 2, {0, 1, 1}, {0}, {1.0f, NAN, 1.0f, 1.0f}), NonFinite);
  // wrong number of values
  EXPECT_THROW(B::from_arrays(4, 4, 2, 2, {0, 1, 1}, {0}, {1.0f}), DimensionMismatch);
  // a non-zero in the padding of a 3 x 3 matrix cut into 2 x 2 blocks
  try {
    B::from_arrays(3, 3, 2, 2, {0, 0, 1}, {1}, {1.0f, 5.0f, 0.0f, 0.0f});
    FAIL() << "padding accepted";
  } catch (const InvalidStructure& e) {
    EXPECT_NE(std::string(e.what()).find("padding"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(B::from_arrays(3, 3, 2, 2, {0, 0, 1}, {1}, {1.0f, 0.0f, 0.0f, 0.0f}));
}

// ---- pruning ------------------------------------------------------------------------------------
TEST(Prune, BlockShapeParsing) {
  EXPECT_EQ(parse_block_shape("32x32").rows, 32);
  EXPECT_EQ(parse_block_shape("4X8").cols, 8);
  EXPECT_EQ(parse_block_shape("16").cols, 16);
  EXPECT_EQ(parse_block_shape("1x64").cols, 64);
  for (const char* bad : {"", "x", "0x4", "65x1", "3x", "ax2", "4x4x4", "-2x2", "2.5x2"})
    EXPECT_THROW(parse_block_shape(bad), InvalidArgument) << bad;
  EXPECT_THROW(parse_block_norm("l3"), InvalidArgument);
  EXPECT_EQ(parse_block_norm("MAX"), BlockNorm::Max);
}

TEST(Prune, BlockNorms) {
  DenseMatrix<double> w(3, 4);  // 2 x 2 blocks: a 2 x 2 grid with partial last row
  const double values[3][4] = {{1, -2, 0, 0}, {2, 4, 0, 3}, {-1, 0, 0, 0}};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) w(i, j) = values[i][j];
  const auto l1 = block_norms(w.view(), {2, 2}, BlockNorm::L1);
  const auto l2 = block_norms(w.view(), {2, 2}, BlockNorm::L2);
  const auto mx = block_norms(w.view(), {2, 2}, BlockNorm::Max);
  EXPECT_EQ(l1, (std::vector<double>{9, 3, 1, 0}));
  EXPECT_DOUBLE_EQ(l2[0], 5.0);
  EXPECT_DOUBLE_EQ(l2[1], 3.0);
  EXPECT_EQ(mx, (std::vector<double>{4, 3, 1, 0}));
}

TEST(Prune, AchievedSparsityIsExactAndTiesAreDeterministic) {
  EXPECT_EQ(blocks_to_keep(100, 0.9), 10);
  EXPECT_EQ(blocks_to_keep(10, 0.33), 7);
  EXPECT_EQ(blocks_to_keep(10, 0.0), 10);
  EXPECT_EQ(blocks_to_keep(10, 1.0), 0);
  EXPECT_THROW(blocks_to_keep(10, 1.5), InvalidArgument);
  EXPECT_THROW(blocks_to_keep(10, -0.1), InvalidArgument);

  const auto w = random_dense<float>(64, 48, 5);
  for (double s : {0.0, 0.25, 0.5, 0.9, 1.0}) {
    const auto p = prune_blocks<float, std::int32_t>(w.view(), {{8, 8}, s, BlockNorm::L2});
    EXPECT_EQ(p.report.blocks_total, 48);
    EXPECT_EQ(p.report.blocks_kept, 48 - std::llround(s * 48)) << s;
    // Exact when s * 48 is whole (0, 0.25, 0.5, 1); 0.9 * 48 = 43.2 rounds to 43 blocks removed.
    EXPECT_DOUBLE_EQ(p.report.block_sparsity, double(std::llround(s * 48)) / 48.0);
    EXPECT_EQ(p.weights.nnzb(), p.report.blocks_kept);
  }
  // All blocks equal: the first blocks in grid order are kept.
  DenseMatrix<double> ones(4, 8);
  for (index_t i = 0; i < 4; ++i)
    for (index_t j = 0; j < 8; ++j) ones(i, j) = 1.0;
  const auto p = prune_blocks<double, std::int32_t>(ones.view(), {{2, 2}, 0.5});
  const std::vector<std::int32_t> cols(p.weights.block_col_idx().host_span().begin(),
                                       p.weights.block_col_idx().host_span().end());
  EXPECT_EQ(cols, (std::vector<std::int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(p.weights.block_row_ptr()[1], 4);
}

TEST(Prune, KeepsTheLargestBlocksAndReports) {
  const auto w = random_dense<double>(30, 20, 7);
  const auto p = prune_blocks<double, std::int32_t>(w.view(), {{5, 4}, 0.6, BlockNorm::L1, 5});
  const auto norms = block_norms(w.view(), {5, 4}, BlockNorm::L1);
  // Every kept block's norm is at least every dropped block's norm.
  const auto pruned = bsr_to_dense(p.weights);
  const auto kept_norms = block_norms(pruned.view(), {5, 4}, BlockNorm::L1);
  double min_kept = 1e300, max_dropped = 0, dropped_sq = 0, total_sq = 0;
  index_t zeros = 0;
  for (std::size_t k = 0; k < norms.size(); ++k) {
    if (kept_norms[k] > 0) min_kept = std::min(min_kept, norms[k]);
    else max_dropped = std::max(max_dropped, norms[k]);
  }
  EXPECT_GE(min_kept, max_dropped);
  for (index_t i = 0; i < 30; ++i)
    for (index_t j = 0; j < 20; ++j) {
      total_sq += w(i, j) * w(i, j);
      dropped_sq += (w(i, j) - pruned(i, j)) * (w(i, j) - pruned(i, j));
      zeros += pruned(i, j) == 0;
    }
  EXPECT_NEAR(p.report.relative_frobenius_error, std::sqrt(dropped_sq / total_sq), 1e-12);
  EXPECT_DOUBLE_EQ(p.report.element_sparsity, double(zeros) / 600.0);
  const auto& h = p.report.block_norm_histogram;
  EXPECT_EQ(h.counts.size(), 5u);
  EXPECT_EQ(std::accumulate(h.counts.begin(), h.counts.end(), std::int64_t{0}), 30);
  // 100%: nothing kept, error 1; 0%: everything kept, error 0.
  const PruneOptions all{{5, 4}, 1.0}, none{{5, 4}, 0.0};
  EXPECT_DOUBLE_EQ((prune_blocks<double, std::int32_t>(w.view(), all).report.relative_frobenius_error), 1.0);
  EXPECT_DOUBLE_EQ((prune_blocks<double, std::int32_t>(w.view(), none).report.relative_frobenius_error), 0.0);
}

TEST(Prune, GlobalRankingAcrossLayers) {
  auto big = random_dense<double>(8, 8, 11), small = random_dense<double>(8, 8, 12);
  for (index_t i = 0; i < 8; ++i)
    for (index_t j = 0; j < 8; ++j) small(i, j) *= 0.01;  // every block of `small` loses
  const std::vector<DenseView<const double>> layers{big.view(), small.view()};
  const auto p = prune_blocks_global<double, std::int32_t>(layers, {{4, 4}, 0.5});
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].weights.nnzb() + p[1].weights.nnzb(), 4);
  EXPECT_EQ(p[0].weights.nnzb(), 4);
  EXPECT_EQ(p[1].weights.nnzb(), 0);
  EXPECT_THROW(prune_blocks<double>(big.view(), {{0, 4}, 0.5}), InvalidArgument);
  big(1, 1) = NAN;
  EXPECT_THROW(prune_blocks<double>(big.view(), {{4, 4}, 0.5}), NonFinite);
}

TEST(Prune, CubicSchedule) {
  SparsitySchedule s{0.0, 0.9, 10, 4, 5};  // prune at 10, 15, 20, 25, 30
  EXPECT_NO_THROW(s.validate());
  EXPECT_DOUBLE_EQ(s.sparsity_at(0), 0.0);
  EXPECT_DOUBLE_EQ(s.sparsity_at(10), 0.0);
  EXPECT_NEAR(s.sparsity_at(15), 0.9 - 0.9 * std::pow(0.75, 3), 1e-15);
  EXPECT_NEAR(s.sparsity_at(20), 0.9 - 0.9 * 0.125, 1e-15);
  EXPECT_DOUBLE_EQ(s.sparsity_at(30), 0.9);
  EXPECT_DOUBLE_EQ(s.sparsity_at(1000), 0.9);
  for (std::int64_t t = 0; t < 40; ++t) EXPECT_EQ(s.prunes_at(t), t >= 10 && t <= 30 && t % 5 == 0) << t;
  double last = 0;
  for (std::int64_t t = 10; t <= 30; t += 5) {
    EXPECT_GE(s.sparsity_at(t), last);
    last = s.sparsity_at(t);
  }
  const auto one = SparsitySchedule::one_shot(0.7, 3);
  EXPECT_DOUBLE_EQ(one.sparsity_at(2), 0.7);
  EXPECT_TRUE(one.prunes_at(3));
  EXPECT_FALSE(one.prunes_at(4));
  EXPECT_THROW((SparsitySchedule{0.0, 1.2, 0, 1, 1}.validate()), InvalidArgument);
  EXPECT_THROW((SparsitySchedule{0.0, 0.5, 0, 1, 0}.validate()), InvalidArgument);
}

// ---- the layer on every backend -------------------------------------------------------------------
class Layer : public BackendTest {};
INSTANTIATE_TEST_SUITE_P(AllBackends, Layer, testing::Values(Backend::Cpu, Backend::Cuda), backend_name);

struct Shape {
  index_t batch, in, out;
  BlockShape block;
  double sparsity;
};
const std::vector<Shape> kShapes = {
    {5, 10, 7, {1, 1}, 0.7},  {1, 12, 9, {3, 4}, 0.5},  {33, 40, 24, {8, 8}, 0.6},
    {70, 37, 45, {8, 16}, 0.3}, {17, 64, 64, {32, 32}, 0.5}, {9, 20, 30, {4, 4}, 0.0},
    {9, 20, 30, {4, 4}, 1.0},  {130, 70, 66, {64, 64}, 0.0},
};

// y = x W^T + b in long double.
template <class V>
std::vector<long double> dense_forward(const DenseMatrix<V>& x, const DenseMatrix<V>& w, const std::vector<V>& b) {
  std::vector<long double> y(static_cast<std::size_t>(x.rows() * w.rows()));
  for (index_t s = 0; s < x.rows(); ++s)
    for (index_t o = 0; o < w.rows(); ++o) {
      long double acc = b[o];
      for (index_t i = 0; i < w.cols(); ++i) acc += static_cast<long double>(x(s, i)) * w(o, i);
      y[s * w.rows() + o] = acc;
    }
  return y;
}

template <class V>
void check_forward_matches_dense(Backend backend) {
  const auto ctx = make_context(backend);
  for (const auto& sh : kShapes) {
    const auto w = random_bsr<V, std::int32_t>(sh.out, sh.in, sh.block, sh.sparsity, 21);
    const auto x = random_dense<V>(sh.batch, sh.in, 22);
    const auto b = random_vector<V>(sh.out, 23);
    BlockSparseLinear<V> layer(ctx, w, b);
    DenseMatrix<V> y(ctx, sh.batch, sh.out, Layout::RowMajor, ctx.memory_space());
    const auto xd = x.copy_to(ctx, ctx.memory_space());
    layer.forward(xd.view(), y.view());
    const auto got = y.copy_to(ctx, MemorySpace::Host);
    const auto want = dense_forward(x, bsr_to_dense(w), b);
    for (std::size_t k = 0; k < want.size(); ++k)
      ASSERT_NEAR(got.data()[k], static_cast<double>(want[k]), 50 * tolerance<V>() * (1 + std::sqrt(double(sh.in))))
          << "block " << sh.block.rows << "x" << sh.block.cols << " sparsity " << sh.sparsity << " at " << k;
  }
}

TEST_P(Layer, ForwardEqualsDenseLayerWithPrunedWeights) {
  check_forward_matches_dense<float>(GetParam());
  check_forward_matches_dense<double>(GetParam());
}

// Loss L = sum(G .* Y): dL/dY = G. Gradients against central differences in float64.
TEST_P(Layer, GradientsMatchFiniteDifferences) {
  const auto ctx = make_context(GetParam());
  for (const auto& sh : kShapes) {
    if (sh.sparsity == 1.0) continue;
    const auto w = random_bsr<double, std::int32_t>(sh.out, sh.in, sh.block, sh.sparsity, 31);
    const auto x = random_dense<double>(sh.batch, sh.in, 32);
    const auto g = random_dense<double>(sh.batch, sh.out, 33);
    const auto b = random_vector<double>(sh.out, 34);
    auto loss = [&](const BsrMatrix<double>& wm, const std::vector<double>& bias, const DenseMatrix<double>& xm) {
      const auto y = dense_forward(xm, bsr_to_dense(wm), bias);
      long double l = 0;
      for (std::size_t k = 0; k < y.size(); ++k) l += y[k] * g.data()[k];
      return l;
    };
    BlockSparseLinear<double> layer(ctx, w, b);
    DenseMatrix<double> dx(ctx, sh.batch, sh.in, Layout::RowMajor, ctx.memory_space());
    const auto xd = x.copy_to(ctx, ctx.memory_space()), gd = g.copy_to(ctx, ctx.memory_space());
    layer.backward(xd.view(), gd.view(), dx.view());
    const auto gw = layer.weight_grad().to_vector(ctx), gb = layer.bias_grad().to_vector(ctx);
    const auto gx = dx.copy_to(ctx, MemorySpace::Host);
    const double eps = 1e-4;
    auto check = [&](double analytic, long double plus, long double minus, const std::string& what) {
      const double numeric = static_cast<double>((plus - minus) / (2 * eps));
      ASSERT_LE(std::abs(analytic - numeric), 1e-7 * std::max(1.0, std::abs(numeric)))
          << what << " block " << sh.block.rows << "x" << sh.block.cols << ": " << analytic << " vs " << numeric;
    };
    const index_t bs = sh.block.rows * sh.block.cols;
    for (index_t e = 0; e < w.nnzb() * bs; e += std::max<index_t>(1, w.nnzb() * bs / 40)) {
      const index_t blk = e / bs, i = (e % bs) / sh.block.cols, j = e % sh.block.cols;
      index_t br = 0;
      while (w.block_row_ptr()[br + 1] <= blk) ++br;
      if (br * sh.block.rows + i >= sh.out || w.block_col_idx()[blk] * sh.block.cols + j >= sh.in) {
        EXPECT_EQ(gw[e], 0.0) << "padding gradient";
        continue;
      }
      auto wp = w.copy_to(ctx, MemorySpace::Host), wm = w.copy_to(ctx, MemorySpace::Host);
      wp.values()[e] += eps;
      wm.values()[e] -= eps;
      check(gw[e], loss(wp, b, x), loss(wm, b, x), "dW[" + std::to_string(e) + "]");
    }
    for (index_t o = 0; o < sh.out; o += 3) {
      auto bp = b, bm = b;
      bp[o] += eps;
      bm[o] -= eps;
      check(gb[o], loss(w, bp, x), loss(w, bm, x), "db[" + std::to_string(o) + "]");
    }
    for (index_t s = 0; s < sh.batch; s += std::max<index_t>(1, sh.batch / 4))
      for (index_t i = 0; i < sh.in; i += 5) {
        auto xp = random_dense<double>(sh.batch, sh.in, 32), xm = random_dense<double>(sh.batch, sh.in, 32);
        xp(s, i) += eps;
        xm(s, i) -= eps;
        check(gx(s, i), loss(w, b, xp), loss(w, b, xm), "dX(" + std::to_string(s) + "," + std::to_string(i) + ")");
      }
  }
}

TEST_P(Layer, OptimizerStepsMatchTheirFormulas) {
  const auto ctx = make_context(GetParam());
  const auto w0 = random_vector<double>(50, 41), g0 = random_vector<double>(50, 42);
  auto to_dev = [&](const std::vector<double>& v) { return Array<double>::from_vector(v).copy_to(ctx, ctx.memory_space()); };
  OptimizerOptions adam{OptimizerKind::Adam, 0.01};
  adam.weight_decay = 0.1;
  auto w = to_dev(w0), g = to_dev(g0), m = to_dev(std::vector<double>(50, 0.0)), v = to_dev(std::vector<double>(50, 0.0));
  adam_step<double>(ctx, w.view(), g.view(), m.view(), v.view(), adam, 1);
  adam_step<double>(ctx, w.view(), g.view(), m.view(), v.view(), adam, 2);
  const auto got = w.to_vector(ctx);
  for (std::size_t i = 0; i < 50; ++i) {
    double wi = w0[i], mi = 0, vi = 0;
    for (int t = 1; t <= 2; ++t) {
      const double gi = g0[i] + 0.1 * wi;
      mi = 0.9 * mi + 0.1 * gi;
      vi = 0.999 * vi + 0.001 * gi * gi;
      wi -= 0.01 * (mi / (1 - std::pow(0.9, t))) / (std::sqrt(vi / (1 - std::pow(0.999, t))) + 1e-8);
    }
    EXPECT_NEAR(got[i], wi, 1e-14);
  }
  OptimizerOptions sgd{OptimizerKind::Sgd, 0.5};
  sgd.momentum = 0.9;
  auto w2 = to_dev(w0), vel = to_dev(std::vector<double>(50, 0.0));
  sgd_step<double>(ctx, w2.view(), g.view(), vel.view(), sgd);
  sgd_step<double>(ctx, w2.view(), g.view(), vel.view(), sgd);
  const auto got2 = w2.to_vector(ctx);
  for (std::size_t i = 0; i < 50; ++i) EXPECT_NEAR(got2[i], w0[i] - 0.5 * g0[i] - 0.5 * 1.9 * g0[i], 1e-14);
  OptimizerOptions bad = adam;
  bad.learning_rate = -1;
  EXPECT_THROW(adam_step<double>(ctx, w.view(), g.view(), m.view(), v.view(), bad, 1), InvalidArgument);
}

TEST_P(Layer, StepKeepsPatternAndPruningCarriesOptimizerState) {
  const auto ctx = make_context(GetParam());
  const auto w = random_bsr<double, std::int32_t>(32, 24, {4, 4}, 0.25, 51);
  const auto x = random_dense<double>(16, 24, 52), g = random_dense<double>(16, 32, 53);
  BlockSparseLinear<double> layer(ctx, w);
  const auto xd = x.copy_to(ctx, ctx.memory_space()), gd = g.copy_to(ctx, ctx.memory_space());
  for (int t = 0; t < 3; ++t) {
    layer.backward(xd.view(), gd.view(), DenseView<double>{});
    layer.step({OptimizerKind::Adam, 1e-2});
  }
  const auto before = layer.weights_on_host();
  EXPECT_EQ(before.nnzb(), w.nnzb());
  EXPECT_EQ(before.block_col_idx().to_vector(ctx), w.block_col_idx().to_vector(ctx));
  const auto m_before = layer.optimizer_state(0).to_vector(ctx), v_before = layer.optimizer_state(1).to_vector(ctx);
  const auto norms = block_norms(before, BlockNorm::L2);

  const auto report = layer.prune_to(0.5);
  EXPECT_EQ(report.blocks_kept, 24);  // 48 grid blocks
  EXPECT_DOUBLE_EQ(layer.block_sparsity(), 0.5);
  const auto after = layer.weights_on_host();
  const auto m_after = layer.optimizer_state(0).to_vector(ctx), v_after = layer.optimizer_state(1).to_vector(ctx);
  // Match each kept block to its old position through its values, and check the moments moved with it.
  index_t matched = 0;
  for (index_t k = 0; k < after.nnzb(); ++k)
    for (index_t o = 0; o < before.nnzb(); ++o)
      if (std::equal(after.values().data() + k * 16, after.values().data() + (k + 1) * 16, before.values().data() + o * 16)) {
        ++matched;
        for (int e = 0; e < 16; ++e) {
          EXPECT_EQ(m_after[k * 16 + e], m_before[o * 16 + e]);
          EXPECT_EQ(v_after[k * 16 + e], v_before[o * 16 + e]);
        }
      }
  EXPECT_EQ(matched, after.nnzb());
  // prune_to keeps exactly the 24 largest blocks by L2 norm: the kept set, found through the values,
  // equals the top 24 of the old norms (ties broken by stored order, as the ranking does).
  std::vector<index_t> order(norms.size());
  std::iota(order.begin(), order.end(), index_t{0});
  std::stable_sort(order.begin(), order.end(), [&](index_t a, index_t b) { return norms[a] > norms[b]; });
  std::vector<index_t> want(order.begin(), order.begin() + 24), kept;
  std::sort(want.begin(), want.end());
  for (index_t k = 0; k < after.nnzb(); ++k)
    for (index_t o = 0; o < before.nnzb(); ++o)
      if (std::equal(after.values().data() + k * 16, after.values().data() + (k + 1) * 16, before.values().data() + o * 16))
        kept.push_back(o);
  std::sort(kept.begin(), kept.end());
  EXPECT_EQ(kept, want);
  EXPECT_LT(norms[order[24]], norms[order[23]]) << "the test needs a strict gap at the cut";
  // A lower target never adds blocks; training goes on with the new pattern.
  EXPECT_EQ(layer.prune_to(0.1).blocks_kept, 24);
  layer.backward(xd.view(), gd.view(), DenseView<double>{});
  layer.step({OptimizerKind::Adam, 1e-2});
  EXPECT_EQ(layer.weights_on_host().nnzb(), 24);
}

TEST_P(Layer, GlobalPruningOfLayers) {
  const auto ctx = make_context(GetParam());
  BlockSparseLinear<float> a(ctx, random_bsr<float, std::int32_t>(16, 16, {4, 4}, 0.0, 61));
  BlockSparseLinear<float> b(ctx, random_bsr<float, std::int32_t>(16, 8, {4, 4}, 0.0, 62));
  std::vector<BlockSparseLinear<float>*> layers{&a, &b};
  const auto reports = prune_layers_global<float, std::int32_t>(layers, 0.75);
  EXPECT_EQ(a.weights().nnzb() + b.weights().nnzb(), 6);  // 24 blocks in all
  EXPECT_EQ(reports.size(), 2u);
}

TEST_P(Layer, RefusesBadArguments) {
  const auto ctx = make_context(GetParam());
  const auto w = random_bsr<float, std::int32_t>(8, 6, {2, 3}, 0.0, 71);
  BlockSparseLinear<float> layer(ctx, w);
  DenseMatrix<float> x(ctx, 4, 5, Layout::RowMajor, ctx.memory_space()), y(ctx, 4, 8, Layout::RowMajor, ctx.memory_space());
  EXPECT_THROW(layer.forward(x.view(), y.view()), DimensionMismatch);
  DenseMatrix<float> xc(ctx, 4, 6, Layout::ColMajor, ctx.memory_space());
  EXPECT_THROW(layer.forward(xc.view(), y.view()), InvalidArgument);
  EXPECT_THROW(BlockSparseLinear<float>(ctx, w, std::vector<float>(3, 0.0f)), DimensionMismatch);
  EXPECT_THROW(BlockSparseLinear<float>(ctx, w, std::vector<float>(8, NAN)), NonFinite);
  EXPECT_THROW(layer.prune_to(2.0), InvalidArgument);
}

// The operands as the tensor cores see them: TF32 keeps 10 mantissa bits (cvt.rna: nearest, ties
// away from zero), BF16 keeps 7 (nearest even). Strict leaves them as they are.
float round_operand(float v, MatmulPrecision precision) {
  std::uint32_t u;
  std::memcpy(&u, &v, 4);
  if (precision == MatmulPrecision::Tf32) u = (u + 0x1000u) & 0xFFFFE000u;
  if (precision == MatmulPrecision::Bf16) u = (u + 0x7FFFu + ((u >> 16) & 1u)) & 0xFFFF0000u;
  std::memcpy(&v, &u, 4);
  return v;
}

// Each output of the layer on CUDA against a float64 reference made from the operands rounded to
// the precision in use: the products of rounded operands are exact in FP32, so what is left is FP32
// accumulation over K terms, |error| <= K eps_32 sum |terms| (K = in, out or batch). A wrong
// rounding (or none) would be off by about 2^-8 (BF16) or 2^-11 (TF32) of each term, far outside.
// Strict (FP32 FMA) is also held against the CPU twin by the same bound.
TEST_P(Layer, CudaTwinsAgreeWithCpu) {
  if (GetParam() != Backend::Cuda) GTEST_SKIP() << "compares CUDA with the CPU";
  const auto gpu = make_context(Backend::Cuda), cpu = make_context(Backend::Cpu);
  constexpr double eps = 5.97e-8;  // 2^-24
  for (const auto& sh : kShapes)
    for (auto precision : {MatmulPrecision::Strict, MatmulPrecision::Tf32, MatmulPrecision::Bf16}) {
      const auto w = random_bsr<float, std::int32_t>(sh.out, sh.in, sh.block, sh.sparsity, 81);
      const auto x = random_dense<float>(sh.batch, sh.in, 82), g = random_dense<float>(sh.batch, sh.out, 83);
      const auto bias = random_vector<float>(sh.out, 84);
      std::vector<float> out[2][4];
      int slot = 0;
      for (const Context* ctx : {&cpu, &gpu}) {
        BlockSparseLinear<float> layer(*ctx, w, bias);
        layer.set_precision(precision);
        const auto xd = x.copy_to(*ctx, ctx->memory_space()), gd = g.copy_to(*ctx, ctx->memory_space());
        DenseMatrix<float> y(*ctx, sh.batch, sh.out, Layout::RowMajor, ctx->memory_space());
        DenseMatrix<float> dx(*ctx, sh.batch, sh.in, Layout::RowMajor, ctx->memory_space());
        layer.forward(xd.view(), y.view());
        layer.backward(xd.view(), gd.view(), dx.view());
        const auto yh = y.copy_to(*ctx, MemorySpace::Host), dxh = dx.copy_to(*ctx, MemorySpace::Host);
        out[slot][0].assign(yh.data(), yh.data() + sh.batch * sh.out);
        out[slot][1].assign(dxh.data(), dxh.data() + sh.batch * sh.in);
        out[slot][2] = layer.weight_grad().to_vector(*ctx);
        out[slot][3] = layer.bias_grad().to_vector(*ctx);
        ++slot;
      }
      // The references, in long double, from the rounded operands (the bias and its gradient are
      // plain FP32: no tensor core touches them).
      const auto wd = bsr_to_dense(w);
      auto r = [&](float v) { return static_cast<long double>(round_operand(v, precision)); };
      std::vector<long double> ref[4], mag[4];
      for (index_t s = 0; s < sh.batch; ++s)
        for (index_t o = 0; o < sh.out; ++o) {
          long double acc = 0, m = 0;
          for (index_t i = 0; i < sh.in; ++i) {
            acc += r(x(s, i)) * r(wd(o, i));
            m += std::fabs(r(x(s, i)) * r(wd(o, i)));
          }
          ref[0].push_back(acc + bias[o]);
          mag[0].push_back(sh.in * (m + std::fabs(acc + bias[o])));
        }
      for (index_t s = 0; s < sh.batch; ++s)
        for (index_t i = 0; i < sh.in; ++i) {
          long double acc = 0, m = 0;
          for (index_t o = 0; o < sh.out; ++o) {
            acc += r(g(s, o)) * r(wd(o, i));
            m += std::fabs(r(g(s, o)) * r(wd(o, i)));
          }
          ref[1].push_back(acc);
          mag[1].push_back(sh.out * m);
        }
      const index_t bh = w.block_height(), bw = w.block_width();
      for (index_t br = 0; br < w.block_grid_rows(); ++br)
        for (index_t k = w.block_row_ptr()[br]; k < w.block_row_ptr()[br + 1]; ++k)
          for (index_t a = 0; a < bh; ++a)
            for (index_t b = 0; b < bw; ++b) {
              const index_t o = br * bh + a, i = static_cast<index_t>(w.block_col_idx()[k]) * bw + b;
              long double acc = 0, m = 0;
              if (o < sh.out && i < sh.in)
                for (index_t s = 0; s < sh.batch; ++s) {
                  acc += r(g(s, o)) * r(x(s, i));
                  m += std::fabs(r(g(s, o)) * r(x(s, i)));
                }
              ref[2].push_back(acc);
              mag[2].push_back(sh.batch * m);
            }
      for (index_t o = 0; o < sh.out; ++o) {
        long double acc = 0, m = 0;
        for (index_t s = 0; s < sh.batch; ++s) {
          acc += g(s, o);
          m += std::fabs(static_cast<long double>(g(s, o)));
        }
        ref[3].push_back(acc);
        mag[3].push_back(sh.batch * m);
      }
      for (int q = 0; q < 4; ++q) {
        ASSERT_EQ(out[1][q].size(), ref[q].size()) << "output " << q;
        for (std::size_t k = 0; k < ref[q].size(); ++k) {
          const double bound = 2 * eps * static_cast<double>(mag[q][k]) + 1e-30;
          ASSERT_NEAR(out[1][q][k], static_cast<double>(ref[q][k]), bound)
              << "CUDA output " << q << " precision " << to_string(precision) << " block " << sh.block.rows << "x"
              << sh.block.cols << " at " << k;
          if (precision == MatmulPrecision::Strict)
            ASSERT_NEAR(out[1][q][k], out[0][q][k], 2 * bound) << "CUDA against the CPU twin, output " << q << " at " << k;
        }
      }
    }
  // The cuSPARSE baseline computes the same forward product.
  const auto w = random_bsr<float, std::int32_t>(64, 96, {32, 32}, 0.5, 91);
  const auto x = random_dense<float>(40, 96, 92);
  const auto wd = w.copy_to(gpu, MemorySpace::Device);
  const auto xd = x.copy_to(gpu, MemorySpace::Device);
  DenseMatrix<float> y1(gpu, 40, 64, Layout::RowMajor, MemorySpace::Device), y2(gpu, 40, 64, Layout::RowMajor, MemorySpace::Device);
  bsr_linear_forward<float, std::int32_t>(gpu, xd.view(), wd.view(), {}, y1.view());
  bsr_linear_forward<float, std::int32_t>(gpu, xd.view(), wd.view(), {}, y2.view(), MatmulPrecision::Strict,
                                          BsrAlgorithm::CusparseBsr);
  const auto a = y1.copy_to(gpu, MemorySpace::Host), b = y2.copy_to(gpu, MemorySpace::Host);
  for (index_t k = 0; k < 40 * 64; ++k) ASSERT_NEAR(a.data()[k], b.data()[k], 1e-4);
}

// More than 65535 block rows (forward) and block columns (dX): a 65536-latent layer with 1 x 16
// blocks has 65536 block rows. CUDA grids cap their y dimension at 65535; the CPU has no such cap.
TEST_P(Layer, ManyBlockRowsAndColumns) {
  const auto ctx = make_context(GetParam());
  const index_t many = 70000;
  for (bool tall : {true, false}) {
    const index_t out = tall ? many : 16, in = tall ? 16 : many;
    const auto w = random_bsr<float, std::int32_t>(out, in, tall ? BlockShape{1, 16} : BlockShape{16, 1}, 0.5, 121);
    const auto x = random_dense<float>(3, in, 122), g = random_dense<float>(3, out, 123);
    BlockSparseLinear<float> layer(ctx, w);
    DenseMatrix<float> y(ctx, 3, out, Layout::RowMajor, ctx.memory_space()), dx(ctx, 3, in, Layout::RowMajor, ctx.memory_space());
    const auto xd = x.copy_to(ctx, ctx.memory_space()), gd = g.copy_to(ctx, ctx.memory_space());
    layer.forward(xd.view(), y.view());
    layer.backward(xd.view(), gd.view(), dx.view());
    const auto yh = y.copy_to(ctx, MemorySpace::Host), dxh = dx.copy_to(ctx, MemorySpace::Host);
    const auto wd = bsr_to_dense(w);
    // y = x W^T and dX = G W, each entry a sum of 16 float products: |error| <= 16 eps sum |terms|.
    for (index_t s = 0; s < 3; ++s) {
      for (index_t o = 0; o < out; ++o) {
        long double want = 0, mag = 0;
        for (index_t i = 0; i < in; ++i) {
          want += static_cast<long double>(x(s, i)) * wd(o, i);
          mag += std::fabs(static_cast<long double>(x(s, i)) * wd(o, i));
        }
        ASSERT_NEAR(yh(s, o), static_cast<double>(want), 16 * 1.2e-7 * static_cast<double>(mag) + 1e-30)
            << (tall ? "tall" : "wide") << " y(" << s << ", " << o << ")";
      }
      for (index_t i = 0; i < in; ++i) {
        long double want = 0, mag = 0;
        for (index_t o = 0; o < out; ++o) {
          want += static_cast<long double>(g(s, o)) * wd(o, i);
          mag += std::fabs(static_cast<long double>(g(s, o)) * wd(o, i));
        }
        ASSERT_NEAR(dxh(s, i), static_cast<double>(want), 16 * 1.2e-7 * static_cast<double>(mag) + 1e-30)
            << (tall ? "tall" : "wide") << " dx(" << s << ", " << i << ")";
      }
    }
  }
}

// Column sums over more rows than 65535 chunks of 256 (the old CUDA limit, 16,776,960). The values
// are +-1 with a marker in the last rows, so every partial sum is a small integer: exact in float in
// any summation order, and the answer shows that no row was dropped.
TEST_P(Layer, ColumnSumsPastTheGridLimit) {
  const auto ctx = make_context(GetParam());
  const index_t rows = 65535 * 256 + 300;
  DenseMatrix<float> m(rows, 1);
  for (index_t i = 0; i < rows; ++i) m(i, 0) = (i % 2) ? 1.0f : -1.0f;  // pairs cancel
  m(rows - 1, 0) = 5.0f;                                                 // the last row's -1 -> 5
  const auto md = m.copy_to(ctx, ctx.memory_space());
  Array<float> sums(ctx, 1, ctx.memory_space());
  column_sums<float>(ctx, md.view(), sums.view());
  // rows is even: rows/2 pairs sum to 0, and the last entry (odd index, +1) became 5: total 4.
  EXPECT_EQ(sums.to_vector(ctx)[0], 4.0f);
}

// Two runs of the same forward, backward and step give the same bits (README: deterministic).
TEST_P(Layer, RepeatedRunsAreBitIdentical) {
  const auto ctx = make_context(GetParam());
  const auto w = random_bsr<float, std::int32_t>(96, 80, {16, 16}, 0.5, 131);
  const auto x = random_dense<float>(150, 80, 132), g = random_dense<float>(150, 96, 133);
  for (auto precision : {MatmulPrecision::Strict, MatmulPrecision::Tf32, MatmulPrecision::Bf16}) {
    std::vector<float> out[2][4];
    for (int run = 0; run < 2; ++run) {
      BlockSparseLinear<float> layer(ctx, w, random_vector<float>(96, 134));
      layer.set_precision(precision);
      const auto xd = x.copy_to(ctx, ctx.memory_space()), gd = g.copy_to(ctx, ctx.memory_space());
      DenseMatrix<float> y(ctx, 150, 96, Layout::RowMajor, ctx.memory_space()), dx(ctx, 150, 80, Layout::RowMajor, ctx.memory_space());
      layer.forward(xd.view(), y.view());
      layer.backward(xd.view(), gd.view(), dx.view());
      layer.step({OptimizerKind::Adam, 1e-3});
      const auto yh = y.copy_to(ctx, MemorySpace::Host), dxh = dx.copy_to(ctx, MemorySpace::Host);
      out[run][0].assign(yh.data(), yh.data() + 150 * 96);
      out[run][1].assign(dxh.data(), dxh.data() + 150 * 80);
      out[run][2] = layer.weight_grad().to_vector(ctx);
      const auto wh = layer.weights_on_host();
      out[run][3].assign(wh.values().data(), wh.values().data() + wh.values().size());
    }
    for (int q = 0; q < 4; ++q) EXPECT_EQ(out[0][q], out[1][q]) << "output " << q << " " << to_string(precision);
  }
}

TEST_P(Layer, ColumnSumsAndReluMask) {
  const auto ctx = make_context(GetParam());
  const auto m = random_dense<double>(600, 37, 101);
  const auto md = m.copy_to(ctx, ctx.memory_space());
  Array<double> sums(ctx, 37, ctx.memory_space());
  column_sums<double>(ctx, md.view(), sums.view());
  const auto got = sums.to_vector(ctx);
  for (index_t j = 0; j < 37; ++j) {
    long double s = 0;
    for (index_t i = 0; i < 600; ++i) s += m(i, j);
    EXPECT_NEAR(got[j], static_cast<double>(s), 1e-12);
  }
  auto a = Array<double>::from_vector({1.0, 0.0, -2.0, 3.0}).copy_to(ctx, ctx.memory_space());
  auto g = Array<double>::from_vector({5.0, 6.0, 7.0, 8.0}).copy_to(ctx, ctx.memory_space());
  relu_mask<double>(ctx, a.view(), g.view());
  EXPECT_EQ(g.to_vector(ctx), (std::vector<double>{5.0, 0.0, 0.0, 8.0}));
}

// ---- distillation -----------------------------------------------------------------------------------
TEST_P(Layer, DistillBeatsOneShotPruning) {
  const auto ctx = make_context(GetParam());
  // A teacher with structure the student can recover: low-rank weights, so fine-tuning the kept
  // blocks compensates for the pruned ones.
  const auto u = random_dense<double>(32, 4, 111), v = random_dense<double>(4, 48, 112);
  std::vector<DenseLayer<double>> teacher(1);
  teacher[0].weights = DenseMatrix<double>(32, 48);
  for (index_t i = 0; i < 32; ++i)
    for (index_t j = 0; j < 48; ++j)
      for (index_t r = 0; r < 4; ++r) teacher[0].weights(i, j) += u(i, r) * v(r, j);
  teacher[0].bias = random_vector<double>(32, 113);
  // Correlated inputs (8 latent factors plus a little noise): kept weights can take over the work of
  // pruned ones, which is what distillation exploits. (With isotropic inputs, one-shot magnitude
  // pruning is already optimal for a linear layer.)
  const auto latent = random_dense<double>(512, 8, 114), mix = random_dense<double>(8, 48, 117);
  auto inputs = random_dense<double>(512, 48, 118);
  for (index_t i = 0; i < 512; ++i)
    for (index_t j = 0; j < 48; ++j) {
      double s = 0.05 * inputs(i, j);
      for (index_t r = 0; r < 8; ++r) s += latent(i, r) * mix(r, j);
      inputs(i, j) = s;
    }
  DistillOptions o;
  o.block = {4, 4};
  o.sparsity = 0.75;
  o.steps = 400;
  o.batch_size = 64;
  o.optimizer.learning_rate = 1e-2;
  const auto r = distill<double>(ctx, teacher, inputs.view(), o);
  EXPECT_DOUBLE_EQ(r.block_sparsity, 0.75);
  EXPECT_EQ(r.weights[0].nnzb(), 24);
  EXPECT_EQ(r.loss.size(), 400u);
  EXPECT_LT(r.student_relative_error, 0.5 * r.one_shot_relative_error)
      << r.student_relative_error << " vs " << r.one_shot_relative_error;

  // A two-layer teacher (ReLU between) runs and reaches its sparsity too.
  std::vector<DenseLayer<double>> mlp(2);
  mlp[0].weights = random_dense<double>(40, 48, 115);
  mlp[1].weights = random_dense<double>(16, 40, 116);
  o.steps = 60;
  o.schedule = ScheduleKind::OneShot;
  const auto r2 = distill<double>(ctx, mlp, inputs.view(), o);
  EXPECT_NEAR(r2.block_sparsity, 0.75, 0.01);
  EXPECT_LE(r2.student_relative_error, r2.one_shot_relative_error * 1.01);
}

TEST(Distill, RefusesBadInput) {
  const auto ctx = make_context(Backend::Cpu);
  std::vector<DenseLayer<float>> teacher(1);
  teacher[0].weights = random_dense<float>(8, 6, 1);
  const auto inputs = random_dense<float>(10, 5, 2);  // 5 features, the teacher wants 6
  DistillOptions o;
  o.block = {2, 2};
  EXPECT_THROW(distill<float>(ctx, teacher, inputs.view(), o), DimensionMismatch);
  auto good = random_dense<float>(10, 6, 3);
  o.sparsity = 1.5;
  EXPECT_THROW(distill<float>(ctx, teacher, good.view(), o), InvalidArgument);
  o.sparsity = 0.5;
  good(3, 3) = INFINITY;
  EXPECT_THROW(distill<float>(ctx, teacher, good.view(), o), NonFinite);
}

}  // namespace
}  // namespace shrink::test
