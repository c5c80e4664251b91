// Every fuzz harness on its committed seed corpus (fuzz/corpus/NAME) and on every finding kept as a
// regression file (tests/data/fuzz/NAME): each must return normally, under the fuzzers' memory budget.
// Under the asan preset this replays them with AddressSanitizer and UBSan.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "fuzz/harnesses.hpp"
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
