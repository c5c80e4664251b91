// Matrix Market reader and writer. The body of a coordinate file is cut into chunks at line breaks
// and parsed in parallel (from_chars / fast_float); a chunk that fails reports its first bad line,
// translated to the file's line number. Sizes in the header are checked against the bytes that
// follow before anything is allocated from them.
#include <omp.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>

#include "kernels/ops/instantiate.hpp"
#include "host/core/validate.hpp"
#include "host/io/mapped_file.hpp"
#include "host/io/parts.hpp"
#include "host/io/text_scan.hpp"
#include "shrink/io.hpp"

namespace shrink {

using namespace io_detail;

namespace {

struct Header {
  MatrixMarketInfo info;
  const char* body = nullptr;  // first byte after the size line
  std::int64_t body_line = 0;  // 1-based line number of that byte
};

// Advances over the line at p; returns the start of the next line.
const char* next_line(const char* p, const char* end) {
  const char* e = line_end(p, end);
  return e < end ? e + 1 : end;
}

Header parse_header(std::string_view text, const std::string& name) {
  const char* p = text.data();
  const char* end = p + text.size();
  Header h;
  if (text.empty()) throw ParseError(name, 1, "empty file (expected a %%MatrixMarket banner)");
  const char* e = line_end(p, end);
  const auto w = words(std::string_view(p, static_cast<std::size_t>(e - p)));
  if (w.empty() || !iequals(w[0], "%%MatrixMarket"))
    throw ParseError(name, 1, "missing %%MatrixMarket banner");
  if (w.size() != 5)
    throw ParseError(name, 1,
                     "banner needs 4 words after %%MatrixMarket (object format field symmetry), "
                     "found " + std::to_string(w.size() - 1));
  if (!iequals(w[1], "matrix"))
    throw ParseError(name, 1, "unsupported object '" + std::string(w[1]) + "' (only 'matrix')");
  if (iequals(w[2], "coordinate")) {
    h.info.coordinate = true;
  } else if (iequals(w[2], "array")) {
    h.info.coordinate = false;
  } else {
    throw ParseError(name, 1, "format must be coordinate or array, not '" + std::string(w[2]) + "'");
  }
  if (iequals(w[3], "real") || iequals(w[3], "double")) {
    h.info.field = MmField::Real;
  } else if (iequals(w[3], "integer")) {
    h.info.field = MmField::Integer;
  } else if (iequals(w[3], "pattern")) {
    h.info.field = MmField::Pattern;
  } else if (iequals(w[3], "complex")) {
    throw ParseError(name, 1, "complex matrices are not supported");
  } else {
    throw ParseError(name, 1, "unknown field '" + std::string(w[3]) + "'");
  }
  if (iequals(w[4], "general")) {
    h.info.symmetry = MmSymmetry::General;
  } else if (iequals(w[4], "symmetric")) {
    h.info.symmetry = MmSymmetry::Symmetric;
  } else if (iequals(w[4], "skew-symmetric")) {
    h.info.symmetry = MmSymmetry::SkewSymmetric;
  } else if (iequals(w[4], "hermitian")) {
    throw ParseError(name, 1, "hermitian symmetry needs complex values, which are not supported");
  } else {
    throw ParseError(name, 1, "unknown symmetry '" + std::string(w[4]) + "'");
  }
  if (!h.info.coordinate && h.info.field == MmField::Pattern)
    throw ParseError(name, 1, "the array format cannot have a pattern field");

  // Comments and blank lines, then the size line.
  std::int64_t line = 2;
  p = next_line(p, end);
  while (p < end) {
    const char* q = skip_blanks(p, end);
    if (q < end && *q != '\n' && *q != '%') break;
    p = next_line(p, end);
    ++line;
  }
  if (p >= end) throw ParseError(name, line, "file ends before the size line");
  std::int64_t dims[3] = {0, 0, 0};
  const int wanted = h.info.coordinate ? 3 : 2;
  const char* q = p;
  for (int k = 0; k < wanted; ++k) {
    q = skip_blanks(q, end);
    if (!scan_int(q, end, dims[k]))
      throw ParseError(name, line,
                       std::string("size line needs ") + (h.info.coordinate ? "rows cols entries" : "rows cols") +
                           "; bad or missing number " + token_at(q, end));
    if (dims[k] < 0) throw ParseError(name, line, "negative size " + std::to_string(dims[k]));
  }
  if (!at_line_end(q, end))
    throw ParseError(name, line, "unexpected " + token_at(q, end) + " after the sizes");
  h.info.rows = dims[0];
  h.info.cols = dims[1];
  h.body = next_line(p, end);
  h.body_line = line + 1;
  const std::size_t body_bytes = static_cast<std::size_t>(end - h.body);

  index_t cells = 0;
  if (__builtin_mul_overflow(dims[0], dims[1], &cells))
    throw ParseError(name, line, "size " + std::to_string(dims[0]) + " x " +
                                     std::to_string(dims[1]) + " overflows a 64-bit count");
  const bool square = dims[0] == dims[1];
  if (h.info.symmetry != MmSymmetry::General && !square)
    throw ParseError(name, line, "a symmetric or skew-symmetric matrix must be square, got " +
                                     detail::shape(dims[0], dims[1]));
  if (h.info.coordinate) {
    h.info.entries = dims[2];
    if (dims[2] > cells)
      throw ParseError(name, line, std::to_string(dims[2]) + " entries cannot fit a " +
                                       detail::shape(dims[0], dims[1]) + " matrix");
    // No entry is shorter than "1 1\n" (the last may lack its newline). This only guards the
    // allocations; a modest shortfall is reported later at the line where the entries stop.
    if (static_cast<std::size_t>(dims[2]) > (body_bytes + 1) / 4)
      throw ParseError(name, line, "header declares " + std::to_string(dims[2]) +
                                       " entries but only " + std::to_string(body_bytes) +
                                       " bytes follow (file truncated or size absurd)");
  } else {
    index_t stored = cells;
    if (h.info.symmetry == MmSymmetry::Symmetric) stored = dims[0] * (dims[0] + 1) / 2;
    if (h.info.symmetry == MmSymmetry::SkewSymmetric) stored = dims[0] * (dims[0] - 1) / 2;
    h.info.entries = stored;
    if (static_cast<std::size_t>(stored) > body_bytes + 1)  // at least one byte per value
      throw ParseError(name, line, "header declares " + std::to_string(stored) +
                                       " values but only " + std::to_string(body_bytes) +
                                       " bytes follow (file truncated or size absurd)");
  }
  return h;
}

template <class V>
bool scan_value(const char*& p, const char* end, MmField field, V& out) {
  if (field == MmField::Integer) {
    std::int64_t v = 0;
    if (!scan_int(p, end, v)) return false;
    out = static_cast<V>(v);
    return true;
  }
  return scan_real(p, end, out);
}

// One chunk's parse result.
template <class V, class I>
struct Chunk {
  std::vector<I> row, col;
  std::vector<V> val;
  std::size_t entries = 0;               // entry lines parsed (kept or not)
  std::int64_t lines = 0;                // lines in the chunk
  std::int64_t error_line = 0;           // 1-based within the chunk, 0 if none
  std::string error;
};

template <class V, class I>
void parse_coordinate_chunk(const char* p, const char* end, const MatrixMarketInfo& info,
                            Chunk<V, I>& out, index_t keep_begin, index_t keep_end) {
  const bool pattern = info.field == MmField::Pattern;
  std::int64_t line = 0;
  while (p < end) {
    ++line;
    const char* q = skip_blanks(p, end);
    const char* e = line_end(q, end);
    if (q == e || *q == '%') {  // blank or comment line
      p = e < end ? e + 1 : end;
      continue;
    }
    std::int64_t i = 0, j = 0;
    V v = V(1);
    auto fail = [&](std::string msg) {
      out.error_line = line;
      out.error = std::move(msg);
    };
    if (!scan_int(q, e, i)) return fail("bad row index " + token_at(q, e));
    q = skip_blanks(q, e);
    if (!scan_int(q, e, j)) return fail("bad column index " + token_at(q, e));
    if (!pattern) {
      q = skip_blanks(q, e);
      const char* value_at = q;
      if (!scan_value(q, e, info.field, v)) return fail("bad value " + token_at(q, e));
      if (!std::isfinite(v)) return fail("value " + token_at(value_at, e) + " is not finite");
    }
    if (!at_line_end(q, e)) return fail("unexpected " + token_at(q, e) + " after the entry");
    if (i < 1 || i > info.rows || j < 1 || j > info.cols)
      return fail("entry (" + std::to_string(i) + ", " + std::to_string(j) +
                  ") is outside the 1-based " + detail::shape(info.rows, info.cols) + " matrix");
    if (info.symmetry == MmSymmetry::Symmetric && j > i)
      return fail("entry (" + std::to_string(i) + ", " + std::to_string(j) +
                  ") is above the diagonal of a symmetric matrix (store the lower triangle)");
    if (info.symmetry == MmSymmetry::SkewSymmetric && j >= i)
      return fail("entry (" + std::to_string(i) + ", " + std::to_string(j) +
                  ") must lie strictly below the diagonal of a skew-symmetric matrix");
    ++out.entries;
    // Kept when its row, or (mirrored) its column, falls in the rows asked for.
    const bool kept = (i - 1 >= keep_begin && i - 1 < keep_end) ||
                      (info.symmetry != MmSymmetry::General && j - 1 >= keep_begin && j - 1 < keep_end);
    if (kept) {
      out.row.push_back(static_cast<I>(i - 1));
      out.col.push_back(static_cast<I>(j - 1));
      out.val.push_back(v);
    }
    p = e < end ? e + 1 : end;
  }
  out.lines = line;
}

// Line number (in the file) of the k-th (0-based) entry line of the body.
std::int64_t line_of_entry(const char* p, const char* end, std::int64_t first_line, std::int64_t k) {
  std::int64_t line = first_line, seen = 0;
  while (p < end) {
    const char* q = skip_blanks(p, end);
    const char* e = line_end(q, end);
    if (q != e && *q != '%') {
      if (seen == k) return line;
      ++seen;
    }
    p = e < end ? e + 1 : end;
    ++line;
  }
  return line;
}

template <class V, class I>
CooMatrix<V, I> parse_coordinate(const Header& h, const char* end, const std::string& name,
                                 const ReadOptions& options) {
  const auto& info = h.info;
  detail::check_fits_index<I>(info.rows, name + " rows");
  detail::check_fits_index<I>(info.cols, name + " cols");
  const std::size_t bytes = static_cast<std::size_t>(end - h.body);
  int threads = options.threads > 0 ? options.threads : std::max(1, omp_get_max_threads());
  threads = static_cast<int>(std::min<std::size_t>(threads, std::max<std::size_t>(1, bytes >> 20)));
  // Cut at line breaks: chunk c covers [cut[c], cut[c+1]).
  std::vector<const char*> cut(static_cast<std::size_t>(threads) + 1, end);
  cut[0] = h.body;
  for (int c = 1; c < threads; ++c) {
    const char* guess = h.body + bytes * static_cast<std::size_t>(c) / static_cast<std::size_t>(threads);
    guess = std::max(guess, cut[c - 1]);
    const char* e = line_end(guess, end);
    cut[c] = e < end ? e + 1 : end;
  }
  std::vector<Chunk<V, I>> chunks(static_cast<std::size_t>(threads));
  const auto expected = static_cast<std::size_t>(info.entries);
  const int parts = std::max(options.parts, 1), part = std::clamp(options.part, 0, parts - 1);
  const index_t keep_begin = io_detail::split_point(info.rows, part, parts),
                keep_end = io_detail::split_point(info.rows, part + 1, parts);
#pragma omp parallel for num_threads(threads) schedule(static, 1)
  for (int c = 0; c < threads; ++c) {
    auto& ch = chunks[c];
    const std::size_t guess = expected / static_cast<std::size_t>(threads) + 16;
    ch.row.reserve(guess);
    ch.col.reserve(guess);
    ch.val.reserve(guess);
    parse_coordinate_chunk(cut[c], cut[c + 1], info, ch, keep_begin, keep_end);
  }
  std::int64_t line = h.body_line;
  std::size_t total = 0;
  for (int c = 0; c < threads; ++c) {
    const auto& ch = chunks[c];
    if (ch.error_line > 0) throw ParseError(name, line + ch.error_line - 1, ch.error);
    if (total + ch.entries > expected) {
      const auto k = static_cast<std::int64_t>(expected - total);
      throw ParseError(name, line_of_entry(cut[c], cut[c + 1], line, k),
                       "more entries than the " + std::to_string(expected) +
                           " declared in the header");
    }
    total += ch.entries;
    line += count_newlines(cut[c], cut[c + 1]);
  }
  if (total < expected)
    throw ParseError(name, line, "file ends after " + std::to_string(total) + " of " +
                                     std::to_string(expected) + " entries (truncated?)");

  CooMatrix<V, I> coo;
  coo.rows = info.rows;
  coo.cols = info.cols;
  const bool mirror = info.symmetry != MmSymmetry::General;
  auto in_rows = [&](I r) { return static_cast<index_t>(r) >= keep_begin && static_cast<index_t>(r) < keep_end; };
  std::size_t stored = 0;
  for (const auto& ch : chunks)
    for (std::size_t k = 0; k < ch.row.size(); ++k) {
      stored += in_rows(ch.row[k]) ? 1 : 0;
      stored += mirror && ch.row[k] != ch.col[k] && in_rows(ch.col[k]) ? 1 : 0;
    }
  detail::check_fits_index<I>(static_cast<index_t>(stored), name + " nnz");
  coo.row.resize(stored);
  coo.col.resize(stored);
  coo.val.resize(stored);
  // The entries as stored (those of the rows asked for), then the mirrored ones.
  std::size_t at = 0;
  for (const auto& ch : chunks)
    for (std::size_t k = 0; k < ch.row.size(); ++k) {
      if (!in_rows(ch.row[k])) continue;
      coo.row[at] = ch.row[k];
      coo.col[at] = ch.col[k];
      coo.val[at] = ch.val[k];
      ++at;
    }
  if (mirror) {
    const V sign = info.symmetry == MmSymmetry::SkewSymmetric ? V(-1) : V(1);
    for (const auto& ch : chunks)
      for (std::size_t k = 0; k < ch.row.size(); ++k) {
        if (ch.row[k] == ch.col[k] || !in_rows(ch.col[k])) continue;
        coo.row[at] = ch.col[k];
        coo.col[at] = ch.row[k];
        coo.val[at] = sign * ch.val[k];
        ++at;
      }
  }
  return coo;
}

// Rows [keep_begin, keep_end) of an array file (all of them by default); the whole file is checked.
template <class V>
DenseMatrix<V> parse_array(const Header& h, const char* end, const std::string& name, index_t keep_begin = 0,
                           index_t keep_end = -1) {
  const auto& info = h.info;
  if (keep_end < 0) keep_end = info.rows;
  const auto kept = [&](index_t row) { return row >= keep_begin && row < keep_end; };
  DenseMatrix<V> d(keep_end - keep_begin, info.cols, Layout::ColMajor);
  const char* p = h.body;
  std::int64_t line = h.body_line;
  // Column-major; symmetric kinds store only the lower triangle (strictly, for skew).
  auto first_row = [&](index_t col) -> index_t {
    if (info.symmetry == MmSymmetry::General) return 0;
    return info.symmetry == MmSymmetry::Symmetric ? col : col + 1;
  };
  index_t c = 0, r = first_row(0), count = 0;
  auto settle = [&] {
    if (info.rows == 0) c = info.cols;  // 0 x huge holds nothing: no walk over its columns
    while (c < info.cols && r >= info.rows) r = first_row(++c);
  };
  settle();
  while (p < end) {
    const char* q = skip_blanks(p, end);
    const char* e = line_end(q, end);
    if (q != e && *q != '%') {
      if (count == info.entries)
        throw ParseError(name, line, "more values than the " + std::to_string(info.entries) +
                                         " the header implies");
      V v = 0;
      const char* value_at = q;
      if (!scan_value(q, e, info.field, v))
        throw ParseError(name, line, "bad value " + token_at(q, e));
      if (!std::isfinite(v))
        throw ParseError(name, line, "value " + token_at(value_at, e) + " is not finite");
      if (!at_line_end(q, e))
        throw ParseError(name, line, "unexpected " + token_at(q, e) + " after the value");
      if (kept(r)) d(r - keep_begin, c) = v;
      if (info.symmetry == MmSymmetry::Symmetric && kept(c)) d(c - keep_begin, r) = v;
      if (info.symmetry == MmSymmetry::SkewSymmetric && kept(c)) d(c - keep_begin, r) = -v;
      ++count;
      ++r;
      settle();
    }
    p = e < end ? e + 1 : end;
    if (e < end) ++line;
  }
  if (count < info.entries)
    throw ParseError(name, line, "file ends after " + std::to_string(count) + " of " +
                                     std::to_string(info.entries) + " values (truncated?)");
  return d;
}

}  // namespace

template <class V, class I>
CooMatrix<V, I> parse_matrix_market_coo(std::string_view text, const std::string& name,
                                        const ReadOptions& options, MatrixMarketInfo* info) {
  text = io_detail::without_bom(text);
  const Header h = parse_header(text, name);
  if (info) *info = h.info;
  if (!h.info.coordinate)
    throw ParseError(name, 1, "expected a coordinate (sparse) file, found the array format");
  return parse_coordinate<V, I>(h, text.data() + text.size(), name, options);
}

template <class V, class I>
MatrixFile<V, I> parse_matrix_market(std::string_view text, const std::string& name,
                                     const ReadOptions& options, MatrixMarketInfo* info) {
  text = io_detail::without_bom(text);
  const Header h = parse_header(text, name);
  if (info) *info = h.info;
  MatrixFile<V, I> out;
  const char* end = text.data() + text.size();
  if (h.info.coordinate) {
    out.sparse = coo_to_csr(parse_coordinate<V, I>(h, end, name, options));
  } else {
    out.is_dense = true;
    const int parts = std::max(options.parts, 1), part = std::clamp(options.part, 0, parts - 1);
    out.dense = parse_array<V>(h, end, name, io_detail::split_point(h.info.rows, part, parts),
                               io_detail::split_point(h.info.rows, part + 1, parts));
  }
  return out;
}

template <class V, class I>
MatrixFile<V, I> read_matrix_market(const std::string& path, const ReadOptions& options,
                                    MatrixMarketInfo* info) {
  const io_detail::MappedFile file(path);
  return parse_matrix_market<V, I>(file.view(), path, options, info);
}

template <class V, class I>
CooMatrix<V, I> read_matrix_market_coo(const std::string& path, const ReadOptions& options,
                                       MatrixMarketInfo* info) {
  const io_detail::MappedFile file(path);
  return parse_matrix_market_coo<V, I>(file.view(), path, options, info);
}

// ---- writers -------------------------------------------------------------------------------------
namespace {
template <class V>
void append_number(std::string& out, V v) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
  (void)ec;
  out.append(buf, ptr);
}
void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, ptr);
}
}  // namespace

template <class V, class I>
void write_matrix_market(const std::string& path, const CsrMatrix<V, I>& a) {
  if (a.space() != MemorySpace::Host)
    throw InvalidArgument("write_matrix_market: copy the matrix to the host first");
  std::string out = "%%MatrixMarket matrix coordinate real general\n% written by shrink\n";
  append_int(out, a.rows());
  out += ' ';
  append_int(out, a.cols());
  out += ' ';
  append_int(out, a.nnz());
  out += '\n';
  // Format rows in parallel chunks, then join in order.
  const int threads = std::max(1, std::min<int>(omp_get_max_threads(),
                                                static_cast<int>(a.nnz() / 100000) + 1));
  std::vector<std::string> parts(static_cast<std::size_t>(threads));
#pragma omp parallel for num_threads(threads) schedule(static, 1)
  for (int t = 0; t < threads; ++t) {
    std::string& s = parts[t];
    const index_t r0 = a.rows() * t / threads, r1 = a.rows() * (t + 1) / threads;
    for (index_t r = r0; r < r1; ++r)
      for (I k = a.row_ptr()[r]; k < a.row_ptr()[r + 1]; ++k) {
        append_int(s, r + 1);
        s += ' ';
        append_int(s, static_cast<std::int64_t>(a.col_idx()[k]) + 1);
        s += ' ';
        append_number(s, a.values()[k]);
        s += '\n';
      }
  }
  for (const auto& s : parts) out += s;
  write_file_atomic(path, out);
}

template <class V>
void write_matrix_market(const std::string& path, DenseView<const V> a) {
  if (a.space != MemorySpace::Host)
    throw InvalidArgument("write_matrix_market: copy the matrix to the host first");
  std::string out = "%%MatrixMarket matrix array real general\n% written by shrink\n";
  append_int(out, a.rows);
  out += ' ';
  append_int(out, a.cols);
  out += '\n';
  for (index_t c = 0; c < a.cols; ++c)
    for (index_t r = 0; r < a.rows; ++r) {
      append_number(out, a(r, c));
      out += '\n';
    }
  write_file_atomic(path, out);
}

#define SHRINK_INSTANTIATE(V, I)                                                                \
  template CooMatrix<V, I> parse_matrix_market_coo<V, I>(std::string_view, const std::string&, \
                                                         const ReadOptions&, MatrixMarketInfo*); \
  template MatrixFile<V, I> parse_matrix_market<V, I>(std::string_view, const std::string&,     \
                                                      const ReadOptions&, MatrixMarketInfo*);    \
  template MatrixFile<V, I> read_matrix_market<V, I>(const std::string&, const ReadOptions&,    \
                                                     MatrixMarketInfo*);                         \
  template CooMatrix<V, I> read_matrix_market_coo<V, I>(const std::string&, const ReadOptions&,  \
                                                        MatrixMarketInfo*);                      \
  template void write_matrix_market<V, I>(const std::string&, const CsrMatrix<V, I>&);
SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE)
#undef SHRINK_INSTANTIATE
template void write_matrix_market<float>(const std::string&, DenseView<const float>);
template void write_matrix_market<double>(const std::string&, DenseView<const double>);

}  // namespace shrink
