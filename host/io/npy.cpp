// NumPy .npy, versions 1-3: magic, header length, a Python-dict header, raw data. The data size
// implied by the header must equal the bytes that follow exactly. Float, integer and bool arrays
// are read into the working precision (integers only where they convert exactly).
#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "host/core/validate.hpp"
#include "host/io/mapped_file.hpp"
#include "host/io/npy_format.hpp"
#include "host/io/text_scan.hpp"
#include "shrink/io.hpp"

namespace shrink {

namespace {

std::string_view dict_value(std::string_view header, std::string_view key, const std::string& name) {
  const std::string quoted1 = "'" + std::string(key) + "'", quoted2 = "\"" + std::string(key) + "\"";
  std::size_t at = header.find(quoted1);
  std::size_t klen = quoted1.size();
  if (at == std::string_view::npos) {
    at = header.find(quoted2);
    klen = quoted2.size();
  }
  if (at == std::string_view::npos)
    throw ParseError(name, 0, "npy header has no '" + std::string(key) + "' entry");
  std::size_t v = header.find(':', at + klen);
  if (v == std::string_view::npos) throw ParseError(name, 0, "npy header: no value for " + std::string(key));
  ++v;
  while (v < header.size() && header[v] == ' ') ++v;
  std::size_t stop = v;
  if (stop < header.size() && header[stop] == '(') {
    stop = header.find(')', stop);
    if (stop == std::string_view::npos) throw ParseError(name, 0, "npy header: unterminated shape");
    ++stop;
  } else if (stop < header.size() && (header[stop] == '\'' || header[stop] == '"')) {
    stop = header.find(header[v], v + 1);
    if (stop == std::string_view::npos) throw ParseError(name, 0, "npy header: unterminated string");
    ++stop;
  } else {
    while (stop < header.size() && header[stop] != ',' && header[stop] != '}') ++stop;
  }
  return header.substr(v, stop - v);
}

template <class T>
T byteswap_value(T v) {
  unsigned char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  for (std::size_t i = 0; i < sizeof(T) / 2; ++i) std::swap(b[i], b[sizeof(T) - 1 - i]);
  std::memcpy(&v, b, sizeof(T));
  return v;
}

// Converts n items of Src to V. Integers must come out exact: a magnitude past 2^24 (float) or 2^53
// (double) is refused with the element's index rather than rounded.
template <class Src, class V>
void convert_values(const char* data, std::size_t first, std::size_t count, bool swap, V* out, const std::string& name) {
  constexpr std::int64_t exact = std::is_same_v<V, float> ? std::int64_t{1} << 24 : std::int64_t{1} << 53;
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t i = first + k;
    Src s;
    std::memcpy(&s, data + i * sizeof(Src), sizeof(Src));
    if constexpr (sizeof(Src) > 1)
      if (swap) s = byteswap_value(s);
    if constexpr (std::is_integral_v<Src>) {
      const bool too_big = std::is_signed_v<Src> ? (static_cast<std::int64_t>(s) > exact || static_cast<std::int64_t>(s) < -exact)
                                                 : static_cast<std::uint64_t>(s) > static_cast<std::uint64_t>(exact);
      if (too_big)
        throw ParseError(name, 0, "element " + std::to_string(i) + " = " + std::to_string(s) +
                                      " is not exactly representable in " +
                                      (std::is_same_v<V, float> ? "float32" : "float64"));
    }
    out[k] = static_cast<V>(s);
  }
}

// The element types read: floats, integers and booleans (converted to the working precision).
enum class NpyKind { F2, F4, F8, I1, I2, I4, I8, U1, U2, U4, U8, Bool };
struct NpyType {
  NpyKind kind;
  std::size_t item;
};
NpyType npy_type(std::string_view code, const std::string& descr, const std::string& name) {
  static const std::pair<std::string_view, NpyType> known[] = {
      {"f2", {NpyKind::F2, 2}}, {"f4", {NpyKind::F4, 4}}, {"f8", {NpyKind::F8, 8}}, {"i1", {NpyKind::I1, 1}}, {"i2", {NpyKind::I2, 2}},
      {"i4", {NpyKind::I4, 4}}, {"i8", {NpyKind::I8, 8}}, {"u1", {NpyKind::U1, 1}}, {"u2", {NpyKind::U2, 2}},
      {"u4", {NpyKind::U4, 4}}, {"u8", {NpyKind::U8, 8}}, {"b1", {NpyKind::Bool, 1}}};
  for (const auto& [c, t] : known)
    if (c == code) return t;
  throw ParseError(name, 0, "unsupported dtype " + descr +
                                " (float16/32/64, signed or unsigned integers of 1 to 8 bytes, or bool)");
}

// IEEE 754 binary16 (NumPy's float16) as a float, in which every such value is exact.
float half_to_float(std::uint16_t h) {
  const int exponent = (h >> 10) & 0x1f, fraction = h & 0x3ff;
  float v;
  if (exponent == 0) v = std::ldexp(static_cast<float>(fraction), -24);  // zero and subnormals
  else if (exponent == 31) v = fraction ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  else v = std::ldexp(static_cast<float>(fraction + 1024), exponent - 25);
  return (h >> 15) ? -v : v;
}

}  // namespace

namespace io_detail {

NpyLayout npy_layout(std::string_view bytes, const std::string& name) {
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0)
    throw ParseError(name, 0, "not a .npy file (bad magic)");
  const auto major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw ParseError(name, 0, "truncated .npy header");
    header_len = 0;
    for (int k = 3; k >= 0; --k) header_len = (header_len << 8) | static_cast<unsigned char>(bytes[8 + k]);
    offset = 12;
  } else {
    throw ParseError(name, 0, "unsupported .npy version " + std::to_string(major));
  }
  if (header_len > bytes.size() - offset)
    throw ParseError(name, 0, "truncated .npy header (declares " + std::to_string(header_len) +
                                  " bytes, " + std::to_string(bytes.size() - offset) + " remain)");
  const std::string_view header = bytes.substr(offset, header_len);
  const std::string_view descr = dict_value(header, "descr", name);
  const std::string_view order = dict_value(header, "fortran_order", name);
  const std::string_view shape = dict_value(header, "shape", name);

  if (descr.size() != 5 || (descr[0] != '\'' && descr[0] != '"'))
    throw ParseError(name, 0, "unsupported dtype " + std::string(descr) +
                                  " (float16/32/64, signed or unsigned integers, or bool)");
  const char endian = descr[1];
  if (endian != '<' && endian != '>' && endian != '=' && endian != '|')
    throw ParseError(name, 0, "unsupported dtype " + std::string(descr) + " (byte order '" + endian + "')");
  const std::size_t item = npy_type(descr.substr(2, 2), std::string(descr), name).item;
  bool fortran = false;
  if (order == "True") fortran = true;
  else if (order != "False") throw ParseError(name, 0, "bad fortran_order " + std::string(order));

  if (shape.size() < 2 || shape.front() != '(' || shape.back() != ')')
    throw ParseError(name, 0, "bad shape " + std::string(shape));
  std::vector<std::int64_t> dims;
  {
    const char* p = shape.data() + 1;
    const char* end = shape.data() + shape.size() - 1;
    while (p < end) {
      while (p < end && (*p == ' ' || *p == ',')) ++p;
      if (p >= end) break;
      std::int64_t d = 0;
      auto [ptr, ec] = std::from_chars(p, end, d);
      if (ec != std::errc() || d < 0) throw ParseError(name, 0, "bad shape " + std::string(shape));
      dims.push_back(d);
      p = ptr;
      while (p < end && (*p == 'L' || *p == ' ')) ++p;
      if (p < end && *p != ',') throw ParseError(name, 0, "bad shape " + std::string(shape));
    }
  }
  if (dims.empty() || dims.size() > 2)
    throw ParseError(name, 0, "shape " + std::string(shape) + " is not 1-D or 2-D");
  const index_t rows = dims[0], cols = dims.size() == 2 ? dims[1] : 1;
  index_t count = 0, nbytes = 0;
  if (__builtin_mul_overflow(rows, cols, &count) ||
      __builtin_mul_overflow(count, static_cast<index_t>(item), &nbytes))
    throw ParseError(name, 0, "shape " + std::string(shape) + " overflows a 64-bit size");
  const std::size_t data_at = offset + header_len;
  const std::size_t have = bytes.size() - data_at;
  if (static_cast<std::size_t>(nbytes) != have)
    throw ParseError(name, 0, "shape " + std::string(shape) + " needs " + std::to_string(nbytes) +
                                  " data bytes but the file has " + std::to_string(have) +
                                  (static_cast<std::size_t>(nbytes) > have ? " (truncated)" : " (trailing bytes)"));
  return {std::string(descr.substr(1, 3)), fortran, dims.size(), rows, cols, item, data_at};
}

}  // namespace io_detail

namespace {

// Elements [first, first + count) of the array's data, in file order, into out[0, count).
template <class V>
void convert_elements(NpyKind kind, const char* data, std::size_t first, std::size_t count, bool swap, V* out,
                      const std::string& name) {
  switch (kind) {
    case NpyKind::F2:
      for (std::size_t k = 0; k < count; ++k) {
        std::uint16_t h;
        std::memcpy(&h, data + 2 * (first + k), 2);
        out[k] = static_cast<V>(half_to_float(swap ? byteswap_value(h) : h));
      }
      break;
    case NpyKind::F4: convert_values<float>(data, first, count, swap, out, name); break;
    case NpyKind::F8: convert_values<double>(data, first, count, swap, out, name); break;
    case NpyKind::I1: convert_values<std::int8_t>(data, first, count, swap, out, name); break;
    case NpyKind::I2: convert_values<std::int16_t>(data, first, count, swap, out, name); break;
    case NpyKind::I4: convert_values<std::int32_t>(data, first, count, swap, out, name); break;
    case NpyKind::I8: convert_values<std::int64_t>(data, first, count, swap, out, name); break;
    case NpyKind::U1: convert_values<std::uint8_t>(data, first, count, swap, out, name); break;
    case NpyKind::U2: convert_values<std::uint16_t>(data, first, count, swap, out, name); break;
    case NpyKind::U4: convert_values<std::uint32_t>(data, first, count, swap, out, name); break;
    case NpyKind::U8: convert_values<std::uint64_t>(data, first, count, swap, out, name); break;
    case NpyKind::Bool:
      for (std::size_t k = 0; k < count; ++k) {
        const auto b = static_cast<unsigned char>(data[first + k]);
        if (b > 1)
          throw ParseError(name, 0, "element " + std::to_string(first + k) + " of a bool array is " + std::to_string(b));
        out[k] = static_cast<V>(b);
      }
      break;
  }
}

}  // namespace

template <class V>
DenseMatrix<V> parse_npy(std::string_view bytes, const std::string& name, bool column_major) {
  const auto layout = io_detail::npy_layout(bytes, name);
  const std::string descr = "'" + layout.descr + "'";
  const NpyType type = npy_type(std::string_view(layout.descr).substr(1, 2), descr, name);
  const bool swap = (layout.descr[0] == '>') == (std::endian::native == std::endian::little);
  const index_t rows = layout.rows, cols = layout.cols, count = rows * cols;
  const bool fortran = layout.fortran;
  // A C-order array asked for column-major is transposed here, a block of rows at a time, rather
  // than copied whole afterwards (a second n x p buffer whose first touch cost 36 ms for 40 MB on
  // a 2-core VM).
  const bool transpose = column_major && !fortran && layout.dims == 2 && rows > 1 && cols > 1;
  DenseMatrix<V> m(rows, cols, fortran || layout.dims == 1 || transpose ? Layout::ColMajor : Layout::RowMajor);
  const char* data = bytes.data() + layout.data_at;
  if (!transpose) {
    convert_elements(type.kind, data, 0, static_cast<std::size_t>(count), swap, m.data(), name);
  } else {
    // Blocks of about 256 KB: each column then receives `block` consecutive values at once.
    const index_t block = std::max<index_t>(8, (index_t{1} << 15) / cols);
    // An Array, not a std::vector: held to the memory budget like the matrix itself.
    Array<V> rows_here(static_cast<std::size_t>(std::min(block, rows) * cols));
    V* out = m.data();
    for (index_t i0 = 0; i0 < rows; i0 += block) {
      const index_t b = std::min(block, rows - i0);
      convert_elements(type.kind, data, static_cast<std::size_t>(i0 * cols), static_cast<std::size_t>(b * cols), swap,
                       rows_here.data(), name);
      for (index_t j = 0; j < cols; ++j)
        for (index_t i = 0; i < b; ++i) out[j * rows + i0 + i] = rows_here.data()[i * cols + j];
    }
  }
  for (index_t i = 0; i < count; ++i)
    if (!std::isfinite(m.data()[i])) {
      const bool by_column = m.layout() == Layout::ColMajor;  // i < rows * cols: neither is 0
      const index_t row = by_column ? i % rows : i / cols, col = by_column ? i / rows : i % cols;
      throw ParseError(name, 0, std::string(std::isnan(m.data()[i]) ? "NaN" : "Inf (or past the type's range)") +
                                    " at row " + std::to_string(row) + ", column " + std::to_string(col) +
                                    " (from 0): fill or drop it");
    }
  return m;
}

template <class V>
DenseMatrix<V> read_npy(const std::string& path, bool column_major) {
  const io_detail::MappedFile file(path);
  return parse_npy<V>(file.view(), path, column_major);
}

template <class V>
void write_npy(const std::string& path, DenseView<const V> a) {
  if (a.space != MemorySpace::Host) throw InvalidArgument("write_npy: copy the matrix to the host first");
  std::string shape = "(";
  shape.append(std::to_string(a.rows)).append(", ").append(std::to_string(a.cols)).append(")");
  std::string out = io_detail::npy_header(sizeof(V) == 4 ? "<f4" : "<f8", a.layout == Layout::ColMajor, shape);
  const bool row = a.layout == Layout::RowMajor;
  const index_t outer = row ? a.rows : a.cols, inner = row ? a.cols : a.rows;
  out.reserve(out.size() + static_cast<std::size_t>(a.rows * a.cols) * sizeof(V));
  for (index_t o = 0; o < outer; ++o)
    out.append(reinterpret_cast<const char*>(a.data + o * a.ld), static_cast<std::size_t>(inner) * sizeof(V));
  write_file_atomic(path, out);
}

template DenseMatrix<float> parse_npy<float>(std::string_view, const std::string&, bool);
template DenseMatrix<double> parse_npy<double>(std::string_view, const std::string&, bool);
template DenseMatrix<float> read_npy<float>(const std::string&, bool);
template DenseMatrix<double> read_npy<double>(const std::string&, bool);
template void write_npy<float>(const std::string&, DenseView<const float>);
template void write_npy<double>(const std::string&, DenseView<const double>);

}  // namespace shrink
