// The `shrink` program: outputs and documented exit codes (0 ok, 1 usage, 2 bad input,
// 3 resource/device).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "shrink/shrink.hpp"

namespace fs = std::filesystem;

namespace {

struct Result {
  int code;
  std::string out;
};

Result run(const std::string& args) {
  const std::string cmd = std::string(SHRINK_CLI) + " " + args + " 2>/dev/null";
  Result r{-1, {}};
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

const std::string kData = SHRINK_TEST_DATA;

TEST(Cli, InfoAndHelp) {
  auto r = run("info");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("shrink "), std::string::npos);
  r = run("info --json");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("\"backends\""), std::string::npos);
  EXPECT_NE(r.out.find("\"devices\""), std::string::npos);
  EXPECT_EQ(run("--help").code, 0);
  EXPECT_EQ(run("").code, 1);
  EXPECT_EQ(run("frobnicate").code, 1);
  EXPECT_EQ(run("spmv").code, 1);                            // missing A
  EXPECT_EQ(run("spmv x.mtx --precision f16").code, 1);      // bad option value
  EXPECT_EQ(run("spmv x.mtx --threads -2").code, 1);
}

TEST(Cli, SpmvProducesTheProduct) {
  const fs::path dir = fs::temp_directory_path() / ("shrink_cli_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string a = kData + "/golden/general.mtx";
  const std::string out = (dir / "y.mtx").string();
  auto r = run("spmv " + a + " --backend cpu --repeat 3 --json --out " + out);
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* key : {"\"rows\": 40", "\"cols\": 30", "\"nnz\": 233", "\"backend\": \"cpu\"",
                          "\"median_s\"", "\"gb_per_s\"", "\"precision\": \"f64\""})
    EXPECT_NE(r.out.find(key), std::string::npos) << key << " in " << r.out;
  // y = A * ones, against a direct sum over the file's entries.
  const auto m = shrink::read_matrix<double, std::int32_t>(a).take_csr();
  const auto y = shrink::read_matrix<double, std::int32_t>(out).take_dense();
  ASSERT_EQ(y.rows(), 40);
  for (shrink::index_t i = 0; i < 40; ++i) {
    double want = 0;
    for (auto k = m.row_ptr()[i]; k < m.row_ptr()[i + 1]; ++k) want += m.values()[k];
    EXPECT_NEAR(y(i, 0), want, 1e-12 * (1 + std::abs(want)));
  }
  // Transposed product with an explicit x, in f32.
  const std::string x = (dir / "x.csv").string();
  {
    std::ofstream f(x);
    for (int i = 0; i < 40; ++i) f << (i % 3) << "\n";
  }
  r = run("spmv " + a + " --transpose --x " + x + " --precision f32 --backend cpu --repeat 2 --threads 1");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("A^T*x"), std::string::npos) << r.out;
  // Wrong x length: bad input (2). Missing file: 2. Malformed file: 2.
  EXPECT_EQ(run("spmv " + a + " --x " + x + " --backend cpu").code, 2);
  EXPECT_EQ(run("spmv " + (dir / "absent.mtx").string()).code, 2);
  EXPECT_EQ(run("spmv " + kData + "/malformed/nan_value.mtx").code, 2);
  // CUDA without a device (or without CUDA): resource/device error (3).
  if (shrink::cuda_device_count() == 0) EXPECT_EQ(run("spmv " + a + " --backend cuda").code, 3);
  // Printing y to stdout.
  r = run("spmv " + a + " --backend cpu --repeat 1 --out -");
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out.rfind("%%MatrixMarket matrix array real general", 0), 0u) << r.out.substr(0, 80);
  fs::remove_all(dir);
}

TEST(Cli, ConvertBetweenFormats) {
  const fs::path dir = fs::temp_directory_path() / ("shrink_conv_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string npy = (dir / "g.npy").string(), mtx = (dir / "g.mtx").string();
  auto r = run("convert " + kData + "/golden/general.mtx " + npy + " --json");
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("\"out_format\": \"npy\""), std::string::npos) << r.out;
  EXPECT_EQ(run("convert " + npy + " " + mtx).code, 0);
  const auto a = shrink::read_matrix<double, std::int32_t>(kData + "/golden/general.mtx").take_csr();
  const auto b = shrink::read_matrix<double, std::int32_t>(mtx).take_csr();
  EXPECT_EQ(a.nnz(), b.nnz());
  EXPECT_EQ(run("convert " + kData + "/golden/general.mtx " + (dir / "g.bin").string()).code, 1);
  EXPECT_EQ(run("convert " + kData + "/malformed/too_few.mtx " + mtx).code, 2);
  fs::remove_all(dir);
}

TEST(Cli, DemoRuns) {
  const auto r = run("demo --backend cpu --rows 20000 --json");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("\"max_rel_error_vs_float64\""), std::string::npos) << r.out;
}

}  // namespace
