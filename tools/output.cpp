// The output rule (output.hpp).
#include "tools/output.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <iostream>

#include "shrink/error.hpp"

namespace shrink::cli {

namespace fs = std::filesystem;

void check_writable(const std::string& path, const std::string& option) {
  if (path.empty() || path == "-") return;
  const fs::path p(path);
  std::error_code ec;
  if (fs::is_directory(p, ec)) throw IoError(path + " (" + option + ") is a directory, not a file");
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  if (!fs::exists(dir, ec)) throw IoError(path + " (" + option + "): the folder " + dir.string() + " does not exist");
  if (!fs::is_directory(dir, ec)) throw IoError(path + " (" + option + "): " + dir.string() + " is not a folder");
  if (::access(dir.c_str(), W_OK) != 0)
    throw IoError(path + " (" + option + "): the folder " + dir.string() + " is not writable: " + std::strerror(errno));
  if (fs::exists(p, ec) && ::access(p.c_str(), W_OK) != 0)
    throw IoError(path + " (" + option + ") exists and is not writable: " + std::strerror(errno));
}

BlockShape block_option(const std::string& text, const std::string& option) {
  try {
    return parse_block_shape(text);
  } catch (const InvalidArgument& e) {
    throw UsageError(option + ": " + e.what());
  }
}

std::string with_tag(const std::string& base, const std::string& tag) {
  const auto dot = base.find_last_of('.');
  const auto slash = base.find_last_of('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return base + "." + tag;
  return base.substr(0, dot) + "." + tag + base.substr(dot);
}

Output::Output(std::string path, std::string option, OutputKind kind)
    : path_(std::move(path)), option_(std::move(option)), kind_(kind) {
  if (path_.empty() || path_ == "-") return;
  try {
    format_ = format_from_path(path_);
  } catch (const InvalidArgument& e) {
    throw UsageError(option_ + ": " + e.what());
  }
  if (format_ == FileFormat::Text && kind_ == OutputKind::Matrix) {
    // .txt holds rows of numbers: fine for a matrix too.
  }
  check_writable(path_, option_);
}

namespace {

// The size past which a dense file from sparse data is announced: 1 GiB, or SHRINK_DENSE_WARNING_BYTES
// (for tests).
double dense_warning_bytes() {
  if (const char* e = std::getenv("SHRINK_DENSE_WARNING_BYTES")) return std::atof(e);
  return double(1 << 30);
}

template <class V, class I>
void announce_dense(const std::string& path, const MatrixFile<V, I>& m) {
  const double bytes = static_cast<double>(m.rows()) * static_cast<double>(m.cols()) * sizeof(V);
  if (!m.is_dense && !is_sparse_format(format_from_path(path)) && bytes > dense_warning_bytes())
    std::cerr << "shrink: warning: " << path << " stores every entry of a " << m.rows() << " x " << m.cols()
              << " matrix with " << m.sparse.nnz() << " non-zeros: " << bytes / double(1 << 30)
              << " GiB (a sparse format, .mtx or .npz, keeps only the non-zeros)\n";
}

// Stdout: Matrix Market text (array or coordinate), shortest round-trip values.
template <class V, class I>
void write_stdout(const MatrixFile<V, I>& m) {
  std::cout.precision(std::is_same_v<V, float> ? 9 : 17);
  if (m.is_dense) {
    const auto d = m.dense.view();
    std::cout << "%%MatrixMarket matrix array real general\n" << d.rows << " " << d.cols << "\n";
    for (index_t j = 0; j < d.cols; ++j)
      for (index_t i = 0; i < d.rows; ++i) std::cout << d(i, j) << "\n";
    return;
  }
  const auto& a = m.sparse;
  std::cout << "%%MatrixMarket matrix coordinate real general\n" << a.rows() << " " << a.cols() << " " << a.nnz() << "\n";
  for (index_t r = 0; r < a.rows(); ++r)
    for (auto k = a.row_ptr()[r]; k < a.row_ptr()[r + 1]; ++k)
      std::cout << r + 1 << " " << a.col_idx()[k] + 1 << " " << a.values()[k] << "\n";
}

}  // namespace

template <class V, class I>
void Output::write(const MatrixFile<V, I>& m) const {
  if (empty()) return;
  if (to_stdout()) return write_stdout(m);
  announce_dense(path_, m);
  write_matrix(path_, m);
}

template <class V>
void Output::write_dense(DenseView<const V> d, const std::vector<std::string>& names) const {
  MatrixFile<V, std::int64_t> m;
  m.is_dense = true;
  m.dense = dense_to_layout(d, d.layout);
  m.column_names = names;
  write(m);
}

template <class V, class I>
void Output::write_sparse(const CsrMatrix<V, I>& a, const std::vector<std::string>& names) const {
  MatrixFile<V, I> m;
  m.sparse = a.copy_to(Context(ContextOptions{Backend::Cpu, 0, 1, true, false}), MemorySpace::Host);
  m.column_names = names;
  write(m);
}

template <class V>
void Output::write_vector(const std::vector<V>& v, const std::string& name) const {
  write_dense(DenseView<const V>(v.data(), static_cast<index_t>(v.size()), 1, 1, Layout::RowMajor), {name});
}

template <class V>
void print_values(const std::vector<V>& v) {
  std::cout << std::setprecision(17);
  for (const V x : v) std::cout << static_cast<double>(x) << "\n";
}
template void print_values<float>(const std::vector<float>&);
template void print_values<double>(const std::vector<double>&);

#define SHRINK_CLI_OUTPUT(V, I)                                                  \
  template void Output::write<V, I>(const MatrixFile<V, I>&) const;              \
  template void Output::write_sparse<V, I>(const CsrMatrix<V, I>&, const std::vector<std::string>&) const;
SHRINK_CLI_OUTPUT(float, std::int32_t)
SHRINK_CLI_OUTPUT(float, std::int64_t)
SHRINK_CLI_OUTPUT(double, std::int32_t)
SHRINK_CLI_OUTPUT(double, std::int64_t)
template void Output::write_dense<float>(DenseView<const float>, const std::vector<std::string>&) const;
template void Output::write_dense<double>(DenseView<const double>, const std::vector<std::string>&) const;
template void Output::write_vector<float>(const std::vector<float>&, const std::string&) const;
template void Output::write_vector<double>(const std::vector<double>&, const std::string&) const;

}  // namespace shrink::cli
