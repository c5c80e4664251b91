// Small, allocation-free scanners for the text readers: numbers via fast_float / from_chars, never
// iostreams. Each returns false on a malformed token; the caller reports file and line.
#pragma once
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace shrink::io_detail {

inline bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

inline const char* skip_blanks(const char* p, const char* end) {
  while (p < end && is_blank(*p)) ++p;
  return p;
}

// End of the current line (points at '\n' or end).
const char* line_end(const char* p, const char* end);

// Parses a decimal integer (optional sign) at p; advances p past it.
bool scan_int(const char*& p, const char* end, std::int64_t& out);
// Parses a real number (optional sign, exponent); advances p. NaN/Inf parse but are flagged by
// `finite` so that callers can name them in the error.
template <class V>
bool scan_real(const char*& p, const char* end, V& out);

// True when only blanks remain before the end of the line.
inline bool at_line_end(const char* p, const char* end) {
  p = skip_blanks(p, end);
  return p == end || *p == '\n';
}

// The text after a leading UTF-8 byte-order mark, if any (Windows tools and pandas'
// encoding="utf-8-sig" write one; read as data it turned the first number into a header).
inline std::string_view without_bom(std::string_view text) {
  return text.substr(0, 3) == "\xEF\xBB\xBF" ? text.substr(3) : text;
}

// Case-insensitive ASCII equality.
bool iequals(std::string_view a, std::string_view b);
// Splits a line on blanks into words.
std::vector<std::string_view> words(std::string_view line);
// Number of '\n' in [first, last).
std::int64_t count_newlines(const char* first, const char* last);
// Text of a token for an error message, cut to 40 characters.
std::string token_at(const char* p, const char* end);

}  // namespace shrink::io_detail
