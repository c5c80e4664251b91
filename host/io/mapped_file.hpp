// A read-only memory mapping of a whole file: the readers parse straight from the page cache
// instead of copying the file into a buffer first. A file named *.gz is gzip-compressed: it is
// inflated into memory instead (each growth checked against the memory limit), so every reader
// takes X.mtx.gz, data.csv.gz and the like as it takes the plain file.
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
  bool mapped_ = false;
  std::string inflated_;  // a .gz file's contents
};

// Whether the path names a gzip file (ends in .gz, any case).
bool is_gzip_path(const std::string& path) noexcept;
// The gzip file's contents (every member of a multi-member file, as gzip -d gives them); ParseError
// naming `name` on bad data, OutOfMemory past the memory limit.
std::string gunzip(std::string_view bytes, const std::string& name);
// `bytes` as one gzip member (zlib's default level).
std::string gzip(std::string_view bytes, const std::string& name);

}  // namespace shrink::io_detail
