// The subcommands of `shrink`, one function each.
#pragma once
#include <string>

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

int run_spmv(const SpmvArgs& args);
int run_convert(const ConvertArgs& args);
int run_demo(const DemoArgs& args);

}  // namespace shrink::cli
