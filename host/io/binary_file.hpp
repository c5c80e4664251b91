// The versioned little-endian binary files (the SAE checkpoint, the Lasso model): a writer that
// appends values and counted vectors, a reader that checks every count against the bytes left and
// names the file, the kind and the byte offset in its ParseError, and the FNV-1a 64 checksum that
// closes each file.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "shrink/error.hpp"

namespace shrink::io_detail {

inline std::uint64_t fnv1a(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

class BinaryWriter {
 public:
  template <class T>
  void put(T value) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(&value), sizeof(T));
  }
  template <class T>
  void put_vector(const std::vector<T>& v) {
    put<std::uint64_t>(v.size());
    out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  void put_string(std::string_view s) {
    put<std::uint64_t>(s.size());
    out_.append(s.data(), s.size());
  }
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

class BinaryReader {
 public:
  BinaryReader(std::string path, std::string_view bytes, std::string kind)
      : path_(std::move(path)), kind_(std::move(kind)), bytes_(bytes) {}
  template <class T>
  T get(const char* what) {
    need(sizeof(T), what);
    T value;
    std::memcpy(&value, bytes_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return value;
  }
  template <class T>
  std::vector<T> get_vector(const char* what) {
    const auto count = get<std::uint64_t>(what);
    if (count > (bytes_.size() - at_) / sizeof(T)) fail(std::string(what) + ": " + std::to_string(count) +
                                                         " values do not fit in the " +
                                                         std::to_string(bytes_.size() - at_) + " bytes left");
    std::vector<T> v(static_cast<std::size_t>(count));
    if (!v.empty()) std::memcpy(v.data(), bytes_.data() + at_, v.size() * sizeof(T));  // memcpy may not take null
    at_ += v.size() * sizeof(T);
    return v;
  }
  std::string get_string(const char* what) {
    const auto v = get_vector<char>(what);
    return std::string(v.begin(), v.end());
  }
  bool get_bool(const char* what) {
    const auto b = get<std::uint8_t>(what);
    if (b > 1) fail(std::string(what) + ": flag byte " + std::to_string(b) + " is not 0 or 1");
    return b == 1;
  }
  template <class E>
  E get_enum(const char* what, std::uint32_t count) {
    const auto e = get<std::uint32_t>(what);
    if (e >= count) fail(std::string(what) + ": value " + std::to_string(e) + " is out of range");
    return static_cast<E>(e);
  }
  std::size_t offset() const { return at_; }
  [[noreturn]] void fail(const std::string& what) const {
    throw ParseError(path_, 0, kind_ + ": " + what + " (at byte " + std::to_string(at_) + ")");
  }

 private:
  void need(std::size_t n, const char* what) const {
    if (bytes_.size() - at_ < n) fail(std::string("truncated while reading ") + what);
  }
  std::string path_, kind_;
  std::string_view bytes_;
  std::size_t at_ = 0;
};

}  // namespace shrink::io_detail
