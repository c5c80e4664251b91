// Sparse autoencoders: gradients against finite differences, the TopK sparse decoder against the dense
// masked one, the kernels against brute force, training behaviour, checkpoints and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <numeric>
#include <string>
#include <vector>

#include "host/core/dispatch.hpp"
#include "host/core/dispatch.hpp"
#include "kernels/ops/topk_math.hpp"
#include "shrink/shrink.hpp"
#include "tests/test_paths.hpp"
#include "test_util.hpp"

namespace shrink {
namespace {

using test::backend_name;
using test::make_context;
using test::random_vector;

class Sae : public test::BackendTest {};
INSTANTIATE_TEST_SUITE_P(AllBackends, Sae, testing::Values(Backend::Cpu, Backend::Cuda), backend_name);

// A batch in the context's space.
template <class V>
DenseMatrix<V> batch_on(const Context& ctx, index_t rows, index_t cols, const std::vector<V>& values) {
  DenseMatrix<V> host(rows, cols);
  std::copy(values.begin(), values.end(), host.data());
  return host.copy_to(ctx, ctx.memory_space());
}

struct Variant {
  std::string name;
  SaeConfig config;
};

std::vector<Variant> variants(index_t d, index_t m) {
  std::vector<Variant> v;
  SaeConfig base;
  base.inputs = d;
  base.latents = m;
  auto add = [&](std::string name, auto&& edit) {
    SaeConfig c = base;
    edit(c);
    v.push_back({std::move(name), c});
  };
  add("sigmoid-kl", [](SaeConfig& c) {
    c.activation = SaeActivation::SigmoidKl;
    c.rho = 0.1;
    c.beta = 3;
    c.weight_decay = 1e-3;
  });
  add("sigmoid-kl tied", [](SaeConfig& c) {
    c.activation = SaeActivation::SigmoidKl;
    c.tied = true;
    c.weight_decay = 1e-2;
  });
  add("relu-l1", [](SaeConfig& c) { c.l1 = 0.05; });
  add("relu-l1 decoder-norm weighted", [](SaeConfig& c) {
    c.l1 = 0.05;
    c.l1_decoder_norm = true;
  });
  add("relu-l1 tied unit-norm", [](SaeConfig& c) {
    c.l1 = 0.05;
    c.tied = true;
    c.unit_norm_decoder = true;
  });
  add("topk sparse", [](SaeConfig& c) {
    c.activation = SaeActivation::TopK;
    c.k = 3;
  });
  add("topk dense", [](SaeConfig& c) {
    c.activation = SaeActivation::TopK;
    c.k = 3;
    c.topk_decoder = TopKDecoder::Dense;
  });
  add("topk tied", [](SaeConfig& c) {
    c.activation = SaeActivation::TopK;
    c.k = 3;
    c.tied = true;
  });
  const auto topk_auxk = [](SaeConfig& c) {
    c.activation = SaeActivation::TopK;
    c.k = 2;
    c.aux_k = 3;
    c.aux_coeff = 0.5;
    c.dead_after = 1;
    c.aux_detach_residual = false;
  };
  add("topk + auxk", topk_auxk);
  add("topk + auxk dense", [&](SaeConfig& c) {
    topk_auxk(c);
    c.topk_decoder = TopKDecoder::Dense;
  });
  add("relu-l1 block 4x4", [](SaeConfig& c) {
    c.l1 = 0.05;
    c.block_sparse = true;
    c.block = {4, 4};
    c.weight_decay = 1e-3;
  });
  add("sigmoid-kl block 3x2", [](SaeConfig& c) {
    c.activation = SaeActivation::SigmoidKl;
    c.block_sparse = true;
    c.block = {3, 2};
  });
  add("topk block 4x4", [](SaeConfig& c) {
    c.activation = SaeActivation::TopK;
    c.k = 3;
    c.block_sparse = true;
    c.block = {4, 4};
  });
  return v;
}

// ||g_fd - g|| / ||g|| over every parameter, by central differences.
double finite_difference_error(SparseAutoencoder<double>& model, DenseView<const double> x) {
  model.evaluate(x, x, true);
  const std::vector<double> g = model.gradient_on_host();
  std::vector<double> p = model.parameters_on_host();
  double num = 0, den = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double h = 1e-6 * std::max(1.0, std::abs(p[i])), keep = p[i];
    p[i] = keep + h;
    model.set_parameters(p);
    const double up = model.evaluate(x, x, false).total;
    p[i] = keep - h;
    model.set_parameters(p);
    const double down = model.evaluate(x, x, false).total;
    p[i] = keep;
    const double fd = (up - down) / (2 * h);
    num += (fd - g[i]) * (fd - g[i]);
    den += g[i] * g[i];
  }
  model.set_parameters(p);
  return std::sqrt(num / den);
}

TEST_P(Sae, GradientsMatchFiniteDifferences) {
  const Context ctx = make_context(GetParam());
  const index_t d = 7, m = 10, b = 5;
  const auto xb = batch_on(ctx, b, d, random_vector<double>(b * d, 11));
  for (const Variant& v : variants(d, m)) {
    SCOPED_TRACE(v.name);
    SparseAutoencoder<double> model(ctx, v.config, 3, {}, random_vector<double>(d, 5));
    // Give every parameter a generic value (biases start at 0, where ReLU kinks can sit).
    std::vector<double> p = model.parameters_on_host();
    const auto noise = random_vector<double>(static_cast<index_t>(p.size()), 17);
    for (std::size_t i = 0; i < p.size(); ++i)
      if (p[i] != 0 || !v.config.block_sparse) p[i] += 0.1 * noise[i];
    model.set_parameters(p);
    if (v.config.block_sparse) model.prune_to(0.4);
    if (v.config.aux_k > 0) {
      model.evaluate(xb.view(), xb.view(), false, true);  // latents silent in this batch are now dead
      ASSERT_GT(model.dead_fraction(), 0.0);
    }
    const SaeLoss loss = model.evaluate(xb.view(), xb.view(), false);
    EXPECT_TRUE(std::isfinite(loss.total));
    if (v.config.aux_k > 0) EXPECT_GT(loss.auxiliary, 0.0);
    EXPECT_LE(finite_difference_error(model, xb.view()), 1e-7);
  }
}

TEST_P(Sae, TopKSparseDecoderEqualsDenseMaskedDecoder) {
  const Context ctx = make_context(GetParam());
  const index_t d = 24, m = 96, b = 33;
  const auto xb = batch_on(ctx, b, d, random_vector<double>(b * d, 2));
  SaeConfig c;
  c.inputs = d;
  c.latents = m;
  c.activation = SaeActivation::TopK;
  c.k = 7;
  c.aux_k = 5;
  c.dead_after = 1;
  c.unit_norm_decoder = true;
  SparseAutoencoder<double> sparse(ctx, c, 9);
  c.topk_decoder = TopKDecoder::Dense;
  SparseAutoencoder<double> dense(ctx, c, 9);
  for (auto* model : {&sparse, &dense}) model->evaluate(xb.view(), xb.view(), false, true);
  const SaeLoss ls = sparse.evaluate(xb.view(), xb.view(), true);
  const SaeLoss ld = dense.evaluate(xb.view(), xb.view(), true);
  EXPECT_NEAR(ls.total, ld.total, 1e-13 * ld.total);
  EXPECT_NEAR(ls.auxiliary, ld.auxiliary, 1e-13 * (ld.auxiliary + 1e-300));
  const auto gs = sparse.gradient_on_host(), gd = dense.gradient_on_host();
  ASSERT_EQ(gs.size(), gd.size());
  double scale = 0;
  for (double g : gd) scale = std::max(scale, std::abs(g));
  for (std::size_t i = 0; i < gs.size(); ++i) ASSERT_NEAR(gs[i], gd[i], 1e-12 * scale) << "parameter " << i;
  DenseMatrix<double> hs(ctx, b, m, Layout::RowMajor, ctx.memory_space()), hd(ctx, b, m, Layout::RowMajor,
                                                                            ctx.memory_space());
  sparse.encode(xb.view(), hs.view());
  dense.encode(xb.view(), hd.view());
  const auto a = hs.copy_to(ctx, MemorySpace::Host), bb = hd.copy_to(ctx, MemorySpace::Host);
  index_t active = 0;
  for (index_t i = 0; i < b; ++i)
    for (index_t j = 0; j < m; ++j) {
      ASSERT_EQ(a(i, j), bb(i, j));
      active += a(i, j) > 0;
    }
  EXPECT_LE(active, b * c.k);
}

// Brute force: the k largest of row i among allowed columns, ties to the lower column, ReLU'd.
// The TopK radix select's key: order-preserving, and -0.0 ties with +0.0 as in the CPU twin's
// comparisons (the CUDA twin's key once put +0.0 above -0.0).
TEST(SaeKernels, TopKOrderKeyTiesTheZeros) {
  EXPECT_EQ(kernels::topk_order_key(-0.0f), kernels::topk_order_key(0.0f));
  EXPECT_EQ(kernels::topk_order_key(-0.0), kernels::topk_order_key(0.0));
  const std::vector<float> f{-3e38f, -1.5f, -1e-40f, 0.0f, 1e-40f, 1e-7f, 2.5f, 3e38f};
  for (std::size_t i = 1; i < f.size(); ++i) EXPECT_LT(kernels::topk_order_key(f[i - 1]), kernels::topk_order_key(f[i]));
  const std::vector<double> g{-1e308, -2.0, -5e-324, 0.0, 5e-324, 1.0, 1e308};
  for (std::size_t i = 1; i < g.size(); ++i) EXPECT_LT(kernels::topk_order_key(g[i - 1]), kernels::topk_order_key(g[i]));
}

class SaeKernelTwins : public test::BackendTest {};
INSTANTIATE_TEST_SUITE_P(AllBackends, SaeKernelTwins, testing::Values(Backend::Cpu, Backend::Cuda), backend_name);

using test::to_backend;

// topk_rows on this backend against brute force: ties (equal values, and +0.0 against -0.0) go to
// the lower column, masks, all-negative rows, and fewer allowed columns than k.
template <class V>
void check_topk(const Context& ctx) {
  const index_t rows = 10, m = 300, k = 6;  // m > the CUDA block: several passes per row
  std::vector<V> z = random_vector<V>(rows * m, 4);
  for (index_t j = 0; j < m; j += 3) z[2 * m + j] = V(0.25);        // a row of ties
  for (index_t j = 0; j < m; ++j) z[5 * m + j] = V(-1) - V(j);      // all negative: values become 0
  for (index_t j = 0; j < m; ++j) z[7 * m + j] = V(-1);             // ... but for the zeros:
  for (index_t j = 11; j < m; j += 13) z[7 * m + j] = (j / 13) % 2 ? V(0) : V(-0.0);  // +0 and -0 tie
  std::vector<std::uint8_t> allowed(static_cast<std::size_t>(m), 1);
  for (index_t j = 0; j < m; j += 2) allowed[j] = 0;
  const auto zd = to_backend(ctx, z);
  const auto ad = to_backend(ctx, allowed);
  for (const bool masked : {false, true}) {
    Array<std::int32_t> idx_d(ctx, static_cast<std::size_t>(rows * k), ctx.memory_space());
    Array<V> val_d(ctx, static_cast<std::size_t>(rows * k), ctx.memory_space());
    SHRINK_DISPATCH(ctx, topk_rows, ctx, DenseView<const V>(zd.data(), rows, m, m, Layout::RowMajor, ctx.memory_space()), k,
                    masked ? ad.data() : nullptr, idx_d.data(), val_d.data());
    const auto idx = idx_d.to_vector(ctx);
    const auto val = val_d.to_vector(ctx);
    for (index_t i = 0; i < rows; ++i) {
      std::vector<std::int32_t> cand;
      for (index_t j = 0; j < m; ++j)
        if (!masked || allowed[j]) cand.push_back(static_cast<std::int32_t>(j));
      std::stable_sort(cand.begin(), cand.end(), [&](auto a, auto b) { return z[i * m + a] > z[i * m + b]; });
      cand.resize(static_cast<std::size_t>(k));
      std::sort(cand.begin(), cand.end());
      for (index_t t = 0; t < k; ++t) {
        ASSERT_EQ(idx[i * k + t], cand[t]) << "row " << i << " slot " << t << (masked ? " masked" : "");
        ASSERT_EQ(val[i * k + t], std::max(z[i * m + cand[t]], V(0)));
      }
    }
  }
  // Fewer allowed than k: the rest is padding (0, 0).
  std::vector<std::uint8_t> two(static_cast<std::size_t>(m), 0);
  two[7] = two[230] = 1;
  const auto td = to_backend(ctx, two);
  Array<std::int32_t> idx_d(ctx, static_cast<std::size_t>(k), ctx.memory_space());
  Array<V> val_d(ctx, static_cast<std::size_t>(k), ctx.memory_space());
  SHRINK_DISPATCH(ctx, topk_rows, ctx, DenseView<const V>(zd.data(), 1, m, m, Layout::RowMajor, ctx.memory_space()), k,
                  td.data(), idx_d.data(), val_d.data());
  const auto idx = idx_d.to_vector(ctx);
  const auto val = val_d.to_vector(ctx);
  EXPECT_EQ(idx[0], 7);
  EXPECT_EQ(idx[1], 230);
  for (index_t t = 2; t < k; ++t) {
    EXPECT_EQ(idx[t], 0);
    EXPECT_EQ(val[t], V(0));
  }
}

TEST_P(SaeKernelTwins, TopKSelectsLargestWithTiesToLowerColumn) {
  const Context ctx = make_context(GetParam());
  check_topk<float>(ctx);
  check_topk<double>(ctx);
}

// Masking drops a fraction p of the entries and Gaussian noise has the asked variance, on this
// backend; draws are keyed on (seed, element), so a rerun is the same. The tolerances are 5
// standard errors of the estimates over 100,000 entries.
TEST_P(SaeKernelTwins, CorruptionHasTheAskedStatistics) {
  const Context ctx = make_context(GetParam());
  const index_t rows = 400, cols = 250;
  const double count = double(rows * cols);
  const std::vector<double> x(static_cast<std::size_t>(rows * cols), 2.0);
  const auto xd = to_backend(ctx, x);
  const DenseView<const double> xv(xd.data(), rows, cols, cols, Layout::RowMajor, ctx.memory_space());
  Array<double> od(ctx, x.size(), ctx.memory_space());
  const DenseView<double> ov(od.data(), rows, cols, cols, Layout::RowMajor, ctx.memory_space());
  SHRINK_DISPATCH(ctx, corrupt, ctx, xv, kernels::Noise::Mask, 0.3, 77, ov);
  auto out = od.to_vector(ctx);
  const auto zeros = std::count(out.begin(), out.end(), 0.0);
  EXPECT_EQ(std::count(out.begin(), out.end(), 2.0) + zeros, static_cast<std::ptrdiff_t>(out.size()));
  EXPECT_NEAR(double(zeros) / count, 0.3, 5 * std::sqrt(0.3 * 0.7 / count));
  SHRINK_DISPATCH(ctx, corrupt, ctx, xv, kernels::Noise::Gaussian, 0.5, 77, ov);
  out = od.to_vector(ctx);
  double mean = 0, var = 0;
  for (double v : out) mean += v - 2.0;
  mean /= count;
  for (double v : out) var += (v - 2.0 - mean) * (v - 2.0 - mean);
  var /= count;
  EXPECT_NEAR(mean, 0.0, 5 * 0.5 / std::sqrt(count));
  EXPECT_NEAR(var, 0.25, 5 * 0.25 * std::sqrt(2.0 / count));
  SHRINK_DISPATCH(ctx, corrupt, ctx, xv, kernels::Noise::Gaussian, 0.5, 77, ov);
  EXPECT_EQ(od.to_vector(ctx), out);  // keyed on (seed, element): reproducible
}

TEST_P(Sae, CudaTwinsAgreeWithCpu) {
  if (GetParam() != Backend::Cuda) GTEST_SKIP() << "compares the CUDA twins with the CPU ones";
  const Context gpu = make_context(Backend::Cuda), cpu = make_context(Backend::Cpu);
  const index_t d = 37, m = 300, b = 65;
  const auto x = random_vector<double>(b * d, 8);
  const auto xg = batch_on(gpu, b, d, x), xc = batch_on(cpu, b, d, x);
  for (const Variant& v : variants(d, m)) {
    SCOPED_TRACE(v.name);
    SaeConfig c = v.config;
    if (c.activation == SaeActivation::TopK) c.k = 17;
    SparseAutoencoder<double> on_gpu(gpu, c, 3), on_cpu(cpu, c, 3);
    for (int step = 0; step < 3; ++step) {
      const SaeLoss lg = on_gpu.evaluate(xg.view(), xg.view(), true, true);
      const SaeLoss lc = on_cpu.evaluate(xc.view(), xc.view(), true, true);
      ASSERT_NEAR(lg.total, lc.total, 1e-10 * std::abs(lc.total));
      const auto gg = on_gpu.gradient_on_host(), gc = on_cpu.gradient_on_host();
      double scale = 0;
      for (double g : gc) scale = std::max(scale, std::abs(g));
      for (std::size_t i = 0; i < gg.size(); ++i) ASSERT_NEAR(gg[i], gc[i], 1e-10 * scale) << "parameter " << i;
      on_gpu.step({OptimizerKind::Adam, 1e-2});
      on_cpu.step({OptimizerKind::Adam, 1e-2});
    }
  }
  // Training with corrupted inputs: the generator gives the same draws on both backends (up to the
  // math library's last bits in the Gaussian transform).
  DenseMatrix<double> data(120, d);
  const auto values = random_vector<double>(120 * d, 12);
  std::copy(values.begin(), values.end(), data.data());
  for (const auto kind : {CorruptionKind::Gaussian, CorruptionKind::Mask}) {
    SaeTrainOptions o;
    o.epochs = 2;
    o.batch_size = 16;
    o.corruption = {kind, 0.2};
    o.epoch_metrics = false;
    SaeConfig c = variants(d, 40)[2].config;  // relu-l1
    SparseAutoencoder<double> on_gpu(gpu, c, 4), on_cpu(cpu, c, 4);
    SaeTrainState sg{4}, sc{4};
    sae_train<double>(gpu, on_gpu, data.view(), o, sg);
    sae_train<double>(cpu, on_cpu, data.view(), o, sc);
    const auto pg = on_gpu.parameters_on_host(), pc = on_cpu.parameters_on_host();
    for (std::size_t i = 0; i < pg.size(); ++i) ASSERT_NEAR(pg[i], pc[i], 1e-9) << "parameter " << i;
  }
}

DenseMatrix<double> digits() {
  auto x = read_csv<double>(shrink::test::digits_csv());
  Normalizer::fit<double>(Normalization::MinMax, x.view()).apply<double>(x.view());
  return x;
}

// The CS294A exercise on 8x8 images: sigmoid units, rho = 0.01, beta = 3, weight decay 1e-4, L-BFGS,
// patches prepared as its normalizeData does (each patch centred, clipped at 3 standard deviations of
// all pixels, mapped to [0.1, 0.9]).
TEST_P(Sae, ClassicSettingReachesTargetMeanActivation) {
  const Context ctx = make_context(GetParam());
  auto x = read_csv<double>(shrink::test::digits_csv());
  double ss = 0;
  for (index_t i = 0; i < x.rows(); ++i) {
    double mean = 0;
    for (index_t j = 0; j < 64; ++j) mean += x(i, j) / 64;
    for (index_t j = 0; j < 64; ++j) ss += (x(i, j) -= mean) * x(i, j);
  }
  const double clip = 3 * std::sqrt(ss / double(x.rows() * 64));
  for (index_t i = 0; i < x.rows() * 64; ++i)
    x.data()[i] = (std::clamp(x.data()[i], -clip, clip) / clip + 1) * 0.4 + 0.1;
  SaeConfig c;
  c.inputs = 64;
  c.latents = 25;
  c.activation = SaeActivation::SigmoidKl;
  c.rho = 0.01;
  c.beta = 3;
  c.weight_decay = 1e-4;
  SparseAutoencoder<double> model(ctx, c, 1);
  SaeTrainOptions o;
  o.optimizer = SaeOptimizer::Lbfgs;
  o.lbfgs_iterations = 400;
  SaeTrainState state;
  const auto r = sae_train<double>(ctx, model, x.view(), o, state);
  EXPECT_NEAR(r.metrics.mean_activation, 0.01, 0.2 * 0.01);
  EXPECT_LT(r.metrics.fvu, 0.5);
}

SaeConfig small_topk(index_t d) {
  SaeConfig c;
  c.inputs = d;
  c.latents = 48;
  c.activation = SaeActivation::TopK;
  c.k = 4;
  c.aux_k = 8;
  c.unit_norm_decoder = true;
  return c;
}

TEST_P(Sae, ResumedTrainingContinuesExactly) {
  const Context ctx = make_context(GetParam());
  const index_t n = 300, d = 12;
  auto xh = DenseMatrix<float>(n, d);
  const auto v = random_vector<float>(n * d, 21);
  std::copy(v.begin(), v.end(), xh.data());
  SaeTrainOptions o;
  o.epochs = 4;
  o.batch_size = 32;
  o.adam.learning_rate = 1e-2;
  o.corruption = {CorruptionKind::Gaussian, 0.1};
  o.epoch_metrics = false;
  SaeTrainState whole_state{7};
  SparseAutoencoder<float> whole(ctx, small_topk(d), 7);
  sae_train<float>(ctx, whole, xh.view(), o, whole_state);

  const std::string path = test::unique_temp_path("resume.sae");
  SaeTrainState first_state{7};
  SparseAutoencoder<float> first(ctx, small_topk(d), 7);
  o.steps = 13;  // 9 steps per epoch: stops inside the second epoch
  sae_train<float>(ctx, first, xh.view(), o, first_state);
  EXPECT_EQ(first_state.epochs_done, 1);
  EXPECT_EQ(first_state.epoch_step, 4);
  save_sae(path, first, first_state);
  auto loaded = load_sae<float>(ctx, path);
  EXPECT_EQ(loaded.state.epoch_step, 4);
  o.steps = 36 - 13;
  sae_train<float>(ctx, loaded.model, xh.view(), o, loaded.state);
  EXPECT_EQ(loaded.state.steps_done, whole_state.steps_done);
  EXPECT_EQ(loaded.state.epochs_done, 4);
  EXPECT_EQ(loaded.model.parameters_on_host(), whole.parameters_on_host());
  EXPECT_EQ(loaded.model.state().adam_v, whole.state().adam_v);
  std::remove(path.c_str());
}

TEST_P(Sae, CheckpointRoundTripIsBitExactAndCorruptionIsRefused) {
  const Context ctx = make_context(GetParam());
  SaeConfig c;
  c.inputs = 10;
  c.latents = 16;
  c.block_sparse = true;
  c.block = {4, 3};
  SparseAutoencoder<double> model(ctx, c, 4, Normalizer{Normalization::Standard, std::vector<double>(10, 0.5),
                                                         std::vector<double>(10, 2.0)});
  model.prune_to(0.5);
  const auto xb = batch_on(ctx, 6, 10, random_vector<double>(60, 1));
  model.evaluate(xb.view(), xb.view(), true);
  model.step({});
  SaeTrainState st{99, 3, 17, 2, {0, 0.5, 2, 4, 3}};
  const std::string path = test::unique_temp_path("model.sae");
  save_sae(path, model, st);
  const auto info = sae_checkpoint_info(path);
  EXPECT_EQ(info.value_bytes, 8);
  EXPECT_EQ(info.config.block.cols, 3);
  auto back = load_sae<double>(ctx, path);
  const auto a = model.state(), b = back.model.state();
  EXPECT_EQ(a.params, b.params);
  EXPECT_EQ(a.adam_m, b.adam_m);
  EXPECT_EQ(a.adam_v, b.adam_v);
  EXPECT_EQ(a.t, b.t);
  EXPECT_EQ(a.encoder_col_idx, b.encoder_col_idx);
  EXPECT_EQ(back.model.normalizer().scale, model.normalizer().scale);
  EXPECT_EQ(back.state.steps_done, 17);
  EXPECT_EQ(back.state.epoch_step, 2);
  EXPECT_EQ(back.state.schedule.prunings, 4);
  EXPECT_DOUBLE_EQ(back.model.block_sparsity(), model.block_sparsity());
  EXPECT_EQ(back.model.evaluate(xb.view(), xb.view(), false).total, model.evaluate(xb.view(), xb.view(), false).total);

  std::string bytes = read_file(path);
  const std::string bad = test::unique_temp_path("bad.sae");
  auto refused = [&](const std::string& content, const std::string& why) {
    write_file_atomic(bad, content);
    try {
      load_sae<double>(ctx, bad);
      ADD_FAILURE() << "accepted: " << why;
    } catch (const ParseError& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  };
  std::string flipped = bytes;
  flipped[flipped.size() / 2] ^= 0x20;
  refused(flipped, "a flipped byte");
  refused(bytes.substr(0, bytes.size() - 100), "a truncated file");
  refused(bytes.substr(0, 10), "a few bytes");
  refused("", "an empty file");
  refused("SHRKSAE" + std::string(40, 'x'), "garbage after the magic");
  EXPECT_THROW(load_sae<float>(ctx, path), ParseError);  // float64 file read as float32
  std::remove(path.c_str());
  std::remove(bad.c_str());
}

TEST_P(Sae, GradualPruningReachesTargetAndUnitNormHolds) {
  const Context ctx = make_context(GetParam());
  const index_t n = 256, d = 16;
  DenseMatrix<double> x(n, d);
  const auto v = random_vector<double>(n * d, 5);
  std::copy(v.begin(), v.end(), x.data());
  SaeConfig c;
  c.inputs = d;
  c.latents = 32;
  c.l1 = 1e-3;
  c.block_sparse = true;
  c.block = {4, 4};
  SparseAutoencoder<double> model(ctx, c, 2);
  SaeTrainOptions o;
  o.epochs = 6;
  o.batch_size = 32;
  o.sparsity = 0.75;
  std::vector<double> seen;
  o.on_epoch = [&](const SaeEpochLog& log) { seen.push_back(log.block_sparsity); };
  SaeTrainState st;
  const auto r = sae_train<double>(ctx, model, x.view(), o, st);
  ASSERT_EQ(seen.size(), 6u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_GT(seen.front(), 0.0);
  EXPECT_NEAR(model.block_sparsity(), 0.75, 1e-12);
  EXPECT_TRUE(std::isfinite(r.metrics.mse));

  SparseAutoencoder<double> unit(ctx, small_topk(d), 3);
  SaeTrainState st2;
  o.sparsity = 0;
  o.epochs = 2;
  sae_train<double>(ctx, unit, x.view(), o, st2);
  const auto wd = unit.decoder_weights();
  for (index_t j = 0; j < wd.cols(); ++j) {
    double s = 0;
    for (index_t q = 0; q < d; ++q) s += wd(q, j) * wd(q, j);
    EXPECT_NEAR(std::sqrt(s), 1.0, 1e-12) << "column " << j;
  }
}

// Every metric recomputed here from the model's exported weights: h = TopK(W_e (x - b_d) + b_e)
// (k largest, ties to the lower column, then ReLU) and x_hat = W_d h + b_d in long double, then
// MSE, FVU, L0, the mean activation, dead latents, the sparsity ratio and the histogram counts.
TEST_P(Sae, MetricsDescribeTheCodes) {
  const Context ctx = make_context(GetParam());
  const auto x = digits();
  SparseAutoencoder<double> model(ctx, small_topk(64), 3);
  {  // a few steps, so that the weights are not the initial ones
    SaeTrainOptions o;
    o.epochs = 1;
    o.batch_size = 64;
    o.epoch_metrics = false;
    SaeTrainState st{3};
    sae_train<double>(ctx, model, x.view(), o, st);
  }
  const int bins = 8;
  const auto m = sae_metrics<double>(ctx, model, x.view(), bins);
  const index_t n = x.rows(), d = x.cols(), lat = 48, k = 4;
  const auto we = model.encoder_weights(), wd = model.decoder_weights();
  const auto be = model.encoder_bias(), bd = model.decoder_bias();
  long double sse = 0, sst = 0, active = 0, total_h = 0;
  std::vector<long double> mean(static_cast<std::size_t>(d), 0);
  for (index_t i = 0; i < n; ++i)
    for (index_t q = 0; q < d; ++q) mean[q] += x(i, q) / static_cast<long double>(n);
  std::vector<int> fired(static_cast<std::size_t>(lat), 0);
  std::vector<double> nonzero;
  for (index_t i = 0; i < n; ++i) {
    std::vector<long double> pre(static_cast<std::size_t>(lat));
    for (index_t j = 0; j < lat; ++j) {
      long double a = be[j];
      for (index_t q = 0; q < d; ++q) a += static_cast<long double>(we(j, q)) * (x(i, q) - bd[q]);
      pre[j] = a;
    }
    std::vector<index_t> order(static_cast<std::size_t>(lat));
    std::iota(order.begin(), order.end(), index_t{0});
    std::stable_sort(order.begin(), order.end(), [&](index_t a, index_t b) { return pre[a] > pre[b]; });
    std::vector<long double> h(static_cast<std::size_t>(lat), 0);
    for (index_t t = 0; t < k; ++t) h[order[t]] = std::max<long double>(pre[order[t]], 0);
    for (index_t j = 0; j < lat; ++j) {
      total_h += h[j];
      if (h[j] > 0) {
        active += 1;
        fired[j] = 1;
        nonzero.push_back(static_cast<double>(h[j]));
      }
    }
    for (index_t q = 0; q < d; ++q) {
      long double xh = bd[q];
      for (index_t j = 0; j < lat; ++j) xh += static_cast<long double>(wd(q, j)) * h[j];
      sse += (xh - x(i, q)) * (xh - x(i, q));
      sst += (x(i, q) - mean[q]) * (x(i, q) - mean[q]);
    }
  }
  const double mse = static_cast<double>(sse / (n * d)), fvu = static_cast<double>(sse / sst);
  const double l0 = static_cast<double>(active / n), mean_act = static_cast<double>(total_h / (n * lat));
  const double dead = double(lat - std::accumulate(fired.begin(), fired.end(), 0)) / lat;
  EXPECT_EQ(m.samples, n);
  EXPECT_NEAR(m.mse, mse, 1e-9 * mse);
  EXPECT_NEAR(m.fvu, fvu, 1e-9 * fvu);
  EXPECT_GT(fvu, 0.0);
  EXPECT_NEAR(m.l0, l0, 1e-12);
  EXPECT_GT(l0, 0.0);
  EXPECT_LE(l0, double(k));
  EXPECT_NEAR(m.mean_activation, mean_act, 1e-9 * mean_act);
  EXPECT_DOUBLE_EQ(m.dead_fraction, dead);
  EXPECT_NEAR(m.sparsity_ratio, 1.0 - static_cast<double>(active) / double(n * lat), 1e-12);
  // The histogram against the non-zero activations recomputed here.
  ASSERT_EQ(m.activation_histogram.counts.size(), std::size_t(bins));
  test::expect_histogram_of(nonzero, m.activation_histogram, "activations");
}

TEST(SaeNormalizer, AppliesAndInverts) {
  DenseMatrix<double> x(4, 3);
  const double values[] = {1, 5, 7, 2, 5, -1, 3, 5, 0, 4, 5, 2};
  std::copy(std::begin(values), std::end(values), x.data());
  for (const auto kind : {Normalization::MinMax, Normalization::Standard}) {
    auto y = x.copy_to(make_context(Backend::Cpu), MemorySpace::Host);
    const auto n = Normalizer::fit<double>(kind, x.view());
    n.apply<double>(y.view());
    EXPECT_EQ(n.scale[1], 1.0);  // the constant feature
    if (kind == Normalization::MinMax) {
      EXPECT_DOUBLE_EQ(y(0, 0), 0.0);
      EXPECT_DOUBLE_EQ(y(3, 0), 1.0);
    } else {
      double mean = 0;
      for (index_t i = 0; i < 4; ++i) mean += y(i, 2);
      EXPECT_NEAR(mean, 0.0, 1e-12);
    }
    n.invert<double>(y.view());
    for (index_t i = 0; i < 12; ++i) EXPECT_NEAR(y.data()[i], x.data()[i], 1e-12);
  }
}

TEST_P(Sae, RefusesBadArguments) {
  const Context ctx = make_context(GetParam());
  SaeConfig c;
  c.inputs = 8;
  c.latents = 6;
  c.activation = SaeActivation::TopK;
  c.k = 7;
  EXPECT_THROW(SparseAutoencoder<float>(ctx, c, 0), InvalidArgument);  // k > latents
  c.activation = SaeActivation::SigmoidKl;
  for (double rho : {0.0, 1.0, -0.1, 1.5}) {
    c.rho = rho;
    EXPECT_THROW(SparseAutoencoder<float>(ctx, c, 0), InvalidArgument) << rho;
  }
  c.rho = 0.05;
  c.unit_norm_decoder = true;
  EXPECT_THROW(SparseAutoencoder<float>(ctx, c, 0), InvalidArgument);
  c.unit_norm_decoder = false;
  SparseAutoencoder<float> model(ctx, c, 0);
  DenseMatrix<float> wrong(5, 9), nan(5, 8), empty(0, 8);
  nan(2, 3) = std::nanf("");
  SaeTrainState st;
  EXPECT_THROW(sae_train<float>(ctx, model, wrong.view(), {}, st), DimensionMismatch);
  EXPECT_THROW(sae_train<float>(ctx, model, nan.view(), {}, st), NonFinite);
  EXPECT_THROW(sae_train<float>(ctx, model, empty.view(), {}, st), InvalidArgument);
  SaeTrainOptions o;
  o.sparsity = 0.5;  // needs a block-sparse model
  DenseMatrix<float> ok(5, 8);
  EXPECT_THROW(sae_train<float>(ctx, model, ok.view(), o, st), InvalidArgument);
  o = {};
  o.corruption = {CorruptionKind::Mask, 1.0};
  EXPECT_THROW(sae_train<float>(ctx, model, ok.view(), o, st), InvalidArgument);
}


// ---- defaults chosen from the data (issue 23) --------------------------------------------------------
TEST(SaeDefaults, ResolvedFromTheDataShape) {
  const SaeSettings s = resolve_sae_settings({}, {}, 1000, 64);
  EXPECT_EQ(s.config.inputs, 64);
  EXPECT_EQ(s.config.activation, SaeActivation::TopK);
  EXPECT_EQ(s.config.latents, 128);
  EXPECT_EQ(s.config.k, 13);
  EXPECT_EQ(s.config.aux_k, 32);
  EXPECT_TRUE(s.config.unit_norm_decoder);
  EXPECT_EQ(s.normalize, Normalization::MinMax);
  EXPECT_EQ(s.train.lr_schedule, LearningRateSchedule::Cosine);
  EXPECT_DOUBLE_EQ(s.train.validation_fraction, 0.1);
  EXPECT_EQ(s.train.patience, 10);
  EXPECT_EQ(s.train.batch_size, 62);
  EXPECT_EQ(s.train.steps, 1400);  // 100 epochs of 900 / 62 = 14 steps
  EXPECT_EQ(s.train.epochs, 0);

  // What is given is kept; a fixed length turns early stopping off; small data is not split.
  SaeAutoOptions chosen;
  chosen.activation = SaeActivation::ReluL1;
  chosen.latents = 40;
  chosen.epochs = 7;
  chosen.normalize = Normalization::None;
  SaeSettings base;
  base.config.l1 = 0.25;
  const SaeSettings g = resolve_sae_settings(chosen, base, 1000, 64);
  EXPECT_EQ(g.config.activation, SaeActivation::ReluL1);
  EXPECT_EQ(g.config.latents, 40);
  EXPECT_DOUBLE_EQ(g.config.l1, 0.25);
  EXPECT_TRUE(g.config.unit_norm_decoder);
  EXPECT_EQ(g.normalize, Normalization::None);
  EXPECT_EQ(g.train.epochs, 7);
  EXPECT_EQ(g.train.steps, 0);
  EXPECT_EQ(g.train.validation_fraction, 0);
  EXPECT_EQ(g.train.patience, 0);
  EXPECT_EQ(resolve_sae_settings({}, {}, 40, 4).train.validation_fraction, 0);
  EXPECT_EQ(resolve_sae_settings({}, {}, 40, 4).config.k, 1);
  // Block-sparse weights take neither AuxK nor unit-norm columns; a bad choice is refused.
  SaeSettings blocks;
  blocks.config.block_sparse = true;
  blocks.config.block = {4, 4};
  const SaeSettings b = resolve_sae_settings({}, blocks, 500, 32);
  EXPECT_EQ(b.config.aux_k, 0);
  EXPECT_FALSE(b.config.unit_norm_decoder);
  SaeAutoOptions bad;
  bad.latents = 8;
  bad.k = 9;
  EXPECT_THROW(resolve_sae_settings(bad, {}, 100, 16), InvalidArgument);
  EXPECT_THROW(resolve_sae_settings({}, {}, 0, 16), InvalidArgument);
}

// The defaults on small data: the normalization is fitted, applied and stored; the run stops early on
// its held-out samples and keeps the best check; the model round-trips through its checkpoint.
TEST_P(Sae, DefaultsNormalizeStopEarlyAndRoundTrip) {
  const Context ctx = make_context(GetParam());
  const index_t n = 400, d = 10;
  DenseMatrix<double> x(n, d);
  const auto noise = random_vector<double>(n * d, 5);
  for (index_t i = 0; i < n; ++i)  // a 3-dimensional signal on features of very different scales
    for (index_t j = 0; j < d; ++j)
      x(i, j) = (std::sin(double(i * (j % 3 + 1))) + 0.05 * noise[i * d + j]) * std::pow(10.0, double(j % 4)) + 5.0 * j;
  SaeAutoOptions chosen;
  chosen.steps = 20000;  // a budget far past the point of no gain
  chosen.validation_fraction = 0.2;
  chosen.patience = 3;
  SaeSettings settings = resolve_sae_settings(chosen, {}, n, d);
  settings.train.check_every = 20;
  settings.train.epoch_metrics = false;
  const std::vector<double> raw(x.data(), x.data() + n * d);
  auto fit = sae_fit<double>(ctx, settings, DenseView<const double>(x.view()));
  for (index_t i = 0; i < n * d; ++i) ASSERT_EQ(x.data()[i], raw[i]);  // the data is not modified

  const Normalizer& norm = fit.model.normalizer();
  ASSERT_EQ(norm.kind, Normalization::MinMax);
  for (index_t j = 0; j < d; ++j) {
    double lo = x(0, j), hi = x(0, j);
    for (index_t i = 0; i < n; ++i) lo = std::min(lo, x(i, j)), hi = std::max(hi, x(i, j));
    EXPECT_EQ(norm.offset[j], lo);
    EXPECT_NEAR(norm.scale[j], hi - lo, 1e-12 * (hi - lo));
  }
  const SaeTrainResult& r = fit.result;
  EXPECT_TRUE(r.stopped_early);
  EXPECT_LT(r.steps, 20000);
  EXPECT_EQ(r.validation_samples, 80);
  EXPECT_GE(r.steps - (r.best_step - 0), 3 * 20);  // patience checks after the best one
  EXPECT_GT(r.validation_mse, 0);
  EXPECT_LT(r.metrics.fvu, 0.5);
  EXPECT_EQ(fit.state.steps_done, r.steps);

  const std::string path = test::unique_temp_path("defaults.sae");
  save_sae(path, fit.model, fit.state);
  auto loaded = load_sae<double>(ctx, path);
  EXPECT_EQ(loaded.model.config().k, fit.model.config().k);
  EXPECT_EQ(loaded.model.config().latents, fit.model.config().latents);
  EXPECT_TRUE(loaded.model.config().unit_norm_decoder);
  EXPECT_EQ(loaded.model.normalizer().offset, norm.offset);
  EXPECT_EQ(loaded.model.normalizer().scale, norm.scale);
  EXPECT_EQ(loaded.model.parameters_on_host(), fit.model.parameters_on_host());
  // The default scorer: 5 neighbors among every training row (normalized), kept by the checkpoint.
  EXPECT_EQ(settings.score, SaeScore::Neighbors);
  EXPECT_EQ(settings.neighbors, 5);
  EXPECT_EQ(fit.model.scorer().method, SaeScore::Neighbors);
  EXPECT_EQ(fit.model.scorer().reference_rows(d), n);
  EXPECT_EQ(loaded.model.scorer().method, SaeScore::Neighbors);
  EXPECT_EQ(loaded.model.scorer().neighbors, 5);
  EXPECT_EQ(loaded.model.scorer().reference, fit.model.scorer().reference);
  std::remove(path.c_str());

  // Early stopping needs held-out samples, and a fraction in [0, 1).
  SaeTrainOptions o;
  o.patience = 2;
  SaeTrainState st;
  EXPECT_THROW(sae_train<double>(ctx, fit.model, DenseView<const double>(x.view()), o, st), InvalidArgument);
  o.validation_fraction = 1.0;
  EXPECT_THROW(sae_train<double>(ctx, fit.model, DenseView<const double>(x.view()), o, st), InvalidArgument);
}

// The neighbors scorer against a brute-force twin: the mean distance to the k nearest reference rows,
// a point far from the data scoring highest, and bad scorers refused.
TEST_P(Sae, NeighborsScoreIsTheMeanDistanceToTheNearestReferenceRows) {
  const Context ctx = make_context(GetParam());
  const index_t n = 300, d = 7, k = 4;
  DenseMatrix<float> x(n, d);
  const auto v = random_vector<float>(n * d, 11);
  for (index_t i = 0; i < n * d; ++i) x.data()[i] = 0.5f + 0.1f * v[i];
  SaeConfig config;
  config.inputs = d;
  config.latents = 16;
  config.activation = SaeActivation::TopK;
  config.k = 3;
  SparseAutoencoder<float> model(ctx, config, 1);
  EXPECT_EQ(model.scorer().method, SaeScore::Reconstruction);
  sae_set_scorer<float>(model, SaeScore::Neighbors, k, DenseView<const float>(x.view()), 2);
  ASSERT_EQ(model.scorer().reference_rows(d), n);

  const index_t m = 20;
  DenseMatrix<float> q(m, d);
  const auto w = random_vector<float>(m * d, 12);
  for (index_t i = 0; i < m * d; ++i) q.data()[i] = 0.5f + 0.2f * w[i];
  for (index_t j = 0; j < d; ++j) q(m - 1, j) = 3.0f;  // far from every row
  std::vector<float> want(m);
  for (index_t i = 0; i < m; ++i) {
    std::vector<double> dist(n);
    for (index_t r = 0; r < n; ++r) {
      double sq = 0;
      for (index_t j = 0; j < d; ++j) sq += std::pow(double(q(i, j)) - double(x(r, j)), 2);
      dist[r] = std::sqrt(sq);
    }
    std::sort(dist.begin(), dist.end());
    want[i] = float(std::accumulate(dist.begin(), dist.begin() + k, 0.0) / k);
  }
  Array<float> qd(ctx, static_cast<std::size_t>(m * d), ctx.memory_space());
  detail::copy_bytes(&ctx, qd.data(), ctx.memory_space(), q.data(), MemorySpace::Host, sizeof(float) * m * d);
  Array<float> got(ctx, static_cast<std::size_t>(m), ctx.memory_space());
  model.anomaly_scores(DenseView<const float>(qd.data(), m, d, d, Layout::RowMajor, ctx.memory_space()), got.view());
  const auto g = got.to_vector(ctx);
  for (index_t i = 0; i < m; ++i) EXPECT_NEAR(g[i], want[i], 1e-5 * want[i]) << i;
  EXPECT_EQ(std::max_element(g.begin(), g.end()) - g.begin(), m - 1);

  // More rows than the model keeps: a seeded sample of kSaeReferenceRows, k capped by nothing else.
  DenseMatrix<float> big(kSaeReferenceRows + 5, d);
  sae_set_scorer<float>(model, SaeScore::Neighbors, k, DenseView<const float>(big.view()), 2);
  EXPECT_EQ(model.scorer().reference_rows(d), kSaeReferenceRows);
  EXPECT_EQ(sae_reference_rows(784), kSaeReferenceRows);  // wide data keeps fewer rows
  EXPECT_EQ(sae_reference_rows(100000), 167);
  EXPECT_EQ(sae_reference_rows(index_t(1) << 30), 1);

  SparseAutoencoder<float>::Scorer bad;
  bad.method = SaeScore::Neighbors;
  bad.neighbors = 2;
  EXPECT_THROW(model.set_scorer(bad), InvalidArgument);  // no reference
  bad.reference.assign(static_cast<std::size_t>(d), 0.0f);
  EXPECT_THROW(model.set_scorer(bad), InvalidArgument);  // k = 2 > 1 row
  bad.neighbors = 1;
  bad.reference[0] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(model.set_scorer(bad), NonFinite);
  EXPECT_THROW(parse_sae_score("knn"), InvalidArgument);
  EXPECT_EQ(parse_sae_score(to_string(SaeScore::Neighbors)), SaeScore::Neighbors);
}

}  // namespace
}  // namespace shrink
