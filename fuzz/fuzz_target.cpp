// One libFuzzer target per harness: SHRINK_FUZZ_HARNESS names it (fuzz/CMakeLists.txt).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fuzz/harnesses.hpp"
#include "shrink/context.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  shrink::set_memory_limit(shrink::fuzz::kFuzzMemoryLimit);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto* harness = shrink::fuzz::find_harness(SHRINK_FUZZ_HARNESS);
  if (harness == nullptr) std::abort();
  (void)harness->run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
