// The `shrink` program: parse the command line, call the library, print. Results go to stdout,
// messages to stderr; --json prints one JSON document. Exit codes: see cli_support.hpp / README.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <csignal>
#include <cstdio>
#include <functional>
#include <iostream>
#include <optional>
#include <string>

#include "shrink/shrink.hpp"
#include "tools/cli_support.hpp"
#include "tools/commands.hpp"
#include "tools/output.hpp"

using nlohmann::json;
using namespace shrink;
using namespace shrink::cli;

namespace {

json info_json() {
  json j;
  j["version"] = version();
  j["build"] = {{"cuda", cuda_compiled()},
                {"cuda_architectures", cuda_compiled() ? SHRINK_CUDA_ARCHITECTURES : ""},
                {"blas", SHRINK_BLAS_LIBRARIES}};
  const auto blas = blas_info();
  j["blas"] = {{"library", blas.library}, {"kernels", blas.kernels}};
  const auto devices = cuda_devices();
  j["backends"] = {{"cpu", true},
                   {"cuda", {{"compiled", cuda_compiled()}, {"devices", devices.size()}}}};
  j["cpu_threads"] = Context(ContextOptions{Backend::Cpu}).cpu_threads();
  j["devices"] = json::array();
  for (const auto& d : devices)
    j["devices"].push_back({{"id", d.id},
                            {"name", d.name},
                            {"compute_capability", std::to_string(d.compute_major) + "." +
                                                       std::to_string(d.compute_minor)},
                            {"multiprocessors", d.multiprocessors},
                            {"total_memory_bytes", d.total_memory},
                            {"free_memory_bytes", d.free_memory}});
  return j;
}

int run_info(bool as_json) {
  const json j = info_json();
  if (as_json) {
    std::cout << j.dump(2) << "\n";
    return kOk;
  }
  std::cout << "shrink " << j["version"].get<std::string>() << "\n"
            << "build: CUDA " << (cuda_compiled() ? "on (sm_" SHRINK_CUDA_ARCHITECTURES ")" : "off")
            << ", BLAS " << SHRINK_BLAS_LIBRARIES << "\n"
            << "blas kernels: " << (blas_info().kernels.empty() ? "not OpenBLAS" : blas_info().kernels)
            << (std::getenv("OPENBLAS_CORETYPE") ? " (OPENBLAS_CORETYPE)" : "") << "\n"
            << "cpu threads: " << j["cpu_threads"].get<int>() << "\n"
            << "backends: cpu"
            << (cuda_compiled() ? (j["devices"].empty() ? ", cuda (built; no usable device)" : ", cuda")
                                : "")
            << "\n";
  for (const auto& d : j["devices"])
    std::cout << "device " << d["id"].get<int>() << ": " << d["name"].get<std::string>()
              << ", sm " << d["compute_capability"].get<std::string>() << ", "
              << d["multiprocessors"].get<int>() << " SMs, "
              << d["total_memory_bytes"].get<std::size_t>() / (1024.0 * 1024 * 1024) << " GiB ("
              << d["free_memory_bytes"].get<std::size_t>() / (1024.0 * 1024 * 1024) << " GiB free)\n";
  if (j["devices"].empty()) std::cout << "devices: none\n";
  return kOk;
}

// An option parsed by the library's parse_* into `target` (its error becomes a usage error naming the
// flag), with `shown` as the default --help prints.
template <class Target, class Parse>
CLI::Option* add_parsed(CLI::App* app, const std::string& name, Target& target, Parse parse, const std::string& help,
                        const std::string& shown) {
  const std::string flag = name;
  return app
      ->add_option_function<std::string>(
          name,
          [&target, parse, flag](const std::string& text) {
            try {
              target = parse(text);
            } catch (const InvalidArgument& e) {
              throw CLI::ValidationError(flag, e.what());
            }
          },
          help)
      ->default_str(shown);
}

// An option bound to a library enum, its default shown from the bound value.
template <class E, class Parse>
CLI::Option* add_enum(CLI::App* app, const std::string& name, E& target, Parse parse, const std::string& help) {
  return add_parsed(app, name, target, parse, help, to_string(target));
}

// The same for a choice the library makes when it is not given (shown as auto).
template <class E, class Parse>
CLI::Option* add_enum(CLI::App* app, const std::string& name, std::optional<E>& target, Parse parse,
                      const std::string& help) {
  return add_parsed(app, name, target, parse, help, "auto");
}

// The --threads of the subcommand that ran (nested ones too), for the whole process: 0 leaves
// OpenMP's default.
void apply_threads_option(const CLI::App& app) {
  for (const CLI::App* sub : app.get_subcommands()) {
    const CLI::Option* threads = sub->get_option_no_throw("--threads");
    if (threads && threads->count() > 0 && threads->as<int>() > 0) set_cpu_threads(threads->as<int>());
    apply_threads_option(*sub);
  }
}

// SIGINT, SIGTERM, SIGHUP: the write in progress leaves no temporary file, then the default action.
extern "C" void on_signal(int sig) {
  remove_partial_outputs();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

}  // namespace

void shrink::cli::remove_partial_outputs_on_signals() {
  for (const int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, on_signal);
}

// The program's parser with the variables its options are bound to. Built once: run() puts every
// variable back to its default before parsing, so one parser serves many command lines.
struct shrink::cli::CommandLine::Parser {
  struct Args {
    bool info_as_json = false;
    SpmvArgs spmv;
    ConvertArgs convert;
    DemoArgs demo;
    LassoArgs lasso;
    PredictArgs predict;
    PruneArgs prune;
    DistillArgs distill;
    SaeTrainArgs train;
    SaeApplyArgs apply;
    SaeExportArgs export_;
    std::string max_memory;
  };
  CLI::App app{"Shrink: sparse linear algebra and sparse learning on GPU and CPU"};
  Args args;
  CLI::App *info, *spmv, *convert, *demo, *lasso, *predict, *prune, *distill, *train, *exporter;
  std::vector<CLI::App*> appliers;  // encode, reconstruct, score
  // Options that only one SAE activation reads.
  CLI::Option *k_option, *aux_option, *dense_topk, *rho_option, *beta_option, *l1_option, *l1_norm_option;
  Parser();
};

shrink::cli::CommandLine::Parser::Parser() {
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(version()));

  info = app.add_subcommand("info", "Version, build options, backends and devices");
  info->add_flag("--json", args.info_as_json, "Print JSON");

  // Numbers each option accepts: a value outside is a usage error (exit 1) before anything runs.
  const auto positive = CLI::PositiveNumber;
  const auto non_negative = CLI::NonNegativeNumber;
  const auto unit = CLI::Range(0.0, 1.0);
  const auto threads_range = CLI::Range(0, 4096);
  const auto backends = CLI::IsMember({"auto", "cpu", "cuda"}, CLI::ignore_case);
  const auto precisions = CLI::IsMember({"f32", "f64"});
  const std::string formats = "format by extension: .mtx, .npz, .npy, .csv, .txt, .svm; - for stdout";

  SpmvArgs& spmv_args = args.spmv;
  spmv = app.add_subcommand("spmv", "Time y = A*x (or A^T*x) on a matrix file");
  spmv->add_option("A", spmv_args.matrix, "Matrix file (.mtx, .npz, .svm, .npy, .csv)")->required();
  spmv->add_option("--x", spmv_args.x_file, "Vector file for x (default: all ones)");
  spmv->add_flag("--transpose", spmv_args.transpose, "Compute A^T*x (through A^T built once)");
  spmv->add_option("--backend", spmv_args.backend, "auto, cpu or cuda")->check(backends)->capture_default_str();
  spmv->add_option("--precision", spmv_args.precision, "f32 or f64")->check(precisions)->capture_default_str();
  spmv->add_option("--algorithm", spmv_args.algorithm, "auto, merge-path, cusparse or cusparse-alg2")
      ->check(CLI::IsMember({"auto", "merge-path", "cusparse", "cusparse-alg2"}))->capture_default_str();
  spmv->add_option("--repeat", spmv_args.repeat, "Timed products (after one warm-up)")
      ->check(CLI::Range(1, 1000000))->capture_default_str();
  spmv->add_option("--threads", spmv_args.threads, "CPU threads (0: OpenMP's default)")->check(threads_range);
  spmv->add_option("--out", spmv_args.out, "Write y (" + formats + ")");
  spmv->add_flag("--json", spmv_args.json, "Print JSON");

  ConvertArgs& convert_args = args.convert;
  convert = app.add_subcommand("convert", "Convert a matrix between formats (by extension)");
  convert->add_option("IN", convert_args.in, "Input file")->required();
  convert->add_option("OUT", convert_args.out, "Output file (" + formats + ")")->required();
  convert->add_option("--precision", convert_args.precision, "f32 or f64 values")->check(precisions)->capture_default_str();
  convert->add_option("--delimiter", convert_args.delimiter, "CSV delimiter: , ; tab or space (default: sniffed)")
      ->check(CLI::IsMember({",", ";", "tab", "space"}));
  convert->add_flag("--json", convert_args.json, "Print JSON");

  DemoArgs& demo_args = args.demo;
  demo = app.add_subcommand("demo", "Every capability briefly, on generated data, with its certificate");
  demo->add_option("--backend", demo_args.backend, "auto, cpu or cuda")->check(backends)->capture_default_str();
  demo->add_option("--rows", demo_args.rows, "Rows of the generated SpMV matrix")->check(CLI::Range(1, 1 << 30))
      ->capture_default_str();
  demo->add_option("--threads", demo_args.threads, "CPU threads (0: OpenMP's default)")->check(threads_range);
  demo->add_flag("--json", demo_args.json, "Print JSON");

  LassoArgs& lasso_args = args.lasso;
  LassoOptions& lo = lasso_args.options;
  lasso = app.add_subcommand("lasso", "Lasso / Elastic-Net path with duality-gap certificates");
  lasso->add_option("X", lasso_args.x, "Design matrix file (.mtx, .npz, .svm, .npy, .csv)")->required();
  auto* y_file = lasso->add_option("Y", lasso_args.y, "Response file (.mtx, .npy, .csv, .txt or one value per line); optional "
                                       "for svmlight X. With k > 1 columns: k independent problems (batched)");
  auto* one_lambda = lasso->add_option("--lambda", lasso_args.lambda, "Fit this one lambda (every problem); 0 is least squares")
                         ->check(non_negative);
  auto* lambda_file = lasso->add_option("--lambdas-file", lasso_args.lambdas_file,
                                        "Fit this grid (one per line); batched: one lambda per problem");
  auto* lambda_ratio = lasso->add_option("--lambda-ratio", lasso_args.lambda_ratio,
                                         "Batched: each problem's lambda = R * its own lambda_max")->check(positive);
  one_lambda->excludes(lambda_file);
  lambda_ratio->excludes(one_lambda)->excludes(lambda_file);
  lasso->add_option("--y-column", lasso_args.y_column,
                    "y is this column of X (a header name, or a 0-based index, -1 the last); X is the others")
      ->excludes(y_file);
  lasso->add_option("--n-lambdas", lo.n_lambdas, "Grid size")->check(CLI::Range(1, 100000))->capture_default_str();
  lasso->add_option("--lambda-min-ratio", lo.lambda_min_ratio,
                    "Smallest lambda / lambda_max, below 1 (0: 1e-3 if n > p, else 1e-2)")
      ->check(CLI::Range(0.0, 0.999999999))->capture_default_str();
  lasso->add_option("--l1-ratio", lo.l1_ratio, "alpha in [0, 1]; 1 is the Lasso")->check(unit)->capture_default_str();
  lasso->add_flag("!--no-intercept", lo.fit_intercept, "Fit no intercept");
  lasso->add_flag("--standardize", lo.standardize, "Penalize standardized coefficients (glmnet)");
  lasso->add_flag("--positive", lo.positive, "Constrain coefficients to be >= 0");
  lasso->add_flag("!--no-screening", lo.screening, "Turn off Gap Safe screening and working sets (cd)");
  lasso->add_option("--penalty-factors", lasso_args.penalty_factors, "File of p factors v_j >= 0");
  lasso->add_option("--sample-weights", lasso_args.sample_weights, "File of n weights w_i >= 0");
  lasso->add_option("--tol", lo.tol, "Relative duality gap (0: 1e-6 f64, 1e-4 f32)")->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  lasso->add_option("--max-iter", lo.max_iter, "Epochs per lambda (rounds per problem when batched)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 40))->capture_default_str();
  add_enum(lasso, "--solver", lo.solver, parse_lasso_solver, "auto, cd, gram, fista or ws-gram");
  lasso->add_option("--max-working-set", lo.max_working_set, "ws-gram: most features in one block")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 30))->capture_default_str();
  lasso->add_option("--backend", lasso_args.backend, "auto, cpu or cuda")->check(backends)->capture_default_str();
  lasso->add_option("--precision", lasso_args.precision, "f32 or f64")->check(precisions)->capture_default_str();
  lasso->add_option("--cv", lasso_args.cv, "K-fold cross-validation (K >= 2)")->check(CLI::Range(2, 1000000));
  lasso->add_option("--seed", lasso_args.cv_options.seed, "Seed of the fold assignment")->capture_default_str();
  lasso->add_option("--threads", lasso_args.threads, "CPU threads (0: OpenMP's default)")->check(threads_range);
  lasso->add_option("--delimiter", lasso_args.delimiter, "CSV delimiter: , ; tab or space (default: sniffed)")
      ->check(CLI::IsMember({",", ";", "tab", "space"}));
  lasso->add_flag("--histogram", lasso_args.histogram, "Histogram of |coefficients| (the selected solution)");
  lasso->add_option("--select", lasso_args.select,
                    "The solution --out and --save-model keep: min or 1se (with --cv), last, or #INDEX (default: all)");
  lasso->add_option("--out", lasso_args.out,
                    "Write the coefficients, p x L (p x k batched; p x 1 with --select) (" + formats + ")");
  lasso->add_option("--save-model", lasso_args.save_model, "Write the fitted model for `shrink predict`");
  lasso->add_flag("--json", lasso_args.json, "Print JSON");

  PredictArgs& predict_args = args.predict;
  predict = app.add_subcommand("predict", "Predictions of a saved Lasso model (lasso --save-model) on X");
  predict->add_option("MODEL", predict_args.model, "A model from shrink lasso --save-model")->required();
  predict->add_option("X", predict_args.x, "Samples (.mtx, .npz, .svm, .npy, .csv), one per row")->required();
  predict->add_option("--lambda", predict_args.lambda,
                      "min or 1se (a cross-validated model), last, #INDEX, or a lambda value (interpolated); "
                      "default min with CV, else last");
  predict->add_option("--y-column", predict_args.y_column,
                      "X holds y in this column (a header name or a 0-based index): it is dropped, and R^2 and MSE reported");
  predict->add_option("--out", predict_args.out, "Write the predictions (" + formats + "; default: stdout)");
  predict->add_option("--delimiter", predict_args.delimiter, "CSV delimiter: , ; tab or space (default: sniffed)")
      ->check(CLI::IsMember({",", ";", "tab", "space"}));
  predict->add_flag("--json", predict_args.json, "Print JSON");

  PruneArgs& prune_args = args.prune;
  prune = app.add_subcommand("prune", "Block magnitude pruning of a weight matrix");
  prune->add_option("W", prune_args.weights, "Weight matrix file (out x in; any supported format)")->required();
  prune->add_option("--block", prune_args.block, "Block size RxC, 1 <= R, C <= 64")->required();
  prune->add_option("--sparsity", prune_args.options.sparsity, "Fraction of blocks removed, in [0, 1]")->required()->check(unit);
  add_enum(prune, "--norm", prune_args.options.norm, parse_block_norm, "Block score: l1, l2 or max");
  prune->add_option("--bins", prune_args.options.histogram_bins, "Bins of the block-norm histogram")
      ->check(CLI::Range(1, 1000))->capture_default_str();
  prune->add_option("--out", prune_args.out, "Write the pruned W (" + formats + ")");
  prune->add_flag("--json", prune_args.json, "Print JSON");

  DistillArgs& distill_args = args.distill;
  DistillOptions& dopt = distill_args.options;
  distill = app.add_subcommand("distill", "Distill a dense teacher into a block-sparse student");
  distill->add_option("--teacher", distill_args.teacher,
                      "Teacher weight file(s), out x in; several (comma separated) make a ReLU MLP")
      ->required()->delimiter(',');
  distill->add_option("--inputs", distill_args.inputs, "Input samples, one per row")->required();
  distill->add_option("--block", distill_args.block, "Block size RxC, 1 <= R, C <= 64")->required();
  distill->add_option("--sparsity", dopt.sparsity, "Target block sparsity, in [0, 1]")->required()->check(unit);
  distill->add_option("--steps", dopt.steps, "Training steps")->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 40))
      ->capture_default_str();
  distill->add_option("--batch", dopt.batch_size, "Minibatch size")->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 30))
      ->capture_default_str();
  add_enum(distill, "--schedule", dopt.schedule, parse_schedule_kind, "cubic (Zhu and Gupta) or oneshot");
  add_enum(distill, "--norm", dopt.norm, parse_block_norm, "Block score: l1, l2 or max");
  distill->add_option("--lr", dopt.optimizer.learning_rate, "Adam learning rate")->check(positive)->capture_default_str();
  distill->add_option("--seed", dopt.seed, "Seed of the minibatch shuffle")->capture_default_str();
  distill->add_option("--backend", distill_args.backend, "auto, cpu or cuda")->check(backends)->capture_default_str();
  distill->add_option("--precision", distill_args.precision, "f32 or f64")->check(precisions)->capture_default_str();
  add_enum(distill, "--matmul", dopt.precision, parse_matmul_precision, "GPU products: strict, tf32 or bf16");
  distill->add_option("--threads", distill_args.threads, "CPU threads (0: OpenMP's default)")->check(threads_range);
  distill->add_option("--out", distill_args.out,
                      "Write the student: layer l's weights to OUT (OUT.l for an MLP) and its biases to OUT.bias "
                      "(OUT.l.bias) (" + formats + ")");
  distill->add_flag("--json", distill_args.json, "Print JSON");

  auto* sae = app.add_subcommand("sae", "Sparse autoencoders: train, encode, reconstruct, score, export");
  sae->require_subcommand(1);
  SaeTrainArgs& train_args = args.train;
  SaeConfig& sc = train_args.config;
  SaeTrainOptions& so = train_args.train;
  train = sae->add_subcommand("train", "Train a sparse autoencoder on DATA (one sample per row)");
  train->add_option("data", train_args.data, "Dense samples: Matrix Market array, .npy, CSV or .txt")->required();
  train->add_option("--out", train_args.out, "The model checkpoint to write")->required();
  SaeAutoOptions& chosen = train_args.chosen;
  const std::string from_data = " (default: chosen from the data, reported in the output)";
  train->add_option("--latents", chosen.latents, "Hidden units" + from_data)
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 30));
  add_enum(train, "--activation", chosen.activation, parse_sae_activation, "sigmoid-kl, relu-l1 or topk" + from_data);
  k_option = train->add_option("--k", chosen.k, "TopK: active latents per sample" + from_data)
                 ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 30));
  aux_option = train->add_option("--aux-k", chosen.aux_k, "TopK: AuxK latents against dead latents (0: off)" + from_data)
                   ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 30));
  rho_option = train->add_option("--rho", sc.rho, "sigmoid-kl: target mean activation, in (0, 1)")
                   ->check(CLI::Range(1e-12, 1.0 - 1e-12))->capture_default_str();
  beta_option = train->add_option("--beta", sc.beta, "sigmoid-kl: weight of the KL penalty")
                    ->check(non_negative)->capture_default_str();
  l1_option = train->add_option("--l1", sc.l1, "relu-l1: weight of the L1 activation penalty")
                  ->check(non_negative)->capture_default_str();
  l1_norm_option = train->add_flag("--l1-decoder-norm", sc.l1_decoder_norm,
                                   "relu-l1: weight each latent's L1 by its decoder column norm");
  train->add_option("--weight-decay", sc.weight_decay, "L2 on the weights: (W/2) * sum w^2")->check(non_negative)
      ->capture_default_str();
  train->add_flag("--tied", sc.tied, "Tie the encoder to the decoder's transpose");
  auto* unit_norm = train->add_flag_callback("--unit-norm-decoder", [&chosen] { chosen.unit_norm_decoder = true; },
                                             "Keep decoder columns at unit norm (relu-l1, topk; the default there)");
  train->add_flag_callback("--no-unit-norm-decoder", [&chosen] { chosen.unit_norm_decoder = false; },
                           "Leave decoder columns free")->excludes(unit_norm);
  dense_topk = train->add_flag_callback("--dense-topk", [&sc] { sc.topk_decoder = TopKDecoder::Dense; },
                                              "TopK through the dense masked decoder (the baseline)");
  auto* epochs_option = train->add_option("--epochs", chosen.epochs, "Train exactly this many passes over the data "
                                          "(default: a step budget with early stopping)")
                            ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40));
  auto* steps_option = train->add_option("--steps", chosen.steps, "Train exactly this many Adam steps")
                           ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 40));
  steps_option->excludes(epochs_option);
  train->add_option("--batch", chosen.batch_size, "Minibatch size" + from_data)
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 30));
  train->add_option("--lr", chosen.learning_rate, "Adam's peak learning rate" + from_data)->check(positive);
  add_enum(train, "--lr-schedule", chosen.schedule, parse_learning_rate_schedule,
           "constant, or cosine (5% warm-up, then down to a tenth)" + from_data);
  train->add_option("--validation", chosen.validation_fraction,
                    "Fraction of the samples held out for early stopping, in [0, 1)" + from_data)
      ->check(CLI::Range(0.0, 0.999999999));
  train->add_option("--patience", chosen.patience, "Validation checks without gain before stopping (0: never)" + from_data)
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 30));
  train->add_option("--adam-betas", train_args.adam_betas, "Adam's beta1,beta2, each in [0, 1)")
      ->delimiter(',')->expected(2)->check(CLI::Range(0.0, 0.999999999))->capture_default_str();
  train->add_option("--adam-eps", so.adam.epsilon, "Adam's epsilon")->check(positive)->capture_default_str();
  add_enum(train, "--optimizer", so.optimizer, parse_sae_optimizer, "adam or lbfgs (full batch)");
  train->add_option("--iterations", so.lbfgs_iterations, "L-BFGS iterations")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 30))->capture_default_str();
  auto* noise = train->add_option("--noise", train_args.noise, "Denoising: Gaussian noise of this sigma")->check(positive);
  train->add_option("--mask", train_args.mask, "Denoising: zero each input with this probability, in (0, 1)")
      ->excludes(noise)->check(CLI::Range(1e-12, 1.0 - 1e-12));
  add_enum(train, "--normalize", chosen.normalize, parse_normalization,
           "none, minmax or standard; fitted on DATA and stored with the model" + from_data);
  add_enum(train, "--score", chosen.score, parse_sae_score,
           "How sae score rates samples: reconstruction (error), or neighbors (mean distance to the k nearest "
           "training rows, normalized; the model keeps up to 8192 of them, fewer past 2^24 values)" + from_data);
  train->add_option("--neighbors", chosen.neighbors, "neighbors: k" + from_data)
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{kSaeReferenceRows}));
  train->add_option("--block", train_args.block, "Block-sparse encoder and decoder with RxC blocks");
  train->add_option("--sparsity", so.sparsity, "Target block sparsity in [0, 1), reached on the cubic schedule")
      ->check(CLI::Range(0.0, 0.999999999))->capture_default_str();
  train->add_option("--seed", so.seed, "Seed of the initialization, shuffles and noise")->capture_default_str();
  train->add_option("--resume", train_args.resume, "Continue training this checkpoint (its model settings; the length and the optimizer's may change)");
  train->add_option("--log", train_args.log, "Write a JSON-lines log of loss and metrics, flushed each epoch");
  train->add_flag("--keep-diverged", train_args.keep_diverged, "Write the model even when training diverged");
  train->add_option("--bins", train_args.bins, "Bins of the activation histogram in the JSON (0: none)")
      ->check(CLI::Range(0, 1000));
  train->add_option("--backend", train_args.backend, "auto, cpu or cuda")->check(backends)->capture_default_str();
  train->add_option("--precision", train_args.precision, "f32 or f64")->check(precisions)->capture_default_str();
  train->add_option("--threads", train_args.threads, "CPU threads (0: OpenMP's default)")->check(threads_range);
  train->add_option("--delimiter", train_args.delimiter, "CSV delimiter: , ; tab or space (default: sniffed)")
      ->check(CLI::IsMember({",", ";", "tab", "space"}));
  train->add_flag("--json", train_args.json, "Print JSON");

  SaeApplyArgs& apply_args = args.apply;
  for (const char* action : {"encode", "reconstruct", "score"}) {
    const std::string what = std::string(action) == "encode"        ? "Sparse codes, samples x latents"
                             : std::string(action) == "reconstruct" ? "Reconstructions, samples x inputs"
                                                                    : "Anomaly scores per row, higher is more anomalous: the model's scorer "
                                                                      "(sae train --score)";
    auto* cmd = sae->add_subcommand(action, what);
    cmd->add_option("--model", apply_args.model, "A model checkpoint from sae train")->required();
    cmd->add_option("data", apply_args.data, "Dense samples: Matrix Market array, .npy, CSV or .txt")->required();
    auto* out = cmd->add_option("--out", apply_args.out,
                                std::string("Output file (") + formats + ")" +
                                    (std::string(action) == "score" ? "; default: one score per line on stdout" : ""));
    if (std::string(action) != "score") out->required();
    cmd->add_option("--backend", apply_args.backend, "auto, cpu or cuda")->check(backends)->capture_default_str();
    cmd->add_option("--threads", apply_args.threads, "CPU threads (0: OpenMP's default)")->check(threads_range);
    cmd->add_option("--delimiter", apply_args.delimiter, "CSV delimiter: , ; tab or space (default: sniffed)")
        ->check(CLI::IsMember({",", ";", "tab", "space"}));
    cmd->add_flag("--json", apply_args.json, "Print JSON");
    appliers.push_back(cmd);
  }
  SaeExportArgs& export_args = args.export_;
  exporter = sae->add_subcommand("export", "Write the weights and biases as .npy files");
  exporter->add_option("--model", export_args.model, "A model checkpoint from sae train")->required();
  exporter->add_option("--out-dir", export_args.out_dir, "Directory for the .npy files")->required();
  exporter->add_flag("--json", export_args.json, "Print JSON");

  // --max-memory on every command: the limit every allocation sized from input is checked against
  // (exit 3 past it, naming what needed how much).
  std::vector<CLI::App*> commands;
  std::function<void(CLI::App*)> gather = [&](CLI::App* a) {
    for (auto* sub : a->get_subcommands({})) {
      if (sub->get_subcommands({}).empty()) commands.push_back(sub);
      else gather(sub);
    }
  };
  gather(&app);
  for (auto* c : commands)
    c->add_option("--max-memory", args.max_memory,
                  "Memory limit, bytes with K, M, G or T (default: SHRINK_MAX_MEMORY, else the memory available)");
}

int shrink::cli::CommandLine::run(int argc, const char* const* argv, bool parse_only) {
  // Every option back to its default (the bound variables stay where they are), every count to 0.
  Parser& parser = *parser_;
  parser.args = Parser::Args{};
  CLI::App& app = parser.app;
  app.clear();
  Parser::Args& args = parser.args;
  auto* const train = parser.train;

  // --json anywhere on the line asks for a JSON document on failure too.
  bool as_json = false;
  for (int a = 1; a < argc; ++a) as_json = as_json || std::string_view(argv[a]) == "--json";

  try {
    app.parse(argc, argv);
    if (!args.max_memory.empty()) {
      try {
        const auto limit = parse_memory_size(args.max_memory);
        if (!parse_only) set_memory_limit(limit);
      } catch (const InvalidArgument& e) {
        throw CLI::ValidationError("--max-memory", e.what());
      }
    }
    // --threads N governs the whole command, reading and writing files included (a reader's idle
    // OpenMP worker spun on the second core through a one-thread solve).
    if (!parse_only) apply_threads_option(app);
    // Options that only one activation reads: without --activation they choose it (the default is
    // topk); with another activation, or with each other, they are refused (exit 1), not ignored.
    if (*train) {
      auto& chosen = args.train.chosen;
      const std::pair<CLI::Option*, SaeActivation> readers[] = {
          {parser.k_option, SaeActivation::TopK},        {parser.aux_option, SaeActivation::TopK},
          {parser.dense_topk, SaeActivation::TopK},      {parser.rho_option, SaeActivation::SigmoidKl},
          {parser.beta_option, SaeActivation::SigmoidKl}, {parser.l1_option, SaeActivation::ReluL1},
          {parser.l1_norm_option, SaeActivation::ReluL1}};
      const bool activation_given = chosen.activation.has_value();
      for (const auto& [option, needs] : readers) {
        if (option->count() == 0) continue;
        if (!chosen.activation) chosen.activation = needs;
        if (*chosen.activation != needs)
          throw CLI::ValidationError(option->get_name(), std::string("only --activation ") + to_string(needs) +
                                                             " reads it" + (activation_given ? "" : " (implied by another option)"));
      }
    }
  } catch (const CLI::CallForHelp& e) {
    return parse_only ? kOk : app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return parse_only ? kOk : app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return parse_only ? kOk : app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (parse_only) return kUsage;
    if (as_json) return report_failure(true, kUsage, "usage", e.what());
    app.exit(e);
    return kUsage;
  }

  if (parse_only) return kOk;
  try {
    if (*parser.info) return run_info(args.info_as_json);
    if (*parser.spmv) return run_spmv(args.spmv);
    if (*parser.convert) return run_convert(args.convert);
    if (*parser.demo) return run_demo(args.demo);
    // A bad option value or combination found while running is a usage error (exit 1); a bad file
    // or data is bad input (exit 2).
    try {
      if (*parser.lasso) return run_lasso(args.lasso);
      if (*parser.predict) return run_predict(args.predict);
      if (*parser.prune) return run_prune(args.prune);
      if (*parser.distill) return run_distill(args.distill);
      if (*train) return run_sae_train(args.train);
      for (auto* cmd : parser.appliers)
        if (*cmd) {
          args.apply.action = cmd->get_name();
          return run_sae_apply(args.apply);
        }
      if (*parser.exporter) return run_sae_export(args.export_);
    } catch (const InvalidArgument& e) {
      return report_failure(as_json, kBadInput, "bad input", e.what());
    }
  } catch (const UsageError& e) {
    return report_failure(as_json, kUsage, "usage", e.what());
  } catch (const ParseError& e) {
    return report_failure(as_json, kBadInput, "bad input", e.what(), e.file(), e.line());
  } catch (const Error& e) {
    return report_failure(as_json, exit_code_for(e), to_string(e.kind()), e.what());
  } catch (const std::bad_alloc&) {
    return report_failure(as_json, kResource, "OutOfMemory", "out of memory");
  } catch (const std::exception& e) {
    return report_failure(as_json, kResource, "internal error", e.what());
  }
  return kUsage;
}

shrink::cli::CommandLine::CommandLine() : parser_(std::make_unique<Parser>()) {}
shrink::cli::CommandLine::~CommandLine() = default;

int shrink::cli::run_command_line(int argc, const char* const* argv, bool parse_only) {
  return CommandLine().run(argc, argv, parse_only);
}
