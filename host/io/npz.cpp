// SciPy's sparse .npz (scipy.sparse.save_npz / load_npz): a zip of .npy arrays `data`, `indices`,
// `indptr` (CSR, CSC) or `row`, `col`, `data` (COO), with `format` (b'csr', ...) and `shape`. Read:
// stored or deflated members (zlib), CRC-checked; CSR, CSC and COO. Written: CSR, deflated, as
// save_npz writes it, so scipy.sparse.load_npz reads it back.
#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>

#include "host/core/validate.hpp"
#include "host/io/mapped_file.hpp"
#include "host/io/npy_format.hpp"
#include "host/io/parts.hpp"
#include "kernels/ops/instantiate.hpp"
#include "shrink/io.hpp"

namespace shrink {

namespace {

std::uint32_t u32(const char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
std::uint16_t u16(const char* p) {
  std::uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
void put16(std::string& s, std::uint16_t v) { s.append(reinterpret_cast<const char*>(&v), 2); }
void put32(std::string& s, std::uint32_t v) { s.append(reinterpret_cast<const char*>(&v), 4); }

// A zip archive's member: where its bytes are and how they are stored.
struct ZipMember {
  std::string name;
  std::uint16_t method = 0;
  std::uint32_t crc = 0, csize = 0, usize = 0;
  std::size_t data_at = 0;
};

// The members listed in a zip archive's central directory, checked against the archive's size.
std::vector<ZipMember> zip_directory(std::string_view z, const std::string& name) {
  if (z.size() < 22) throw ParseError(name, 0, "not a .npz file (too short for a zip archive)");
  // The end-of-central-directory record: within the last 64 KiB + 22 bytes.
  std::size_t eocd = std::string_view::npos;
  const std::size_t low = z.size() > 65557 ? z.size() - 65557 : 0;
  for (std::size_t at = z.size() - 22 + 1; at-- > low;)
    if (u32(z.data() + at) == 0x06054b50) {
      eocd = at;
      break;
    }
  if (eocd == std::string_view::npos) throw ParseError(name, 0, "not a .npz file (no zip directory)");
  const std::uint16_t entries = u16(z.data() + eocd + 10);
  const std::uint32_t dir_size = u32(z.data() + eocd + 12), dir_at = u32(z.data() + eocd + 16);
  if (dir_at == 0xffffffffu || entries == 0xffff)
    throw ParseError(name, 0, "zip64 archives are not read (members over 4 GiB)");
  if (std::size_t{dir_at} + dir_size > eocd) throw ParseError(name, 0, "corrupt zip directory");
  std::vector<ZipMember> out;
  std::size_t p = dir_at;
  for (std::uint16_t e = 0; e < entries; ++e) {
    if (p + 46 > eocd || u32(z.data() + p) != 0x02014b50) throw ParseError(name, 0, "corrupt zip directory entry");
    ZipMember m;
    m.method = u16(z.data() + p + 10);
    m.crc = u32(z.data() + p + 16);
    m.csize = u32(z.data() + p + 20);
    m.usize = u32(z.data() + p + 24);
    const std::uint16_t nlen = u16(z.data() + p + 28), xlen = u16(z.data() + p + 30), clen = u16(z.data() + p + 32);
    const std::uint32_t local = u32(z.data() + p + 42);
    if (p + 46 + nlen > eocd) throw ParseError(name, 0, "corrupt zip directory entry");
    m.name.assign(z.data() + p + 46, nlen);
    p += 46 + std::size_t{nlen} + xlen + clen;
    if (std::size_t{local} + 30 > z.size() || u32(z.data() + local) != 0x04034b50)
      throw ParseError(name, 0, m.name + ": corrupt zip member header");
    m.data_at = local + 30 + std::size_t{u16(z.data() + local + 26)} + u16(z.data() + local + 28);
    if (m.data_at + m.csize > z.size()) throw ParseError(name, 0, m.name + ": truncated zip member");
    if (m.method != 0 && m.method != 8)
      throw ParseError(name, 0, m.name + ": zip compression method " + std::to_string(m.method) + " is not read");
    // Deflate expands at most 1032:1, so a larger stated size is a lie, refused before anything is
    // allocated for it.
    if (m.method == 8 && m.usize > 1032.0 * m.csize + 64)
      throw ParseError(name, 0, m.name + ": states " + std::to_string(m.usize) + " bytes from " + std::to_string(m.csize) +
                                    " deflated, more than deflate can produce (corrupt archive)");
    out.push_back(std::move(m));
  }
  return out;
}

// Bytes [begin, end) of a member's inflated contents (end clipped to its size). A stored member is
// sliced; a deflated one is inflated from its start in chunks, keeping only the range, and to its end
// when `verify` (the CRC covers the whole member).
std::string member_range(std::string_view z, const ZipMember& m, const std::string& name, std::size_t begin,
                         std::size_t end, bool verify = true) {
  end = std::min<std::size_t>(end, m.usize);
  begin = std::min(begin, end);
  std::string out;
  out.reserve(end - begin);
  std::uint32_t crc = 0;
  if (m.method == 0) {
    if (m.csize != m.usize) throw ParseError(name, 0, m.name + ": stored member sizes differ");
    out.assign(z.data() + m.data_at + begin, end - begin);
    if (verify) crc = static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(z.data() + m.data_at), m.usize));
  } else {
    z_stream s{};
    if (inflateInit2(&s, -MAX_WBITS) != Z_OK) throw ParseError(name, 0, "zlib: inflateInit failed");
    s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(z.data() + m.data_at));
    s.avail_in = m.csize;
    std::vector<unsigned char> chunk(std::size_t{1} << 18);
    std::size_t at = 0;  // inflated bytes so far
    int rc = Z_OK;
    while (rc != Z_STREAM_END && (verify || at < end)) {
      s.next_out = chunk.data();
      s.avail_out = static_cast<uInt>(chunk.size());
      rc = inflate(&s, Z_NO_FLUSH);
      const std::size_t got = chunk.size() - s.avail_out;
      if ((rc != Z_OK && rc != Z_STREAM_END) || (rc == Z_OK && got == 0) || at + got > m.usize) {
        inflateEnd(&s);
        throw ParseError(name, 0, m.name + ": corrupt deflated data");
      }
      if (verify) crc = static_cast<std::uint32_t>(crc32(crc, chunk.data(), static_cast<uInt>(got)));
      const std::size_t lo = std::max(at, begin), hi = std::min(at + got, end);
      if (lo < hi) out.append(reinterpret_cast<const char*>(chunk.data()) + (lo - at), hi - lo);
      at += got;
    }
    inflateEnd(&s);
    if (verify && at != m.usize) throw ParseError(name, 0, m.name + ": corrupt deflated data");
  }
  if (verify && crc != m.crc) throw ParseError(name, 0, m.name + ": CRC mismatch (corrupt archive)");
  return out;
}

// The members of a zip archive, inflated.
std::map<std::string, std::string> unzip(std::string_view z, const std::string& name) {
  std::map<std::string, std::string> out;
  double inflated = 0;  // bytes of all members so far, against the memory budget
  for (const auto& m : zip_directory(z, name)) {
    inflated += m.usize;
    check_memory(inflated, name + ": inflated .npz members");
    out.emplace(m.name, member_range(z, m, name, 0, m.usize));
  }
  return out;
}

// A zip archive of the given members, deflated (as numpy.savez_compressed writes them).
std::string zip(const std::vector<std::pair<std::string, std::string>>& members, const std::string& path) {
  std::string out, dir;
  for (const auto& entry : members) {
    const std::string& member = entry.first;  // named, not bound: clang 14 cannot capture bindings
    const std::string& bytes = entry.second;
    if (bytes.size() >= 0xffffffffu)
      throw InvalidArgument(path + ": member " + member + " is over 4 GiB (zip64 is not written); use .mtx");
    std::string packed(compressBound(static_cast<uLong>(bytes.size())) + 64, '\0');
    z_stream s{};
    if (deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      throw IoError(path + ": zlib deflateInit failed");
    s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    s.avail_in = static_cast<uInt>(bytes.size());
    s.next_out = reinterpret_cast<Bytef*>(packed.data());
    s.avail_out = static_cast<uInt>(packed.size());
    const int rc = deflate(&s, Z_FINISH);
    packed.resize(s.total_out);
    deflateEnd(&s);
    if (rc != Z_STREAM_END) throw IoError(path + ": zlib deflate failed");
    const auto crc = static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
    const auto offset = static_cast<std::uint32_t>(out.size());
    auto header = [&](std::string& h, bool central) {
      put32(h, central ? 0x02014b50 : 0x04034b50);
      if (central) put16(h, 20);  // made by
      put16(h, 20);               // needed to extract
      put16(h, 0);                // flags
      put16(h, 8);                // deflate
      put16(h, 0);                // time
      put16(h, 0x21);             // date 1980-01-01
      put32(h, crc);
      put32(h, static_cast<std::uint32_t>(packed.size()));
      put32(h, static_cast<std::uint32_t>(bytes.size()));
      put16(h, static_cast<std::uint16_t>(member.size()));
      put16(h, 0);  // extra
      if (central) {
        put16(h, 0);  // comment
        put16(h, 0);  // disk
        put16(h, 0);  // internal attributes
        put32(h, 0);  // external attributes
        put32(h, offset);
      }
      h += member;
    };
    header(out, false);
    out += packed;
    header(dir, true);
  }
  const auto dir_at = static_cast<std::uint32_t>(out.size());
  out += dir;
  put32(out, 0x06054b50);
  put16(out, 0);
  put16(out, 0);
  put16(out, static_cast<std::uint16_t>(members.size()));
  put16(out, static_cast<std::uint16_t>(members.size()));
  put32(out, static_cast<std::uint32_t>(dir.size()));
  put32(out, dir_at);
  put16(out, 0);
  return out;
}

// A .npy member's header fields and data (the arrays save_npz writes: 1-D numbers, a 0-d bytes
// string, a 1-D shape).
struct NpyArray {
  std::string descr;
  std::vector<std::int64_t> shape;
  std::string_view data;
};
NpyArray npy_member(std::string_view bytes, const std::string& name, const std::string& member) {
  const std::string where = name + "[" + member + "]";
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0) throw ParseError(where, 0, "not a .npy member");
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t len = 0, off = 0;
  if (major == 1) {
    len = u16(bytes.data() + 8);
    off = 10;
  } else {
    if (bytes.size() < 12) throw ParseError(where, 0, "truncated .npy header");
    len = u32(bytes.data() + 8);
    off = 12;
  }
  if (off + len > bytes.size()) throw ParseError(where, 0, "truncated .npy header");
  const std::string_view h = bytes.substr(off, len);
  NpyArray a;
  auto value = [&](std::string_view key) {
    auto at = h.find("'" + std::string(key) + "'");
    if (at == std::string_view::npos) throw ParseError(where, 0, "no '" + std::string(key) + "' in the header");
    at = h.find(':', at) + 1;
    while (at < h.size() && h[at] == ' ') ++at;
    return at;
  };
  const auto d = value("descr");
  const auto d_end = h.find(h[d], d + 1);
  a.descr = std::string(h.substr(d + 1, d_end - d - 1));
  if (h.substr(value("fortran_order"), 4) == "True") throw ParseError(where, 0, "a Fortran-ordered member");
  auto s = value("shape");
  const auto s_end = h.find(')', s);
  for (std::size_t i = s + 1; i < s_end;) {
    while (i < s_end && (h[i] == ' ' || h[i] == ',')) ++i;
    if (i >= s_end) break;
    std::int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(h.data() + i, h.data() + s_end, v);
    if (ec != std::errc() || v < 0) throw ParseError(where, 0, "bad shape");
    a.shape.push_back(v);
    i = static_cast<std::size_t>(ptr - h.data());
  }
  a.data = bytes.substr(off + len);
  return a;
}

// The integer or float values of a 1-D member, converted (integers checked against T's range).
template <class T>
std::vector<T> member_values(const NpyArray& a, const std::string& where) {
  if (a.shape.size() != 1) throw ParseError(where, 0, "expected a 1-D array");
  const auto n = static_cast<std::size_t>(a.shape[0]);
  const std::string code = a.descr.size() == 3 ? a.descr.substr(1) : "";
  const bool little = !a.descr.empty() && (a.descr[0] == '<' || a.descr[0] == '|' || a.descr[0] == '=');
  if (!little) throw ParseError(where, 0, "big-endian members are not read");
  std::vector<T> out(n);
  auto take = [&]<class S>() {
    if (a.data.size() != n * sizeof(S)) throw ParseError(where, 0, "data size does not match the shape");
    for (std::size_t i = 0; i < n; ++i) {
      S s;
      std::memcpy(&s, a.data.data() + i * sizeof(S), sizeof(S));
      if constexpr (std::is_integral_v<T> && std::is_integral_v<S>) {
        if (static_cast<long double>(s) > static_cast<long double>(std::numeric_limits<T>::max()) ||
            static_cast<long double>(s) < static_cast<long double>(std::numeric_limits<T>::min()))
          throw IndexOverflow(where + ": value " + std::to_string(s) + " does not fit the index type");
      }
      out[i] = static_cast<T>(s);
    }
  };
  if (code == "f8") take.template operator()<double>();
  else if (code == "f4") take.template operator()<float>();
  else if (code == "i8") take.template operator()<std::int64_t>();
  else if (code == "i4") take.template operator()<std::int32_t>();
  else if (code == "i2") take.template operator()<std::int16_t>();
  else if (code == "i1") take.template operator()<std::int8_t>();
  else if (code == "u8") take.template operator()<std::uint64_t>();
  else if (code == "u4") take.template operator()<std::uint32_t>();
  else if (code == "b1") take.template operator()<std::uint8_t>();
  else throw ParseError(where, 0, "unsupported dtype " + a.descr);
  return out;
}

std::string npy_bytes(const std::string& descr, const std::string& shape, std::string_view data) {
  std::string out = io_detail::npy_header(descr, false, shape);
  out.append(data);
  return out;
}

template <class T>
std::string npy_vector(const std::vector<T>& v) {
  const char* code = std::is_same_v<T, float>          ? "<f4"
                     : std::is_same_v<T, double>       ? "<f8"
                     : std::is_same_v<T, std::int32_t> ? "<i4"
                                                       : "<i8";
  return npy_bytes(code, "(" + std::to_string(v.size()) + ",)",
                   std::string_view(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T)));
}

}  // namespace

namespace io_detail {

// SciPy's sparse kind names its format in a `format` member; NumPy's dense archives have none.
bool holds_format(const std::vector<ZipMember>& members) {
  return std::any_of(members.begin(), members.end(), [](const ZipMember& m) { return m.name == "format.npy"; });
}

bool npz_csr_part(std::string_view z, const std::string& name, int part, int parts, index_t& first,
                  CsrMatrix<double, std::int64_t>& out) {
  const auto members = zip_directory(z, name);
  auto find = [&](const std::string& key) -> const ZipMember& {
    for (const auto& m : members)
      if (m.name == key + ".npy") return m;
    throw ParseError(name, 0, "no '" + key + "' array: not a scipy.sparse .npz file");
  };
  auto whole = [&](const std::string& key, std::string& keep) {
    const auto& m = find(key);
    check_memory(m.usize, name + ": ." + key + " member");
    keep = member_range(z, m, name, 0, m.usize);
    return npy_member(keep, name, key);
  };
  if (!holds_format(members)) return false;  // NumPy's dense kind: read whole by the caller, as CSC and COO are
  std::string format_bytes, shape_bytes, ptr_bytes;
  std::string format(whole("format", format_bytes).data);
  while (!format.empty() && format.back() == '\0') format.pop_back();
  if (format != "csr") return false;
  const auto shape = member_values<std::int64_t>(whole("shape", shape_bytes), name + "[shape]");
  if (shape.size() != 2 || shape[0] < 0 || shape[1] < 0) throw ParseError(name, 0, "bad shape");
  const index_t rows = shape[0], cols = shape[1];
  const auto ptr = member_values<std::int64_t>(whole("indptr", ptr_bytes), name + "[indptr]");
  if (static_cast<index_t>(ptr.size()) != rows + 1)
    throw ParseError(name, 0, "indptr has " + std::to_string(ptr.size()) + " entries, expected " + std::to_string(rows + 1));
  first = split_point(rows, part, parts);
  const index_t last = split_point(rows, part + 1, parts);
  for (index_t r = 0; r < rows; ++r)
    if (ptr[r] < 0 || ptr[r] > ptr[r + 1]) throw ParseError(name, 0, "indptr is not monotone at " + std::to_string(r));
  const std::int64_t lo = ptr[first], hi = ptr[last];
  // The stretch [lo, hi) of a 1-D member: its header, then those elements only.
  auto stretch = [&](const std::string& key, std::string& keep) {
    const auto& m = find(key);
    const std::string head = member_range(z, m, name, 0, 12, false);
    if (head.size() < 10 || std::memcmp(head.data(), "\x93NUMPY", 6) != 0) throw ParseError(name + "[" + key + "]", 0, "not a .npy member");
    const std::size_t off = head[6] == 1 ? 10 + std::size_t{u16(head.data() + 8)} : 12 + std::size_t{u32(head.data() + 8)};
    auto a = npy_member(member_range(z, m, name, 0, off, false), name, key);
    if (a.shape.size() != 1 || a.shape[0] != ptr[rows])
      throw ParseError(name, 0, key + " has " + (a.shape.empty() ? std::string("no") : std::to_string(a.shape[0])) +
                                    " entries, indptr says " + std::to_string(ptr[rows]));
    const std::size_t item = a.descr.size() == 3 ? static_cast<std::size_t>(a.descr[2] - '0') : 0;
    if (item == 0 || item > 8) throw ParseError(name + "[" + key + "]", 0, "unsupported dtype " + a.descr);
    if (m.usize != off + item * static_cast<std::size_t>(ptr[rows]))
      throw ParseError(name + "[" + key + "]", 0, "data size does not match the shape");
    check_memory(static_cast<double>(item) * static_cast<double>(hi - lo), name + ": ." + key + " stretch");
    keep = member_range(z, m, name, off + item * static_cast<std::size_t>(lo), off + item * static_cast<std::size_t>(hi));
    a.shape = {hi - lo};
    a.data = keep;
    return a;
  };
  std::string idx_bytes, val_bytes;
  const auto idx = member_values<std::int64_t>(stretch("indices", idx_bytes), name + "[indices]");
  const auto values = member_values<double>(stretch("data", val_bytes), name + "[data]");
  // Sorted within each row through COO, as the whole read does (SciPy may leave them unsorted).
  CooMatrix<double, std::int64_t> coo{last - first, cols, {}, {}, {}};
  for (index_t r = first; r < last; ++r)
    for (std::int64_t k = ptr[r]; k < ptr[r + 1]; ++k) {
      const auto e = static_cast<std::size_t>(k - lo);
      if (idx[e] < 0 || idx[e] >= cols)
        throw ParseError(name, 0, "index (" + std::to_string(r) + ", " + std::to_string(idx[e]) + ") is outside " +
                                      detail::shape(rows, cols));
      if (!std::isfinite(values[e])) throw ParseError(name, 0, "data[" + std::to_string(k) + "] is not finite");
      coo.row.push_back(r - first);
      coo.col.push_back(idx[e]);
      coo.val.push_back(values[e]);
    }
  out = coo_to_csr(coo);
  return true;
}

}  // namespace io_detail

template <class V, class I>
CsrMatrix<V, I> read_npz(const std::string& path) {
  const io_detail::MappedFile file(path);
  return parse_npz<V, I>(file.view(), path);
}

template <class V, class I>
CsrMatrix<V, I> parse_npz(std::string_view bytes, const std::string& path) {
  auto members = unzip(bytes, path);
  auto get = [&](const std::string& key) -> NpyArray {
    const auto it = members.find(key + ".npy");
    if (it == members.end()) throw ParseError(path, 0, "no '" + key + "' array: not a scipy.sparse .npz file");
    return npy_member(it->second, path, key);
  };
  const auto format_array = get("format");
  std::string format(format_array.data);
  while (!format.empty() && format.back() == '\0') format.pop_back();
  const auto shape = member_values<std::int64_t>(get("shape"), path + "[shape]");
  if (shape.size() != 2 || shape[0] < 0 || shape[1] < 0) throw ParseError(path, 0, "bad shape");
  const index_t rows = shape[0], cols = shape[1];
  detail::check_fits_index<I>(rows, path + ": rows");
  detail::check_fits_index<I>(cols, path + ": cols");
  auto values = member_values<V>(get("data"), path + "[data]");
  for (std::size_t k = 0; k < values.size(); ++k)
    if (!std::isfinite(values[k])) throw ParseError(path, 0, "data[" + std::to_string(k) + "] is not finite");
  if (format == "csr" || format == "csc") {
    auto ptr = member_values<I>(get("indptr"), path + "[indptr]");
    auto idx = member_values<I>(get("indices"), path + "[indices]");
    const bool csr = format == "csr";
    // SciPy may store unsorted indices (has_sorted_indices False): go through COO, which sorts.
    CooMatrix<V, I> coo{rows, cols, {}, {}, {}};
    const index_t outer = csr ? rows : cols;
    if (static_cast<index_t>(ptr.size()) != outer + 1)
      throw ParseError(path, 0, "indptr has " + std::to_string(ptr.size()) + " entries, expected " + std::to_string(outer + 1));
    if (idx.size() != values.size()) throw ParseError(path, 0, "indices and data differ in length");
    for (index_t o = 0; o < outer; ++o) {
      if (ptr[o] < 0 || ptr[o] > ptr[o + 1] || static_cast<std::size_t>(ptr[o + 1]) > idx.size())
        throw ParseError(path, 0, "indptr is not monotone at " + std::to_string(o));
      for (I k = ptr[o]; k < ptr[o + 1]; ++k) {
        const index_t r = csr ? o : idx[k], c = csr ? idx[k] : o;
        if (r < 0 || r >= rows || c < 0 || c >= cols)
          throw ParseError(path, 0, "index (" + std::to_string(r) + ", " + std::to_string(c) + ") is outside " +
                                        detail::shape(rows, cols));
        coo.row.push_back(static_cast<I>(r));
        coo.col.push_back(static_cast<I>(c));
        coo.val.push_back(values[k]);
      }
    }
    return coo_to_csr(coo);
  }
  if (format == "coo") {
    const auto r = member_values<I>(get("row"), path + "[row]");
    const auto c = member_values<I>(get("col"), path + "[col]");
    if (r.size() != values.size() || c.size() != values.size()) throw ParseError(path, 0, "row, col and data differ in length");
    CooMatrix<V, I> coo{rows, cols, r, c, values};
    for (std::size_t k = 0; k < values.size(); ++k) {
      if (r[k] < 0 || r[k] >= rows || c[k] < 0 || c[k] >= cols)
        throw ParseError(path, 0, "index (" + std::to_string(r[k]) + ", " + std::to_string(c[k]) + ") is outside " +
                                      detail::shape(rows, cols));
    }
    return coo_to_csr(coo);
  }
  throw ParseError(path, 0, "sparse format '" + format + "' is not read (csr, csc or coo)");
}

template <class V, class I>
void write_npz(const std::string& path, const CsrMatrix<V, I>& a) {
  if (a.space() != MemorySpace::Host) throw InvalidArgument("write_npz: copy the matrix to the host first");
  const auto* rp = a.row_ptr().data();
  const auto* ci = a.col_idx().data();
  const auto* v = a.values().data();
  const std::vector<V> data(v, v + a.nnz());
  // SciPy's index dtype: int32 when everything fits, as save_npz of a fresh csr_matrix has.
  const bool narrow = a.nnz() <= std::numeric_limits<std::int32_t>::max() && a.cols() <= std::numeric_limits<std::int32_t>::max();
  std::string indices, indptr;
  if (narrow) {
    indices = npy_vector(std::vector<std::int32_t>(ci, ci + a.nnz()));
    indptr = npy_vector(std::vector<std::int32_t>(rp, rp + a.rows() + 1));
  } else {
    indices = npy_vector(std::vector<std::int64_t>(ci, ci + a.nnz()));
    indptr = npy_vector(std::vector<std::int64_t>(rp, rp + a.rows() + 1));
  }
  const std::vector<std::int64_t> shape{a.rows(), a.cols()};
  write_file_atomic(path, zip({{"indices.npy", indices},
                               {"indptr.npy", indptr},
                               {"format.npy", npy_bytes("|S3", "()", "csr")},
                               {"shape.npy", npy_vector(shape)},
                               {"data.npy", npy_vector(data)}},
                              path));
}

bool npz_is_sparse(std::string_view bytes, const std::string& name) {
  return io_detail::holds_format(zip_directory(bytes, name));
}

template <class V>
DenseMatrix<V> parse_npz_dense(std::string_view bytes, const std::string& name, const std::vector<std::string>& names,
                               std::string* chosen, bool column_major) {
  const auto members = zip_directory(bytes, name);
  if (members.empty()) throw ParseError(name, 0, "the archive holds no array");
  auto array_name = [](const ZipMember& m) {
    const auto& s = m.name;
    return s.size() > 4 && s.compare(s.size() - 4, 4, ".npy") == 0 ? s.substr(0, s.size() - 4) : s;
  };
  const ZipMember* pick = members.size() == 1 ? &members.front() : nullptr;
  for (const auto& wanted : names)
    for (const auto& m : members)
      if (!pick && array_name(m) == wanted) pick = &m;
  if (!pick) {
    std::string held;
    for (const auto& m : members) held += (held.empty() ? "" : ", ") + array_name(m);
    std::string asked;
    for (const auto& w : names) asked += (asked.empty() ? "" : " or ") + w;
    throw ParseError(name, 0, "a NumPy archive of " + std::to_string(members.size()) + " arrays (" + held +
                                  ") and none named " + (asked.empty() ? "?" : asked) +
                                  ": save that array under that name, or one array per file");
  }
  check_memory(static_cast<double>(pick->usize), name + ": the ." + array_name(*pick) + " member");
  if (chosen && members.size() > 1) *chosen = array_name(*pick);
  const std::string member = member_range(bytes, *pick, name, 0, pick->usize);
  return parse_npy<V>(member, name + "[" + array_name(*pick) + "]", column_major);
}
template DenseMatrix<float> parse_npz_dense<float>(std::string_view, const std::string&, const std::vector<std::string>&,
                                                  std::string*, bool);
template DenseMatrix<double> parse_npz_dense<double>(std::string_view, const std::string&,
                                                    const std::vector<std::string>&, std::string*, bool);

#define SHRINK_INSTANTIATE_NPZ(V, I)                                        \
  template CsrMatrix<V, I> read_npz<V, I>(const std::string&);              \
  template CsrMatrix<V, I> parse_npz<V, I>(std::string_view, const std::string&); \
  template void write_npz<V, I>(const std::string&, const CsrMatrix<V, I>&);
SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE_NPZ)

}  // namespace shrink
