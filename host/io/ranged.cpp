// One process's rows of a matrix file (read_matrix_part in io.hpp): a byte range at line boundaries
// for the text formats, a row slice for .npy, the part's stretch of a CSR .npz, a filtering pass over a
// Matrix Market file, the rows of an even split otherwise.
#include <algorithm>
#include <cstring>

#include "host/io/mapped_file.hpp"
#include "host/io/npy_format.hpp"
#include "host/io/parts.hpp"
#include "shrink/error.hpp"
#include "shrink/io.hpp"

namespace shrink {
namespace {

using io_detail::split_point;

// The bytes of the lines that start in [part S / parts, (part + 1) S / parts).
std::string_view line_part(std::string_view all, int part, int parts) {
  const auto size = static_cast<index_t>(all.size());
  auto start = [&](int r) -> std::size_t {
    if (r == 0) return 0;
    if (r == parts) return all.size();
    auto at = static_cast<std::size_t>(split_point(size, r, parts));
    while (at < all.size() && all[at - 1] != '\n') ++at;  // the first line starting at or after it
    return at;
  };
  const std::size_t begin = start(part), end = std::max(begin, start(part + 1));
  return all.substr(begin, end - begin);
}

std::string part_name(const std::string& path, int part, int parts) {
  return parts == 1 ? path : path + " (part " + std::to_string(part) + " of " + std::to_string(parts) + ")";
}

// Rows [first, first + count) of a .npy file, as a .npy of their own, parsed by parse_npy.
DenseMatrix<double> npy_rows(std::string_view bytes, const std::string& name, index_t& first, int part, int parts) {
  const auto layout = io_detail::npy_layout(bytes, name);
  first = split_point(layout.rows, part, parts);
  const index_t last = split_point(layout.rows, part + 1, parts), count = last - first;
  const std::string shape =
      layout.dims == 1 ? "(" + std::to_string(count) + ",)" : "(" + std::to_string(count) + ", " + std::to_string(layout.cols) + ")";
  std::string out = io_detail::npy_header(layout.descr, layout.fortran, shape);
  const char* data = bytes.data() + layout.data_at;
  const std::size_t item = layout.item, row_bytes = item * static_cast<std::size_t>(layout.cols);
  if (!layout.fortran || layout.dims == 1) {  // C order: the rows are contiguous
    out.append(data + static_cast<std::size_t>(first) * row_bytes, static_cast<std::size_t>(count) * row_bytes);
  } else {  // Fortran order: each column's segment
    for (index_t j = 0; j < layout.cols; ++j)
      out.append(data + (static_cast<std::size_t>(j) * static_cast<std::size_t>(layout.rows) + static_cast<std::size_t>(first)) * item,
                 static_cast<std::size_t>(count) * item);
  }
  return parse_npy<double>(out, name);
}

// Rows [first, last) of a CSR matrix.
CsrMatrix<double, std::int64_t> csr_rows(const CsrMatrix<double, std::int64_t>& a, index_t first, index_t last) {
  const auto* rp = a.row_ptr().data();
  std::vector<std::int64_t> ptr{0};
  const auto base = rp[first];
  for (index_t i = first; i < last; ++i) ptr.push_back(rp[i + 1] - base);
  std::vector<std::int64_t> cols(a.col_idx().data() + base, a.col_idx().data() + rp[last]);
  std::vector<double> vals(a.values().data() + base, a.values().data() + rp[last]);
  return CsrMatrix<double, std::int64_t>::adopt(last - first, a.cols(), Array<std::int64_t>::from_vector(ptr),
                                                Array<std::int64_t>::from_vector(cols), Array<double>::from_vector(vals));
}

DenseMatrix<double> dense_rows(const DenseMatrix<double>& a, index_t first, index_t last) {
  DenseMatrix<double> out(last - first, a.cols(), Layout::ColMajor);
  for (index_t j = 0; j < a.cols(); ++j)
    for (index_t i = first; i < last; ++i) out.data()[j * (last - first) + (i - first)] = a.view()(i, j);
  return out;
}

}  // namespace

MatrixPart read_matrix_part(const std::string& path, int part, int parts, const PartOptions& options) {
  if (parts < 1 || part < 0 || part >= parts)
    throw InvalidArgument("read_matrix_part: part " + std::to_string(part) + " of " + std::to_string(parts) +
                          " is out of range");
  MatrixPart out;
  const std::string name = part_name(path, part, parts);
  const FileFormat format = format_from_path(path);
  if (format == FileFormat::Npy) {
    const io_detail::MappedFile file(path);
    out.file.is_dense = true;
    out.file.dense = npy_rows(file.view(), name, out.first_row, part, parts);
    return out;
  }
  if (format == FileFormat::Csv || format == FileFormat::Text || format == FileFormat::Svmlight) {
    const io_detail::MappedFile file(path);
    const std::string_view lines = line_part(file.view(), part, parts);
    if (format == FileFormat::Svmlight) {
      auto s = parse_svmlight<double, std::int64_t>(lines, name, options.svmlight_base);
      out.file.sparse = std::move(s.features);
      out.labels = std::move(s.labels);
      out.zero_based = s.zero_based;
      return out;
    }
    CsvOptions o{options.csv_delimiter, true};
    if (part > 0 && options.csv_first_part) {
      o.delimiter = options.csv_first_part->delimiter;
      o.continuation = true;
      o.drop_first_column = options.csv_first_part->dropped_index;
      o.fields = options.csv_first_part->fields;
      if (options.csv_first_part->decimal == ',') o.decimal = ',';  // part 0 read decimal commas
    } else if (part > 0) {
      o.continuation = true;
    }
    out.file.is_dense = true;
    if (lines.find_first_not_of(" \t\r\n") == std::string_view::npos) {
      out.file.dense = DenseMatrix<double>(0, 0, Layout::RowMajor);  // no lines here
    } else {
      out.file.dense = parse_csv<double>(lines, name, o, &out.csv);
    }
    out.file.column_names = out.csv.names;
    out.file.dropped_index_column = out.csv.dropped_index;
    return out;
  }
  if (format == FileFormat::Npz) {  // CSR: indptr whole, the part's stretch of the rest
    const io_detail::MappedFile file(path);
    out.file.is_dense = false;
    if (io_detail::npz_csr_part(file.view(), name, part, parts, out.first_row, out.file.sparse)) return out;
  }
  // .mtx: one pass keeping this part's entries (coordinate) or rows (array); a CSC or COO .npz: the
  // whole file, then the rows of an even split.
  ReadOptions ro;
  ro.part = part;
  ro.parts = parts;
  MatrixMarketInfo info;
  auto whole = format == FileFormat::MatrixMarket ? read_matrix_market<double, std::int64_t>(path, ro, &info)
                                                  : read_matrix<double, std::int64_t>(path);
  if (format == FileFormat::MatrixMarket && whole.is_dense) {  // already the part's rows
    out.first_row = split_point(info.rows, part, parts);
    out.file = std::move(whole);
    return out;
  }
  const index_t n = whole.rows();
  out.first_row = split_point(n, part, parts);
  const index_t last = split_point(n, part + 1, parts);
  out.file.is_dense = whole.is_dense;
  if (whole.is_dense) out.file.dense = dense_rows(whole.dense, out.first_row, last);
  else out.file.sparse = csr_rows(whole.sparse, out.first_row, last);
  return out;
}

}  // namespace shrink
