// Helpers for the thin `shrink` program: exit codes, timing, JSON pieces, a stderr progress bar.
#pragma once
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <type_traits>
#include <vector>

#include "shrink/context.hpp"
#include "shrink/error.hpp"
#include "shrink/io.hpp"
#include "shrink/matrix.hpp"
#include "shrink/stats.hpp"
#include "tools/launch.hpp"

namespace shrink::cli {

// Documented in README.md.
enum ExitCode : int { kOk = 0, kUsage = 1, kBadInput = 2, kResource = 3, kNotConverged = 4 };

inline int exit_code_for(const Error& e) {
  switch (e.kind()) {
    case ErrorKind::InvalidArgument: return kUsage;
    case ErrorKind::OutOfMemory:
    case ErrorKind::StorageError:
    case ErrorKind::CudaError:
    case ErrorKind::NotCompiled:
    case ErrorKind::NoDevice: return kResource;
    default: return kBadInput;
  }
}

// A failure: one line on stderr and, when the command was asked for --json, one JSON document on
// stdout, {"error": {"kind", "message", "file", "line", "exit_code"}} (file and line where known),
// so that a script parsing every outcome always gets a document. Returns the exit code.
inline int report_failure(bool as_json, int code, const std::string& kind, const std::string& message,
                          const std::string& file = {}, std::int64_t line = 0) {
  std::fprintf(stderr, "shrink: %s: %s\n", kind.c_str(), message.c_str());
  if (as_json) {
    nlohmann::json e{{"kind", kind}, {"message", message}, {"exit_code", code}};
    if (!file.empty()) {
      e["file"] = file;
      e["line"] = line;
    }
    std::printf("%s\n", nlohmann::json{{"error", e}}.dump(2).c_str());
  }
  return code;
}

// The context of a command: --backend (auto, cpu, cuda) and --threads (0: OpenMP's default).
// Under an MPI launcher on a machine with several GPUs, each rank takes the GPU of its local rank.
inline Context make_context(const std::string& backend, int threads) {
  ContextOptions options;
  options.backend = parse_backend(backend, "--backend");
  options.cpu_threads = threads;
  if (ranks().distributed() && options.backend != Backend::Cpu) {
    const int devices = cuda_device_count();
    if (devices > 1) options.device = ranks().local % devices;
  }
  return Context(options);
}

// --delimiter's value as the readers take it (0: sniff).
inline char delimiter_of(const std::string& flag) {
  if (flag == "tab") return '\t';
  if (flag == "space") return ' ';
  return flag.empty() ? '\0' : flag[0];
}

// Any supported matrix file, with a note on stderr when a CSV's pandas index column was dropped or
// one array of a NumPy .npz archive was chosen (the first of npz_names it holds). column_major:
// ReadOptions::column_major (a design the Lasso reads).
template <class V, class I>
MatrixFile<V, I> read_input(const std::string& path, const std::string& delimiter,
                            std::vector<std::string> npz_names = kNpzDesignNames, bool column_major = false) {
  ReadOptions o;
  o.csv_delimiter = delimiter_of(delimiter);
  o.npz_names = std::move(npz_names);
  o.column_major = column_major;
  auto m = read_matrix<V, I>(path, o);
  if (m.dropped_index_column)
    std::fprintf(stderr, "shrink: note: %s: dropped the first column, an unnamed index (as pandas writes it)\n",
                 path.c_str());
  if (!m.npz_member.empty())
    std::fprintf(stderr, "shrink: note: %s: read its array '%s'\n", path.c_str(), m.npz_member.c_str());
  return m;
}

// --y-column: takes column j of X out as y, with a note on stderr saying which.
template <class V, class I>
std::vector<V> take_y_column(MatrixFile<V, I>& x, index_t j, const std::string& path) {
  const std::string name =
      j < static_cast<index_t>(x.column_names.size()) ? " '" + x.column_names[static_cast<std::size_t>(j)] + "'" : "";
  auto y = x.take_column(j);
  std::fprintf(stderr, "shrink: note: %s: y is column %lld%s; X is the other %lld\n", path.c_str(),
               static_cast<long long>(j), name.c_str(), static_cast<long long>(x.cols()));
  return y;
}

// The column `spec` names (a header name, or a 0-based index; negative from the last).
template <class V, class I>
std::vector<V> take_y_column(MatrixFile<V, I>& x, const std::string& spec, const std::string& path) {
  return take_y_column(x, x.find_column(spec, path), path);
}

// Any supported matrix file as a dense host matrix.
template <class V>
DenseMatrix<V> read_dense(const std::string& path, const std::string& delimiter = {}) {
  auto dense = read_input<double, std::int64_t>(path, delimiter).take_dense();
  if constexpr (std::is_same_v<V, double>) return dense;
  else return cast<V>(dense);
}

inline nlohmann::json histogram_json(const MagnitudeHistogram& h) {
  return {{"edges", h.edges}, {"counts", h.counts}};
}

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Draws "label [#####.....] k/n" on stderr, only when stderr is a terminal.
class Progress {
 public:
  Progress(std::string label, long total)
      : label_(std::move(label)), total_(total), enabled_(::isatty(2) == 1 && total > 1) {}
  ~Progress() {
    if (enabled_) std::fputs("\r\033[K", stderr);
  }
  void update(long done) {
    if (!enabled_) return;
    const int width = 30;
    const int filled = static_cast<int>(width * done / std::max(1L, total_));
    std::fprintf(stderr, "\r%s [%.*s%*s] %ld/%ld", label_.c_str(), filled,
                 "##############################", width - filled, "", done, total_);
    std::fflush(stderr);
  }

 private:
  std::string label_;
  long total_;
  bool enabled_;
};

}  // namespace shrink::cli
