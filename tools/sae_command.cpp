// `shrink sae train|encode|reconstruct|score|export`: read the data, call the library, write results.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "shrink/shrink.hpp"
#include "tools/cli_support.hpp"
#include "tools/commands.hpp"
#include "tools/output.hpp"

using nlohmann::json;

namespace shrink::cli {

namespace {

// The samples of a data file, checked against the model's width.
template <class V>
DenseMatrix<V> read_samples(const std::string& path, index_t inputs, const std::string& delimiter = {}) {
  auto x = read_dense<V>(path, delimiter);
  if (x.rows() == 0) throw InvalidArgument(path + ": the data file holds no samples");
  for (index_t i = 0; i < x.rows(); ++i)
    for (index_t j = 0; j < x.cols(); ++j)
      if (!std::isfinite(x(i, j)))
        throw NonFinite(path + ": sample " + std::to_string(i + 1) + ", feature " + std::to_string(j + 1) + " is " +
                        std::to_string(double(x(i, j))));
  if (inputs > 0 && x.cols() != inputs)
    throw DimensionMismatch(path + ": samples have " + std::to_string(x.cols()) + " features but the model has " +
                            std::to_string(inputs) + " inputs");
  return x;
}

json metrics_json(const SaeMetrics& m, bool histogram) {
  json j = {{"samples", m.samples},
            {"mse", m.mse},
            {"fvu", m.fvu},
            {"l0", m.l0},
            {"mean_activation", m.mean_activation},
            {"dead_fraction", m.dead_fraction},
            {"sparsity_ratio", m.sparsity_ratio}};
  if (histogram) j["activation_histogram"] = histogram_json(m.activation_histogram);
  return j;
}

json config_json(const SaeConfig& c, const Normalizer& n) {
  json j = {{"inputs", c.inputs},
            {"latents", c.latents},
            {"activation", to_string(c.activation)},
            {"tied", c.tied},
            {"unit_norm_decoder", c.unit_norm_decoder},
            {"weight_decay", c.weight_decay},
            {"normalize", to_string(n.kind)}};
  if (c.activation == SaeActivation::SigmoidKl) {
    j["rho"] = c.rho;
    j["beta"] = c.beta;
  } else if (c.activation == SaeActivation::ReluL1) {
    j["l1"] = c.l1;
    j["l1_decoder_norm"] = c.l1_decoder_norm;
  } else {
    j["k"] = c.k;
    j["aux_k"] = c.aux_k;
    j["aux_coeff"] = c.aux_coeff;
  }
  if (c.block_sparse) j["block"] = std::to_string(c.block.rows) + "x" + std::to_string(c.block.cols);
  return j;
}

// The settings of a run: the user's choices, the rest from the data (the library's rules). A bad
// combination (k > latents, a block that does not fit, ...) is a usage error.
SaeSettings settings_from(const SaeTrainArgs& a, SaeAutoOptions chosen, const SaeConfig& base_config,
                          index_t samples, index_t inputs) {
  SaeSettings base;
  base.config = base_config;
  base.train = a.train;
  base.train.adam.beta1 = a.adam_betas.at(0);
  base.train.adam.beta2 = a.adam_betas.at(1);
  if (a.noise) base.train.corruption = {CorruptionKind::Gaussian, *a.noise};
  if (a.mask) base.train.corruption = {CorruptionKind::Mask, *a.mask};
  try {
    if (!a.block.empty()) {
      base.config.block_sparse = true;
      base.config.block = parse_block_shape(a.block);
    }
    return resolve_sae_settings(chosen, base, samples, inputs);
  } catch (const InvalidArgument& e) {
    throw UsageError(e.what());
  }
}

// The settings as `sae train` flags that repeat the run exactly (with the same data and seed).
std::string settings_flags(const SaeSettings& s) {
  const SaeConfig& c = s.config;
  const SaeTrainOptions& t = s.train;
  std::ostringstream f;
  f << std::setprecision(10) << "--activation " << to_string(c.activation) << " --latents " << c.latents;
  if (c.activation == SaeActivation::TopK) f << " --k " << c.k << " --aux-k " << c.aux_k;
  if (c.activation != SaeActivation::SigmoidKl)
    f << (c.unit_norm_decoder ? " --unit-norm-decoder" : " --no-unit-norm-decoder");
  f << " --normalize " << to_string(s.normalize) << " --score " << to_string(s.score);
  if (s.score == SaeScore::Neighbors) f << " --neighbors " << s.neighbors;
  if (t.optimizer == SaeOptimizer::Adam) {
    if (t.steps > 0) f << " --steps " << t.steps;
    else f << " --epochs " << t.epochs;
    f << " --batch " << t.batch_size << " --lr " << t.adam.learning_rate << " --lr-schedule " << to_string(t.lr_schedule)
      << " --validation " << t.validation_fraction << " --patience " << t.patience;
  }
  f << " --seed " << t.seed;
  return f.str();
}

json settings_json(const SaeSettings& s) {
  json j = config_json(s.config, Normalizer{s.normalize, {}, {}});
  const SaeTrainOptions& t = s.train;
  j["optimizer"] = to_string(t.optimizer);
  if (t.optimizer == SaeOptimizer::Adam) {
    j["steps"] = t.steps;  // 0: epochs sets the length
    j["epochs"] = t.epochs;
    j["batch"] = t.batch_size;
    j["learning_rate"] = t.adam.learning_rate;
    j["lr_schedule"] = to_string(t.lr_schedule);
    j["validation_fraction"] = t.validation_fraction;
    j["patience"] = t.patience;
    j["early_stopping"] = t.patience > 0;
  } else {
    j["iterations"] = t.lbfgs_iterations;
  }
  j["seed"] = t.seed;
  j["score"] = to_string(s.score);
  if (s.score == SaeScore::Neighbors) j["neighbors"] = s.neighbors;
  j["flags"] = settings_flags(s);
  return j;
}

// Training that went wrong: a loss or metric that is not finite, every latent dead, or
// reconstructions far worse than the data's mean (FVU > 4: an under-trained model sits near 1, a
// diverged one in the tens or hundreds). Empty when it did not.
std::string divergence(const SaeTrainResult& r, const SaeMetrics& m) {
  for (const double l : r.epoch_loss)
    if (!std::isfinite(l)) return "the training loss became " + std::to_string(l);
  if (!std::isfinite(m.mse) || !std::isfinite(m.fvu)) return "the reconstruction error is not finite";
  if (m.dead_fraction >= 1.0) return "every latent is dead (none fires on the data)";
  if (m.fvu > 4.0)
    return "the reconstructions are far worse than the data's mean (FVU " + std::to_string(m.fvu) + " > 4)";
  return {};
}

template <class V>
int train_in(const SaeTrainArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  check_writable(a.out, "--out");
  check_writable(a.log, "--log");
  const Context ctx = make_context(a.backend, a.threads);
  std::optional<SparseAutoencoder<V>> model;
  SaeTrainState state;
  DenseMatrix<V> x;
  SaeSettings settings;
  if (!a.resume.empty()) {
    auto loaded = load_sae<V>(ctx, a.resume);
    // A resumed model keeps its settings: options that would change them are refused, not ignored.
    const SaeConfig& have = loaded.model.config();
    const SaeAutoOptions& c = a.chosen;
    auto refuse = [&](bool differs, const std::string& option, const std::string& has) {
      if (differs) throw UsageError(option + " with --resume: " + a.resume + " has " + has);
    };
    refuse(c.latents && *c.latents != have.latents, "--latents " + std::to_string(c.latents.value_or(0)),
           std::to_string(have.latents) + " latents");
    refuse(c.activation && *c.activation != have.activation, "--activation", to_string(have.activation));
    refuse(c.k && *c.k != have.k, "--k", "k " + std::to_string(have.k));
    refuse(c.aux_k && *c.aux_k != have.aux_k, "--aux-k", "aux_k " + std::to_string(have.aux_k));
    refuse(c.unit_norm_decoder && *c.unit_norm_decoder != have.unit_norm_decoder, "--(no-)unit-norm-decoder",
           have.unit_norm_decoder ? "unit-norm decoder columns" : "free decoder columns");
    refuse(c.normalize && *c.normalize != loaded.model.normalizer().kind, "--normalize",
           std::string("normalization ") + to_string(loaded.model.normalizer().kind));
    refuse(!a.block.empty(), "--block", "its own block layout");
    const auto& scorer = loaded.model.scorer();
    refuse(c.score && *c.score != scorer.method, "--score", std::string("score ") + to_string(scorer.method));
    refuse(c.neighbors && scorer.method == SaeScore::Neighbors && *c.neighbors != scorer.neighbors, "--neighbors",
           std::to_string(scorer.neighbors) + " neighbors");
    x = read_samples<V>(a.data, have.inputs, a.delimiter);
    SaeAutoOptions inherited = c;
    inherited.activation = have.activation;
    inherited.latents = have.latents;
    inherited.k = have.k;
    inherited.aux_k = have.aux_k;
    inherited.unit_norm_decoder = have.unit_norm_decoder;
    inherited.normalize = loaded.model.normalizer().kind;
    inherited.score = scorer.method;
    if (scorer.method == SaeScore::Neighbors)  // the reference is rebuilt from DATA below
      inherited.neighbors = std::min<index_t>(scorer.neighbors, std::min(x.rows(), sae_reference_rows(have.inputs)));
    settings = settings_from(a, inherited, have, x.rows(), have.inputs);  // --block was refused above
    loaded.model.normalizer().apply(x.view());
    model.emplace(std::move(loaded.model));
    state = loaded.state;
  } else {
    x = read_samples<V>(a.data, 0, a.delimiter);
    settings = settings_from(a, a.chosen, a.config, x.rows(), x.cols());
  }
  SaeTrainOptions& o = settings.train;
  o.epoch_metrics = !a.log.empty();
  // The log is written as training goes, a line per epoch, flushed, so it can be followed.
  std::ofstream log;
  if (!a.log.empty()) {
    log.open(a.log, std::ios::trunc);
    if (!log) throw IoError(a.log + " (--log): cannot open for writing");
  }
  o.on_epoch = [&](const SaeEpochLog& e) {
    if (a.log.empty()) return;
    json line = {{"epoch", e.epoch}, {"step", e.step}, {"loss", e.loss}, {"block_sparsity", e.block_sparsity},
                 {"time_s", e.time_s}};
    line["metrics"] = metrics_json(e.metrics, false);
    log << line.dump() << "\n";
    log.flush();
    if (!log) throw IoError(a.log + " (--log): write failed");
  };
  const index_t held = static_cast<index_t>(std::llround(o.validation_fraction * double(x.rows())));
  const index_t n_train = x.rows() - held;
  const long total = o.optimizer == SaeOptimizer::Lbfgs ? static_cast<long>(o.lbfgs_iterations)
                   : o.steps > 0 ? static_cast<long>(o.steps)
                                 : static_cast<long>(o.epochs * (n_train / std::min<index_t>(std::max<index_t>(o.batch_size, 1), n_train)));
  Progress bar("sae train", total);
  o.progress = [&](std::int64_t done, std::int64_t) {
    if (done % 8 == 0 || done == total) bar.update(static_cast<long>(done));
  };
  SaeTrainResult r;
  if (model) {
    r = sae_train<V>(ctx, *model, x.view(), o, state);
    sae_set_scorer<V>(*model, settings.score, settings.neighbors, DenseView<const V>(x.view()), o.seed);
  } else {
    auto fit = sae_fit<V>(ctx, settings, x.view());
    model.emplace(std::move(fit.model));
    state = fit.state;
    r = std::move(fit.result);
    if (a.bins > 0) model->normalizer().apply(x.view());  // sae_fit normalized its own copy
  }
  SaeMetrics m = r.metrics;
  if (a.bins > 0 && std::isfinite(m.mse)) m = sae_metrics<V>(ctx, *model, x.view(), a.bins);
  const std::string diverged = divergence(r, m);
  const bool write_model = diverged.empty() || a.keep_diverged;
  if (write_model) save_sae(a.out, *model, state);
  if (a.json) {
    json j = metrics_json(m, a.bins > 0);
    if (!diverged.empty()) j["diverged"] = diverged;
    j["model_written"] = write_model;
    j["model"] = config_json(model->config(), model->normalizer());
    j["model"]["score"] = to_string(model->scorer().method);
    if (model->scorer().method == SaeScore::Neighbors) {
      j["model"]["neighbors"] = model->scorer().neighbors;
      j["model"]["reference_rows"] = model->scorer().reference_rows(model->config().inputs);
    }
    j["settings"] = settings_json(settings);
    j["stopped_early"] = r.stopped_early;
    j["validation_samples"] = r.validation_samples;
    if (r.validation_samples > 0) {
      j["validation_mse"] = r.validation_mse;
      j["best_step"] = r.best_step;
    }
    j["epochs"] = r.epochs;
    j["epochs_total"] = state.epochs_done;
    j["steps"] = r.steps;
    j["epoch_loss"] = r.epoch_loss;
    j["optimizer"] = to_string(o.optimizer);
    if (o.optimizer == SaeOptimizer::Lbfgs) j["converged"] = r.converged;
    j["block_sparsity"] = model->block_sparsity();
    j["time_s"] = seconds_since(t0);
    j["train_time_s"] = r.time_s;
    j["backend"] = to_string(ctx.backend());
    j["device"] = ctx.device_name();
    j["precision"] = a.precision;
    j["out"] = a.out;
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << std::setprecision(6) << "trained " << to_string(model->config().activation) << " SAE "
              << model->config().inputs << " -> " << model->config().latents << " on " << x.rows() << " samples, "
              << (o.optimizer == SaeOptimizer::Lbfgs ? std::to_string(r.steps) + " L-BFGS iterations"
                                                     : std::to_string(r.steps) + " steps (" + std::to_string(r.epochs) +
                                                           " epochs)")
              << " in " << r.time_s << " s on " << ctx.device_name() << "\n";
    if (r.validation_samples > 0)
      std::cout << "validation: " << r.validation_samples << " held-out samples, best mse " << r.validation_mse
                << " at step " << r.best_step << (r.stopped_early ? ", stopped early" : "") << "\n";
    std::cout << "settings: " << settings_flags(settings) << "\n"
              << "mse " << m.mse << ", fvu " << m.fvu << ", l0 " << m.l0 << ", mean activation " << m.mean_activation
              << ", dead " << m.dead_fraction << ", sparsity " << m.sparsity_ratio << "\n";
    if (write_model) std::cout << "model written to " << a.out << "\n";
  }
  if (!diverged.empty()) {
    std::cerr << "shrink: error: training diverged: " << diverged
              << (write_model ? "; the model was written anyway (--keep-diverged)"
                              : "; no model written (--keep-diverged writes it; a smaller --lr usually helps)")
              << "\n";
    return kNotConverged;
  }
  return kOk;
}

template <class V>
int apply_in(const SaeApplyArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  // Scores without --out go to stdout one per line, as predict's predictions.
  const Output target = a.out.empty() ? Output()
                                      : Output(a.out, "--out", a.action == "score" ? OutputKind::Vector : OutputKind::Matrix);
  const Context ctx = make_context(a.backend, a.threads);
  auto loaded = load_sae<V>(ctx, a.model);
  SparseAutoencoder<V>& model = loaded.model;
  const index_t d = model.config().inputs, m = model.config().latents;
  auto x = read_samples<V>(a.data, d, a.delimiter);
  model.normalizer().apply(x.view());
  const index_t n = x.rows();
  const index_t chunk = std::min<index_t>(n, std::max<index_t>(1, (index_t(1) << 24) / std::max(m, d)));
  const MemorySpace sp = ctx.memory_space();
  DenseMatrix<V> xc(ctx, chunk, d, Layout::RowMajor, sp);
  MatrixFile<V, std::int64_t> out;
  std::vector<std::int64_t> row_ptr{0}, col_idx;
  std::vector<V> values, scores;
  if (a.action == "reconstruct") {
    out.is_dense = true;
    out.dense = DenseMatrix<V>(n, d);
  }
  for (index_t b = 0; b < n; b += chunk) {
    const index_t rows = std::min(chunk, n - b);
    const DenseView<V> xv{xc.data(), rows, d, d, Layout::RowMajor, sp};
    detail::copy_bytes(&ctx, xc.data(), sp, x.data() + b * d, MemorySpace::Host, sizeof(V) * rows * d);
    if (a.action == "encode") {
      DenseMatrix<V> h(ctx, rows, m, Layout::RowMajor, sp);
      model.encode(xv, h.view());
      const auto hh = h.copy_to(ctx, MemorySpace::Host);
      for (index_t i = 0; i < rows; ++i) {
        for (index_t j = 0; j < m; ++j)
          if (hh(i, j) != V(0)) {
            col_idx.push_back(j);
            values.push_back(hh(i, j));
          }
        row_ptr.push_back(static_cast<std::int64_t>(col_idx.size()));
      }
    } else if (a.action == "reconstruct") {
      DenseMatrix<V> xh(ctx, rows, d, Layout::RowMajor, sp);
      model.reconstruct(xv, xh.view());
      detail::copy_bytes(&ctx, out.dense.data() + b * d, MemorySpace::Host, xh.data(), sp, sizeof(V) * rows * d);
    } else {
      Array<V> e(ctx, static_cast<std::size_t>(rows), sp);
      model.anomaly_scores(xv, e.view());
      const auto host = e.to_vector(ctx);
      scores.insert(scores.end(), host.begin(), host.end());
    }
  }
  if (a.action == "encode") {
    out.sparse = CsrMatrix<V, std::int64_t>::from_arrays(n, m, std::move(row_ptr), std::move(col_idx),
                                                         std::move(values));
    target.write(out);
  } else if (a.action == "reconstruct") {
    model.normalizer().invert(out.dense.view());  // back on the data's scale
    target.write(out);
  } else if (target.empty()) {
    if (!a.json) print_values(scores);
  } else {
    target.write_vector(scores, "score");
  }
  if (a.json) {
    json j = {{"action", a.action}, {"samples", n}, {"time_s", seconds_since(t0)},
              {"backend", to_string(ctx.backend())}, {"device", ctx.device_name()}};
    if (target.empty()) j["scores"] = std::vector<double>(scores.begin(), scores.end());
    else j["out"] = a.out;
    if (a.action == "encode") j["nnz"] = out.sparse.nnz();
    if (a.action == "score") {
      j["score"] = to_string(model.scorer().method);
      double mean = 0;
      for (const V s : scores) mean += double(s) / double(n);
      j["mean_score"] = mean;
    }
    (target.to_stdout() ? std::cerr : std::cout) << j.dump(2) << "\n";
  } else if (!target.empty()) {
    (target.to_stdout() ? std::cerr : std::cout) << a.action << ": " << n << " samples written to " << a.out << "\n";
  }
  return kOk;
}

template <class V>
int export_in(const SaeExportArgs& a) {
  const Context ctx(ContextOptions{Backend::Cpu});
  auto loaded = load_sae<V>(ctx, a.model);
  const SparseAutoencoder<V>& model = loaded.model;
  std::error_code ec;
  std::filesystem::create_directories(a.out_dir, ec);
  if (ec) throw IoError(a.out_dir + ": cannot create the directory: " + ec.message());
  const std::filesystem::path dir(a.out_dir);
  std::vector<std::string> files;
  auto save = [&](const std::string& name, DenseView<const V> m) {
    files.push_back((dir / name).string());
    write_npy<V>(files.back(), m);
  };
  auto save_vector = [&](const std::string& name, const std::vector<V>& v) {
    save(name, DenseView<const V>(v.data(), static_cast<index_t>(v.size()), 1, 1, Layout::RowMajor));
  };
  const auto we = model.encoder_weights(), wd = model.decoder_weights();
  save("encoder_weight.npy", we.view());
  save_vector("encoder_bias.npy", model.encoder_bias());
  save("decoder_weight.npy", wd.view());
  save_vector("decoder_bias.npy", model.decoder_bias());
  const Normalizer& n = model.normalizer();
  if (n.kind != Normalization::None) {
    save_vector("normalize_offset.npy", std::vector<V>(n.offset.begin(), n.offset.end()));
    save_vector("normalize_scale.npy", std::vector<V>(n.scale.begin(), n.scale.end()));
  }
  json meta = config_json(model.config(), n);
  meta["formula"] = "x_hat = decoder_weight @ h + decoder_bias, h = f(encoder_weight @ (x_n - decoder_bias) + "
                    "encoder_bias), x_n = (x - normalize_offset) / normalize_scale";
  meta["files"] = files;
  files.push_back((dir / "model.json").string());
  write_file_atomic(files.back(), meta.dump(2) + "\n");
  if (a.json) std::cout << json({{"out_dir", a.out_dir}, {"files", files}}).dump(2) << "\n";
  else
    for (const auto& f : files) std::cout << f << "\n";
  return kOk;
}

}  // namespace

int run_sae_train(const SaeTrainArgs& a) {
  return a.precision == "f64" ? train_in<double>(a) : train_in<float>(a);
}

int run_sae_apply(const SaeApplyArgs& a) {
  return sae_checkpoint_info(a.model).value_bytes == 8 ? apply_in<double>(a) : apply_in<float>(a);
}

int run_sae_export(const SaeExportArgs& a) {
  return sae_checkpoint_info(a.model).value_bytes == 8 ? export_in<double>(a) : export_in<float>(a);
}

}  // namespace shrink::cli
