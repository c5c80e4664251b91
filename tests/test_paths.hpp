// Where the tests find their data and the program. The build bakes in its own source tree; the
// GPU pack's binaries run from another checkout, so an environment variable of the same name wins.
#pragma once
#include <cstdlib>
#include <string>

namespace shrink::test {

inline std::string path_from_env(const char* name, const char* built_in) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : std::string(built_in);
}

#ifdef SHRINK_TEST_DATA
inline std::string data_dir() { return path_from_env("SHRINK_TEST_DATA", SHRINK_TEST_DATA); }
#endif
#ifdef SHRINK_DIGITS_CSV
inline std::string digits_csv() { return path_from_env("SHRINK_DIGITS_CSV", SHRINK_DIGITS_CSV); }
#endif
#ifdef SHRINK_CLI
inline std::string cli_path() { return path_from_env("SHRINK_CLI", SHRINK_CLI); }
#endif

}  // namespace shrink::test
