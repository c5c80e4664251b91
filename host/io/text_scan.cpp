#include "host/io/text_scan.hpp"

#include <fast_float/fast_float.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace shrink::io_detail {

const char* line_end(const char* p, const char* end) {
  const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
  return nl ? static_cast<const char*>(nl) : end;
}

bool scan_int(const char*& p, const char* end, std::int64_t& out) {
  const char* q = p;
  if (q < end && *q == '+') ++q;
  auto [ptr, ec] = std::from_chars(q, end, out);
  if (ec != std::errc() || ptr == q) return false;
  if (ptr < end && !is_blank(*ptr) && *ptr != '\n') return false;  // "12abc", "1.5"
  p = ptr;
  return true;
}

template <class V>
bool scan_real(const char*& p, const char* end, V& out) {
  const char* q = p;
  if (q < end && *q == '+') ++q;
  auto [ptr, ec] = fast_float::from_chars(q, end, out);
  if (ec != std::errc() || ptr == q) return false;
  if (ptr < end && !is_blank(*ptr) && *ptr != '\n' && *ptr != ',' && *ptr != ':') return false;
  p = ptr;
  return true;
}
template bool scan_real<float>(const char*&, const char*, float&);
template bool scan_real<double>(const char*&, const char*, double&);

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (is_blank(line[i]) || line[i] == '\n')) ++i;
    std::size_t j = i;
    while (j < line.size() && !is_blank(line[j]) && line[j] != '\n') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

std::int64_t count_newlines(const char* first, const char* last) {
  return std::count(first, last, '\n');
}

std::string token_at(const char* p, const char* end) {
  p = skip_blanks(p, end);
  const char* q = p;
  while (q < end && !is_blank(*q) && *q != '\n' && q - p < 40) ++q;
  if (q == p) return p < end ? std::string("end of line") : std::string("end of file");
  std::string t(p, q);
  for (char& c : t)
    if (!std::isprint(static_cast<unsigned char>(c))) c = '?';
  return "'" + t + "'";
}

}  // namespace shrink::io_detail
