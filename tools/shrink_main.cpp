// The `shrink` program: parse the command line, call the library, print. Results go to stdout,
// messages to stderr; --json prints one JSON document. Exit codes: see cli_support.hpp / README.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include "shrink/shrink.hpp"
#include "tools/cli_support.hpp"
#include "tools/commands.hpp"

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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Shrink: sparse linear algebra and sparse learning on GPU and CPU"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(version()));

  bool info_as_json = false;
  auto* info = app.add_subcommand("info", "Version, build options, backends and devices");
  info->add_flag("--json", info_as_json, "Print JSON");

  SpmvArgs spmv_args;
  auto* spmv = app.add_subcommand("spmv", "Time y = A*x (or A^T*x) on a matrix file");
  spmv->add_option("A", spmv_args.matrix, "Matrix file (.mtx, .svm, .npy, .csv)")->required();
  spmv->add_option("--x", spmv_args.x_file, "Vector file for x (default: all ones)");
  spmv->add_flag("--transpose", spmv_args.transpose, "Compute A^T*x (through A^T built once)");
  spmv->add_option("--backend", spmv_args.backend, "auto, cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}, CLI::ignore_case));
  spmv->add_option("--precision", spmv_args.precision, "f32 or f64")
      ->check(CLI::IsMember({"f32", "f64"}));
  spmv->add_option("--algorithm", spmv_args.algorithm, "auto, merge-path, cusparse or cusparse-alg2")
      ->check(CLI::IsMember({"auto", "merge-path", "cusparse", "cusparse-alg2"}));
  spmv->add_option("--repeat", spmv_args.repeat, "Timed products (after one warm-up)")
      ->check(CLI::Range(1, 1000000));
  spmv->add_option("--threads", spmv_args.threads, "CPU threads (0: OpenMP's default)")
      ->check(CLI::Range(0, 4096));
  spmv->add_option("--out", spmv_args.out, "Write y (Matrix Market array, .npy or .csv; - for stdout)");
  spmv->add_flag("--json", spmv_args.json, "Print JSON");

  ConvertArgs convert_args;
  auto* convert = app.add_subcommand("convert", "Convert a matrix between formats (by extension)");
  convert->add_option("IN", convert_args.in, "Input file")->required();
  convert->add_option("OUT", convert_args.out, "Output file")->required();
  convert->add_option("--precision", convert_args.precision, "f32 or f64 values")
      ->check(CLI::IsMember({"f32", "f64"}));
  convert->add_flag("--json", convert_args.json, "Print JSON");

  DemoArgs demo_args;
  auto* demo = app.add_subcommand("demo", "Run the engine's main job on generated data");
  demo->add_option("--backend", demo_args.backend, "auto, cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}, CLI::ignore_case));
  demo->add_option("--rows", demo_args.rows, "Rows of the generated matrix")->check(CLI::Range(1, 1 << 30));
  demo->add_option("--threads", demo_args.threads, "CPU threads (0: OpenMP's default)")
      ->check(CLI::Range(0, 4096));
  demo->add_flag("--json", demo_args.json, "Print JSON");

  LassoArgs lasso_args;
  auto* lasso = app.add_subcommand("lasso", "Lasso / Elastic-Net path with duality-gap certificates");
  lasso->add_option("X", lasso_args.x, "Design matrix file (.mtx, .svm, .npy, .csv)")->required();
  lasso->add_option("Y", lasso_args.y, "Response file (.mtx, .npy, .csv or one value per line); optional "
                                       "for svmlight X. With k > 1 columns: k independent problems (batched)");
  auto* one_lambda = lasso->add_option("--lambda", lasso_args.lambda, "Fit this one lambda (every problem)");
  auto* lambda_file = lasso->add_option("--lambdas-file", lasso_args.lambdas_file,
                                        "Fit this grid (one per line); batched: one lambda per problem");
  auto* lambda_ratio = lasso->add_option("--lambda-ratio", lasso_args.lambda_ratio,
                                         "Batched: each problem's lambda = R * its own lambda_max");
  one_lambda->excludes(lambda_file);
  lambda_ratio->excludes(one_lambda)->excludes(lambda_file);
  lasso->add_option("--n-lambdas", lasso_args.n_lambdas, "Grid size (default 100)")->check(CLI::Range(1, 100000));
  lasso->add_option("--lambda-min-ratio", lasso_args.lambda_min_ratio,
                    "Smallest lambda / lambda_max (default 1e-3 if n > p, else 1e-2)");
  lasso->add_option("--l1-ratio", lasso_args.l1_ratio, "alpha in [0, 1]; 1 is the Lasso");
  lasso->add_flag("--no-intercept", lasso_args.no_intercept, "Fit no intercept");
  lasso->add_flag("--standardize", lasso_args.standardize, "Penalize standardized coefficients (glmnet)");
  lasso->add_flag("--positive", lasso_args.positive, "Constrain coefficients to be >= 0");
  lasso->add_option("--penalty-factors", lasso_args.penalty_factors, "File of p factors v_j >= 0");
  lasso->add_option("--sample-weights", lasso_args.sample_weights, "File of n weights w_i >= 0");
  lasso->add_option("--tol", lasso_args.tol, "Relative duality gap (default 1e-6 f64, 1e-4 f32)");
  lasso->add_option("--max-iter", lasso_args.max_iter, "Epochs per lambda")->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 40));
  lasso->add_option("--solver", lasso_args.solver, "auto, cd, gram, fista or ws-gram")
      ->check(CLI::IsMember({"auto", "cd", "gram", "fista", "ws-gram"}));
  lasso->add_option("--backend", lasso_args.backend, "auto, cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}, CLI::ignore_case));
  lasso->add_option("--precision", lasso_args.precision, "f32 or f64")->check(CLI::IsMember({"f32", "f64"}));
  lasso->add_option("--cv", lasso_args.cv, "K-fold cross-validation (K >= 2)")->check(CLI::Range(2, 1000000));
  lasso->add_option("--seed", lasso_args.seed, "Seed of the fold assignment");
  lasso->add_option("--threads", lasso_args.threads, "CPU threads (0: OpenMP's default)")->check(CLI::Range(0, 4096));
  lasso->add_flag("--histogram", lasso_args.histogram, "Histogram of |coefficients| (last lambda, or lambda_min with --cv)");
  lasso->add_option("--out", lasso_args.out, "Write coefficients p x L, or p x k batched (Matrix Market coordinate)");
  lasso->add_flag("--json", lasso_args.json, "Print JSON");

  PruneArgs prune_args;
  auto* prune = app.add_subcommand("prune", "Block magnitude pruning of a weight matrix");
  prune->add_option("W", prune_args.weights, "Weight matrix file (out x in; any supported format)")->required();
  prune->add_option("--block", prune_args.block, "Block size RxC, 1 <= R, C <= 64")->required();
  prune->add_option("--sparsity", prune_args.sparsity, "Fraction of blocks removed, in [0, 1]")->required();
  prune->add_option("--norm", prune_args.norm, "Block score: l1, l2 (default) or max");
  prune->add_option("--bins", prune_args.bins, "Bins of the block-norm histogram")->check(CLI::Range(1, 1000));
  prune->add_option("--out", prune_args.out, "Write the kept blocks' entries (Matrix Market coordinate)");
  prune->add_flag("--json", prune_args.json, "Print JSON");

  DistillArgs distill_args;
  auto* distill = app.add_subcommand("distill", "Distill a dense teacher into a block-sparse student");
  distill->add_option("--teacher", distill_args.teacher,
                      "Teacher weight file(s), out x in; several (comma separated) make a ReLU MLP")
      ->required()->delimiter(',');
  distill->add_option("--inputs", distill_args.inputs, "Input samples, one per row")->required();
  distill->add_option("--block", distill_args.block, "Block size RxC, 1 <= R, C <= 64")->required();
  distill->add_option("--sparsity", distill_args.sparsity, "Target block sparsity, in [0, 1]")->required();
  distill->add_option("--steps", distill_args.steps, "Training steps (default 1000)");
  distill->add_option("--batch", distill_args.batch, "Minibatch size (default 256)");
  distill->add_option("--schedule", distill_args.schedule, "cubic (Zhu and Gupta) or oneshot");
  distill->add_option("--norm", distill_args.norm, "Block score: l1, l2 (default) or max");
  distill->add_option("--lr", distill_args.lr, "Adam learning rate (default 1e-3)");
  distill->add_option("--seed", distill_args.seed, "Seed of the minibatch shuffle");
  distill->add_option("--backend", distill_args.backend, "auto, cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}, CLI::ignore_case));
  distill->add_option("--precision", distill_args.precision, "f32 (default) or f64")
      ->check(CLI::IsMember({"f32", "f64"}));
  distill->add_option("--matmul", distill_args.matmul, "GPU products: strict (default), tf32 or bf16");
  distill->add_option("--threads", distill_args.threads, "CPU threads (0: OpenMP's default)")->check(CLI::Range(0, 4096));
  distill->add_option("--out", distill_args.out,
                      "Write the student's kept blocks (Matrix Market; layer l of an MLP goes to OUT with .l before the extension)");
  distill->add_flag("--json", distill_args.json, "Print JSON");

  auto* sae = app.add_subcommand("sae", "Sparse autoencoders: train, encode, reconstruct, score, export");
  sae->require_subcommand(1);
  SaeTrainArgs train_args;
  auto* train = sae->add_subcommand("train", "Train a sparse autoencoder on DATA (one sample per row)");
  train->add_option("data", train_args.data, "Dense samples: Matrix Market array, .npy or CSV")->required();
  train->add_option("--out", train_args.out, "The model checkpoint to write")->required();
  train->add_option("--latents", train_args.latents, "Hidden units (default: as many as inputs)");
  train->add_option("--activation", train_args.activation, "sigmoid-kl, relu-l1 (default) or topk")
      ->check(CLI::IsMember({"sigmoid-kl", "relu-l1", "topk"}));
  train->add_option("--k", train_args.k, "TopK: active latents per sample (default 32)");
  train->add_option("--aux-k", train_args.aux_k, "TopK: AuxK latents against dead latents (default 0: off)");
  train->add_option("--rho", train_args.rho, "sigmoid-kl: target mean activation, in (0, 1) (default 0.05)");
  train->add_option("--beta", train_args.beta, "sigmoid-kl: weight of the KL penalty (default 3)");
  train->add_option("--l1", train_args.l1, "relu-l1: weight of the L1 activation penalty (default 1e-3)");
  train->add_flag("--l1-decoder-norm", train_args.l1_decoder_norm, "relu-l1: weight each latent's L1 by its decoder column norm");
  train->add_option("--weight-decay", train_args.weight_decay, "L2 on the weights: (W/2) * sum w^2 (default 0)");
  train->add_flag("--tied", train_args.tied, "Tie the encoder to the decoder's transpose");
  train->add_flag("--unit-norm-decoder", train_args.unit_norm, "Keep decoder columns at unit norm (relu-l1, topk)");
  train->add_flag("--dense-topk", train_args.dense_topk, "TopK through the dense masked decoder (the baseline)");
  train->add_option("--epochs", train_args.epochs, "Passes over the data (default 10)");
  train->add_option("--steps", train_args.steps, "Train exactly this many Adam steps instead of --epochs");
  train->add_option("--batch", train_args.batch, "Minibatch size (default 256)");
  train->add_option("--lr", train_args.lr, "Adam learning rate (default 1e-3)");
  train->add_option("--adam-betas", train_args.adam_betas, "Adam's beta1,beta2 (default 0.9,0.999)")
      ->delimiter(',')->expected(2);
  train->add_option("--adam-eps", train_args.adam_eps, "Adam's epsilon (default 1e-8)");
  train->add_option("--optimizer", train_args.optimizer, "adam (default) or lbfgs (full batch)")
      ->check(CLI::IsMember({"adam", "lbfgs"}));
  train->add_option("--iterations", train_args.iterations, "L-BFGS iterations (default 400)");
  auto* noise = train->add_option("--noise", train_args.noise, "Denoising: Gaussian noise of this sigma");
  train->add_option("--mask", train_args.mask, "Denoising: zero each input with this probability")->excludes(noise);
  train->add_option("--normalize", train_args.normalize, "none (default), minmax or standard; stored with the model")
      ->check(CLI::IsMember({"none", "minmax", "standard"}));
  train->add_option("--block", train_args.block, "Block-sparse encoder and decoder with RxC blocks");
  train->add_option("--sparsity", train_args.sparsity, "Target block sparsity, reached on the cubic schedule");
  train->add_option("--seed", train_args.seed, "Seed of the initialization, shuffles and noise");
  train->add_option("--resume", train_args.resume, "Continue training this checkpoint for --epochs more epochs");
  train->add_option("--log", train_args.log, "Write a JSON-lines log of loss and metrics per epoch");
  train->add_option("--bins", train_args.bins, "Bins of the activation histogram in the JSON (default 0: none)")
      ->check(CLI::Range(0, 1000));
  train->add_option("--backend", train_args.backend, "auto, cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}, CLI::ignore_case));
  train->add_option("--precision", train_args.precision, "f32 (default) or f64")->check(CLI::IsMember({"f32", "f64"}));
  train->add_option("--threads", train_args.threads, "CPU threads (0: OpenMP's default)")->check(CLI::Range(0, 4096));
  train->add_flag("--json", train_args.json, "Print JSON");

  SaeApplyArgs apply_args;
  std::vector<CLI::App*> appliers;
  for (const char* action : {"encode", "reconstruct", "score"}) {
    const std::string what = std::string(action) == "encode"        ? "Sparse codes (Matrix Market coordinate)"
                             : std::string(action) == "reconstruct" ? "Reconstructions (.mtx array or .npy)"
                                                                    : "Anomaly scores: mean squared reconstruction error per row (text or .npy)";
    auto* cmd = sae->add_subcommand(action, what);
    cmd->add_option("--model", apply_args.model, "A model checkpoint from sae train")->required();
    cmd->add_option("data", apply_args.data, "Dense samples: Matrix Market array, .npy or CSV")->required();
    cmd->add_option("--out", apply_args.out, "Output file")->required();
    cmd->add_option("--backend", apply_args.backend, "auto, cpu or cuda")
        ->check(CLI::IsMember({"auto", "cpu", "cuda"}, CLI::ignore_case));
    cmd->add_option("--threads", apply_args.threads, "CPU threads (0: OpenMP's default)")->check(CLI::Range(0, 4096));
    cmd->add_flag("--json", apply_args.json, "Print JSON");
    appliers.push_back(cmd);
  }
  SaeExportArgs export_args;
  auto* exporter = sae->add_subcommand("export", "Write the weights and biases as .npy files");
  exporter->add_option("--model", export_args.model, "A model checkpoint from sae train")->required();
  exporter->add_option("--out-dir", export_args.out_dir, "Directory for the .npy files")->required();
  exporter->add_flag("--json", export_args.json, "Print JSON");

  // --json anywhere on the line asks for a JSON document on failure too.
  bool as_json = false;
  for (int a = 1; a < argc; ++a) as_json = as_json || std::string_view(argv[a]) == "--json";

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (as_json) return report_failure(true, kUsage, "usage", e.what());
    app.exit(e);
    return kUsage;
  }

  try {
    if (*info) return run_info(info_as_json);
    if (*spmv) return run_spmv(spmv_args);
    if (*convert) return run_convert(convert_args);
    if (*demo) return run_demo(demo_args);
    // A bad option value or file is bad input for these commands (exit 2).
    try {
      if (*lasso) return run_lasso(lasso_args);
      if (*prune) return run_prune(prune_args);
      if (*distill) return run_distill(distill_args);
      if (*train) return run_sae_train(train_args);
      for (auto* cmd : appliers)
        if (*cmd) {
          apply_args.action = cmd->get_name();
          return run_sae_apply(apply_args);
        }
      if (*exporter) return run_sae_export(export_args);
    } catch (const InvalidArgument& e) {
      return report_failure(as_json, kBadInput, "bad input", e.what());
    }
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
