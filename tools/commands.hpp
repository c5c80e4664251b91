// The subcommands of `shrink`, one function each.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "shrink/lasso.hpp"
#include "shrink/nn.hpp"
#include "shrink/sae.hpp"

namespace shrink::cli {

struct SpmvArgs {
  std::string matrix, x_file, out;
  std::string backend = "auto", precision = "f64", algorithm = "auto";
  bool transpose = false, json = false;
  int repeat = 10;
  int threads = 0;  // CPU threads; 0: OpenMP's default
};
struct ConvertArgs {
  std::string in, out, precision = "f64", delimiter;
  bool json = false;
};
struct DemoArgs {
  std::string backend = "auto";
  long rows = 400000;
  int threads = 0;
  bool json = false;
};

// The library's option structs are bound to the flags directly: a flag's default is the struct's.
struct LassoArgs {
  std::string x, y, lambdas_file, penalty_factors, sample_weights, out;
  std::optional<double> lambda, lambda_ratio;
  LassoOptions options;  // a batched fit takes its LassoCoreOptions part
  std::string backend = "auto", precision = "f64";
  int cv = 0;  // folds; 0: no cross-validation
  CrossValidationOptions cv_options;
  int threads = 0;
  std::string delimiter, select, save_model;
  std::string y_column;  // --y-column: y is this column of X
  bool histogram = false, json = false;
};

struct PredictArgs {
  std::string model, x, lambda, out, delimiter;
  std::string y_column;  // --y-column: X holds y there (dropped; the fit's R^2 and MSE are reported)
  bool json = false;
};

struct PruneArgs {
  std::string weights, block, out;
  PruneOptions options;
  bool json = false;
};
struct DistillArgs {
  std::vector<std::string> teacher;
  std::string inputs, block, out;
  DistillOptions options;
  std::string backend = "auto", precision = "f32";
  int threads = 0;
  bool json = false;
};

// What the user fixed of the SAE's settings is in `chosen` (the library resolves the rest from the
// data); every other option is bound to the library's structs directly.
struct SaeTrainArgs {
  std::string data, out, resume, log, block;
  SaeAutoOptions chosen;
  SaeConfig config;
  SaeTrainOptions train;
  std::vector<double> adam_betas{train.adam.beta1, train.adam.beta2};
  std::optional<double> noise, mask;
  std::string backend = "auto", precision = "f32", delimiter;
  bool json = false, keep_diverged = false;
  int bins = 0, threads = 0;
};
struct SaeApplyArgs {
  std::string action;  // encode, reconstruct or score
  std::string model, data, out, backend = "auto", delimiter;
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
int run_predict(const PredictArgs& args);
int run_prune(const PruneArgs& args);
int run_distill(const DistillArgs& args);
int run_sae_train(const SaeTrainArgs& args);
int run_sae_apply(const SaeApplyArgs& args);
int run_sae_export(const SaeExportArgs& args);

// The program's command line, parsed by one parser built once (building it is most of the cost of
// a short command line, and the option fuzzer parses millions). run() parses, checks and runs one
// subcommand and returns the exit code; with parse_only the line is parsed and checked (as the
// program does) but nothing runs and nothing is printed.
class CommandLine {
 public:
  CommandLine();
  ~CommandLine();
  CommandLine(const CommandLine&) = delete;
  CommandLine& operator=(const CommandLine&) = delete;
  int run(int argc, const char* const* argv, bool parse_only = false);

 private:
  struct Parser;
  std::unique_ptr<Parser> parser_;
};

// The whole command line: parse, check, run one subcommand; returns the exit code. With parse_only the
// line is parsed and checked (as the program does) but nothing runs and nothing is printed: the
// option-parsing fuzzer drives this.
int run_command_line(int argc, const char* const* argv, bool parse_only = false);
// SIGINT, SIGTERM and SIGHUP remove the output being written before the default action.
void remove_partial_outputs_on_signals();

}  // namespace shrink::cli
