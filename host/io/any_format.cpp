// Format selection by file extension.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <utility>

#include "kernels/ops/instantiate.hpp"
#include "host/io/mapped_file.hpp"
#include "host/io/text_scan.hpp"
#include "shrink/error.hpp"
#include "shrink/io.hpp"

namespace shrink {

const char* to_string(FileFormat format) noexcept {
  switch (format) {
    case FileFormat::MatrixMarket: return "matrix-market";
    case FileFormat::Svmlight: return "svmlight";
    case FileFormat::Npy: return "npy";
    case FileFormat::Npz: return "npz";
    case FileFormat::Csv: return "csv";
    case FileFormat::Text: return "text";
  }
  return "?";
}

bool is_sparse_format(FileFormat format) noexcept {
  return format == FileFormat::MatrixMarket || format == FileFormat::Svmlight || format == FileFormat::Npz;
}

FileFormat format_from_path(const std::string& path) {
  // X.mtx.gz: the format of the name inside; the readers inflate it and the writers compress.
  const std::string name = io_detail::is_gzip_path(path) ? path.substr(0, path.size() - 3) : path;
  const auto dot = name.find_last_of('.');
  const auto slash = name.find_last_of('/');
  std::string ext = dot == std::string::npos || (slash != std::string::npos && dot < slash)
                        ? std::string()
                        : name.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == "mtx" || ext == "mm") return FileFormat::MatrixMarket;
  if (ext == "svm" || ext == "svmlight" || ext == "libsvm") return FileFormat::Svmlight;
  if (ext == "npy") return FileFormat::Npy;
  if (ext == "npz") return FileFormat::Npz;
  if (ext == "csv" || ext == "tsv") return FileFormat::Csv;
  if (ext == "txt") return FileFormat::Text;
  const bool gz = name.size() != path.size();
  throw InvalidArgument(path + ": unknown file extension '" + ext + (gz ? "' before '.gz" : "") +
                        "' (expected .mtx, .mm, .svm, .svmlight, .libsvm, .npy, .npz, .csv, .tsv or .txt, each "
                        "optionally gzip-compressed as .gz)");
}

template <class V, class I>
CsrMatrix<V, I> MatrixFile<V, I>::take_csr() {
  if (is_dense) return dense_to_csr<V, I>(dense.view());
  return std::move(sparse);
}

template <class V, class I>
DenseMatrix<V> MatrixFile<V, I>::take_dense() {
  if (!is_dense) return csr_to_dense(sparse, Layout::RowMajor);
  return std::move(dense);
}

template <class V, class I>
index_t MatrixFile<V, I>::find_column(const std::string& spec, const std::string& path) const {
  const index_t p = cols();
  const auto named = std::find(column_names.begin(), column_names.end(), spec);
  if (named != column_names.end()) return static_cast<index_t>(named - column_names.begin());
  const bool negative = !spec.empty() && spec.front() == '-';
  const std::string digits = negative ? spec.substr(1) : spec;
  const bool number = !digits.empty() && digits.size() <= 18 &&
                      std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); });
  if (number) {
    const long long k = std::stoll(digits);
    if (!negative && k < p) return static_cast<index_t>(k);
    if (negative && k >= 1 && k <= p) return static_cast<index_t>(p - k);
    throw InvalidArgument(path + ": column " + spec + " is out of range: it has " + std::to_string(p) +
                          " columns (0 to " + std::to_string(p - 1) + ", or -1 to -" + std::to_string(p) + ")");
  }
  std::string known;
  for (std::size_t j = 0; j < column_names.size() && j < 12; ++j) known += (j ? ", " : "") + column_names[j];
  if (column_names.size() > 12) known += ", ... (" + std::to_string(column_names.size()) + " names)";
  throw InvalidArgument(path + ": no column named '" + spec + "' " +
                        (column_names.empty() ? std::string("(the file has no header: give a 0-based index)")
                                              : "(its header has " + known + ")"));
}

template <class V, class I>
std::vector<V> MatrixFile<V, I>::take_column(index_t j) {
  const index_t n = rows(), p = cols();
  if (j < 0 || j >= p)
    throw InvalidArgument("take_column: column " + std::to_string(j) + " of a matrix with " + std::to_string(p) +
                          " columns");
  std::vector<V> column(static_cast<std::size_t>(n), V(0));
  if (is_dense) {
    DenseMatrix<V> rest(n, p - 1, dense.layout());
    const auto from = std::as_const(dense).view();
    const auto to = rest.view();
    for (index_t i = 0; i < n; ++i) {
      column[i] = from(i, j);
      for (index_t k = 0, t = 0; k < p; ++k)
        if (k != j) to(i, t++) = from(i, k);
    }
    dense = std::move(rest);
  } else {
    const auto& rp = sparse.row_ptr();
    const auto& ci = sparse.col_idx();
    const auto& va = sparse.values();
    std::vector<I> row_ptr(static_cast<std::size_t>(n) + 1, I(0)), cols_out;
    std::vector<V> values;
    cols_out.reserve(static_cast<std::size_t>(sparse.nnz()));
    values.reserve(static_cast<std::size_t>(sparse.nnz()));
    for (index_t i = 0; i < n; ++i) {
      for (I e = rp[i]; e < rp[i + 1]; ++e) {
        const auto k = static_cast<index_t>(ci[e]);
        if (k == j) {
          column[i] = va[e];
          continue;
        }
        cols_out.push_back(static_cast<I>(k > j ? k - 1 : k));
        values.push_back(va[e]);
      }
      row_ptr[i + 1] = static_cast<I>(values.size());
    }
    sparse = CsrMatrix<V, I>::adopt(n, p - 1, Array<I>::from_vector(std::move(row_ptr)),
                                    Array<I>::from_vector(std::move(cols_out)), Array<V>::from_vector(std::move(values)));
  }
  if (static_cast<index_t>(column_names.size()) == p) column_names.erase(column_names.begin() + j);
  return column;
}

template <class V, class I>
MatrixFile<V, I> read_matrix(const std::string& path, const ReadOptions& options) {
  MatrixFile<V, I> out;
  switch (format_from_path(path)) {
    case FileFormat::MatrixMarket: return read_matrix_market<V, I>(path, options);
    case FileFormat::Svmlight: out.sparse = std::move(read_svmlight<V, I>(path).features); break;
    case FileFormat::Npy:
      out.is_dense = true;
      out.dense = read_npy<V>(path, options.column_major);
      break;
    case FileFormat::Npz: {
      const io_detail::MappedFile file(path);
      if (npz_is_sparse(file.view(), path)) {
        out.sparse = parse_npz<V, I>(file.view(), path);
      } else {
        out.is_dense = true;
        out.dense = parse_npz_dense<V>(file.view(), path, options.npz_names, &out.npz_member, options.column_major);
      }
      break;
    }
    case FileFormat::Csv:
    case FileFormat::Text: {
      out.is_dense = true;
      CsvInfo info;
      out.dense = read_csv<V>(path, CsvOptions{options.csv_delimiter, true}, &info);
      out.column_names = std::move(info.names);
      out.dropped_index_column = info.dropped_index;
      break;
    }
  }
  return out;
}

std::vector<std::string> numbered_names(const std::string& prefix, const std::vector<std::size_t>& numbers) {
  std::vector<std::string> names;
  names.reserve(numbers.size());
  for (const std::size_t k : numbers) names.push_back(prefix + std::to_string(k));
  return names;
}

std::vector<std::string> numbered_names(const std::string& prefix, std::size_t count) {
  std::vector<std::size_t> numbers(count);
  for (std::size_t k = 0; k < count; ++k) numbers[k] = k;
  return numbered_names(prefix, numbers);
}

template <class V, class I>
void write_matrix(const std::string& path, const MatrixFile<V, I>& m) {
  const FileFormat format = format_from_path(path);
  if (format == FileFormat::MatrixMarket) {
    if (m.is_dense) write_matrix_market<V>(path, m.dense.view());
    else write_matrix_market(path, m.sparse);
    return;
  }
  if (format == FileFormat::Svmlight || format == FileFormat::Npz) {
    const auto csr = m.is_dense ? dense_to_csr<V, I>(m.dense.view()) : CsrMatrix<V, I>();
    const auto& x = m.is_dense ? csr : m.sparse;
    if (format == FileFormat::Npz) write_npz(path, x);
    else write_svmlight(path, x, std::vector<V>(static_cast<std::size_t>(x.rows()), V(0)));
    return;
  }
  const auto densified = m.is_dense ? DenseMatrix<V>() : csr_to_dense(m.sparse, Layout::RowMajor);
  const DenseView<const V> d = m.is_dense ? m.dense.view() : densified.view();
  if (format == FileFormat::Npy) write_npy<V>(path, d);
  else if (format == FileFormat::Csv) write_csv<V>(path, d, m.column_names.empty() ? numbered_names("column_", static_cast<std::size_t>(d.cols)) : m.column_names);
  else write_text<V>(path, d);
}

template <class V>
DenseMatrix<V> read_columns(const std::string& path) {
  const auto dot = path.find_last_of('.');
  const bool known = dot != std::string::npos && path.find('/', dot) == std::string::npos && [&] {
    try {
      return format_from_path(path) != FileFormat::Svmlight;
    } catch (const InvalidArgument&) {
      return false;
    }
  }();
  if (known) {
    ReadOptions o;
    o.npz_names = kNpzResponseNames;
    return read_matrix<V, std::int64_t>(path, o).take_dense();
  }
  // Plain text: one value per line; blank lines and lines starting with '#' are skipped.
  const std::string file = read_file(path);
  const std::string_view text = io_detail::without_bom(file);
  const char* p = text.data();
  const char* end = p + text.size();
  std::vector<V> values;
  for (std::int64_t line = 1; p < end; ++line) {
    const char* stop = io_detail::line_end(p, end);
    const char* q = io_detail::skip_blanks(p, stop);
    if (q < stop && *q != '#') {
      V v{};
      if (!io_detail::scan_real(q, stop, v) || !io_detail::at_line_end(q, stop))
        throw ParseError(path, line, "expected one number on the line, got '" +
                                         std::string(p, static_cast<std::size_t>(stop - p)) + "'");
      if (!std::isfinite(v))
        throw ParseError(path, line, std::string(std::isnan(v) ? "NaN" : "Inf") + " is not accepted");
      values.push_back(v);
    }
    p = stop < end ? stop + 1 : end;
  }
  DenseMatrix<V> out(static_cast<index_t>(values.size()), 1);
  std::copy(values.begin(), values.end(), out.data());
  return out;
}
template DenseMatrix<float> read_columns<float>(const std::string&);
template DenseMatrix<double> read_columns<double>(const std::string&);

#define SHRINK_INSTANTIATE(V, I)                                                            \
  template struct MatrixFile<V, I>;                                                         \
  template MatrixFile<V, I> read_matrix<V, I>(const std::string&, const ReadOptions&);      \
  template void write_matrix<V, I>(const std::string&, const MatrixFile<V, I>&);
SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE)
#undef SHRINK_INSTANTIATE

}  // namespace shrink
