// The .npy framing shared by the .npy and .npz writers: magic, version 1.0, header length and the
// header dictionary, padded so the data starts on a 64-byte boundary (NumPy's format, version 1.0).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include "shrink/matrix.hpp"

namespace shrink::io_detail {

// descr: NumPy's dtype string ("<f8", "|S3"); shape: a Python tuple ("(3, 4)", "(5,)", "()").
inline std::string npy_header(std::string_view descr, bool fortran_order, std::string_view shape) {
  std::string header = "{'descr': '" + std::string(descr) + "', 'fortran_order': " +
                       (fortran_order ? "True" : "False") + ", 'shape': " + std::string(shape) + ", }";
  const std::size_t total = 10 + header.size() + 1;  // magic, version, length, header, newline
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);  // little-endian uint16
  out += static_cast<char>((header.size() >> 8) & 0xff);
  out += header;
  return out;
}

// A .npy file's header, checked against the file's size: the dtype ("<f8"), the order, the shape
// (1-D: rows x 1) and where the data starts. ParseError naming the file otherwise.
struct NpyLayout {
  std::string descr;
  bool fortran = false;
  std::size_t dims = 2;
  index_t rows = 0, cols = 0;
  std::size_t item = 0, data_at = 0;
};
NpyLayout npy_layout(std::string_view bytes, const std::string& name);

// Part `part` of `parts` of the rows of a scipy.sparse CSR .npz (`name` for messages): only `indptr`
// is read whole; `indices` and `data` are read over the part's stretch (a deflated member is inflated
// in one pass that keeps that stretch and checks the CRC). Sets `first` to the part's first row.
// False when the archive holds another format (CSC, COO), which the caller reads whole.
bool npz_csr_part(std::string_view bytes, const std::string& name, int part, int parts, index_t& first,
                  CsrMatrix<double, std::int64_t>& out);

}  // namespace shrink::io_detail
