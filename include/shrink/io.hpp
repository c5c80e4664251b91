// Readers and writers: Matrix Market, svmlight/libsvm, .npy, numeric CSV. Every malformed input is
// refused with ParseError naming the file and the line; writers write a temporary file and rename it.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "shrink/matrix.hpp"

namespace shrink {

enum class FileFormat { MatrixMarket, Svmlight, Npy, Csv };
const char* to_string(FileFormat format) noexcept;
// By extension: .mtx/.mm, .svm/.svmlight/.libsvm, .npy, .csv (case-insensitive). InvalidArgument
// naming the path otherwise.
FileFormat format_from_path(const std::string& path);

// A matrix read from a file: sparse formats give CSR, dense formats a dense matrix.
template <class V, class I = std::int32_t>
struct MatrixFile {
  bool is_dense = false;
  CsrMatrix<V, I> sparse;
  DenseMatrix<V> dense;
  index_t rows() const noexcept { return is_dense ? dense.rows() : sparse.rows(); }
  index_t cols() const noexcept { return is_dense ? dense.cols() : sparse.cols(); }
  CsrMatrix<V, I> take_csr();     // converts a dense matrix (keeping non-zeros)
  DenseMatrix<V> take_dense();  // converts a sparse one
};

struct ReadOptions {
  int threads = 0;  // parallel parsing of large text files; 0: OpenMP's default
};

// Any supported file, chosen by extension (svmlight: the features; labels are dropped here).
template <class V, class I = std::int32_t>
MatrixFile<V, I> read_matrix(const std::string& path, const ReadOptions& options = {});
// Columns of values (n x k): Matrix Market, .npy or CSV by extension; any other file is plain text
// with one value per line ('#' comments and blank lines skipped). Used for y, weights and grids.
template <class V>
DenseMatrix<V> read_columns(const std::string& path);
// Writes by extension: sparse to .mtx (coordinate) or .svm (zero labels), dense to .mtx (array),
// .npy or .csv; a sparse matrix written to a dense format is densified.
template <class V, class I>
void write_matrix(const std::string& path, const MatrixFile<V, I>& matrix);

// ---- Matrix Market -----------------------------------------------------------------------------------
enum class MmField { Real, Integer, Pattern };
enum class MmSymmetry { General, Symmetric, SkewSymmetric };
struct MatrixMarketInfo {
  bool coordinate = true;  // false: array (dense, column-major)
  MmField field = MmField::Real;
  MmSymmetry symmetry = MmSymmetry::General;
  index_t rows = 0, cols = 0, entries = 0;  // entries as stored (before symmetric expansion)
};

// Parses text already in memory; `name` is used in error messages. Symmetric parts are expanded.
template <class V, class I = std::int32_t>
MatrixFile<V, I> parse_matrix_market(std::string_view text, const std::string& name,
                                     const ReadOptions& options = {},
                                     MatrixMarketInfo* info = nullptr);
template <class V, class I = std::int32_t>
CooMatrix<V, I> parse_matrix_market_coo(std::string_view text, const std::string& name,
                                        const ReadOptions& options = {},
                                        MatrixMarketInfo* info = nullptr);
template <class V, class I = std::int32_t>
MatrixFile<V, I> read_matrix_market(const std::string& path, const ReadOptions& options = {},
                                    MatrixMarketInfo* info = nullptr);
template <class V, class I = std::int32_t>
CooMatrix<V, I> read_matrix_market_coo(const std::string& path, const ReadOptions& options = {},
                                       MatrixMarketInfo* info = nullptr);
template <class V, class I>
void write_matrix_market(const std::string& path, const CsrMatrix<V, I>& a);
template <class V>
void write_matrix_market(const std::string& path, DenseView<const V> a);  // array format

// ---- svmlight / libsvm -------------------------------------------------------------------------------
enum class IndexBase { Auto, Zero, One };  // Auto: zero-based if any index is 0, else one-based
template <class V, class I = std::int32_t>
struct SvmlightData {
  CsrMatrix<V, I> features;
  std::vector<V> labels;
  bool zero_based = false;
};
template <class V, class I = std::int32_t>
SvmlightData<V, I> parse_svmlight(std::string_view text, const std::string& name,
                                  IndexBase base = IndexBase::Auto, index_t n_features = 0);
template <class V, class I = std::int32_t>
SvmlightData<V, I> read_svmlight(const std::string& path, IndexBase base = IndexBase::Auto,
                                 index_t n_features = 0);
template <class V, class I>
void write_svmlight(const std::string& path, const CsrMatrix<V, I>& features,
                    const std::vector<V>& labels);  // one-based indices

// ---- .npy (versions 1-3; <f4, <f8 and big-endian; C or Fortran order; 1-D is a column) -------------
template <class V>
DenseMatrix<V> parse_npy(std::string_view bytes, const std::string& name);
template <class V>
DenseMatrix<V> read_npy(const std::string& path);
template <class V>
void write_npy(const std::string& path, DenseView<const V> a);  // version 1, keeps a's layout

// ---- numeric CSV (comma separated; a non-numeric first line is a header) -----------------------------
template <class V>
DenseMatrix<V> parse_csv(std::string_view text, const std::string& name,
                         std::vector<std::string>* header = nullptr);
template <class V>
DenseMatrix<V> read_csv(const std::string& path, std::vector<std::string>* header = nullptr);
template <class V>
void write_csv(const std::string& path, DenseView<const V> a);

// Whole file into memory (ParseError/IoError naming the path on failure).
std::string read_file(const std::string& path);
// Writes `bytes` to path.tmp.XXXX and renames it over path, so no partial file is ever left.
void write_file_atomic(const std::string& path, std::string_view bytes);

}  // namespace shrink
