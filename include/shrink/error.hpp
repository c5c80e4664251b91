// Exception hierarchy. Every failure at the API boundary is one of these, and its message names the
// argument and the sizes involved. The CLI maps the kinds to exit codes (see README).
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

namespace shrink {

enum class ErrorKind {
  InvalidArgument,    // an option or argument value is out of its allowed range
  DimensionMismatch,  // shapes that must agree do not
  IndexOutOfRange,    // a sparse index lies outside the matrix
  InvalidStructure,   // row pointers not monotone, column indices unsorted or duplicated
  NonFinite,          // NaN or Inf in an input
  IndexOverflow,      // a size or nnz does not fit the index type
  ParseError,         // a malformed file
  IoError,            // a file cannot be opened, read, written or renamed
  OutOfMemory,        // host or device allocation failed
  CudaError,          // a CUDA runtime or library call failed
  NotCompiled,        // the CUDA backend was asked for in a build without it
  NoDevice,           // the CUDA backend was asked for but no usable device exists
  StorageError,       // a write failed part-way: the disk is full, over quota or failing (an IoError too)
};

const char* to_string(ErrorKind kind) noexcept;

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message);
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

#define SHRINK_DEFINE_ERROR(Name)                                                  \
  class Name : public Error {                                                      \
   public:                                                                         \
    explicit Name(const std::string& message) : Error(ErrorKind::Name, message) {} \
  };
SHRINK_DEFINE_ERROR(InvalidArgument)
SHRINK_DEFINE_ERROR(DimensionMismatch)
SHRINK_DEFINE_ERROR(IndexOutOfRange)
SHRINK_DEFINE_ERROR(InvalidStructure)
SHRINK_DEFINE_ERROR(NonFinite)
SHRINK_DEFINE_ERROR(IndexOverflow)
SHRINK_DEFINE_ERROR(OutOfMemory)
SHRINK_DEFINE_ERROR(CudaError)
SHRINK_DEFINE_ERROR(NotCompiled)
SHRINK_DEFINE_ERROR(NoDevice)
#undef SHRINK_DEFINE_ERROR

class IoError : public Error {
 public:
  explicit IoError(const std::string& message) : Error(ErrorKind::IoError, message) {}

 protected:
  IoError(ErrorKind kind, const std::string& message) : Error(kind, message) {}
};
// A write that failed part-way for want of storage (ENOSPC, EDQUOT, EFBIG) or by a device error
// (EIO): the machine's fault, not the input's. Caught as an IoError too.
class StorageError : public IoError {
 public:
  explicit StorageError(const std::string& message) : IoError(ErrorKind::StorageError, message) {}
};

// A malformed file: carries the file name and the 1-based line of the first bad token (0 when the
// problem is not tied to one line, e.g. a truncated binary file).
class ParseError : public Error {
 public:
  ParseError(std::string file, std::int64_t line, const std::string& what);
  const std::string& file() const noexcept { return file_; }
  std::int64_t line() const noexcept { return line_; }

 private:
  std::string file_;
  std::int64_t line_;
};

}  // namespace shrink
