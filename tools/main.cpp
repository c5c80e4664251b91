// The `shrink` program's entry point; the command line itself is in shrink_main.cpp.
#include "tools/commands.hpp"

int main(int argc, char** argv) {
  shrink::cli::remove_partial_outputs_on_signals();
  return shrink::cli::run_command_line(argc, argv);
}
