#include "tools/commands.hpp"
#include "tools/output.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>

#include "shrink/shrink.hpp"
#include "tools/cli_support.hpp"

using nlohmann::json;

namespace shrink::cli {

namespace {

SpmvAlgorithm parse_algorithm(const std::string& s) {
  if (s == "merge-path") return SpmvAlgorithm::MergePath;
  if (s == "cusparse") return SpmvAlgorithm::Cusparse;
  if (s == "cusparse-alg2") return SpmvAlgorithm::CusparseAlg2;
  return SpmvAlgorithm::Auto;
}

// Runs `product` once to warm up, then `repeat` times, each timed with the context's Timer (CUDA
// events on the GPU, a steady clock on the CPU).
template <class F>
std::vector<double> time_repeated(const Context& ctx, int repeat, const char* label, F product) {
  product();
  ctx.synchronize();
  std::vector<double> times;
  Progress bar(label, repeat);
  Timer timer(ctx);
  for (int i = 0; i < repeat; ++i) {
    timer.start();
    product();
    times.push_back(timer.stop_seconds());
    bar.update(i + 1);
  }
  return times;
}

template <class V, class I>
double spmv_bytes(const CsrMatrix<V, I>& a, bool transpose) {
  const double in = static_cast<double>(transpose ? a.rows() : a.cols());
  const double out = static_cast<double>(transpose ? a.cols() : a.rows());
  return static_cast<double>(a.nnz()) * (sizeof(V) + sizeof(I)) +
         static_cast<double>(a.rows() + 1) * sizeof(I) + (in + out) * sizeof(V);
}

template <class V, class I>
int spmv_with(const SpmvArgs& args, const Output& out, const Context& ctx, CsrMatrix<V, I> host_a) {
  const index_t x_len = args.transpose ? host_a.rows() : host_a.cols();
  const index_t y_len = args.transpose ? host_a.cols() : host_a.rows();
  check_memory(2.0 * static_cast<double>(x_len + (args.transpose ? host_a.cols() : host_a.rows())) * sizeof(V),
               "x and y of a " + std::to_string(host_a.rows()) + " x " + std::to_string(host_a.cols()) + " product");
  std::vector<V> x(static_cast<std::size_t>(x_len), V(1));
  if (!args.x_file.empty()) {
    auto xf = read_matrix<V, std::int64_t>(args.x_file).take_dense();
    if (xf.rows() != 1 && xf.cols() != 1)
      throw DimensionMismatch(args.x_file + ": x must be a vector, got a " +
                              std::to_string(xf.rows()) + " x " + std::to_string(xf.cols()) +
                              " matrix");
    const index_t n = xf.rows() * xf.cols();
    if (n != x_len)
      throw DimensionMismatch(args.x_file + ": x has " + std::to_string(n) + " entries but " +
                              (args.transpose ? "A^T*x" : "A*x") + " with a " +
                              std::to_string(host_a.rows()) + " x " + std::to_string(host_a.cols()) +
                              " A needs " + std::to_string(x_len));
    std::copy(xf.data(), xf.data() + n, x.begin());
  }
  const auto setup0 = std::chrono::steady_clock::now();
  SparseOperator<V, I> op(ctx, host_a);
  if (args.transpose) (void)op.transposed();  // built once, outside the timed loop
  const Array<V> x_host = Array<V>::from_vector(x);
  const Array<V> xd = x_host.copy_to(ctx, ctx.memory_space());
  Array<V> yd(ctx, static_cast<std::size_t>(y_len), ctx.memory_space());
  ctx.synchronize();
  const double setup_s = seconds_since(setup0);
  const Op which = args.transpose ? Op::Transpose : Op::NoTranspose;
  const SpmvAlgorithm algorithm = parse_algorithm(args.algorithm);
  const auto times = time_repeated(ctx, args.repeat, "spmv", [&] {
    op.apply(which, V(1), xd.view(), V(0), yd.view(), algorithm);
  });
  const double t = median(times);
  const double gbs = spmv_bytes(host_a, args.transpose) / t / 1e9;

  const bool y_to_stdout = out.to_stdout();
  if (!out.empty()) out.write_vector(yd.to_vector(ctx), "y");
  std::ostream& summary = y_to_stdout ? std::cerr : std::cout;
  if (args.json) {
    json j = {{"rows", host_a.rows()},
              {"cols", host_a.cols()},
              {"nnz", host_a.nnz()},
              {"transpose", args.transpose},
              {"backend", to_string(ctx.backend())},
              {"device", ctx.device_name()},
              {"precision", sizeof(V) == 4 ? "f32" : "f64"},
              {"index_bits", sizeof(I) * 8},
              {"cpu_threads", ctx.cpu_threads()},
              {"algorithm", to_string(algorithm)},
              {"repeat", args.repeat},
              {"median_s", t},
              {"min_s", *std::min_element(times.begin(), times.end())},
              {"setup_s", setup_s},
              {"bytes_per_product", spmv_bytes(host_a, args.transpose)},
              {"gb_per_s", gbs}};
    if (!args.out.empty()) j["out"] = args.out;
    summary << j.dump(2) << "\n";
  } else {
    summary << (args.transpose ? "A^T*x" : "A*x") << ": " << host_a.rows() << " x "
            << host_a.cols() << ", nnz " << host_a.nnz() << ", " << to_string(ctx.backend())
            << " (" << ctx.device_name() << "), " << (sizeof(V) == 4 ? "f32" : "f64")
            << ", median " << t * 1e3 << " ms over " << args.repeat << ", " << gbs << " GB/s\n";
  }
  return kOk;
}

template <class V>
int spmv_typed(const SpmvArgs& args, const Output& out) {
  const Context ctx = make_context(args.backend, args.threads);
  auto a = read_matrix<V, std::int64_t>(args.matrix).take_csr();
  const auto limit = static_cast<index_t>(std::numeric_limits<std::int32_t>::max());
  if (a.nnz() <= limit && a.rows() <= limit && a.cols() <= limit)
    return spmv_with<V, std::int32_t>(args, out, ctx, cast<V, std::int32_t>(a));
  return spmv_with<V, std::int64_t>(args, out, ctx, std::move(a));
}

}  // namespace

int run_spmv(const SpmvArgs& args) {
  if (args.json && args.out == "-") throw UsageError("--out - and --json both want stdout; choose one");
  const Output out(args.out, "--out", OutputKind::Vector);
  return args.precision == "f32" ? spmv_typed<float>(args, out) : spmv_typed<double>(args, out);
}

// ---- convert ---------------------------------------------------------------------------------------
namespace {
template <class V>
int convert_typed(const ConvertArgs& args) {
  const Output target(args.out, "OUT");
  if (target.to_stdout()) throw UsageError("OUT: convert writes a file, not stdout");
  const FileFormat in = format_from_path(args.in), out = target.format();
  MatrixFile<V, std::int64_t> m;
  if (in == FileFormat::Svmlight && out == FileFormat::Svmlight) {
    auto data = read_svmlight<V, std::int64_t>(args.in);  // keep the labels
    write_svmlight(args.out, data.features, data.labels);
    m.sparse = std::move(data.features);
  } else {
    m = read_input<V, std::int64_t>(args.in, args.delimiter);
    target.write(m);
  }
  const index_t nnz = m.is_dense ? m.rows() * m.cols() : m.sparse.nnz();
  if (args.json) {
    std::cout << json{{"in", args.in},          {"out", args.out},
                      {"in_format", to_string(in)}, {"out_format", to_string(out)},
                      {"rows", m.rows()},       {"cols", m.cols()},
                      {"stored_entries", nnz},  {"dense", m.is_dense}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << "wrote " << args.out << " (" << to_string(out) << "): " << m.rows() << " x "
              << m.cols() << ", " << nnz << (m.is_dense ? " values" : " nonzeros") << "\n";
  }
  return kOk;
}
}  // namespace

int run_convert(const ConvertArgs& args) {
  return args.precision == "f32" ? convert_typed<float>(args) : convert_typed<double>(args);
}

// ---- demo ------------------------------------------------------------------------------------------
int run_demo(const DemoArgs& args) {
  using V = double;
  using I = std::int32_t;
  const Context ctx = make_context(args.backend, args.threads);
  const index_t n = args.rows;
  std::cerr << "shrink demo on " << ctx.device_name() << ": generating a " << n << " x " << n << " power-law matrix...\n";
  const auto a = generate_power_law<V, I>(n, n, 16.0, 1.6, 7);
  const auto x = generate_vector<V>(n, 3);

  // y = A*x and z = A^T*x against serial references (long double accumulation).
  std::vector<long double> ref(static_cast<std::size_t>(n)), ref_t(static_cast<std::size_t>(n));
  for (index_t r = 0; r < n; ++r)
    for (I k = a.row_ptr()[r]; k < a.row_ptr()[r + 1]; ++k) {
      ref[r] += static_cast<long double>(a.values()[k]) * x[a.col_idx()[k]];
      ref_t[a.col_idx()[k]] += static_cast<long double>(a.values()[k]) * x[r];
    }
  // The largest error relative to the largest reference entry.
  auto max_rel_error = [](const std::vector<V>& got, const std::vector<long double>& want) {
    long double err = 0, scale = 0;
    for (std::size_t r = 0; r < want.size(); ++r) {
      err = std::max(err, std::fabs(static_cast<long double>(got[r]) - want[r]));
      scale = std::max(scale, std::fabs(want[r]));
    }
    return static_cast<double>(err / std::max(scale, 1.0L));
  };

  SparseOperator<V, I> op(ctx, a);
  const auto xd = x.copy_to(ctx, ctx.memory_space());
  Array<V> yd(ctx, static_cast<std::size_t>(n), ctx.memory_space());
  const int repeat = 10;
  const double t_fwd = median(time_repeated(ctx, repeat, "A*x", [&] {
    op.apply(Op::NoTranspose, V(1), xd.view(), V(0), yd.view());
  }));
  const double rel_err = max_rel_error(yd.to_vector(ctx), ref);
  (void)op.transposed();
  Array<V> zd(ctx, static_cast<std::size_t>(n), ctx.memory_space());
  const double t_tr = median(time_repeated(ctx, repeat, "A^T*x", [&] {
    op.apply(Op::Transpose, V(1), xd.view(), V(0), zd.view());
  }));
  const double rel_err_t = max_rel_error(zd.to_vector(ctx), ref_t);

  // One fused proximal-gradient step over a long vector.
  const index_t m = 8 * n;
  const auto v = generate_vector<V>(m, 11).copy_to(ctx, ctx.memory_space());
  const auto g = generate_vector<V>(m, 12).copy_to(ctx, ctx.memory_space());
  Array<V> out(ctx, static_cast<std::size_t>(m), ctx.memory_space());
  const double t_prox = median(time_repeated(ctx, repeat, "prox", [&] {
    prox_grad_step(ctx, v.view(), g.view(), V(0.5), Penalty<V>{V(0.1), V(0.01)}, out.view());
  }));

  // A cross-validated Lasso path on a sparse design with a known support of 25 features.
  const index_t ln = 20000, lp = 5000;
  std::cerr << "shrink demo: Lasso path with 5-fold CV on a " << ln << " x " << lp << " sparse design...\n";
  const auto lx = generate_uniform<V, I>(ln, lp, 20, 5);
  std::vector<V> truth(static_cast<std::size_t>(lp), V(0));
  for (index_t j = 0; j < 25; ++j) truth[static_cast<std::size_t>(j * 197 % lp)] = V(j % 2 ? -2 : 3);
  std::vector<V> ly(static_cast<std::size_t>(ln));
  const auto noise = generate_vector<V>(ln, 9);
  for (index_t r = 0; r < ln; ++r) {
    V acc = V(1) + V(0.1) * noise[r];
    for (I k = lx.row_ptr()[r]; k < lx.row_ptr()[r + 1]; ++k) acc += lx.values()[k] * truth[lx.col_idx()[k]];
    ly[r] = acc;
  }
  LassoOptions lopts;
  lopts.n_lambdas = 30;
  Timer lasso_timer(ctx);
  lasso_timer.start();
  const auto cv = lasso_cv(ctx, lx, VectorView<const V>(ly), lopts, {5, 1});
  const double t_lasso = lasso_timer.stop_seconds();
  const auto chosen = cv.path.coefficients_at(cv.index_1se);
  int recovered = 0;
  for (index_t j = 0; j < lp; ++j) recovered += truth[j] != 0 && chosen[j] != 0;
  double worst_gap = 0;
  for (std::size_t l = 0; l < cv.path.size(); ++l)
    worst_gap = std::max(worst_gap, cv.path.duality_gap[l] / cv.path.objective[l]);
  const bool lasso_ok = cv.path.all_converged() && cv.fold_fits_not_converged == 0;

  // A batch: 2000 responses on one dense design, each at 0.1 of its own lambda_max.
  std::cerr << "shrink demo: 2000 Lasso problems at once on a 300 x 100 design...\n";
  const index_t bn = 300, bp = 100, bk = 2000;
  DenseMatrix<V> bx(bn, bp, Layout::ColMajor), by(bn, bk, Layout::ColMajor);
  const auto bnoise = generate_vector<V>(bn * (bp + bk), 21);
  for (index_t i = 0; i < bn; ++i)
    for (index_t j = 0; j < bp; ++j) bx(i, j) = bnoise[i * bp + j];
  for (index_t b = 0; b < bk; ++b)
    for (index_t i = 0; i < bn; ++i)
      by(i, b) = bx(i, b % bp) - V(0.5) * bx(i, (3 * b + 1) % bp) + V(0.1) * bnoise[bn * bp + b * bn + i];
  BatchLassoOptions bopts;
  bopts.lambda_ratio = 0.1;
  Timer batch_timer(ctx);
  batch_timer.start();
  const auto batch = lasso_batch<V>(ctx, bx.view(), by.view(), bopts);
  const double t_batch = batch_timer.stop_seconds();
  double batch_gap = 0;
  for (std::size_t b = 0; b < batch.size(); ++b) batch_gap = std::max(batch_gap, batch.duality_gap[b] / batch.objective[b]);
  const bool batch_ok = batch.all_converged();

  // Block pruning and distillation: a 128 x 256 teacher layer to 16x16 blocks at 75% sparsity.
  std::cerr << "shrink demo: distilling a 128 x 256 layer into 16x16 blocks at 75% sparsity...\n";
  DenseLayer<float> teacher{DenseMatrix<float>(128, 256), std::vector<float>(128, 0.1f)};
  const auto tw = generate_vector<float>(128 * 256, 31);
  // A quarter of its 16x16 blocks carry the signal, the rest small weights: what pruning should find.
  for (index_t i = 0; i < 128; ++i)
    for (index_t j = 0; j < 256; ++j)
      teacher.weights(i, j) = tw[i * 256 + j] * (((i / 16) * 7 + (j / 16) * 3) % 4 == 0 ? 1.0f : 0.05f);
  DenseMatrix<float> dx(2048, 256);
  const auto dxv = generate_vector<float>(2048 * 256, 32);
  std::copy(dxv.data(), dxv.data() + dxv.size(), dx.data());
  DistillOptions dopts;
  dopts.block = {16, 16};
  dopts.sparsity = 0.75;
  dopts.steps = 300;
  std::vector<DenseLayer<float>> teachers;
  teachers.push_back(std::move(teacher));
  const auto student = distill<float, std::int32_t>(ctx, teachers, dx.view(), dopts);

  // A TopK sparse autoencoder trained and scored: anomalies (shifted samples) score higher.
  std::cerr << "shrink demo: training a TopK sparse autoencoder (64 -> 128, k = 8)...\n";
  const index_t sn = 4000, sd = 64;
  DenseMatrix<float> sx(sn, sd), anomalies(200, sd);
  const auto sv = generate_vector<float>(sn * sd + 200 * sd + sn * 4, 41);
  for (index_t i = 0; i < sn; ++i)  // four latent factors and a little noise
    for (index_t j = 0; j < sd; ++j)
      sx(i, j) = sv[sn * sd + 200 * sd + i * 4 + j % 4] * (1.0f + 0.02f * j) + 0.05f * sv[i * sd + j];
  for (index_t i = 0; i < 200; ++i)
    for (index_t j = 0; j < sd; ++j) anomalies(i, j) = sv[sn * sd + i * sd + j];
  SaeConfig sconfig;
  sconfig.inputs = sd;
  sconfig.latents = 128;
  sconfig.activation = SaeActivation::TopK;
  sconfig.k = 8;
  SparseAutoencoder<float> sae(ctx, sconfig, 1);
  SaeTrainOptions sopts;
  sopts.epochs = 20;
  SaeTrainState sstate;
  const auto dtrain = sx.copy_to(ctx, ctx.memory_space());
  const auto sres = sae_train<float>(ctx, sae, DenseView<const float>(dtrain.view()), sopts, sstate);
  const auto danom = anomalies.copy_to(ctx, ctx.memory_space());
  Array<float> normal_scores(ctx, 200, ctx.memory_space()), anomaly_scores(ctx, 200, ctx.memory_space());
  sae.reconstruction_errors(DenseView<const float>(dtrain.data(), 200, sd, sd, Layout::RowMajor, ctx.memory_space()),
                            normal_scores.view());
  sae.reconstruction_errors(DenseView<const float>(danom.view()), anomaly_scores.view());
  const auto ns = normal_scores.to_vector(ctx), as = anomaly_scores.to_vector(ctx);
  // AUC: the chance that an anomaly outscores a normal sample.
  double wins = 0;
  for (const float a_ : as)
    for (const float n_ : ns) wins += a_ > n_ ? 1.0 : (a_ == n_ ? 0.5 : 0.0);
  const double auc = wins / (static_cast<double>(as.size()) * static_cast<double>(ns.size()));

  const double bytes = spmv_bytes(a, false);  // square: the same for A^T x
  const double prox_bytes = 3.0 * m * sizeof(V);
  if (args.json) {
    std::cout << json{{"backend", to_string(ctx.backend())},
                      {"device", ctx.device_name()},
                      {"matrix", {{"rows", n}, {"cols", n}, {"nnz", a.nnz()}, {"kind", "power-law"}}},
                      {"spmv", {{"median_s", t_fwd}, {"gb_per_s", bytes / t_fwd / 1e9},
                                {"max_rel_error_vs_float64", rel_err}}},
                      {"spmv_transpose", {{"median_s", t_tr}, {"gb_per_s", bytes / t_tr / 1e9},
                                          {"max_rel_error_vs_float64", rel_err_t}}},
                      {"prox_grad_step", {{"n", m}, {"median_s", t_prox},
                                          {"gb_per_s", prox_bytes / t_prox / 1e9}}},
                      {"lasso_cv", {{"rows", ln}, {"cols", lp}, {"nnz", lx.nnz()}, {"lambdas", cv.path.size()},
                                    {"folds", 5}, {"time_s", t_lasso}, {"solver", to_string(cv.path.solver)},
                                    {"lambda_1se", cv.lambda_1se}, {"nnz_at_lambda_1se", cv.path.nnz[cv.index_1se]},
                                    {"true_features_found", recovered}, {"true_features", 25},
                                    {"worst_relative_gap", worst_gap}, {"all_converged", lasso_ok}}},
                      {"lasso_batch", {{"problems", bk}, {"rows", bn}, {"cols", bp}, {"time_s", t_batch},
                                       {"problems_per_s", bk / t_batch}, {"worst_relative_gap", batch_gap},
                                       {"all_converged", batch_ok}}},
                      {"distill", {{"block", "16x16"}, {"block_sparsity", student.block_sparsity},
                                   {"student_relative_error", student.student_relative_error},
                                   {"one_shot_relative_error", student.one_shot_relative_error}}},
                      {"sae", {{"fvu", sres.metrics.fvu}, {"l0", sres.metrics.l0},
                               {"dead_fraction", sres.metrics.dead_fraction}, {"anomaly_auc", auc}}}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << "Shrink demo on " << ctx.device_name() << "\n"
              << "  matrix: " << n << " x " << n << " power-law rows, nnz " << a.nnz() << "\n"
              << "  SpMV  y = A*x    : " << t_fwd * 1e3 << " ms, " << bytes / t_fwd / 1e9
              << " GB/s, max rel. error vs float64 reference " << rel_err << "\n"
              << "  SpMV  y = A^T*x  : " << t_tr * 1e3 << " ms, " << bytes / t_tr / 1e9
              << " GB/s (A^T built once), max rel. error vs float64 reference " << rel_err_t << "\n"
              << "  prox-gradient step on " << m << " values: " << t_prox * 1e3 << " ms, "
              << prox_bytes / t_prox / 1e9 << " GB/s\n"
              << "  Lasso, " << ln << " x " << lp << " sparse, " << cv.path.size() << " lambdas x (5 folds + refit), solver "
              << to_string(cv.path.solver) << ": " << t_lasso << " s; lambda_1se keeps " << cv.path.nnz[cv.index_1se]
              << " features, " << recovered << " of the 25 true ones; worst relative duality gap " << worst_gap
              << (lasso_ok ? "" : " (NOT all converged)") << "\n"
              << "  batched Lasso, " << bk << " problems on " << bn << " x " << bp << ": " << t_batch << " s ("
              << bk / t_batch << " problems/s); worst relative duality gap " << batch_gap
              << (batch_ok ? "" : " (NOT all converged)") << "\n"
              << "  distillation into 16x16 blocks at " << student.block_sparsity << " block sparsity: student output error "
              << student.student_relative_error << " vs one-shot pruning " << student.one_shot_relative_error << "\n"
              << "  TopK SAE 64 -> 128 (k = 8), 20 epochs: FVU " << sres.metrics.fvu << ", " << sres.metrics.dead_fraction
              << " dead; anomaly AUC " << auc << "\n";
  }
  if (!lasso_ok || !batch_ok) return kNotConverged;
  return rel_err < 1e-10 && rel_err_t < 1e-10 ? kOk : kResource;
}

}  // namespace shrink::cli
