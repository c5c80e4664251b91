// The subcommands of `shrink`, one function each.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace shrink::cli {

struct SpmvArgs {
  std::string matrix, x_file, out;
  std::string backend = "auto", precision = "f64", algorithm = "auto";
  bool transpose = false, json = false;
  int repeat = 10;
  int threads = 0;  // CPU threads; 0: OpenMP's default
};
struct ConvertArgs {
  std::string in, out, precision = "f64";
  bool json = false;
};
struct DemoArgs {
  std::string backend = "auto";
  long rows = 400000;
  int threads = 0;
  bool json = false;
};

struct LassoArgs {
  std::string x, y, lambdas_file, penalty_factors, sample_weights, out;
  std::optional<double> lambda, lambda_ratio;
  int n_lambdas = 100;
  double lambda_min_ratio = 0;  // 0: the default for the shape
  double l1_ratio = 1.0;
  bool no_intercept = false, standardize = false, positive = false;
  double tol = 0;  // 0: 1e-6 (f64) or 1e-4 (f32)
  std::int64_t max_iter = 100000;
  std::string solver = "auto", backend = "auto", precision = "f64";
  int cv = 0;
  std::uint64_t seed = 0;
  int threads = 0;
  bool histogram = false, json = false;
};

struct PruneArgs {
  std::string weights, block, norm = "l2", out;
  double sparsity = 0;
  int bins = 10;
  bool json = false;
};
struct DistillArgs {
  std::vector<std::string> teacher;
  std::string inputs, block, norm = "l2", schedule = "cubic", out;
  std::string backend = "auto", precision = "f32", matmul = "strict";
  double sparsity = 0, lr = 1e-3;
  std::int64_t steps = 1000, batch = 256;
  std::uint64_t seed = 0;
  int threads = 0;
  bool json = false;
};

struct SaeTrainArgs {
  std::string data, out, resume, log;
  std::string activation = "relu-l1", optimizer = "adam", normalize = "none", block;
  std::string backend = "auto", precision = "f32";
  std::int64_t latents = 0;  // 0: as many as inputs
  std::int64_t k = 32, aux_k = 0;
  double rho = 0.05, beta = 3, l1 = 1e-3, weight_decay = 0, sparsity = 0, lr = 1e-3;
  std::vector<double> adam_betas{0.9, 0.999};
  double adam_eps = 1e-8;
  std::optional<double> noise, mask;
  std::int64_t epochs = 10, steps = 0, batch = 256, iterations = 400;
  std::uint64_t seed = 0;
  bool tied = false, unit_norm = false, l1_decoder_norm = false, dense_topk = false, json = false;
  int bins = 0, threads = 0;
};
struct SaeApplyArgs {
  std::string action;  // encode, reconstruct or score
  std::string model, data, out, backend = "auto";
  int threads = 0;
  bool json = false;
};
struct SaeExportArgs {
  std::string model, out_dir;
  bool json = false;
};

int run_spmv(const SpmvArgs& args);
int run_convert(const ConvertArgs& args);
int run_demo(const DemoArgs& args);
int run_lasso(const LassoArgs& args);
int run_prune(const PruneArgs& args);
int run_distill(const DistillArgs& args);
int run_sae_train(const SaeTrainArgs& args);
int run_sae_apply(const SaeApplyArgs& args);
int run_sae_export(const SaeExportArgs& args);

}  // namespace shrink::cli
