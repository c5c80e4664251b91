// Training (Adam on seeded minibatches, or full-batch L-BFGS) and metrics of a sparse autoencoder.
// Every random draw is keyed on (seed, epoch) or (seed, step), so a run resumed from a checkpoint
// continues exactly where it stopped.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <utility>

#include "host/core/dispatch.hpp"
#include "kernels/ops/instantiate.hpp"
#include "host/core/validate.hpp"
#include "kernels/ops/counter_rng.hpp"
#include "shrink/sae.hpp"

namespace shrink {

namespace {

// The public corruption kind as the kernel names it.
kernels::Noise noise_of(CorruptionKind kind) {
  switch (kind) {
    case CorruptionKind::Gaussian: return kernels::Noise::Gaussian;
    case CorruptionKind::Mask: return kernels::Noise::Mask;
    case CorruptionKind::None: break;
  }
  return kernels::Noise::None;
}

constexpr std::uint64_t kShuffleStream = 0x53485546464C45ull;  // distinct keys per use of the seed
constexpr std::uint64_t kNoiseStream = 0x4E4F495345ull;
constexpr std::uint64_t kSplitStream = 0x53504C4954ull;

// Fisher-Yates with the counter generator: the same permutation on every platform.
std::vector<index_t> epoch_permutation(index_t n, std::uint64_t seed, std::int64_t epoch) {
  std::vector<index_t> p(static_cast<std::size_t>(n));
  std::iota(p.begin(), p.end(), index_t(0));
  const std::uint64_t key = kernels::counter_hash(seed ^ kShuffleStream, static_cast<std::uint64_t>(epoch));
  for (index_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<index_t>(kernels::counter_hash(key, static_cast<std::uint64_t>(i)) %
                                        static_cast<std::uint64_t>(i + 1));
    std::swap(p[i], p[j]);
  }
  return p;
}

// The data in the context's space as one contiguous row-major matrix (a view when it already is).
template <class V>
struct ResidentData {
  DenseMatrix<V> owned;
  DenseView<const V> view;
};

template <class V>
ResidentData<V> resident(const Context& ctx, DenseView<const V> data, const char* name) {
  ResidentData<V> r;
  const bool contiguous = data.layout == Layout::RowMajor && (data.ld == data.cols || data.rows <= 1);
  const auto space = ctx.memory_space();
  if (data.space == space && contiguous) {
    r.view = data;
    return r;
  }
  if (data.space != MemorySpace::Host) detail::check_space(data.space, ctx, name);
  r.owned = DenseMatrix<V>(ctx, data.rows, data.cols, Layout::RowMajor, space);
  const auto bytes = sizeof(V) * static_cast<std::size_t>(data.rows * data.cols);
  if (contiguous) {  // a host matrix going to the device: one copy
    detail::copy_bytes(&ctx, r.owned.data(), space, data.data, data.space, bytes);
    ++ctx.count_transfers().input_device_copies;
  } else if (data.space == space) {  // another layout where the data already is: one relayout there
    SHRINK_DISPATCH(ctx, copy_dense, ctx, data, r.owned.view());
    ++(space == MemorySpace::Host ? ctx.count_transfers().input_host_copies : ctx.count_transfers().input_device_copies);
  } else {  // a host matrix in another layout going to the device: packed on the host, then copied
    DenseMatrix<V> host(data.rows, data.cols);
    SHRINK_DISPATCH_AT(ctx, MemorySpace::Host, copy_dense, ctx, data, host.view());
    detail::copy_bytes(&ctx, r.owned.data(), space, host.data(), MemorySpace::Host, bytes);
    ++ctx.count_transfers().input_host_copies;
    ++ctx.count_transfers().input_device_copies;
  }
  r.view = r.owned.view();
  return r;
}

template <class V>
void check_data(const SparseAutoencoder<V>& model, DenseView<const V> data) {
  if (data.rows < 1) throw InvalidArgument("the data has no samples");
  if (data.cols != model.config().inputs)
    throw DimensionMismatch("the data has " + std::to_string(data.cols) + " features but the model has " +
                            std::to_string(model.config().inputs) + " inputs");
  if (data.space == MemorySpace::Host) detail::check_finite(data, "data");  // a device X: check_resident
}

// A device matrix's values, checked once it is contiguous where it lives.
template <class V>
void check_resident(const Context& ctx, DenseView<const V> data) {
  if (data.space == MemorySpace::Host) return;
  const index_t bad = dispatch::count_nonfinite<V>(ctx, VectorView<const V>(data.data, data.rows * data.cols, data.space));
  if (bad > 0) throw NonFinite("data holds " + std::to_string(bad) + " NaN/Inf values; only finite values are accepted");
}

template <class V>
DenseView<const V> row_block(DenseView<const V> m, index_t begin, index_t rows) {
  return {m.data + begin * m.ld, rows, m.cols, m.ld, m.layout, m.space};
}

void validate(const SaeTrainOptions& o, bool block_sparse) {
  auto fail = [](const std::string& s) { throw InvalidArgument(s); };
  if (o.epochs < 0) fail("epochs must be >= 0, got " + std::to_string(o.epochs));
  if (o.steps < 0) fail("steps must be >= 0, got " + std::to_string(o.steps));
  if (o.batch_size < 1) fail("batch size must be >= 1, got " + std::to_string(o.batch_size));
  o.adam.validate();
  if (o.corruption.kind == CorruptionKind::Gaussian && !(o.corruption.level >= 0 && std::isfinite(o.corruption.level)))
    fail("noise sigma must be finite and >= 0, got " + std::to_string(o.corruption.level));
  if (o.corruption.kind == CorruptionKind::Mask && !(o.corruption.level >= 0 && o.corruption.level < 1))
    fail("mask probability must be in [0, 1), got " + std::to_string(o.corruption.level));
  if (!(o.sparsity >= 0 && o.sparsity <= 1)) fail("sparsity must be in [0, 1], got " + std::to_string(o.sparsity));
  if (o.sparsity > 0 && !block_sparse) fail("a target sparsity needs a block size (block-sparse encoder and decoder)");
  if (!(o.prune_fraction > 0 && o.prune_fraction <= 1))
    fail("prune fraction must be in (0, 1], got " + std::to_string(o.prune_fraction));
  if (!(o.warmup_fraction >= 0 && o.warmup_fraction < 1))
    fail("warm-up fraction must be in [0, 1), got " + std::to_string(o.warmup_fraction));
  if (!(o.final_lr_fraction >= 0 && o.final_lr_fraction <= 1))
    fail("final learning-rate fraction must be in [0, 1], got " + std::to_string(o.final_lr_fraction));
  if (!(o.validation_fraction >= 0 && o.validation_fraction < 1))
    fail("validation fraction must be in [0, 1), got " + std::to_string(o.validation_fraction));
  if (o.patience < 0) fail("patience must be >= 0, got " + std::to_string(o.patience));
  if (o.check_every < 0) fail("check_every must be >= 0, got " + std::to_string(o.check_every));
  if (o.patience > 0 && o.validation_fraction == 0)
    fail("early stopping (patience " + std::to_string(o.patience) + ") needs a validation fraction > 0");
  if (o.optimizer == SaeOptimizer::Lbfgs) {
    if (o.validation_fraction > 0) fail("L-BFGS is full-batch: a validation split needs --optimizer adam");
    if (o.lbfgs_iterations < 1) fail("L-BFGS iterations must be >= 1");
    if (o.lbfgs_history < 1) fail("L-BFGS history must be >= 1");
    if (o.corruption.kind != CorruptionKind::None) fail("L-BFGS is full-batch: denoising needs --optimizer adam");
    if (o.sparsity > 0) fail("gradual pruning needs --optimizer adam");
  }
}

// The learning rate's factor at step `done` of a run of `planned` steps.
double learning_rate_factor(const SaeTrainOptions& o, std::int64_t done, std::int64_t planned) {
  if (o.lr_schedule == LearningRateSchedule::Constant || planned <= 1) return 1;
  const double warm = std::max(1.0, o.warmup_fraction * double(planned));
  if (double(done) < warm) return (double(done) + 1) / warm;
  const double progress = std::min(1.0, (double(done) - warm) / std::max(1.0, double(planned) - warm));
  return o.final_lr_fraction + (1 - o.final_lr_fraction) * 0.5 * (1 + std::cos(3.14159265358979323846 * progress));
}

// The held-out samples: the first `held` of a permutation keyed on the seed alone, so a resumed run
// holds out the same ones. Returns (training rows, validation rows), each in ascending order.
std::pair<std::vector<index_t>, std::vector<index_t>> validation_split(index_t n, index_t held, std::uint64_t seed) {
  std::vector<index_t> p = epoch_permutation(n, seed ^ kSplitStream, 0);
  std::vector<index_t> validation(p.begin(), p.begin() + held), training(p.begin() + held, p.end());
  std::sort(validation.begin(), validation.end());
  std::sort(training.begin(), training.end());
  return {std::move(training), std::move(validation)};
}

// Mean squared reconstruction error per feature over held-out samples, in chunks.
template <class V>
double validation_mse(const Context& ctx, SparseAutoencoder<V>& model, DenseView<const V> data, Array<V>& errors) {
  const index_t n = data.rows, chunk = static_cast<index_t>(errors.size());
  double sum = 0;
  for (index_t b = 0; b < n; b += chunk) {
    const index_t rows = std::min(chunk, n - b);
    model.reconstruction_errors(row_block(data, b, rows), VectorView<V>(errors.data(), rows, ctx.memory_space()));
    const std::vector<V> e = errors.to_vector(ctx);
    for (index_t i = 0; i < rows; ++i) sum += double(e[i]);
  }
  return sum / double(n);
}

// ---- L-BFGS on the model's flat parameters ------------------------------------------------------------
// Two-loop recursion (Nocedal and Wright, Algorithm 7.4) with a backtracking Armijo line search.
template <class V>
bool lbfgs(const Context& ctx, SparseAutoencoder<V>& model, DenseView<const V> data, std::int64_t iterations,
           index_t history, const std::function<void(std::int64_t, double)>& on_iteration) {
  if (model.config().unit_norm_decoder)
    throw InvalidArgument("L-BFGS does not keep unit-norm decoder columns: use --optimizer adam");
  const MemorySpace sp = ctx.memory_space();
  const auto n = static_cast<std::size_t>(model.parameter_count());
  Array<V>& x = model.parameters();
  auto f = [&]() { return model.evaluate(data, data, true).total; };
  Array<V> g(ctx, n, sp), d(ctx, n, sp), x_old(ctx, n, sp), g_old(ctx, n, sp), s(ctx, n, sp), y(ctx, n, sp);
  std::vector<Array<V>> s_hist, y_hist;
  std::vector<double> rho_hist;
  double fx = f();
  copy<V>(ctx, model.gradient().view(), g.view());
  bool converged = false;
  for (std::int64_t it = 0; it < iterations; ++it) {
    // d = -H g
    copy<V>(ctx, g.view(), d.view());
    const std::size_t h = s_hist.size();
    std::vector<double> alpha(h);
    for (std::size_t i = h; i-- > 0;) {
      alpha[i] = rho_hist[i] * double(dispatch::dot<V>(ctx, s_hist[i].view(), d.view()));
      dispatch::axpby<V>(ctx, V(-alpha[i]), y_hist[i].view(), V(1), d.view());
    }
    double gamma = 1;
    if (h > 0) {
      const double yy = double(dispatch::dot<V>(ctx, y_hist[h - 1].view(), y_hist[h - 1].view()));
      gamma = yy > 0 ? 1 / (rho_hist[h - 1] * yy) : 1;
    } else {
      const double gn = double(dispatch::nrm2<V>(ctx, g.view()));
      gamma = gn > 0 ? 1 / gn : 1;
    }
    dispatch::axpby<V>(ctx, V(0), g.view(), V(gamma), d.view());
    for (std::size_t i = 0; i < h; ++i) {
      const double b = rho_hist[i] * double(dispatch::dot<V>(ctx, y_hist[i].view(), d.view()));
      dispatch::axpby<V>(ctx, V(alpha[i] - b), s_hist[i].view(), V(1), d.view());
    }
    dispatch::axpby<V>(ctx, V(0), g.view(), V(-1), d.view());
    double slope = double(dispatch::dot<V>(ctx, g.view(), d.view()));
    if (!(slope < 0)) {  // not a descent direction: restart from steepest descent
      s_hist.clear();
      y_hist.clear();
      rho_hist.clear();
      dispatch::axpby<V>(ctx, V(-1), g.view(), V(0), d.view());
      slope = -double(dispatch::dot<V>(ctx, g.view(), g.view()));
      if (slope == 0) {
        converged = true;
        break;
      }
    }
    copy<V>(ctx, x.view(), x_old.view());
    copy<V>(ctx, g.view(), g_old.view());
    double step = 1, f_new = fx;
    bool accepted = false;
    for (int tries = 0; tries < 40; ++tries) {
      copy<V>(ctx, x_old.view(), x.view());
      dispatch::axpby<V>(ctx, V(step), d.view(), V(1), x.view());
      f_new = f();
      if (std::isfinite(f_new) && f_new <= fx + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) {  // no decrease found: keep the previous point
      copy<V>(ctx, x_old.view(), x.view());
      f();
      converged = true;
      break;
    }
    copy<V>(ctx, model.gradient().view(), g.view());
    copy<V>(ctx, x.view(), s.view());
    dispatch::axpby<V>(ctx, V(-1), x_old.view(), V(1), s.view());
    copy<V>(ctx, g.view(), y.view());
    dispatch::axpby<V>(ctx, V(-1), g_old.view(), V(1), y.view());
    const double sy = double(dispatch::dot<V>(ctx, s.view(), y.view()));
    if (sy > 1e-12 * double(dispatch::nrm2<V>(ctx, s.view())) * double(dispatch::nrm2<V>(ctx, y.view()))) {
      // The pair joins the history; the evicted oldest pair (or, while the history fills, new
      // buffers) holds the next one, so nothing is allocated once the history is full.
      Array<V> s_free, y_free;
      if (static_cast<index_t>(s_hist.size()) == history) {
        s_free = std::move(s_hist.front());
        y_free = std::move(y_hist.front());
        s_hist.erase(s_hist.begin());
        y_hist.erase(y_hist.begin());
        rho_hist.erase(rho_hist.begin());
      } else {
        s_free = Array<V>(ctx, n, sp);
        y_free = Array<V>(ctx, n, sp);
      }
      s_hist.push_back(std::exchange(s, std::move(s_free)));
      y_hist.push_back(std::exchange(y, std::move(y_free)));
      rho_hist.push_back(1 / sy);
    }
    const double decrease = fx - f_new;
    fx = f_new;
    if (on_iteration) on_iteration(it + 1, fx);
    if (decrease <= 1e-10 * std::max(1.0, std::abs(fx))) {
      converged = true;
      break;
    }
  }
  return converged;
}

}  // namespace

template <class V>
SaeMetrics sae_metrics(const Context& ctx, SparseAutoencoder<V>& model, DenseView<const V> data, int bins) {
  check_data(model, data);
  if (bins < 0) throw InvalidArgument("histogram bins must be >= 0, got " + std::to_string(bins));
  const ResidentData<V> res = resident(ctx, data, "data");
  check_resident(ctx, res.view);
  const index_t n = data.rows, d = data.cols, m = model.config().latents;
  const index_t chunk = std::min<index_t>(n, std::max<index_t>(1, (index_t(1) << 24) / std::max(m, d)));
  const MemorySpace sp = ctx.memory_space();
  DenseMatrix<V> h(ctx, chunk, m, Layout::RowMajor, sp), centered(ctx, chunk, d, Layout::RowMajor, sp);
  Array<V> errors(ctx, static_cast<std::size_t>(chunk), sp), sums(ctx, static_cast<std::size_t>(m), sp);
  Array<V> mean(ctx, static_cast<std::size_t>(d), sp), part_sums(ctx, static_cast<std::size_t>(d), sp);
  Array<index_t> counts(ctx, static_cast<std::size_t>(m), sp);
  // Feature means first (for the FVU's denominator).
  std::vector<double> mean_host(static_cast<std::size_t>(d), 0);
  for (index_t b = 0; b < n; b += chunk) {
    const index_t rows = std::min(chunk, n - b);
    dispatch::column_sums<V>(ctx, row_block(res.view, b, rows), part_sums.view());
    const std::vector<V> ps = part_sums.to_vector(ctx);
    for (index_t j = 0; j < d; ++j) mean_host[j] += double(ps[j]);
  }
  std::vector<V> mean_v(static_cast<std::size_t>(d));
  for (index_t j = 0; j < d; ++j) mean_v[j] = V(mean_host[j] / double(n));
  copy<V>(ctx, VectorView<const V>(mean_v), mean.view());

  double sse = 0, sst = 0, total_sum = 0;
  std::vector<double> latent_count(static_cast<std::size_t>(m), 0);
  std::vector<double> nonzero;
  for (index_t b = 0; b < n; b += chunk) {
    const index_t rows = std::min(chunk, n - b);
    const DenseView<const V> x = row_block(res.view, b, rows);
    const DenseView<V> hv{h.data(), rows, m, m, Layout::RowMajor, sp};
    const VectorView<V> ev{errors.data(), rows, sp};
    model.encode(x, hv, ev);  // codes and errors from one forward pass
    SHRINK_DISPATCH(ctx, latent_activity, ctx, DenseView<const V>(hv), sums.data(), counts.data());
    const std::vector<V> s = sums.to_vector(ctx);
    const std::vector<index_t> c = counts.to_vector(ctx);
    for (index_t j = 0; j < m; ++j) {
      total_sum += double(s[j]);
      latent_count[j] += double(c[j]);
    }
    if (bins > 0) {
      std::vector<V> host_h(static_cast<std::size_t>(rows * m));
      detail::copy_bytes(&ctx, host_h.data(), MemorySpace::Host, h.data(), sp, host_h.size() * sizeof(V));
      for (const V v : host_h)
        if (v != V(0)) nonzero.push_back(double(v));
    }
    const std::vector<V> e = errors.to_vector(ctx);
    for (index_t i = 0; i < rows; ++i) sse += double(e[i]) * double(d);
    const DenseView<V> cv{centered.data(), rows, d, d, Layout::RowMajor, sp};
    SHRINK_DISPATCH(ctx, broadcast_add, ctx, x, V(-1), mean.data(), cv);
    const VectorView<const V> flat{centered.data(), rows * d, sp};
    sst += double(dispatch::dot<V>(ctx, flat, flat));
  }
  SaeMetrics r;
  r.samples = n;
  r.mse = sse / double(n * d);
  r.fvu = sst > 0 ? sse / sst : 0;
  double active = 0;
  index_t never = 0;
  for (const double c : latent_count) {
    active += c;
    never += c == 0;
  }
  r.l0 = active / double(n);
  r.mean_activation = total_sum / double(n * m);
  r.dead_fraction = double(never) / double(m);
  r.sparsity_ratio = 1 - active / double(n * m);
  if (bins > 0) r.activation_histogram = magnitude_histogram(nonzero, bins);
  return r;
}

template <class V>
SaeTrainResult sae_train(const Context& ctx, SparseAutoencoder<V>& model, DenseView<const V> data,
                         const SaeTrainOptions& o, SaeTrainState& state) {
  const auto t_begin = std::chrono::steady_clock::now();
  const SaeConfig& config = model.config();
  validate(o, config.block_sparse);
  check_data(model, data);
  const ResidentData<V> res = resident(ctx, data, "data");
  check_resident(ctx, res.view);
  const index_t n = data.rows, d = config.inputs;
  if (config.activation == SaeActivation::TopK && config.dead_after == 0) model.set_dead_after(n);
  SaeTrainResult result;
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t_begin).count(); };

  if (o.optimizer == SaeOptimizer::Lbfgs) {
    result.converged = lbfgs<V>(ctx, model, res.view, o.lbfgs_iterations, o.lbfgs_history,
                                [&](std::int64_t it, double loss) {
                                  if (o.progress) o.progress(it, o.lbfgs_iterations);
                                  if (it % 10 == 0) result.epoch_loss.push_back(loss);
                                });
    state.steps_done += o.lbfgs_iterations;
    state.epochs_done += 1;
    result.epochs = 1;
    result.steps = o.lbfgs_iterations;
    result.metrics = sae_metrics(ctx, model, res.view);
    result.time_s = elapsed();
    return result;
  }

  // The held-out samples, gathered once where training runs; the rest are the training samples.
  DenseMatrix<V> training_rows, validation_rows;
  DenseView<const V> train_view = res.view, validation_view;
  if (o.validation_fraction > 0 && n >= 2) {
    const index_t held = std::clamp<index_t>(static_cast<index_t>(std::llround(o.validation_fraction * double(n))),
                                             1, n - 1);
    const auto [train_idx, held_idx] = validation_split(n, held, state.seed);
    auto gather = [&](const std::vector<index_t>& rows, DenseMatrix<V>& into) {
      Array<index_t> idx(ctx, rows.size(), ctx.memory_space());
      copy<index_t>(ctx, VectorView<const index_t>(rows), idx.view());
      into = DenseMatrix<V>(ctx, static_cast<index_t>(rows.size()), d, Layout::RowMajor, ctx.memory_space());
      SHRINK_DISPATCH(ctx, gather_rows, ctx, res.view, idx.data(), into.view());
    };
    gather(train_idx, training_rows);
    gather(held_idx, validation_rows);
    train_view = training_rows.view();
    validation_view = validation_rows.view();
    result.validation_samples = held;
  }
  const index_t n_train = train_view.rows;
  const index_t batch = std::min(o.batch_size, n_train);
  const index_t per_epoch = n_train / batch;  // the shuffled remainder is left for later epochs
  // A run is `steps` steps when given, else `epochs` epochs' worth, continuing from wherever the
  // state stands (a steps-limited run may stop inside an epoch; its position is saved).
  const std::int64_t planned = o.steps > 0 ? o.steps : o.epochs * per_epoch;
  if (state.epoch_step >= per_epoch) state.epoch_step = 0;  // the batch size changed on resume
  if (o.sparsity > 0 && state.schedule.final_sparsity == 0) {
    // The schedule is fixed when pruning starts and saved with the model, so a resumed run keeps it.
    SparsitySchedule s = SparsitySchedule::one_shot(o.sparsity, state.steps_done);
    if (o.schedule == ScheduleKind::Cubic) {
      const std::int64_t span = static_cast<std::int64_t>(o.prune_fraction * double(std::max<std::int64_t>(planned - 1, 0)));
      const std::int64_t dt = std::max<std::int64_t>(1, span / 20);
      if (span / dt >= 1) s = {0.0, o.sparsity, state.steps_done, span / dt, dt};
    }
    state.schedule = s;
  }
  const MemorySpace sp = ctx.memory_space();
  DenseMatrix<V> target(ctx, batch, d, Layout::RowMajor, sp), input(ctx, batch, d, Layout::RowMajor, sp);
  Array<index_t> perm(ctx, static_cast<std::size_t>(n_train), sp);
  const bool noisy = o.corruption.kind != CorruptionKind::None;
  // Early stopping: the best check's parameters are kept (pruning changes the parameters' layout, so
  // a block-sparse model compares only checks after its last pruning).
  const bool validating = validation_view.rows > 0;
  const std::int64_t check_every =
      o.check_every > 0 ? o.check_every : std::max<std::int64_t>(1, std::min<std::int64_t>(per_epoch, planned / 50));
  Array<V> best_params, held_errors;
  double best = std::numeric_limits<double>::infinity();
  std::int64_t checks_without_gain = 0;
  auto check = [&](std::int64_t step) {
    const double mse = validation_mse(ctx, model, validation_view, held_errors);
    if (mse < best * (1 - 1e-4) || !std::isfinite(best)) {
      best = mse;
      result.best_step = step;
      if (best_params.size() != model.parameters().size())
        best_params = Array<V>(ctx, model.parameters().size(), sp);
      copy<V>(ctx, VectorView<const V>(model.parameters().view()), best_params.view());
      checks_without_gain = 0;
    } else {
      ++checks_without_gain;
    }
  };
  if (validating) held_errors = Array<V>(ctx, static_cast<std::size_t>(std::min<index_t>(validation_view.rows, 4096)), sp);
  double loss_sum = 0;
  std::int64_t loss_count = 0, loaded_epoch = -1, taken = 0;
  OptimizerOptions adam = o.adam;
  for (std::int64_t done = 0; done < planned; ++done) {
    if (loaded_epoch != state.epochs_done) {
      const std::vector<index_t> p = epoch_permutation(n_train, state.seed, state.epochs_done);
      copy<index_t>(ctx, VectorView<const index_t>(p), perm.view());
      loaded_epoch = state.epochs_done;
    }
    const std::int64_t t = state.steps_done;
    if (state.schedule.final_sparsity > 0 && state.schedule.prunes_at(t)) {
      model.prune_to(state.schedule.sparsity_at(t), o.norm);
      best = std::numeric_limits<double>::infinity();  // a new layout: earlier checks do not compare
      checks_without_gain = 0;
    }
    SHRINK_DISPATCH(ctx, gather_rows, ctx, train_view, perm.data() + state.epoch_step * batch, target.view());
    if (noisy)
      SHRINK_DISPATCH(ctx, corrupt, ctx, DenseView<const V>(target.view()), noise_of(o.corruption.kind),
                      V(o.corruption.level),
                      kernels::counter_hash(state.seed ^ kNoiseStream, static_cast<std::uint64_t>(t)), input.view());
    const SaeLoss loss = model.evaluate(noisy ? input.view() : target.view(), target.view(), true, true);
    adam.learning_rate = o.adam.learning_rate * learning_rate_factor(o, done, planned);
    model.step(adam);
    loss_sum += loss.total;
    ++loss_count;
    ++taken;
    state.steps_done = t + 1;
    if (o.progress) o.progress(done + 1, planned);
    if (validating && (taken % check_every == 0 || done + 1 == planned)) {
      check(state.steps_done);
      const bool pruning_done = state.schedule.final_sparsity == 0 || state.steps_done >= state.schedule.end_step();
      if (o.patience > 0 && checks_without_gain >= o.patience && pruning_done) {
        result.stopped_early = true;
        break;
      }
    }
    if (++state.epoch_step < per_epoch) continue;
    state.epoch_step = 0;
    state.epochs_done += 1;
    result.epochs += 1;
    result.epoch_loss.push_back(loss_sum / double(loss_count));
    loss_sum = 0;
    loss_count = 0;
    if (o.on_epoch) {
      SaeEpochLog log;
      log.epoch = state.epochs_done;
      log.step = state.steps_done;
      log.loss = result.epoch_loss.back();
      if (o.epoch_metrics) log.metrics = sae_metrics(ctx, model, train_view);
      log.block_sparsity = model.block_sparsity();
      log.time_s = elapsed();
      o.on_epoch(log);
    }
  }
  if (result.stopped_early && loss_count > 0) result.epoch_loss.push_back(loss_sum / double(loss_count));
  // The schedule's last pruning may fall after the last step when runs are short.
  if (state.schedule.final_sparsity > 0 && state.steps_done >= state.schedule.end_step()) {
    model.prune_to(state.schedule.final_sparsity, o.norm);
    if (validating) {
      best = std::numeric_limits<double>::infinity();
      check(state.steps_done);
    }
  }
  if (validating && best_params.size() == model.parameters().size())
    copy<V>(ctx, VectorView<const V>(best_params.view()), model.parameters().view());
  result.validation_mse = validating ? best : 0;
  result.steps = taken;
  result.metrics = sae_metrics(ctx, model, train_view);
  result.time_s = elapsed();
  return result;
}

#define SHRINK_INSTANTIATE_SAE_TRAIN(V)                                                                    \
  template SaeMetrics sae_metrics<V>(const Context&, SparseAutoencoder<V>&, DenseView<const V>, int);      \
  template SaeTrainResult sae_train<V>(const Context&, SparseAutoencoder<V>&, DenseView<const V>,          \
                                       const SaeTrainOptions&, SaeTrainState&);
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_SAE_TRAIN)

}  // namespace shrink
