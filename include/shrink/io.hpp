// Readers and writers: Matrix Market, svmlight/libsvm, .npy, SciPy's sparse .npz (and NumPy's dense
// np.savez archives, read), numeric CSV and plain text. Every malformed input is refused with
// ParseError naming the file and the line; writers write a temporary file and rename it.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "shrink/matrix.hpp"

namespace shrink {

enum class FileFormat { MatrixMarket, Svmlight, Npy, Npz, Csv, Text };
const char* to_string(FileFormat format) noexcept;
// By extension: .mtx/.mm, .svm/.svmlight/.libsvm, .npy, .npz, .csv, .txt (case-insensitive).
// InvalidArgument naming the path and the known extensions otherwise.
FileFormat format_from_path(const std::string& path);
// Whether the format stores a sparse matrix as sparse (.mtx, .svm, .npz) or writes every entry.
bool is_sparse_format(FileFormat format) noexcept;

// A matrix read from a file: sparse formats give CSR, dense formats a dense matrix.
template <class V, class I = std::int32_t>
struct MatrixFile {
  bool is_dense = false;
  CsrMatrix<V, I> sparse;
  DenseMatrix<V> dense;
  std::vector<std::string> column_names;  // a CSV header's names (empty otherwise)
  bool dropped_index_column = false;      // a CSV's pandas index column was dropped
  std::string npz_member;                 // the array read from a NumPy .npz archive of several
  index_t rows() const noexcept { return is_dense ? dense.rows() : sparse.rows(); }
  index_t cols() const noexcept { return is_dense ? dense.cols() : sparse.cols(); }
  CsrMatrix<V, I> take_csr();     // converts a dense matrix (keeping non-zeros)
  DenseMatrix<V> take_dense();  // converts a sparse one
  // The column `spec` names: a header name, else a 0-based index (negative counts from the last,
  // -1 the last). InvalidArgument naming `path`, the spec and the columns there are otherwise.
  index_t find_column(const std::string& spec, const std::string& path) const;
  // Removes column j (and its name) and returns its values, all rows (a response kept in the
  // design file: `shrink lasso data.csv --y-column target`).
  std::vector<V> take_column(index_t j);
};

// The arrays a NumPy .npz archive of several is read by: the design (X) and a response or other
// column file (y).
inline const std::vector<std::string> kNpzDesignNames = {"X", "x"};
inline const std::vector<std::string> kNpzResponseNames = {"y", "Y"};

struct ReadOptions {
  int threads = 0;         // parallel parsing of large text files; 0: OpenMP's default
  char csv_delimiter = 0;  // CSV and text: 0 sniffs; ' ' means runs of blanks
  // Matrix Market coordinate files: keep only the entries of the rows of part `part` of `parts`
  // (rows [part n / parts, (part + 1) n / parts) of the declared n; a symmetric file's mirrored
  // entries included), the whole file still checked in one pass. The matrix keeps its declared shape.
  // Array (dense) files: only those rows are kept, so the dense matrix has the part's rows.
  int part = 0, parts = 1;
  // A NumPy .npz archive (np.savez, np.savez_compressed) holding several dense arrays: the first of
  // these names it holds is read (one array alone is read whatever its name).
  std::vector<std::string> npz_names = kNpzDesignNames;
  // .npy and dense .npz arrays in C order come back column-major (parse_npy), as the Lasso reads X.
  bool column_major = false;
};

// Any supported file, chosen by extension (svmlight: the features; labels are dropped here).
template <class V, class I = std::int32_t>
MatrixFile<V, I> read_matrix(const std::string& path, const ReadOptions& options = {});
// Columns of values (n x k): Matrix Market, .npy, .npz (a NumPy archive's array y, or its only one)
// or CSV by extension; any other file is plain text with one value per line ('#' comments and blank
// lines skipped). Used for y, weights and grids.
template <class V>
DenseMatrix<V> read_columns(const std::string& path);
// Writes by extension: sparse to .mtx (coordinate), .svm (zero labels) or .npz (CSR, as
// scipy.sparse.save_npz); dense to .mtx (array), .npy, .csv (always with a header: column_names,
// else column_0, column_1, ...; a headerless first row is what pandas' read_csv would take for the
// names) or .txt (rows of blank-separated values; a column is one value per line). A sparse matrix
// written to a dense format is densified, a dense one to a sparse format keeps its non-zeros.
template <class V, class I>
void write_matrix(const std::string& path, const MatrixFile<V, I>& matrix);
// Column names prefix + number for a CSV header ("column_" and 0..k-1: column_0, column_1, ...;
// "lambda_" and the kept path indices: lambda_0, lambda_5, ...).
std::vector<std::string> numbered_names(const std::string& prefix, const std::vector<std::size_t>& numbers);
std::vector<std::string> numbered_names(const std::string& prefix, std::size_t count);

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

// ---- .npy (versions 1-3; float32/64, integers and bool, either byte order; C or Fortran order; 1-D is a
// column). Integers convert only where exact (|v| <= 2^24 for float, 2^53 for double). ----------------
// column_major: a C-order 2-D array comes back column-major, transposed while it is converted (the
// Lasso's layout; otherwise the array keeps the file's order).
template <class V>
DenseMatrix<V> parse_npy(std::string_view bytes, const std::string& name, bool column_major = false);
template <class V>
DenseMatrix<V> read_npy(const std::string& path, bool column_major = false);
template <class V>
void write_npy(const std::string& path, DenseView<const V> a);  // version 1, keeps a's layout

// ---- SciPy's sparse .npz (save_npz / load_npz: csr, csc or coo; stored or deflated) ------------------
template <class V, class I = std::int32_t>
CsrMatrix<V, I> parse_npz(std::string_view bytes, const std::string& name);  // the file's bytes in memory
template <class V, class I = std::int32_t>
CsrMatrix<V, I> read_npz(const std::string& path);
template <class V, class I>
void write_npz(const std::string& path, const CsrMatrix<V, I>& a);  // CSR, deflated, int32 indices when they fit

// ---- NumPy's dense .npz (np.savez, np.savez_compressed: one .npy per array, no `format` member) ------
bool npz_is_sparse(std::string_view bytes, const std::string& name);  // SciPy's kind (a `format` member)
// The only array, or else the first of `names` the archive holds (then its name to *chosen); an
// archive of several arrays without one of them is refused, its arrays listed.
template <class V>
DenseMatrix<V> parse_npz_dense(std::string_view bytes, const std::string& name, const std::vector<std::string>& names,
                               std::string* chosen = nullptr, bool column_major = false);

// ---- numeric CSV ------------------------------------------------------------------------------------
// As spreadsheets and pandas write it: the delimiter is sniffed from the first lines (comma,
// semicolon, tab, or runs of spaces) unless given, and so is the decimal mark (a comma where the
// numbers are written so, as pandas' to_csv(sep=";", decimal=",") and many locales' spreadsheets
// do; a file that has only integers first turns to decimal commas at its first one, and a file
// mixing both marks is refused); quoted fields are read. The first line is a header
// when it is a row of names (every non-empty field non-numeric), when its first field is empty and
// the rows under it fill that column (pandas' index header), or when it is exactly 0, 1, ..., k-1
// (pandas' default column names, k >= 2). A leading index column (pandas' unnamed first column of
// integers) is dropped. In a data row an empty field is a missing value and NaN/Inf
// are refused: each a ParseError naming the file, line and field.
struct CsvOptions {
  char delimiter = 0;       // 0: sniff; ' ' means runs of blanks
  bool drop_index = true;   // drop a detected pandas index column
  // A later part of a file split by lines (read_matrix_part): no header line, and the first column
  // dropped when part 0 dropped a pandas index.
  bool continuation = false;
  bool drop_first_column = false;
  index_t fields = 0;  // a continuation: the fields per row of part 0 (0: taken from the first row)
  char decimal = 0;    // 0: sniffed; '.' or ',' (decimal commas, where a '.' is then no number)
};
struct CsvInfo {
  char delimiter = ',';
  bool header = false;                 // the first line was taken as column names
  bool dropped_index = false;          // a leading index column was dropped
  std::vector<std::string> names;      // the kept columns' names (empty without a header)
  index_t fields = 0;                  // fields per row, as read (a dropped index included)
  char decimal = '.';                  // the numbers' decimal mark, as read
};
template <class V>
DenseMatrix<V> parse_csv(std::string_view text, const std::string& name, const CsvOptions& options = {},
                         CsvInfo* info = nullptr);
template <class V>
DenseMatrix<V> read_csv(const std::string& path, const CsvOptions& options = {}, CsvInfo* info = nullptr);

// ---- one process's rows of a file (MPI: each rank reads only its own rows) ---------------------------
// Part `part` of `parts` (0 <= part < parts) of a matrix file's rows:
//   .npy: rows [part n / parts, (part + 1) n / parts) (an even split), read at their offset;
//   CSV/text and svmlight: the lines that start in bytes [part S / parts, (part + 1) S / parts) of the
//     S-byte file, at line boundaries (a quoted CSV field holding a newline is not supported here);
//   .mtx: one pass over the entries, keeping those of the rows of an even split;
//   .npz: the whole file read and the rows of an even split kept.
// first_row is the part's first global row where the split is by rows, else -1 (the caller learns it
// from every part's row count). A part may hold no rows; then it has the file's columns where they
// are known from the part alone (npy, mtx, npz), else 0.
struct MatrixPart {
  MatrixFile<double, std::int64_t> file;
  std::vector<double> labels;  // svmlight
  index_t first_row = -1;
  bool zero_based = false;     // svmlight: the part's indices were read as zero-based
  CsvInfo csv;                 // CSV: how part 0 read the columns (pass it to the other parts)
};
struct PartOptions {
  char csv_delimiter = 0;
  const CsvInfo* csv_first_part = nullptr;  // parts > 0 of a CSV: part 0's CsvInfo
  IndexBase svmlight_base = IndexBase::Auto;
};
MatrixPart read_matrix_part(const std::string& path, int part, int parts, const PartOptions& options = {});
template <class V>
void write_csv(const std::string& path, DenseView<const V> a, const std::vector<std::string>& names = {});
// Plain text: each row's values separated by one space, shortest round-trip form; a column is one
// value per line (scores, y). Read back by read_matrix / read_columns.
template <class V>
void write_text(const std::string& path, DenseView<const V> a);

// Whole file into memory (ParseError/IoError naming the path on failure).
std::string read_file(const std::string& path);
// Writes `bytes` to path.tmp.XXXX and renames it over path, so no partial file is ever left. A write
// that fails part-way for want of storage (full disk, quota, file-size limit) or on a device error
// throws StorageError; any other failure IoError. Neither the target nor the temporary file is left.
void write_file_atomic(const std::string& path, std::string_view bytes);
// Removes the temporary file of a write in progress. Async-signal-safe: for a program's SIGINT /
// SIGTERM handler, so that an interrupted write leaves nothing behind.
void remove_partial_outputs() noexcept;

}  // namespace shrink
