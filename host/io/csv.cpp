// Numeric CSV as people write it (see io.hpp): a sniffed delimiter and decimal mark, quoted fields, a header told
// from data by its content, pandas' index column dropped, and a missing value refused with its line
// and field rather than taken for a header.
#include <charconv>
#include <cmath>
#include <cstdint>

#include "host/core/validate.hpp"
#include "host/io/mapped_file.hpp"
#include "host/io/text_scan.hpp"
#include "shrink/io.hpp"

namespace shrink {

using namespace io_detail;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (is_blank(s.front()) || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (is_blank(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}
// A line without its end-of-line and surrounding spaces; tabs stay (a leading tab is an empty first
// field in a tab-separated file, as pandas writes the index header).
std::string_view trim_line(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// The fields of one line. A field may be quoted ("a,b" or 'x'; "" inside double quotes is a quote);
// the quotes are removed. delimiter ' ' splits on runs of blanks.
std::vector<std::string> split_fields(std::string_view line, char delimiter) {
  std::vector<std::string> out;
  std::size_t i = 0;
  const std::size_t n = line.size();
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  if (delimiter == ' ')
    while (i < n && blank(line[i])) ++i;
  while (true) {
    std::string field;
    while (i < n && delimiter != ' ' && (line[i] == ' ' || (line[i] == '\t' && delimiter != '\t'))) ++i;
    if (i < n && (line[i] == '"' || line[i] == '\'')) {
      const char q = line[i++];
      while (i < n) {
        if (line[i] == q) {
          if (q == '"' && i + 1 < n && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += line[i++];
      }
      while (i < n && (delimiter == ' ' ? false : line[i] != delimiter)) ++i;  // stray text after the quote
    } else {
      const std::size_t start = i;
      while (i < n && (delimiter == ' ' ? !blank(line[i]) : line[i] != delimiter)) ++i;
      field = std::string(trim(line.substr(start, i - start)));
    }
    out.push_back(std::move(field));
    if (i >= n) break;
    if (delimiter == ' ') {
      while (i < n && blank(line[i])) ++i;
      if (i >= n) break;
    } else {
      ++i;  // the delimiter
      if (i >= n) {
        out.emplace_back();  // a trailing delimiter leaves an empty last field
        break;
      }
    }
  }
  return out;
}

// A field's number; `decimal` ',' reads decimal commas (as pandas' to_csv(decimal=",") and
// spreadsheets in many locales write them), where a '.' is not read as a decimal point.
template <class V>
bool parse_field(std::string_view f, V& out, char decimal = '.') {
  if (decimal == ',') {
    char copy[128];  // longer is no number a person or pandas writes
    if (f.size() >= sizeof copy || f.find('.') != std::string_view::npos) return false;
    for (std::size_t k = 0; k < f.size(); ++k) copy[k] = f[k] == ',' ? '.' : f[k];
    return parse_field(std::string_view(copy, f.size()), out);
  }
  const char* p = f.data();
  return !f.empty() && scan_real(p, f.data() + f.size(), out) && p == f.data() + f.size();
}
bool numeric(std::string_view f, char decimal = '.') {
  double v;
  return parse_field(f, v, decimal);
}
// A number with a decimal comma (and so read only as one).
bool comma_decimal(std::string_view f) { return f.find(',') != std::string_view::npos && numeric(f, ','); }

// The non-empty, non-comment lines' text (at most `limit`), for sniffing.
std::vector<std::string_view> first_lines(std::string_view text, std::size_t limit) {
  std::vector<std::string_view> out;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end && out.size() < limit) {
    const char* e = line_end(p, end);
    const auto raw = trim_line(std::string_view(p, static_cast<std::size_t>(e - p)));
    if (!trim(raw).empty() && raw.front() != '#') out.push_back(raw);
    p = e < end ? e + 1 : end;
  }
  return out;
}

struct Sniffed {
  char delimiter = ',';
  char decimal = '.';
};

// The decimal mark of the sampled lines split on `delimiter`: ',' when a field is a number with a
// decimal comma and none is one with a decimal point.
char sniff_decimal(const std::vector<std::string_view>& lines, char delimiter) {
  bool comma = false;
  for (const auto& line : lines)
    for (const auto& f : split_fields(line, delimiter)) {
      if (f.find('.') != std::string::npos && numeric(f)) return '.';
      comma = comma || comma_decimal(f);
    }
  return comma ? ',' : '.';
}

// The delimiter that splits the sampled lines into the same number (> 1) of fields, data lines all
// numeric first (with either decimal mark); comma, tab, semicolon, then blanks. A single column
// splits on none: comma, or where its values have decimal commas, ';'.
Sniffed sniff(const std::vector<std::string_view>& lines) {
  if (lines.empty()) return {};
  const char candidates[] = {',', '\t', ';', ' '};
  char consistent = 0;
  for (const char d : candidates) {
    const std::size_t k = split_fields(lines[0], d).size();
    if (k < 2) continue;
    bool same = true, data_numeric = true;
    for (std::size_t l = 0; l < lines.size(); ++l) {
      const auto f = split_fields(lines[l], d);
      same = same && f.size() == k;
      if (l > 0)
        for (const auto& x : f) data_numeric = data_numeric && (x.empty() || numeric(x) || comma_decimal(x));
    }
    if (!same) continue;
    if (data_numeric) return {d, sniff_decimal(lines, d)};
    if (!consistent) consistent = d;
  }
  if (consistent) return {consistent, sniff_decimal(lines, consistent)};
  // One column ("y" over "1,5" lines splits on ',' into one field, then two): decimal commas when
  // every line is one, the first perhaps a name without a comma instead.
  const auto first = trim(lines[0]);
  bool commas = lines.size() > 1 && (first.find(',') == std::string_view::npos || comma_decimal(first));
  for (std::size_t l = 1; l < lines.size() && commas; ++l) commas = comma_decimal(trim(lines[l]));
  return commas ? Sniffed{';', ','} : Sniffed{};
}

bool is_counting(const std::vector<std::string>& fields, std::size_t from) {
  for (std::size_t k = from; k < fields.size(); ++k) {
    std::int64_t v = -1;
    const auto& f = fields[k];
    const auto [p, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
    if (ec != std::errc() || p != f.data() + f.size() || v != static_cast<std::int64_t>(k - from)) return false;
  }
  return fields.size() > from;
}

}  // namespace

template <class V>
DenseMatrix<V> parse_csv(std::string_view text, const std::string& name, const CsvOptions& options, CsvInfo* info) {
  text = without_bom(text);
  CsvInfo local;
  CsvInfo& out = info ? *info : local;
  out = CsvInfo{};
  const auto sample = first_lines(text, 20);
  const Sniffed sniffed = options.delimiter ? Sniffed{options.delimiter, sniff_decimal(sample, options.delimiter)}
                                            : sniff(sample);
  const char delimiter = sniffed.delimiter;
  // Sniffed from the first lines unless given; a file whose first decimal comma comes later, after
  // only integers, turns to it there (seen_point: a decimal point was read, and then it cannot).
  char decimal = options.decimal ? options.decimal : sniffed.decimal;
  bool seen_point = false;
  out.delimiter = delimiter;

  // The header, by content.
  std::vector<std::string> header;
  if (!sample.empty() && !options.continuation) {
    const auto first = split_fields(sample[0], delimiter);
    bool names = false;
    bool all_names = true, any_name = false;
    for (const auto& f : first) {
      if (f.empty()) continue;
      any_name = any_name || !numeric(f, decimal);
      all_names = all_names && !numeric(f, decimal);
    }
    if (any_name && all_names) names = true;  // a row of names (possibly with an empty first one)
    // pandas' index header: an empty first field over rows that fill that column.
    if (!names && !first.empty() && first[0].empty() && sample.size() > 1) {
      const auto next = split_fields(sample[1], delimiter);
      if (!next.empty() && !next[0].empty() && next.size() == first.size()) names = true;
    }
    // pandas' default column names 0, 1, ..., k-1 (index=False).
    if (!names && first.size() >= 2 && is_counting(first, 0)) names = true;
    if (names) {
      out.header = true;
      header = first;
    }
  }

  const char* p = text.data();
  const char* end = p + text.size();
  std::vector<V> values;
  std::vector<std::int64_t> index_column;
  index_t cols = header.empty() ? (options.continuation && options.fields > 0 ? options.fields : -1)
                                : static_cast<index_t>(header.size());
  index_t rows = 0;
  std::int64_t line = 0;
  bool header_pending = out.header;
  while (p < end) {
    ++line;
    const char* e = line_end(p, end);
    const std::string_view raw = trim_line(std::string_view(p, static_cast<std::size_t>(e - p)));
    p = e < end ? e + 1 : end;
    if (trim(raw).empty() || raw.front() == '#') continue;
    if (header_pending) {
      header_pending = false;
      continue;
    }
    const auto fields = split_fields(raw, delimiter);
    if (cols >= 0 && static_cast<index_t>(fields.size()) != cols)
      throw ParseError(name, line, "row has " + std::to_string(fields.size()) + " fields, expected " +
                                       std::to_string(cols) +
                                       (out.header ? " (as the header)"
                                        : options.continuation && options.fields > 0 ? " (as the file's first part)"
                                                                                      : " (as the first row)") +
                                       "; the delimiter is '" + (delimiter == '\t' ? std::string("\\t") : std::string(1, delimiter)) +
                                       "' (set another with --delimiter)");
    cols = static_cast<index_t>(fields.size());
    for (std::size_t k = 0; k < fields.size(); ++k) {
      const auto& f = fields[k];
      if (f.empty())
        throw ParseError(name, line, "field " + std::to_string(k + 1) + " is empty: a missing value (fill or drop it)");
      V v{};
      bool read = parse_field(std::string_view(f), v, decimal);
      if (!read && decimal == '.' && !options.decimal && !seen_point && comma_decimal(f)) {
        decimal = ',';  // the file's first decimal comma, after integers only
        read = parse_field(std::string_view(f), v, decimal);
      }
      if (!read)
        throw ParseError(name, line, "field " + std::to_string(k + 1) + " '" + f.substr(0, 40) + "' is not a number" +
                                         (delimiter == ',' && f.find(';') != std::string::npos
                                              ? " (the delimiter may be ';': set it with --delimiter)"
                                          : decimal == ',' && f.find('.') != std::string::npos
                                              ? " (the file's numbers have decimal commas, and this one a '.')"
                                          : decimal == '.' && comma_decimal(f)
                                              ? " (the file's numbers have decimal points, and this one a comma)"
                                              : ""));
      if (decimal == '.' && !seen_point) seen_point = f.find('.') != std::string::npos;
      if (!std::isfinite(v))
        throw ParseError(name, line, "field " + std::to_string(k + 1) + " is " + (std::isnan(v) ? "NaN" : "Inf") +
                                         ", not finite (a missing value?); only finite values are accepted");
      values.push_back(v);
    }
    ++rows;
  }
  if (cols < 0) cols = 0;
  out.fields = cols;
  out.decimal = decimal;

  // pandas' index column: a header whose first name is empty or "Unnamed: 0" over integers (0, 1,
  // ..., n-1 unless rows were dropped or reordered before the file was written).
  bool drop = options.continuation && options.drop_first_column && cols >= 1;
  if (options.drop_index && out.header && cols >= 2 && rows > 0 &&
      (header[0].empty() || header[0] == "Unnamed: 0")) {
    drop = true;
    for (index_t r = 0; r < rows && drop; ++r) {
      const V v = values[static_cast<std::size_t>(r * cols)];
      drop = v == std::floor(v);
    }
  }
  out.dropped_index = drop;
  const index_t kept = drop ? cols - 1 : cols;
  if (out.header) out.names.assign(header.begin() + (drop ? 1 : 0), header.end());
  DenseMatrix<V> m(rows, kept, Layout::RowMajor);
  for (index_t r = 0; r < rows; ++r)
    std::copy_n(values.begin() + r * cols + (drop ? 1 : 0), kept, m.data() + r * kept);
  return m;
}

template <class V>
DenseMatrix<V> read_csv(const std::string& path, const CsvOptions& options, CsvInfo* info) {
  const io_detail::MappedFile file(path);
  return parse_csv<V>(file.view(), path, options, info);
}

template <class V>
void write_csv(const std::string& path, DenseView<const V> a, const std::vector<std::string>& names) {
  if (a.space != MemorySpace::Host) throw InvalidArgument("write_csv: copy the matrix to the host first");
  if (!names.empty() && static_cast<index_t>(names.size()) != a.cols)
    throw DimensionMismatch("write_csv: " + std::to_string(names.size()) + " column names for " +
                            std::to_string(a.cols) + " columns");
  std::string out;
  for (std::size_t k = 0; k < names.size(); ++k) {
    if (k) out += ',';
    const bool quote = names[k].find_first_of(",\"\n") != std::string::npos;
    if (quote) out += '"';
    for (char c : names[k]) {
      if (c == '"') out += '"';
      out += c;
    }
    if (quote) out += '"';
  }
  if (!names.empty()) out += '\n';
  char buf[64];
  for (index_t r = 0; r < a.rows; ++r) {
    for (index_t c = 0; c < a.cols; ++c) {
      if (c) out += ',';
      out.append(buf, std::to_chars(buf, buf + sizeof buf, a(r, c)).ptr);
    }
    out += '\n';
  }
  write_file_atomic(path, out);
}

template <class V>
void write_text(const std::string& path, DenseView<const V> a) {
  if (a.space != MemorySpace::Host) throw InvalidArgument("write_text: copy the matrix to the host first");
  std::string out;
  char buf[64];
  for (index_t r = 0; r < a.rows; ++r) {
    for (index_t c = 0; c < a.cols; ++c) {
      if (c) out += ' ';
      out.append(buf, std::to_chars(buf, buf + sizeof buf, a(r, c)).ptr);
    }
    out += '\n';
  }
  write_file_atomic(path, out);
}

template void write_text<float>(const std::string&, DenseView<const float>);
template void write_text<double>(const std::string&, DenseView<const double>);
template DenseMatrix<float> parse_csv<float>(std::string_view, const std::string&, const CsvOptions&, CsvInfo*);
template DenseMatrix<double> parse_csv<double>(std::string_view, const std::string&, const CsvOptions&, CsvInfo*);
template DenseMatrix<float> read_csv<float>(const std::string&, const CsvOptions&, CsvInfo*);
template DenseMatrix<double> read_csv<double>(const std::string&, const CsvOptions&, CsvInfo*);
template void write_csv<float>(const std::string&, DenseView<const float>, const std::vector<std::string>&);
template void write_csv<double>(const std::string&, DenseView<const double>, const std::vector<std::string>&);

}  // namespace shrink
