// Fuzz harnesses: one function per input the library or the program reads from outside. Each takes the
// raw bytes, and must return normally whatever they are (a refused input throws shrink::Error, which
// the harness catches); anything else (a crash, a sanitizer report, another exception, an allocation
// past the memory budget) is a finding. The libFuzzer targets (fuzz/CMakeLists.txt) and the replay
// test (tests/test_fuzz_replay.cpp) call the same functions.
#pragma once
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace shrink::fuzz {

struct Harness {
  const char* name;  // also the corpus folder: fuzz/corpus/NAME and tests/data/fuzz/NAME
  bool (*run)(std::string_view bytes);  // true when the first reading of the bytes accepted them
};
std::span<const Harness> harnesses();
const Harness* find_harness(std::string_view name);

// The command line the cli_options harness reads from its bytes: "shrink", then one token per field
// separated by NUL or newline.
std::vector<std::string> command_line_tokens(std::string_view bytes);

// The budget every harness runs under: a size read from input that needs more is refused with
// OutOfMemory before it is allocated.
inline constexpr std::size_t kFuzzMemoryLimit = std::size_t{256} << 20;

}  // namespace shrink::fuzz
