// Whole-file reads and atomic writes (temporary file in the same directory, then rename).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "host/io/mapped_file.hpp"
#include "shrink/context.hpp"
#include "shrink/error.hpp"
#include "shrink/io.hpp"

namespace shrink {

namespace io_detail {

MappedFile::MappedFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw IoError(path + ": not a regular file");
  }
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      throw IoError(path + ": cannot map " + std::to_string(size_) + " bytes: " + std::strerror(err));
    }
    ::madvise(p, size_, MADV_SEQUENTIAL | MADV_WILLNEED);
    data_ = static_cast<const char*>(p);
    mapped_ = true;
  }
  ::close(fd);
  if (is_gzip_path(path)) {
    try {
      inflated_ = gunzip(view(), path);
    } catch (...) {
      if (mapped_) ::munmap(const_cast<char*>(data_), size_);
      throw;
    }
    if (mapped_) ::munmap(const_cast<char*>(data_), size_);
    mapped_ = false;
    data_ = inflated_.data();
    size_ = inflated_.size();
  }
}

MappedFile::~MappedFile() {
  if (mapped_) ::munmap(const_cast<char*>(data_), size_);
}

bool is_gzip_path(const std::string& path) noexcept {
  if (path.size() < 3) return false;
  std::string ext = path.substr(path.size() - 3);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".gz";
}

std::string gunzip(std::string_view bytes, const std::string& name) {
  if (bytes.size() < 18 || static_cast<unsigned char>(bytes[0]) != 0x1f || static_cast<unsigned char>(bytes[1]) != 0x8b)
    throw ParseError(name, 0, "not a gzip file (named .gz, but it does not start as one)");
  z_stream s{};
  if (inflateInit2(&s, 15 + 16) != Z_OK) throw ParseError(name, 0, "zlib: inflateInit failed");
  std::string out;
  std::size_t used = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t at = 0;  // input consumed
  int rc = Z_OK;
  try {
    for (;;) {
      if (used == out.size()) {  // grow by doubling, each size checked against the memory limit first
        const double next = out.empty() ? std::max(65536.0, 4.0 * static_cast<double>(bytes.size()))
                                        : 2.0 * static_cast<double>(out.size());
        check_memory(next, name + " inflated");
        out.resize(static_cast<std::size_t>(next));
      }
      const std::size_t in_chunk = std::min<std::size_t>(bytes.size() - at, 1u << 30);
      const std::size_t out_chunk = std::min<std::size_t>(out.size() - used, 1u << 30);
      s.next_in = const_cast<unsigned char*>(in + at);
      s.avail_in = static_cast<uInt>(in_chunk);
      s.next_out = reinterpret_cast<unsigned char*>(out.data() + used);
      s.avail_out = static_cast<uInt>(out_chunk);
      rc = inflate(&s, Z_NO_FLUSH);
      at += in_chunk - s.avail_in;
      used += out_chunk - s.avail_out;
      if (rc == Z_STREAM_END) {
        // Another member may follow (pigz, bgzip, cat a.gz b.gz); trailing zeros are padding.
        const bool more = at + 2 <= bytes.size() && static_cast<unsigned char>(bytes[at]) == 0x1f &&
                          static_cast<unsigned char>(bytes[at + 1]) == 0x8b;
        if (!more) {
          if (std::any_of(bytes.begin() + static_cast<std::ptrdiff_t>(at), bytes.end(), [](char c) { return c != 0; }))
            throw ParseError(name, 0, "trailing bytes after the gzip data");
          break;
        }
        inflateReset(&s);
        continue;
      }
      if (rc == Z_BUF_ERROR && at == bytes.size() && s.avail_out > 0)
        throw ParseError(name, 0, "truncated gzip data (" + std::to_string(used) + " bytes inflated)");
      if (rc != Z_OK && rc != Z_BUF_ERROR)
        throw ParseError(name, 0, std::string("corrupt gzip data: ") + (s.msg ? s.msg : "zlib error " + std::to_string(rc)));
    }
  } catch (const std::bad_alloc&) {
    inflateEnd(&s);
    throw OutOfMemory(name + ": its inflated contents do not fit in memory (" + std::to_string(used) + " bytes so far)");
  } catch (...) {
    inflateEnd(&s);
    throw;
  }
  inflateEnd(&s);
  out.resize(used);
  return out;
}

std::string gzip(std::string_view bytes, const std::string& name) {
  z_stream s{};
  if (deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw IoError(name + ": zlib: deflateInit failed");
  std::string out(deflateBound(&s, static_cast<uLong>(std::min<std::size_t>(bytes.size(), 1u << 30))) + 64, '\0');
  std::size_t at = 0, used = 0;
  int rc = Z_OK;
  do {
    const std::size_t in_chunk = std::min<std::size_t>(bytes.size() - at, 1u << 30);
    const int flush = at + in_chunk == bytes.size() ? Z_FINISH : Z_NO_FLUSH;
    s.next_in = reinterpret_cast<unsigned char*>(const_cast<char*>(bytes.data() + at));
    s.avail_in = static_cast<uInt>(in_chunk);
    do {
      if (used == out.size()) out.resize(out.size() * 2);
      const std::size_t out_chunk = std::min<std::size_t>(out.size() - used, 1u << 30);
      s.next_out = reinterpret_cast<unsigned char*>(out.data() + used);
      s.avail_out = static_cast<uInt>(out_chunk);
      rc = deflate(&s, flush);
      used += out_chunk - s.avail_out;
      if (rc == Z_STREAM_ERROR) break;
    } while (s.avail_out == 0 || (flush == Z_FINISH && rc == Z_OK));
    at += in_chunk;
  } while (at < bytes.size());
  deflateEnd(&s);
  if (rc != Z_STREAM_END) throw IoError(name + ": zlib: deflate failed");
  out.resize(used);
  return out;
}

}  // namespace io_detail

std::string read_file(const std::string& path) {
  const io_detail::MappedFile file(path);
  try {
    return std::string(file.view());
  } catch (const std::bad_alloc&) {
    throw OutOfMemory(path + ": " + std::to_string(file.view().size()) + " bytes do not fit in memory");
  }
}

namespace {
// Full disk, quota, file-size limit or a failing device: the machine's fault (StorageError); the
// rest (permissions, a missing folder) an IoError.
[[noreturn]] void throw_write_error(const std::string& path, const std::string& what, int err) {
  const std::string message = path + ": " + what + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT || err == EFBIG || err == EIO) throw StorageError(message);
  throw IoError(message);
}
}  // namespace

namespace {
// The temporary file of the write in progress, for remove_partial_outputs() (a signal handler may
// call it, so it is a fixed buffer and an atomic flag, nothing that allocates or locks).
char pending[4096];
std::atomic<bool> has_pending{false};

struct Pending {
  explicit Pending(const std::string& tmp) {
    if (tmp.size() < sizeof pending) {
      has_pending = false;
      std::memcpy(pending, tmp.c_str(), tmp.size() + 1);
      has_pending = true;
    }
  }
  ~Pending() { has_pending = false; }
};
}  // namespace

void remove_partial_outputs() noexcept {
  if (has_pending.load()) ::unlink(pending);
}

namespace {
void write_bytes_atomic(const std::string& path, std::string_view bytes) {
  static std::atomic<unsigned> counter{0};
  const std::string tmp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  const Pending pending_file(tmp);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw IoError(path + ": cannot create temporary file: " + std::strerror(errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n == 0 ? ENOSPC : errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw_write_error(path, "write failed after " + std::to_string(done) + " bytes", err);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw_write_error(path, "flushing failed", err);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw IoError(path + ": cannot rename the temporary file into place: " + std::strerror(err));
  }
}
}  // namespace

void write_file_atomic(const std::string& path, std::string_view bytes) {
  if (io_detail::is_gzip_path(path)) write_bytes_atomic(path, io_detail::gzip(bytes, path));  // coef.csv.gz
  else write_bytes_atomic(path, bytes);
}

}  // namespace shrink
