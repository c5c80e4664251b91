// Whole-file reads and atomic writes (temporary file in the same directory, then rename).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "host/io/mapped_file.hpp"
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
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<char*>(data_), size_);
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

void write_file_atomic(const std::string& path, std::string_view bytes) {
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

}  // namespace shrink
