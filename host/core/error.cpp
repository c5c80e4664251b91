#include "shrink/error.hpp"

namespace shrink {

const char* to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::InvalidArgument: return "invalid argument";
    case ErrorKind::DimensionMismatch: return "dimension mismatch";
    case ErrorKind::IndexOutOfRange: return "index out of range";
    case ErrorKind::InvalidStructure: return "invalid structure";
    case ErrorKind::NonFinite: return "non-finite value";
    case ErrorKind::IndexOverflow: return "index overflow";
    case ErrorKind::ParseError: return "parse error";
    case ErrorKind::IoError: return "I/O error";
    case ErrorKind::OutOfMemory: return "out of memory";
    case ErrorKind::CudaError: return "CUDA error";
    case ErrorKind::NotCompiled: return "not compiled";
    case ErrorKind::NoDevice: return "no device";
    case ErrorKind::StorageError: return "storage error";
  }
  return "unknown error";
}

Error::Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}

static std::string locate(const std::string& file, std::int64_t line, const std::string& what) {
  return line > 0 ? file + ":" + std::to_string(line) + ": " + what : file + ": " + what;
}

ParseError::ParseError(std::string file, std::int64_t line, const std::string& what)
    : Error(ErrorKind::ParseError, locate(file, line, what)), file_(std::move(file)), line_(line) {}

}  // namespace shrink
