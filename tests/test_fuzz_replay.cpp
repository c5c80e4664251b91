// Every fuzz harness on its committed seed corpus (fuzz/corpus/NAME) and on every finding kept as a
// regression file (tests/data/fuzz/NAME): each must return normally, under the fuzzers' memory budget.
// Under the asan preset this replays them with AddressSanitizer and UBSan.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/harnesses.hpp"
#include "tools/commands.hpp"
#include "shrink/context.hpp"

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class BudgetScope {
 public:
  BudgetScope() { shrink::set_memory_limit(shrink::fuzz::kFuzzMemoryLimit); }
  ~BudgetScope() { shrink::set_memory_limit(0); }
};

}  // namespace

TEST(FuzzReplay, EveryHarnessHasASeedCorpus) {
  for (const auto& h : shrink::fuzz::harnesses()) {
    const fs::path dir = fs::path(SHRINK_FUZZ_CORPUS) / h.name;
    ASSERT_TRUE(fs::is_directory(dir)) << dir;
    EXPECT_GE(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 2) << dir;
  }
  EXPECT_NE(shrink::fuzz::find_harness("npz"), nullptr);
  EXPECT_EQ(shrink::fuzz::find_harness("nothing"), nullptr);
}

TEST(FuzzReplay, SeedsAndFindingsRunCleanly) {
  const BudgetScope budget;
  int files = 0;
  for (const auto& h : shrink::fuzz::harnesses()) {
    int accepted = 0;
    for (const fs::path root : {fs::path(SHRINK_FUZZ_CORPUS), fs::path(SHRINK_TEST_DATA) / "fuzz"}) {
      const fs::path dir = root / h.name;
      if (!fs::is_directory(dir)) continue;
      for (const auto& entry : fs::directory_iterator(dir)) {
        if (!entry.is_regular_file()) continue;
        SCOPED_TRACE(entry.path().string());
        bool ok = false;
        EXPECT_NO_THROW(ok = h.run(slurp(entry.path())));
        accepted += ok && root == fs::path(SHRINK_FUZZ_CORPUS);
        ++files;
      }
    }
    // Seeds that are accepted make the fuzzer start from the parser's deep paths, not its first check.
    EXPECT_GE(accepted, 2) << h.name << ": fewer than two seeds were accepted";
  }
  EXPECT_GT(files, 18);
}

namespace {

int run_line(shrink::cli::CommandLine& program, const std::vector<std::string>& tokens, bool parse_only) {
  std::vector<const char*> argv;
  for (const auto& t : tokens) argv.push_back(t.c_str());
  return program.run(static_cast<int>(argv.size()), argv.data(), parse_only);
}

}  // namespace

// The option fuzzer parses every input with one parser: each line must get the code a fresh parser
// gives it, whatever the lines before it set.
TEST(FuzzReplay, OneParserParsesEachLineAsAFreshOne) {
  std::vector<std::string> lines;
  for (const auto& entry : fs::directory_iterator(fs::path(SHRINK_FUZZ_CORPUS) / "cli_options"))
    lines.push_back(slurp(entry.path()));
  for (const char* text : {"lasso\nx.mtx\n--lambda\n0.5", "lasso\nx.mtx\n--lambda-ratio\n0.1",
                           "lasso\nx.mtx\n--lambda\n0.5\n--lambda-ratio\n0.1", "sae\ntrain\nd.npy\n--out\nm.bin\n--k\n4",
                           "sae\ntrain\nd.npy\n--out\nm.bin\n--activation\ntopk\n--k\n4", "prune\nw.mtx\n--block\n4x4",
                           "spmv\na.mtx\n--max-memory\n12Q", "spmv\na.mtx\n--max-memory\n12G", "info\n--json", "info",
                           "nothing", "--version", "lasso\n--help"})
    lines.push_back(text);
  shrink::cli::CommandLine reused;
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& text : lines) {
      SCOPED_TRACE(text);
      const auto tokens = shrink::fuzz::command_line_tokens(text);
      shrink::cli::CommandLine fresh;
      EXPECT_EQ(run_line(reused, tokens, true), run_line(fresh, tokens, true));
    }
    std::reverse(lines.begin(), lines.end());
  }
  // Values go back to their defaults, not only the counts: info prints JSON only when asked.
  testing::internal::CaptureStdout();
  EXPECT_EQ(run_line(reused, {"shrink", "info", "--json"}, false), 0);
  EXPECT_EQ(testing::internal::GetCapturedStdout().front(), '{');
  testing::internal::CaptureStdout();
  EXPECT_EQ(run_line(reused, {"shrink", "info"}, false), 0);
  EXPECT_EQ(testing::internal::GetCapturedStdout().rfind("shrink ", 0), 0u);
}
