// The one rule for every file the program writes (and for its inputs' formats): the format comes
// from the extension; an unknown extension is a usage error (exit 1) before any input is read; a path
// that cannot be written is bad input (exit 2) named before any work; a dense file over 1 GiB made
// from sparse data is announced on stderr before it is written. `-` is stdout (text).
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

#include "shrink/io.hpp"
#include "shrink/matrix.hpp"
#include "shrink/nn.hpp"

namespace shrink::cli {

// A bad option value or combination: exit 1, with the message.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What a command writes to a path: a matrix (any format), or a vector (also .txt, one per line).
enum class OutputKind { Matrix, Vector };

class Output {
 public:
  Output() = default;
  // Checks `path` (given for `option`) now: a known extension (UsageError otherwise), a folder that
  // exists and is writable, and not a directory (IoError naming the path and the reason otherwise).
  Output(std::string path, std::string option, OutputKind kind = OutputKind::Matrix);
  bool empty() const noexcept { return path_.empty(); }
  bool to_stdout() const noexcept { return path_ == "-"; }
  const std::string& path() const noexcept { return path_; }
  FileFormat format() const noexcept { return format_; }

  // Writes by the format (see write_matrix); announces a dense file over 1 GiB made from sparse data.
  template <class V, class I>
  void write(const MatrixFile<V, I>& m) const;
  template <class V>
  void write_dense(DenseView<const V> d, const std::vector<std::string>& names = {}) const;
  // `names`: the columns' names, written as a CSV's header (other formats have none).
  template <class V, class I>
  void write_sparse(const CsrMatrix<V, I>& a, const std::vector<std::string>& names = {}) const;
  // One column; `name` heads it in a CSV.
  template <class V>
  void write_vector(const std::vector<V>& v, const std::string& name) const;

 private:
  std::string path_, option_;
  FileFormat format_ = FileFormat::MatrixMarket;
  OutputKind kind_ = OutputKind::Matrix;
};

// A vector result without --out (predictions, scores): one value per line on stdout, 17 digits.
template <class V>
void print_values(const std::vector<V>& v);

// The same path rule for a companion file (a model, a log): extension free, folder writable.
void check_writable(const std::string& path, const std::string& option);

// --block RxC as a BlockShape; a bad one is a usage error naming the flag.
BlockShape block_option(const std::string& text, const std::string& option);

// `base` with `.tag` before its extension (student.mtx, "bias" -> student.bias.mtx).
std::string with_tag(const std::string& base, const std::string& tag);

}  // namespace shrink::cli
