// The `shrink` program's entry point; the command line itself is in shrink_main.cpp.
#include "shrink/context.hpp"
#include "tools/commands.hpp"
#include "tools/launch.hpp"

int main(int argc, char** argv) {
  shrink::rerun_with_better_blas(argv);  // OpenBLAS on generic kernels for a CPU it does not know
  shrink::cli::remove_partial_outputs_on_signals();
  const shrink::cli::MpiSession mpi(argc, argv);  // only under an MPI launcher with several ranks
  return mpi.exit_code(shrink::cli::run_command_line(argc, argv));
}
