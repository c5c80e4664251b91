// The `shrink` program: outputs and documented exit codes (0 ok, 1 usage, 2 bad input,
// 3 resource/device).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <set>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <memory>
#include <string>

#include "shrink/shrink.hpp"
#include "tests/test_paths.hpp"
#include "tools/commands.hpp"
#include "tests/test_util.hpp"

namespace fs = std::filesystem;

namespace {

struct Result {
  int code;
  std::string out;
};

// Runs a shell command line and collects its stdout and exit code.
Result run_shell(const std::string& cmd) {
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

// The program with `args`: its stdout (stderr dropped) and exit code.
Result run(const std::string& args) { return run_shell(shrink::test::cli_path() + " " + args + " 2>/dev/null"); }

const std::string kData = shrink::test::data_dir();

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

// --threads N holds for the whole command, its file reading included: after a command run in this
// process, a context with OpenMP's default (cpu_threads 0) gets N.
TEST(Cli, ThreadsOptionGovernsTheWholeCommand) {
  const int before = shrink::Context(shrink::ContextOptions{shrink::Backend::Cpu}).cpu_threads();
  shrink::set_cpu_threads(3);
  const std::string a = kData + "/golden/general.mtx";
  const char* argv[] = {"shrink", "spmv", a.c_str(), "--backend", "cpu", "--repeat", "1", "--threads", "1", "--json"};
  EXPECT_EQ(shrink::cli::run_command_line(10, argv), 0);
  EXPECT_EQ(shrink::Context(shrink::ContextOptions{shrink::Backend::Cpu}).cpu_threads(), 1);
  const char* unset[] = {"shrink", "spmv", a.c_str(), "--backend", "cpu", "--repeat", "1", "--json"};
  EXPECT_EQ(shrink::cli::run_command_line(8, unset), 0);  // no --threads: left as it was
  EXPECT_EQ(shrink::Context(shrink::ContextOptions{shrink::Backend::Cpu}).cpu_threads(), 1);
  EXPECT_THROW(shrink::set_cpu_threads(0), shrink::InvalidArgument);
  shrink::set_cpu_threads(before);
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
  const std::string yt = (dir / "yt.mtx").string();
  r = run("spmv " + a + " --transpose --x " + x + " --precision f32 --backend cpu --repeat 2 --threads 1 --out " + yt);
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("A^T*x"), std::string::npos) << r.out;
  // A^T x, summed here over the file's entries with x_i = i mod 3, in float32 precision.
  const auto z = shrink::read_matrix<double, std::int32_t>(yt).take_dense();
  ASSERT_EQ(z.rows(), 30);
  for (shrink::index_t j = 0; j < 30; ++j) {
    double want = 0, mag = 0;
    for (shrink::index_t i = 0; i < 40; ++i)
      for (auto k = m.row_ptr()[i]; k < m.row_ptr()[i + 1]; ++k)
        if (m.col_idx()[k] == j) {
          want += m.values()[k] * (i % 3);
          mag += std::abs(m.values()[k] * (i % 3));
        }
    EXPECT_NEAR(z(j, 0), want, 40 * 6e-8 * mag + 1e-6) << j;
  }
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
  // Through .npy and back: the same matrix, entry by entry, bit for bit.
  ASSERT_EQ(a.nnz(), b.nnz());
  ASSERT_EQ(a.rows(), b.rows());
  ASSERT_EQ(a.cols(), b.cols());
  for (shrink::index_t i = 0; i <= a.rows(); ++i) ASSERT_EQ(a.row_ptr()[i], b.row_ptr()[i]);
  for (shrink::index_t k = 0; k < a.nnz(); ++k) {
    ASSERT_EQ(a.col_idx()[k], b.col_idx()[k]);
    ASSERT_EQ(a.values()[k], b.values()[k]);
  }
  const auto dense = shrink::read_matrix<double, std::int32_t>(npy).take_dense();
  for (shrink::index_t i = 0; i < a.rows(); ++i)
    for (auto k = a.row_ptr()[i]; k < a.row_ptr()[i + 1]; ++k) ASSERT_EQ(dense(i, a.col_idx()[k]), a.values()[k]);
  EXPECT_EQ(run("convert " + kData + "/golden/general.mtx " + (dir / "g.bin").string()).code, 1);
  EXPECT_EQ(run("convert " + kData + "/malformed/too_few.mtx " + mtx).code, 2);
  fs::remove_all(dir);
}

TEST(Cli, DemoRuns) {
  const auto r = run("demo --backend cpu --rows 20000 --json");
  EXPECT_EQ(r.code, 0);
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_LT(j["spmv"]["max_rel_error_vs_float64"].get<double>(), 1e-10);
  EXPECT_LT(j["spmv_transpose"]["max_rel_error_vs_float64"].get<double>(), 1e-10);
}

// With --json, a failure also prints one JSON document on stdout: kind, message, exit code, and the
// file and line of a parse error.
TEST(Cli, JsonFailuresPrintADocument) {
  const fs::path dir = fs::temp_directory_path() / ("shrink_cli_err_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  struct Case {
    std::string args;
    int code;
    bool has_line;
  };
  const std::string mal = kData + "/malformed/nan_value.mtx";
  for (const Case& c : {Case{"spmv x.mtx --precision f16 --json", 1, false},
                        Case{"spmv " + mal + " --json", 2, true},
                        Case{"spmv " + (dir / "absent.mtx").string() + " --json", 2, false},
                        Case{"convert " + kData + "/golden/general.mtx " + (dir / "o.bin").string() + " --json", 1, false}}) {
    const auto r = run(c.args);
    EXPECT_EQ(r.code, c.code) << c.args;
    nlohmann::json j;
    ASSERT_NO_THROW(j = nlohmann::json::parse(r.out)) << c.args << ": stdout is not one JSON document: " << r.out;
    ASSERT_TRUE(j.contains("error")) << r.out;
    EXPECT_EQ(j["error"]["exit_code"].get<int>(), c.code) << c.args;
    EXPECT_FALSE(j["error"]["kind"].get<std::string>().empty());
    EXPECT_FALSE(j["error"]["message"].get<std::string>().empty());
    if (c.has_line) {
      EXPECT_EQ(j["error"]["file"].get<std::string>(), mal);
      EXPECT_GT(j["error"]["line"].get<int>(), 0);
    }
  }
  if (shrink::cuda_device_count() == 0) {
    const auto r = run("spmv " + kData + "/golden/general.mtx --backend cuda --json");
    EXPECT_EQ(r.code, 3);
    EXPECT_EQ(nlohmann::json::parse(r.out)["error"]["exit_code"].get<int>(), 3);
  }
  fs::remove_all(dir);
}

}  // namespace

namespace {

// Removes `dir` and everything in it once the last copy of the handle is gone (when the test ends).
std::shared_ptr<void> removed_at_end(const fs::path& dir) {
  return std::shared_ptr<void>(nullptr, [dir](void*) {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  });
}

// A small regression problem on disk: X (CSV), y (one value per line) and option files.
struct LassoFiles {
  fs::path dir;
  std::shared_ptr<void> cleanup;  // removed_at_end(dir)
  std::string x, y;
  std::string file(const std::string& name, const std::string& text) const {
    const auto path = (dir / name).string();
    std::ofstream(path) << text;
    return path;
  }
};

LassoFiles lasso_files() {
  LassoFiles f;
  f.dir = fs::temp_directory_path() / ("shrink_cli_lasso_" + std::to_string(::getpid()));
  fs::create_directories(f.dir);
  f.cleanup = removed_at_end(f.dir);
  shrink::DenseMatrix<double> x(40, 6);
  std::string y;
  for (int i = 0; i < 40; ++i) {
    for (int j = 0; j < 6; ++j) x(i, j) = std::sin(1.0 + i * 0.7 + j * j * 1.3) + (j == 5 ? 0.1 * i : 0);
    y += std::to_string(2 * x(i, 0) - x(i, 3) + 0.05 * std::cos(5.0 * i) + 1) + "\n";
  }
  f.x = (f.dir / "x.csv").string();
  shrink::write_csv<double>(f.x, x.view());
  f.y = f.file("y.txt", y);
  return f;
}

}  // namespace

TEST(Cli, LassoPathJsonAndOutput) {
  const auto f = lasso_files();
  const std::string out = (f.dir / "coef.mtx").string();
  auto r = run("lasso " + f.x + " " + f.y + " --n-lambdas 12 --json --histogram --out " + out);
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["lambdas"].size(), 12u);
  for (const char* key : {"intercepts", "objective", "duality_gap", "nnz", "iterations", "converged"})
    EXPECT_EQ(j[key].size(), 12u) << key;
  for (const auto& c : j["converged"]) EXPECT_TRUE(c.get<bool>());
  for (const char* key : {"time_s", "backend", "device", "solver", "precision", "histogram"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["nnz"][0].get<int>(), 0);
  // The grid starts at lambda_max, computed here from its definition (tests/test_util.hpp).
  const auto xm = shrink::read_matrix<double, std::int64_t>(f.x).take_dense();
  std::vector<double> xs, ys;
  for (shrink::index_t i = 0; i < 40; ++i)
    for (shrink::index_t c = 0; c < 6; ++c) xs.push_back(xm(i, c));
  std::ifstream yin(f.y);
  for (double v; yin >> v;) ys.push_back(v);
  ASSERT_EQ(ys.size(), 40u);
  const double lmax = static_cast<double>(shrink::test::lambda_max_by_definition(40, 6, xs, ys, shrink::LassoOptions{}));
  EXPECT_NEAR(j["lambdas"][0].get<double>(), lmax, 1e-9 * lmax);
  const auto coef = shrink::read_matrix<double, std::int64_t>(out);
  EXPECT_EQ(coef.rows(), 6);
  EXPECT_EQ(coef.cols(), 12);

  r = run("lasso " + f.x + " " + f.y + " --n-lambdas 8 --cv 4 --seed 3 --json --precision f32 --solver cd");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto cv = nlohmann::json::parse(r.out);
  EXPECT_EQ(cv["cv_mean"].size(), 8u);
  EXPECT_GE(cv["lambda_1se"].get<double>(), cv["lambda_min"].get<double>());
  EXPECT_EQ(cv["precision"], "f32");

  r = run("lasso " + f.x + " " + f.y + " --lambda 0.01 --l1-ratio 0.5 --standardize");
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("converged"), std::string::npos);

  // svmlight carries y as its labels.
  const auto svm = f.file("d.svm", "1.5 1:1 2:0.5\n-0.5 2:2\n2 1:3 3:1\n0.5 3:2\n1 1:1 2:1\n");
  EXPECT_EQ(run("lasso " + svm + " --n-lambdas 3").code, 0);
}

TEST(Cli, LassoExitCodes) {
  const auto f = lasso_files();
  const std::string base = "lasso " + f.x + " ";
  EXPECT_EQ(run(base + f.file("short.txt", "1\n2\n3\n")).code, 2);                  // length
  EXPECT_EQ(run(base + f.file("nan.txt", "1\nnan\n")).code, 2);                     // NaN in y
  EXPECT_EQ(run(base + f.y + " --lambda -1").code, 1);  // a bad option value: usage (README's table)                               // negative lambda
  EXPECT_EQ(run(base + f.y + " --l1-ratio 1.5").code, 1);
  EXPECT_EQ(run(base + f.y + " --lambdas-file " + f.file("empty.txt", "# none\n")).code, 2);
  std::string w_neg, w_zero, v_neg;
  for (int i = 0; i < 40; ++i) {
    w_neg += i == 7 ? "-1\n" : "1\n";
    w_zero += "0\n";
  }
  for (int j = 0; j < 6; ++j) v_neg += j == 2 ? "-0.5\n" : "1\n";
  EXPECT_EQ(run(base + f.y + " --sample-weights " + f.file("wn.txt", w_neg)).code, 2);
  EXPECT_EQ(run(base + f.y + " --sample-weights " + f.file("wz.txt", w_zero)).code, 2);
  EXPECT_EQ(run(base + f.y + " --penalty-factors " + f.file("vn.txt", v_neg)).code, 2);
  EXPECT_EQ(run("lasso " + f.file("bad.csv", "1,2\n3,nan\n") + " " + f.file("y2.txt", "1\n2\n")).code, 2);
  EXPECT_EQ(run(base + f.file("two.csv", "1,2\n3,4\n")).code, 2);  // two responses, but 2 rows for 40
  EXPECT_EQ(run(base + f.y + " --solver newton").code, 1);
  EXPECT_EQ(run("lasso " + f.x).code, 1);  // y missing for a CSV X
  EXPECT_EQ(run(base + f.y + " --max-iter 1 --tol 1e-15 --lambda-min-ratio 1e-5 --n-lambdas 4").code, 4);
}

// Y with several columns: one problem per column.
TEST(Cli, LassoBatchJsonOutputAndErrors) {
  const auto f = lasso_files();
  std::string y3, lambdas;
  for (int i = 0; i < 40; ++i)
    y3 += std::to_string(std::sin(0.3 * i)) + "," + std::to_string(std::cos(0.2 * i) + 0.05 * i) + ",0\n";
  const auto y = f.file("y3.csv", y3);
  const std::string out = (f.dir / "batch.mtx").string();
  auto r = run("lasso " + f.x + " " + y + " --lambda-ratio 0.1 --json --out " + out);
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["n_problems"].get<int>(), 3);
  for (const char* key : {"lambdas", "lambda_max", "intercepts", "objective", "duality_gap", "iterations", "nnz", "converged"})
    EXPECT_EQ(j[key].size(), 3u) << key;
  for (const char* key : {"time_s", "problems_per_s", "n_not_converged", "backend", "device", "tol"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["n_not_converged"].get<int>(), 0);
  EXPECT_EQ(j["nnz"][2].get<int>(), 0);  // the all-zero response
  EXPECT_NEAR(j["lambdas"][0].get<double>(), 0.1 * j["lambda_max"][0].get<double>(), 1e-12);
  {  // each problem's lambda_max from its definition
    const auto xm = shrink::read_matrix<double, std::int64_t>(f.x).take_dense();
    const auto ym = shrink::read_matrix<double, std::int64_t>(y).take_dense();
    std::vector<double> xs;
    for (shrink::index_t i = 0; i < 40; ++i)
      for (shrink::index_t c = 0; c < 6; ++c) xs.push_back(xm(i, c));
    for (int b = 0; b < 2; ++b) {
      std::vector<double> yb;
      for (shrink::index_t i = 0; i < 40; ++i) yb.push_back(ym(i, b));
      const double want = static_cast<double>(shrink::test::lambda_max_by_definition(40, 6, xs, yb, shrink::LassoOptions{}));
      EXPECT_NEAR(j["lambda_max"][b].get<double>(), want, 1e-9 * want) << b;
    }
  }
  const auto coef = shrink::read_matrix<double, std::int64_t>(out);
  EXPECT_EQ(coef.rows(), 6);
  EXPECT_EQ(coef.cols(), 3);
  EXPECT_EQ(coef.sparse.nnz(), j["nnz"][0].get<int>() + j["nnz"][1].get<int>());

  EXPECT_EQ(run("lasso " + f.x + " " + y + " --lambdas-file " + f.file("l3.txt", "0.01\n0.02\n0.03\n") +
                " --precision f32 --positive").code, 0);
  EXPECT_EQ(run("lasso " + f.x + " " + y + " --lambda 0.05 --l1-ratio 0.5").code, 0);
  EXPECT_EQ(run("lasso " + f.x + " " + f.y + " --lambda-ratio 0.2").code, 0);  // k = 1
  EXPECT_EQ(run("lasso " + f.x + " " + y).code, 1);                                 // no lambda rule
  EXPECT_EQ(run("lasso " + f.x + " " + y + " --lambda 0.1 --cv 3").code, 1);
  EXPECT_EQ(run("lasso " + f.x + " " + y + " --lambda 0.1 --standardize").code, 1);
  EXPECT_EQ(run("lasso " + f.x + " " + y + " --lambda-ratio 0.1 --lambda 0.1").code, 1);
  EXPECT_EQ(run("lasso " + f.x + " " + y + " --lambdas-file " + f.file("l2.txt", "0.1\n0.2\n")).code, 2);
  EXPECT_EQ(run("lasso " + f.x + " " + y + " --lambda-ratio 0.1 --max-iter 1 --tol 1e-15").code, 4);
}

// Small dense files for prune and distill: W (12 x 16), a second layer (4 x 12) and inputs (64 x 16).
struct NnFiles {
  fs::path dir;
  std::shared_ptr<void> cleanup;  // removed_at_end(dir)
  std::string w, w2, x;
  std::string file(const std::string& name, const std::string& text) const {
    const auto p = (dir / name).string();
    std::ofstream(p) << text;
    return p;
  }
};

NnFiles nn_files() {
  NnFiles f;
  f.dir = fs::temp_directory_path() / ("shrink_cli_nn_" + std::to_string(::getpid()));
  fs::create_directories(f.dir);
  f.cleanup = removed_at_end(f.dir);
  auto matrix = [&](const std::string& name, int rows, int cols, unsigned seed) {
    std::string text;
    unsigned s = seed;
    for (int i = 0; i < rows; ++i) {
      for (int j = 0; j < cols; ++j) {
        s = s * 1103515245u + 12345u;
        text += (j ? "," : "") + std::to_string(static_cast<int>((s >> 16) % 200) / 100.0 - 1.0);
      }
      text += "\n";
    }
    return f.file(name, text);
  };
  f.w = matrix("w.csv", 12, 16, 1);
  f.w2 = matrix("w2.csv", 4, 12, 2);
  f.x = matrix("x.csv", 64, 16, 3);
  return f;
}

TEST(Cli, PruneReportsAndWritesKeptBlocks) {
  const auto f = nn_files();
  const std::string out = (f.dir / "wp.mtx").string();
  auto r = run("prune " + f.w + " --block 4x4 --sparsity 0.5 --norm l1 --json --out " + out);
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["blocks_total"], 12);
  EXPECT_EQ(j["blocks_kept"], 6);
  EXPECT_DOUBLE_EQ(j["block_sparsity"].get<double>(), 0.5);
  EXPECT_GT(j["relative_frobenius_error"].get<double>(), 0.0);
  EXPECT_EQ(j["block_norm_histogram"]["counts"].size(), 10u);
  const auto back = shrink::read_matrix<double>(out);
  EXPECT_EQ(back.rows(), 12);
  EXPECT_EQ(back.sparse.nnz(), 6 * 16);  // only the kept blocks' entries
  r = run("prune " + f.w + " --block 5x3 --sparsity 1");  // blocks that do not divide: padded
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("blocks kept 0 / 18"), std::string::npos) << r.out;
}

TEST(Cli, DistillReportsStudentAndBaseline) {
  const auto f = nn_files();
  const std::string out = (f.dir / "ws.mtx").string();
  auto r = run("distill --teacher " + f.w + "," + f.w2 + " --inputs " + f.x +
               " --block 4x4 --sparsity 0.5 --steps 40 --batch 16 --backend cpu --json --out " + out);
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_NEAR(j["block_sparsity"].get<double>(), 0.5, 0.05);  // 12 + 3 blocks, each layer rounds
  EXPECT_GE(j["student_relative_error"].get<double>(), 0.0);
  EXPECT_GT(j["one_shot_relative_error"].get<double>(), 0.0);
  EXPECT_EQ(j["backend"], "cpu");
  EXPECT_EQ(j["layers"].size(), 2u);
  EXPECT_TRUE(fs::exists(f.dir / "ws.0.mtx"));
  EXPECT_TRUE(fs::exists(f.dir / "ws.1.mtx"));
}

TEST(Cli, PruneAndDistillExitCodes) {
  const auto f = nn_files();
  EXPECT_EQ(run("prune " + f.w + " --block 4x4 --sparsity 1.5").code, 1);  // bad option values: usage
  EXPECT_EQ(run("prune " + f.w + " --block 4x4 --sparsity -0.1").code, 1);
  EXPECT_EQ(run("prune " + f.w + " --block 4y4 --sparsity 0.5").code, 1);  // bad option values: usage
  EXPECT_EQ(run("prune " + f.w + " --block 0x4 --sparsity 0.5").code, 1);
  EXPECT_EQ(run("prune " + f.w + " --block 65x4 --sparsity 0.5").code, 1);
  EXPECT_EQ(run("prune " + f.w + " --block 4x4 --sparsity 0.5 --norm l7").code, 1);  // a bad option value: usage
  EXPECT_EQ(run("prune " + f.file("nan.csv", "1,2\n3,nan\n") + " --block 1x1 --sparsity 0.5").code, 2);
  EXPECT_EQ(run("prune " + f.w + " --sparsity 0.5").code, 1);  // --block missing
  const std::string base = "distill --block 4x4 --sparsity 0.5 --backend cpu ";
  EXPECT_EQ(run(base + "--teacher " + f.w2 + " --inputs " + f.x + " --steps 2").code, 2);  // 12 inputs wanted, 16 given
  EXPECT_EQ(run(base + "--teacher " + f.w + " --inputs " + f.file("xi.csv", "1,2\n3,inf\n") + " --steps 2").code, 2);
  EXPECT_EQ(run(base + "--teacher " + f.w + " --inputs " + f.x + " --steps 2 --schedule linear").code, 1);  // usage
  EXPECT_EQ(run(base + "--teacher " + f.w + " --inputs " + f.x + " --steps 0").code, 1);
}

namespace {

TEST(Cli, SaeTrainEncodeReconstructScoreExport) {
  const auto f = nn_files();  // x.csv: 64 samples x 16 features
  const std::string model = (f.dir / "m.sae").string(), log = (f.dir / "log.jsonl").string();
  auto r = run("sae train " + f.x + " --out " + model + " --activation topk --latents 24 --k 3 --aux-k 4 " +
               "--unit-norm-decoder --normalize standard --epochs 3 --batch 16 --mask 0.1 --bins 5 --backend cpu " +
               "--log " + log + " --json");
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["epochs"], 3);
  EXPECT_EQ(j["steps"], 12);
  EXPECT_LE(j["l0"].get<double>(), 3.0);
  for (const char* key : {"mse", "fvu", "mean_activation", "dead_fraction", "sparsity_ratio", "time_s"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["activation_histogram"]["counts"].size(), 5u);
  EXPECT_EQ(j["backend"], "cpu");
  EXPECT_EQ(j["model"]["normalize"], "standard");
  std::ifstream lines(log);
  std::string line;
  int epochs = 0;
  while (std::getline(lines, line)) EXPECT_EQ(nlohmann::json::parse(line)["epoch"], ++epochs);
  EXPECT_EQ(epochs, 3);

  // Resume for two more epochs.
  r = run("sae train " + f.x + " --resume " + model + " --out " + model + " --epochs 2 --batch 16 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["epochs_total"], 5);
  r = run("sae train " + f.x + " --resume " + model + " --out " + model + " --steps 6 --batch 16 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["steps"], 6);
  EXPECT_EQ(j["epochs"], 1);  // 4 steps finish an epoch, 2 start the next

  const std::string codes = (f.dir / "codes.mtx").string(), xhat = (f.dir / "xhat.npy").string(),
                    scores = (f.dir / "scores.txt").string(), dir = (f.dir / "export").string();
  ASSERT_EQ(run("sae encode --model " + model + " " + f.x + " --out " + codes).code, 0);
  const auto c = shrink::read_matrix<double>(codes);
  EXPECT_EQ(c.rows(), 64);
  EXPECT_EQ(c.cols(), 24);
  EXPECT_LE(c.sparse.nnz(), 64 * 3);
  ASSERT_EQ(run("sae reconstruct --model " + model + " " + f.x + " --out " + xhat).code, 0);
  const auto xh = shrink::read_npy<float>(xhat);
  EXPECT_EQ(xh.rows(), 64);
  EXPECT_EQ(xh.cols(), 16);
  r = run("sae score --model " + model + " " + f.x + " --out " + scores + " --json");
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream sf(scores);
  double s = 0, total = 0;
  int n = 0;
  while (sf >> s) {
    EXPECT_GE(s, 0.0);
    total += s;
    ++n;
  }
  EXPECT_EQ(n, 64);
  EXPECT_NEAR(total / n, nlohmann::json::parse(r.out)["mean_score"].get<double>(), 1e-5);
  // Without --out the scores go to stdout, one per line (as predict's), or into --json.
  r = run("sae score --model " + model + " " + f.x);
  ASSERT_EQ(r.code, 0) << r.out;
  std::istringstream printed(r.out);
  double listed = 0;
  n = 0;
  while (printed >> s) {
    listed += s;
    ++n;
  }
  EXPECT_EQ(n, 64);
  EXPECT_NEAR(listed, total, 1e-4 * total);
  r = run("sae score --model " + model + " " + f.x + " --json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["scores"].size(), 64u);
  EXPECT_NE(run("sae encode --model " + model + " " + f.x).code, 0);  // a matrix needs --out
  ASSERT_EQ(run("sae export --model " + model + " --out-dir " + dir).code, 0);
  for (const char* name : {"encoder_weight.npy", "encoder_bias.npy", "decoder_weight.npy", "decoder_bias.npy",
                           "normalize_offset.npy", "normalize_scale.npy", "model.json"})
    EXPECT_TRUE(fs::exists(fs::path(dir) / name)) << name;
  EXPECT_EQ(shrink::read_npy<float>((fs::path(dir) / "decoder_weight.npy").string()).rows(), 16);
}

TEST(Cli, SaeExitCodes) {
  const auto f = nn_files();
  const std::string model = (f.dir / "m2.sae").string(), out = (f.dir / "o.txt").string();
  const std::string train = "sae train " + f.x + " --out " + model + " --backend cpu --epochs 1 ";
  EXPECT_EQ(run(train + "--activation topk --latents 8 --k 9").code, 1);  // k > latents: usage
  EXPECT_EQ(run(train + "--activation sigmoid-kl --rho 1.5").code, 1);
  EXPECT_EQ(run(train + "--activation sigmoid-kl --rho 0").code, 1);
  EXPECT_EQ(run("sae train " + f.file("nan.csv", "1,2\n3,nan\n") + " --out " + model).code, 2);
  EXPECT_EQ(run("sae train " + f.file("empty.csv", "") + " --out " + model).code, 2);
  EXPECT_EQ(run(train + "--noise 0.1 --mask 0.1").code, 1);  // exclusive options
  EXPECT_EQ(run(train + "--adam-betas 0.9,1.0").code, 1);    // beta2 must be < 1
  ASSERT_EQ(run(train + "--latents 8").code, 0);
  EXPECT_EQ(run("sae score --model " + model + " " + f.w2 + " --out " + out).code, 2);  // 12 features, not 16
  EXPECT_EQ(run("sae score --model " + f.x + " " + f.x + " --out " + out).code, 2);   // not a checkpoint
  std::string bytes = shrink::read_file(model);
  bytes[bytes.size() / 2] ^= 1;
  const std::string bad = f.file("bad.sae", bytes);
  EXPECT_EQ(run("sae encode --model " + bad + " " + f.x + " --out " + (f.dir / "c.mtx").string()).code, 2);
}

}  // namespace

// ---- files as users write them, outputs by extension, honest exits (issue 21) ------------------------
namespace {

// The exit code and stderr (stdout dropped).
Result run_stderr(const std::string& args, const std::string& env = {}) {
  return run_shell(env + " " + shrink::test::cli_path() + " " + args + " 2>&1 >/dev/null");
}

}  // namespace

// --out follows its extension for every command: .npy loads as an array, .csv and .txt as text,
// .npz as scipy.sparse's file, .mtx as Matrix Market; an unknown one is refused (exit 1) before any
// input is read, and a folder that does not exist (exit 2) before any work.
TEST(CliFiles, OutputsFollowTheirExtension) {
  const auto f = lasso_files();
  for (const char* ext : {".npy", ".csv", ".txt", ".npz", ".mtx"}) {
    SCOPED_TRACE(ext);
    const std::string out = (f.dir / (std::string("coef") + ext)).string();
    ASSERT_EQ(run("lasso " + f.x + " " + f.y + " --n-lambdas 5 --out " + out).code, 0);
    const auto back = shrink::read_matrix<double, std::int64_t>(out).take_dense();
    EXPECT_EQ(back.rows(), 6);  // p x L
    EXPECT_EQ(back.cols(), 5);
    if (std::string(ext) == ".npy") EXPECT_EQ(shrink::read_file(out).rfind("\x93NUMPY", 0), 0u);
  }
  // Batched, pruned and distilled outputs too.
  const std::string yy = f.file("yy.csv", [] {
    std::string s;
    for (int i = 0; i < 40; ++i) s += std::to_string(std::sin(i * 0.3)) + "," + std::to_string(std::cos(i * 0.2)) + "\n";
    return s;
  }());
  ASSERT_EQ(run("lasso " + f.x + " " + yy + " --lambda-ratio 0.2 --out " + (f.dir / "b.npy").string()).code, 0);
  EXPECT_EQ(shrink::read_npy<double>((f.dir / "b.npy").string()).cols(), 2);
  const auto nn = nn_files();
  ASSERT_EQ(run("prune " + nn.w + " --block 4x4 --sparsity 0.5 --out " + (nn.dir / "wp.npy").string()).code, 0);
  EXPECT_EQ(shrink::read_npy<double>((nn.dir / "wp.npy").string()).rows(), 12);
  // Refused before the input is read (the input here does not even exist).
  EXPECT_EQ(run("lasso /nonexistent/x.csv y.txt --out coef.xyz").code, 1);
  EXPECT_EQ(run("prune /nonexistent/w.csv --block 2x2 --sparsity 0.5 --out w.doc").code, 1);
  auto r = run_stderr("lasso " + f.x + " " + f.y + " --out /nonexistent/folder/coef.npy");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("/nonexistent/folder"), std::string::npos) << r.out;
  EXPECT_EQ(run("sae train " + nn.x + " --out /nonexistent/m.sae").code, 2);
}

// A dense file made from sparse data is announced before it is written (the threshold lowered here).
TEST(CliFiles, BigDenseFilesFromSparseDataAreAnnounced) {
  const auto f = lasso_files();
  const std::string sparse = f.file("s.mtx", "%%MatrixMarket matrix coordinate real general\n300 200 2\n1 1 1.0\n300 200 2.0\n");
  auto r = run_stderr("convert " + sparse + " " + (f.dir / "s.npy").string(), "SHRINK_DENSE_WARNING_BYTES=100000");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("warning"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("non-zeros"), std::string::npos) << r.out;
  r = run_stderr("convert " + sparse + " " + (f.dir / "s.npz").string(), "SHRINK_DENSE_WARNING_BYTES=100000");
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out.find("warning"), std::string::npos) << r.out;  // .npz stays sparse
}

// pandas' CSVs: the index column is dropped (with a note), the header's names name the features in
// the output, a Series as y is one problem, and a missing value in the first row is refused.
TEST(CliFiles, PandasCsvsAndFeatureNames) {
  const auto f = lasso_files();
  std::string x = ",age,bmi,bp\n", y = ",target\n";
  for (int i = 0; i < 40; ++i) {
    const double a = std::sin(i * 0.7), b = std::cos(i * 1.3), c = std::sin(i * 0.11 + 2);
    x += std::to_string(i) + "," + std::to_string(a) + "," + std::to_string(b) + "," + std::to_string(c) + "\n";
    y += std::to_string(i) + "," + std::to_string(3 * a - 2 * c + 0.01 * std::cos(i * 3.1)) + "\n";
  }
  const std::string xp = f.file("px.csv", x), yp = f.file("py.csv", y);
  auto r = run("lasso " + xp + " " + yp + " --n-lambdas 20 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["n_features"], 3);  // the index column is not a feature
  EXPECT_EQ(j["feature_names"], (std::vector<std::string>{"age", "bmi", "bp"}));
  const auto& chosen = j["selected"]["features"];
  ASSERT_GE(chosen.size(), 2u);
  EXPECT_EQ(chosen[0]["name"], "age");  // the largest |coefficient| first
  auto e = run_stderr("lasso " + xp + " " + yp + " --n-lambdas 5");
  EXPECT_NE(e.out.find("dropped the first column"), std::string::npos) << e.out;
  r = run("lasso " + xp + " " + yp + " --n-lambdas 5");
  EXPECT_NE(r.out.find("age"), std::string::npos) << r.out;  // named in the human output
  // A missing value in the first data row is an error with its line, not a header.
  e = run_stderr("lasso " + f.file("miss.csv", "1,,3\n4,5,6\n") + " " + f.file("y2.txt", "1\n2\n"));
  EXPECT_EQ(e.code, 2);
  EXPECT_NE(e.out.find(":1:"), std::string::npos) << e.out;
  EXPECT_NE(e.out.find("missing value"), std::string::npos) << e.out;
  // Semicolons are sniffed; integer .npy files are read.
  std::string semi;
  for (int i = 0; i < 40; ++i) semi += std::to_string(i % 7) + ";" + std::to_string((i * 3) % 5) + "\n";
  EXPECT_EQ(run("lasso " + f.file("semi.csv", semi) + " " + f.y + " --n-lambdas 3").code, 0);
}

// One np.savez archive of X and y serves as both files: X from its array X, y from y, each noted.
TEST(CliFiles, NumpyArchiveOfXAndY) {
  const std::string xy = std::string(SHRINK_TEST_DATA) + "/user/numpy_xy.npz";
  auto r = run_stderr("lasso " + xy + " " + xy + " --n-lambdas 5");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("read its array 'X'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("read its array 'y'"), std::string::npos) << r.out;
  const std::string unnamed = std::string(SHRINK_TEST_DATA) + "/user/numpy_unnamed.npz";
  r = run_stderr("lasso " + unnamed + " " + xy);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("arr_0, arr_1"), std::string::npos) << r.out;
}

// A pandas frame that keeps its response as a column: --y-column takes it out by name or index (the
// fit X and y give as two files); predict drops it from that same file by itself (the model's
// features and one more), and with --y-column reports R^2 and MSE.
TEST(CliFiles, ResponseColumnOfTheDesignFile) {
  const auto f = lasso_files();
  const std::string dir = std::string(SHRINK_TEST_DATA) + "/user/";
  const std::string data = dir + "pandas_with_target.csv";
  const auto fit = [&](const std::string& args) {
    const auto r = run("lasso " + args + " --n-lambdas 8 --json");
    EXPECT_EQ(r.code, 0) << args;
    return r.code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json();
  };
  const auto two_files = fit(dir + "pandas_named.csv " + dir + "pandas_series_named.csv");
  for (const char* spec : {"target", "3", "-1"}) {
    SCOPED_TRACE(spec);
    const auto j = fit(data + " --y-column " + spec);
    ASSERT_FALSE(j.is_null());
    EXPECT_EQ(j["feature_names"], (std::vector<std::string>{"age", "bmi", "bp"}));
    EXPECT_EQ(j["objective"], two_files["objective"]);
    EXPECT_EQ(j["intercepts"], two_files["intercepts"]);
  }
  auto e = run_stderr("lasso " + data + " --y-column target --n-lambdas 3");
  EXPECT_NE(e.out.find("y is column 3 'target'"), std::string::npos) << e.out;
  e = run_stderr("lasso " + data + " --y-column weight");
  EXPECT_EQ(e.code, 2);
  EXPECT_NE(e.out.find("no column named 'weight'"), std::string::npos) << e.out;
  EXPECT_EQ(run("lasso " + data + " --y-column 4").code, 2);                         // out of range
  EXPECT_EQ(run("lasso " + data + " " + dir + "pandas_series.csv --y-column 0").code, 1);  // Y and --y-column

  const std::string model = (f.dir / "target.lasso").string();
  ASSERT_EQ(run("lasso " + data + " --y-column target --n-lambdas 8 --save-model " + model).code, 0);
  e = run_stderr("predict " + model + " " + data);
  ASSERT_EQ(e.code, 0) << e.out;
  EXPECT_NE(e.out.find("dropped column 3 'target'"), std::string::npos) << e.out;
  auto r = run("predict " + model + " " + data + " --y-column target --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  const auto pred = j["predictions"].get<std::vector<double>>();
  const auto y = shrink::read_columns<double>(dir + "pandas_series_named.csv");
  ASSERT_EQ(pred.size(), 6u);
  double mean = 0, rss = 0, tss = 0;
  for (shrink::index_t i = 0; i < 6; ++i) mean += y(i, 0) / 6;
  for (shrink::index_t i = 0; i < 6; ++i) {
    rss += (y(i, 0) - pred[static_cast<std::size_t>(i)]) * (y(i, 0) - pred[static_cast<std::size_t>(i)]);
    tss += (y(i, 0) - mean) * (y(i, 0) - mean);
  }
  EXPECT_NEAR(j["mse"].get<double>(), rss / 6, 1e-12);
  EXPECT_NEAR(j["r2"].get<double>(), 1 - rss / tss, 1e-12);
}

// gzip in and out: pandas' data.csv.gz fits as data.csv does; --out coef.csv.gz is gzip-compressed
// CSV (the name says so), which reads back as the plain --out.
TEST(CliFiles, GzipFilesInAndOut) {
  const auto f = lasso_files();
  const std::string dir = std::string(SHRINK_TEST_DATA) + "/user/";
  const std::string plain = (f.dir / "coef.csv").string(), packed = (f.dir / "coef.csv.gz").string();
  auto a = run("lasso " + dir + "pandas_with_target.csv --y-column target --n-lambdas 6 --json --out " + plain);
  auto b = run("lasso " + dir + "pandas_with_target.csv.gz --y-column target --n-lambdas 6 --json --out " + packed);
  ASSERT_EQ(a.code, 0);
  ASSERT_EQ(b.code, 0);
  EXPECT_EQ(nlohmann::json::parse(a.out)["objective"], nlohmann::json::parse(b.out)["objective"]);
  std::ifstream in(packed, std::ios::binary);
  const std::string stored((std::istreambuf_iterator<char>(in)), {});
  ASSERT_GE(stored.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(stored[0]), 0x1f);
  EXPECT_EQ(shrink::read_file(packed), shrink::read_file(plain));  // read_file inflates
  EXPECT_EQ(run("lasso " + f.file("bad.csv.gz", "1,2\n3,4\n") + " " + f.y).code, 2);
}

// lambda = 0 is least squares: it converges (exit 0) with its KKT certificate.
TEST(CliFiles, LeastSquaresConverges) {
  const auto f = lasso_files();
  auto r = run("lasso " + f.x + " " + f.y + " --lambda 0 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["converged"][0].get<bool>());
  EXPECT_LT(j["iterations"][0].get<int>(), 100000);
}

// A saved model predicts what the fit says: X b + b0 at the chosen solution; --select writes one
// column; a model without CV refuses min; features must match by name.
TEST(CliFiles, SavedModelsPredict) {
  const auto f = lasso_files();
  const std::string model = (f.dir / "m.lasso").string(), pred = (f.dir / "p.txt").string();
  const std::string coef = (f.dir / "c.mtx").string();
  auto r = run("lasso " + f.x + " " + f.y + " --n-lambdas 15 --cv 4 --json --save-model " + model + " --select min --out " + coef);
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  const auto b = shrink::read_matrix<double, std::int64_t>(coef).take_dense();
  ASSERT_EQ(b.cols(), 1);  // the selected column only
  ASSERT_EQ(run("predict " + model + " " + f.x + " --out " + pred).code, 0);
  const auto p = shrink::read_columns<double>(pred);
  const auto x = shrink::read_csv<double>(f.x);
  const std::size_t pick = j["index_min"].get<std::size_t>();
  const double b0 = j["intercepts"][pick].get<double>();
  ASSERT_EQ(p.rows(), 40);
  for (shrink::index_t i = 0; i < 40; ++i) {
    double want = b0;
    for (shrink::index_t c = 0; c < 6; ++c) want += x(i, c) * b(c, 0);
    EXPECT_NEAR(p(i, 0), want, 1e-12 * (1 + std::fabs(want))) << i;
  }
  // A path without CV: "last" by default; min is a usage error; a lambda value interpolates.
  ASSERT_EQ(run("lasso " + f.x + " " + f.y + " --n-lambdas 10 --save-model " + model).code, 0);
  EXPECT_EQ(run("predict " + model + " " + f.x + " --lambda min").code, 1);
  EXPECT_EQ(run("predict " + model + " " + f.x + " --lambda 0.01 --out " + pred).code, 0);
  EXPECT_EQ(run("predict " + model + " " + f.file("x3.csv", "1,2,3\n4,5,6\n")).code, 2);  // 3 columns, not 6
  EXPECT_EQ(run("lasso " + f.x + " " + f.y + " --select min").code, 1);                  // min needs --cv
  std::string bytes = shrink::read_file(model);
  bytes[bytes.size() / 2] ^= 1;
  EXPECT_EQ(run("predict " + f.file("bad.lasso", bytes) + " " + f.x).code, 2);  // checksum
}

// distill --out writes each layer's weights and its trained bias: the files alone reproduce the
// reported student error.
TEST(CliFiles, DistilledStudentFilesReproduceItsError) {
  const auto f = nn_files();
  const std::string out = (f.dir / "student.mtx").string();
  auto r = run("distill --teacher " + f.w + " --inputs " + f.x + " --block 4x4 --sparsity 0.5 --steps 200 --precision f64 "
               "--backend cpu --json --out " + out);
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  const auto w = shrink::read_matrix<double, std::int64_t>(out).take_dense();
  const auto bias = shrink::read_columns<double>((f.dir / "student.bias.mtx").string());
  const auto teacher = shrink::read_csv<double>(f.w);
  const auto x = shrink::read_csv<double>(f.x);
  ASSERT_EQ(w.rows(), 12);
  ASSERT_EQ(bias.rows(), 12);
  double err = 0, ref = 0;
  for (shrink::index_t i = 0; i < x.rows(); ++i)
    for (shrink::index_t o = 0; o < 12; ++o) {
      double s = bias(o, 0), t = 0;
      for (shrink::index_t c = 0; c < 16; ++c) {
        s += w(o, c) * x(i, c);
        t += teacher(o, c) * x(i, c);
      }
      err += (s - t) * (s - t);
      ref += t * t;
    }
  EXPECT_NEAR(std::sqrt(err / ref), j["student_relative_error"].get<double>(), 1e-6);
}

// A diverged SAE exits 4 with no model (unless --keep-diverged); conflicting options are refused;
// a resume that would change the model is refused; the log has a line per epoch.
TEST(CliFiles, SaeHonestExits) {
  const auto f = nn_files();
  const std::string model = (f.dir / "d.sae").string(), log = (f.dir / "log.jsonl").string();
  fs::remove(model);
  auto r = run_stderr("sae train " + f.x + " --out " + model + " --backend cpu --epochs 3 --lr 1e30");
  EXPECT_EQ(r.code, 4) << r.out;
  EXPECT_NE(r.out.find("diverged"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(model));
  EXPECT_EQ(run("sae train " + f.x + " --out " + model + " --backend cpu --epochs 3 --lr 1e30 --keep-diverged").code, 4);
  EXPECT_TRUE(fs::exists(model));
  const std::string base = "sae train " + f.x + " --out " + model + " --backend cpu ";
  EXPECT_EQ(run(base + "--epochs 2 --steps 5").code, 1);
  EXPECT_EQ(run(base + "--activation relu-l1 --k 5").code, 1);  // --k with relu-l1
  EXPECT_EQ(run(base + "--k 5 --l1 0.1").code, 1);               // --k implies topk, --l1 relu-l1
  EXPECT_EQ(run(base + "--activation topk --l1 0.1").code, 1);
  ASSERT_EQ(run(base + "--epochs 3 --latents 8 --log " + log).code, 0);
  std::ifstream in(log);
  int lines = 0;
  for (std::string line; std::getline(in, line);) lines += !line.empty();
  EXPECT_EQ(lines, 3);
  EXPECT_EQ(run("sae train " + f.x + " --out " + model + " --resume " + model + " --latents 12").code, 1);
  EXPECT_EQ(run("sae train " + f.x + " --out " + model + " --resume " + model + " --activation relu-l1").code, 1);
  EXPECT_EQ(run("sae train " + f.x + " --out " + model + " --resume " + model + " --normalize standard").code, 1);
  EXPECT_EQ(run("sae train " + f.x + " --out " + model + " --resume " + model + " --score reconstruction").code, 1);
  EXPECT_EQ(run("sae train " + f.x + " --out " + model + " --resume " + model + " --neighbors 2").code, 1);
  EXPECT_EQ(run("sae train " + f.x + " --out " + model + " --resume " + model + " --epochs 1").code, 0);
  EXPECT_EQ(run(base + "--epochs 1 --score knn").code, 1);
  EXPECT_EQ(run(base + "--epochs 1 --neighbors 65").code, 1);  // more than the 64 samples
}

// With no options the settings come from the data; the output reports them, and their flags repeat the
// run exactly. A resumed run inherits them.
TEST(CliFiles, SaeDefaultsAreReportedAndRepeatable) {
  const auto f = nn_files();
  const std::string a = (f.dir / "auto.sae").string(), b = (f.dir / "again.sae").string();
  auto r = run("sae train " + f.x + " --out " + a + " --backend cpu --threads 1 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  const auto& s = j["settings"];
  EXPECT_EQ(s["activation"], "topk");
  EXPECT_EQ(s["latents"], 32);  // 2 x 16 inputs
  EXPECT_EQ(s["k"], 3);
  EXPECT_EQ(s["normalize"], "minmax");
  EXPECT_EQ(s["lr_schedule"], "cosine");
  EXPECT_EQ(s["validation_fraction"], 0.1);
  EXPECT_TRUE(s["early_stopping"].get<bool>());
  EXPECT_EQ(j["model"]["normalize"], "minmax");
  EXPECT_EQ(s["score"], "neighbors");
  EXPECT_EQ(s["neighbors"], 5);
  EXPECT_EQ(j["model"]["reference_rows"], 64);
  EXPECT_EQ(j["validation_samples"], 6);  // 10% of 64
  const std::string flags = s["flags"];
  ASSERT_EQ(run("sae train " + f.x + " --out " + b + " --backend cpu --threads 1 " + flags).code, 0) << flags;
  std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
  const std::string bytes_a{std::istreambuf_iterator<char>(fa), {}}, bytes_b{std::istreambuf_iterator<char>(fb), {}};
  EXPECT_FALSE(bytes_a.empty());
  EXPECT_TRUE(bytes_a == bytes_b) << "the reported flags did not repeat the run: " << flags;
  // Text output names the settings too; --resume keeps the model's and trains on.
  r = run("sae train " + f.x + " --out " + b + " --backend cpu --resume " + a + " --steps 10 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto resumed = nlohmann::json::parse(r.out);
  EXPECT_EQ(resumed["settings"]["k"], 3);
  EXPECT_EQ(resumed["settings"]["normalize"], "minmax");
  EXPECT_EQ(resumed["settings"]["score"], "neighbors");
  EXPECT_EQ(resumed["steps"], 10);
  // The reconstruction error stays a choice; sae score follows the model.
  const std::string scores = (f.dir / "recon_scores.txt").string();
  ASSERT_EQ(run("sae train " + f.x + " --out " + b + " --backend cpu --steps 10 --score reconstruction").code, 0);
  r = run("sae score --model " + b + " " + f.x + " --out " + scores + " --json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["score"], "reconstruction");
  r = run("sae train " + f.x + " --out " + b + " --backend cpu --epochs 2");
  EXPECT_NE(r.out.find("settings: --activation topk --latents 32 --k 3"), std::string::npos) << r.out;
}

// The README's exit-code table, walked: bad option values (1) and bad files (2) on every command.
TEST(CliFiles, ExitCodeTable) {
  const auto f = lasso_files();
  const auto nn = nn_files();
  const std::string lasso = "lasso " + f.x + " " + f.y + " ";
  const std::vector<std::pair<std::string, int>> table = {
      {lasso + "--l1-ratio 2", 1},
      {lasso + "--lambda -0.1", 1},
      {lasso + "--tol -1", 1},
      {lasso + "--n-lambdas 0", 1},
      {lasso + "--cv 1", 1},
      {lasso + "--solver newton", 1},
      {lasso + "--select best", 1},
      {lasso + "--out c.doc", 1},
      {lasso + "--delimiter x", 1},
      {"prune " + nn.w + " --block 4x4 --sparsity 1.5", 1},
      {"prune " + nn.w + " --block 4x4 --sparsity 0.5 --norm l7", 1},
      {"distill --teacher " + nn.w + " --inputs " + nn.x + " --block 4x4 --sparsity 0.5 --lr -1", 1},
      {"sae train " + nn.x + " --out m.sae --lr -1", 1},
      {"sae train " + nn.x + " --out m.sae --batch 0", 1},
      {"sae train " + nn.x + " --out m.sae --mask 1.5", 1},
      {"spmv " + kData + "/golden/general.mtx --repeat 0", 1},
      {"spmv " + kData + "/golden/general.mtx --out y.xyz", 1},
      {"convert " + kData + "/golden/general.mtx out.xyz", 1},
      {"predict", 1},
      {"lasso /nonexistent/x.csv " + f.y, 2},
      {"lasso " + f.file("nanx.csv", "1,2\n3,nan\n") + " " + f.file("y22.txt", "1\n2\n"), 2},
      {"spmv " + kData + "/malformed/nan_value.mtx", 2},
      {"convert " + kData + "/malformed/too_few.mtx " + (f.dir / "o.mtx").string(), 2},
      {"sae score --model " + f.x + " " + nn.x + " --out " + (f.dir / "s.txt").string(), 2},
  };
  for (const auto& [command, code] : table) EXPECT_EQ(run(command).code, code) << command;
}

// ---- faults: memory, a full or failing disk, signals (issue 19) ----------------------------------------
namespace {

// Runs the program with extra environment (the shim preloaded when `preload`), returns the pid so
// that a test can signal it; stdout and stderr go to `log`.
pid_t spawn(const std::vector<std::string>& args, const std::vector<std::string>& env, const std::string& log) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ::dup2(fd, 1);
  ::dup2(fd, 2);
  std::vector<char*> argv;
  const std::string cli = shrink::test::cli_path();
  argv.push_back(const_cast<char*>(cli.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execv(cli.c_str(), argv.data());
  ::_exit(127);
}

// The environment that preloads the write-failing shim (ASan must not insist on coming first).
std::vector<std::string> fault_env(const std::string& after) {
  std::string asan = "ASAN_OPTIONS=verify_asan_link_order=0";
  if (const char* old = std::getenv("ASAN_OPTIONS")) asan += std::string(":") + old;
  return {"LD_PRELOAD=" SHRINK_FAULT_SHIM, "SHRINK_FAULT_AFTER=" + after, asan};
}

bool only_inputs_left(const fs::path& dir, const std::set<std::string>& inputs) {
  for (const auto& e : fs::directory_iterator(dir))
    if (!inputs.count(e.path().filename().string())) {
      ADD_FAILURE() << "left behind: " << e.path();
      return false;
    }
  return true;
}

// A big enough matrix that writing it takes several writes.
std::string big_matrix(const fs::path& dir) {
  const auto a = shrink::generate_uniform<double, std::int32_t>(3000, 3000, 30, 4);
  const std::string path = (dir / "big.mtx").string();
  shrink::write_matrix_market(path, a);
  return path;
}

}  // namespace

// A hostile size (3e9 rows in 120 bytes) exits 3 at once, naming what needed how much and the
// limit, and writes nothing; --max-memory sets the limit on every command.
TEST(CliFaults, HostileSizesExitThree) {
  const auto f = lasso_files();
  const std::string tall = f.file("tall.mtx", "%%MatrixMarket matrix coordinate real general\n3000000000 3 2\n1 1 1.0\n2999999999 3 2.0\n");
  const std::string out = (f.dir / "t.mtx").string();
  auto r = run_stderr("spmv " + tall + " --transpose --out " + out);
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("3000000000 x 3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("memory limit"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out));
  for (const std::string cmd : {"convert " + tall + " " + (f.dir / "t.npz").string(), "lasso " + tall + " " + f.y,
                                "sae train " + tall + " --out " + (f.dir / "m.sae").string()})
    EXPECT_EQ(run(cmd).code, 3) << cmd;
  EXPECT_EQ(run("lasso " + f.x + " " + f.y + " --max-memory 1K").code, 3);
  EXPECT_EQ(run("lasso " + f.x + " " + f.y + " --max-memory 64G").code, 0);
  EXPECT_EQ(run("lasso " + f.x + " " + f.y + " --max-memory lots").code, 1);
  r = run_stderr("lasso " + f.x + " " + f.y, "SHRINK_MAX_MEMORY=2K");
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("SHRINK_MAX_MEMORY"), std::string::npos) << r.out;
}

// A write that fails part-way (a full disk, then a failing one) exits 3 and leaves neither the
// output nor its temporary file.
TEST(CliFaults, FailedWritesLeaveNothing) {
  const fs::path dir = fs::temp_directory_path() / ("shrink_cli_faults_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string big = big_matrix(dir), log = (dir / ".." / ("faults_" + std::to_string(::getpid()) + ".log")).string();
  for (const std::string errno_name : {"ENOSPC", "EIO"}) {
    SCOPED_TRACE(errno_name);
    auto env = fault_env("100000");
    env.push_back("SHRINK_FAULT_ERRNO=" + errno_name);
    const pid_t pid = spawn({"convert", big, (dir / "out.mtx").string()}, env, log);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 3) << shrink::read_file(log);
    EXPECT_NE(shrink::read_file(log).find(errno_name == "EIO" ? "Input/output error" : "No space left"), std::string::npos)
        << shrink::read_file(log);
    EXPECT_TRUE(only_inputs_left(dir, {"big.mtx"}));
  }
  fs::remove(log);
  fs::remove_all(dir);
}

// SIGINT or SIGTERM in the middle of a write leaves no partial output and no temporary file.
TEST(CliFaults, SignalsMidWriteLeaveNothing) {
  const fs::path dir = fs::temp_directory_path() / ("shrink_cli_signals_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string big = big_matrix(dir), log = (dir / ".." / ("signals_" + std::to_string(::getpid()) + ".log")).string();
  for (const int sig : {SIGINT, SIGTERM}) {
    SCOPED_TRACE(sig);
    auto env = fault_env("100000");
    env.push_back("SHRINK_FAULT_PAUSE=1");  // the shim stops the process half-way through its write
    const pid_t pid = spawn({"convert", big, (dir / "out.npy").string()}, env, log);
    bool writing = false;
    for (int wait = 0; wait < 400 && !writing; ++wait) {  // up to 20 s for the temporary file to appear
      for (const auto& e : fs::directory_iterator(dir)) writing = writing || e.path().string().find(".tmp.") != std::string::npos;
      if (!writing) ::usleep(50000);
    }
    ASSERT_TRUE(writing) << "the write never started: " << shrink::read_file(log);
    ::kill(pid, sig);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig) << status;
    EXPECT_TRUE(only_inputs_left(dir, {"big.mtx"}));
  }
  fs::remove(log);
  fs::remove_all(dir);
}
