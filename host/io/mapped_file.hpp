// A read-only memory mapping of a whole file: the readers parse straight from the page cache
// instead of copying the file into a buffer first.
#pragma once
#include <string>
#include <string_view>

namespace shrink::io_detail {

class MappedFile {
 public:
  explicit MappedFile(const std::string& path);  // IoError naming the path on failure
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::string_view view() const noexcept { return {data_, size_}; }

 private:
  const char* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace shrink::io_detail
