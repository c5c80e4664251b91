// Numeric CSV: comma-separated values, one row per line; a first line that does not parse as
// numbers is a header. Every row must have the same number of fields.
#include <cstdint>

#include "host/core/validate.hpp"
#include "host/io/mapped_file.hpp"
#include "host/io/text_scan.hpp"
#include "shrink/io.hpp"

namespace shrink {

using namespace io_detail;

namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}
std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> f;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= line.size(); ++i)
    if (i == line.size() || line[i] == ',') {
      f.push_back(trim(line.substr(start, i - start)));
      start = i + 1;
    }
  return f;
}
template <class V>
bool parse_field(std::string_view f, V& out) {
  const char* p = f.data();
  return !f.empty() && scan_real(p, f.data() + f.size(), out) && p == f.data() + f.size();
}
}  // namespace

template <class V>
DenseMatrix<V> parse_csv(std::string_view text, const std::string& name,
                         std::vector<std::string>* header) {
  const char* p = text.data();
  const char* end = p + text.size();
  std::vector<V> values;
  index_t cols = -1, rows = 0;
  std::int64_t line = 0;
  bool first = true;
  while (p < end) {
    ++line;
    const char* e = line_end(p, end);
    const std::string_view raw = trim(std::string_view(p, static_cast<std::size_t>(e - p)));
    p = e < end ? e + 1 : end;
    if (raw.empty()) continue;
    const auto fields = split_fields(raw);
    if (first) {
      first = false;
      V probe{};
      bool numeric = true;
      for (auto f : fields) numeric = numeric && parse_field(f, probe);
      if (!numeric) {
        if (header) {
          header->clear();
          for (auto f : fields) {
            if (f.size() >= 2 && (f.front() == '"' || f.front() == '\'') && f.back() == f.front())
              f = f.substr(1, f.size() - 2);
            header->emplace_back(f);
          }
        }
        cols = static_cast<index_t>(fields.size());
        continue;
      }
    }
    if (cols >= 0 && static_cast<index_t>(fields.size()) != cols)
      throw ParseError(name, line, "row has " + std::to_string(fields.size()) + " fields, expected " +
                                       std::to_string(cols));
    cols = static_cast<index_t>(fields.size());
    for (std::size_t k = 0; k < fields.size(); ++k) {
      V v{};
      if (!parse_field(fields[k], v))
        throw ParseError(name, line, "field " + std::to_string(k + 1) + " '" +
                                         std::string(fields[k].substr(0, 40)) + "' is not a number");
      if (!std::isfinite(v))
        throw ParseError(name, line, "field " + std::to_string(k + 1) + " is not finite");
      values.push_back(v);
    }
    ++rows;
  }
  DenseMatrix<V> m(rows, rows > 0 ? cols : std::max<index_t>(cols, 0), Layout::RowMajor);
  std::copy(values.begin(), values.end(), m.data());
  return m;
}

template <class V>
DenseMatrix<V> read_csv(const std::string& path, std::vector<std::string>* header) {
  const io_detail::MappedFile file(path);
  return parse_csv<V>(file.view(), path, header);
}

template <class V>
void write_csv(const std::string& path, DenseView<const V> a) {
  if (a.space != MemorySpace::Host) throw InvalidArgument("write_csv: copy the matrix to the host first");
  std::string out;
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

template DenseMatrix<float> parse_csv<float>(std::string_view, const std::string&, std::vector<std::string>*);
template DenseMatrix<double> parse_csv<double>(std::string_view, const std::string&, std::vector<std::string>*);
template DenseMatrix<float> read_csv<float>(const std::string&, std::vector<std::string>*);
template DenseMatrix<double> read_csv<double>(const std::string&, std::vector<std::string>*);
template void write_csv<float>(const std::string&, DenseView<const float>);
template void write_csv<double>(const std::string&, DenseView<const double>);

}  // namespace shrink
