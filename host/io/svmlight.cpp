// svmlight / libsvm: "label idx:value idx:value ... [# comment]", qid:N ignored.
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>

#include "kernels/ops/instantiate.hpp"
#include "host/core/validate.hpp"
#include "host/io/mapped_file.hpp"
#include "host/io/text_scan.hpp"
#include "shrink/io.hpp"

namespace shrink {

using namespace io_detail;

template <class V, class I>
SvmlightData<V, I> parse_svmlight(std::string_view text, const std::string& name, IndexBase base,
                                  index_t n_features) {
  if (n_features < 0)
    throw InvalidArgument("n_features must be >= 0, got " + std::to_string(n_features));
  text = io_detail::without_bom(text);
  const char* p = text.data();
  const char* end = p + text.size();
  std::vector<std::int64_t> row, col;
  std::vector<V> val;
  std::vector<V> labels;
  std::int64_t line = 0, min_index = std::numeric_limits<std::int64_t>::max(), max_index = -1;
  while (p < end) {
    ++line;
    const char* e = line_end(p, end);
    const char* hash = static_cast<const char*>(std::memchr(p, '#', static_cast<std::size_t>(e - p)));
    const char* stop = hash ? hash : e;
    const char* q = skip_blanks(p, stop);
    p = e < end ? e + 1 : end;
    if (q == stop) continue;  // blank or comment-only line
    V label = 0;
    const char* at = q;
    if (!scan_real(q, stop, label)) throw ParseError(name, line, "bad label " + token_at(at, stop));
    if (!std::isfinite(label)) throw ParseError(name, line, "label " + token_at(at, stop) + " is not finite");
    const auto r = static_cast<std::int64_t>(labels.size());
    labels.push_back(label);
    std::int64_t previous = -1;
    for (q = skip_blanks(q, stop); q < stop; q = skip_blanks(q, stop)) {
      at = q;
      if (stop - q > 4 && std::string_view(q, 4) == "qid:") {
        q += 4;
        std::int64_t qid = 0;
        if (!scan_int(q, stop, qid)) throw ParseError(name, line, "bad qid " + token_at(at, stop));
        continue;
      }
      std::int64_t idx = 0;
      auto [ptr, ec] = std::from_chars(q, stop, idx);
      if (ec != std::errc() || ptr == q || ptr >= stop || *ptr != ':')
        throw ParseError(name, line, "expected index:value, got " + token_at(at, stop));
      q = ptr + 1;
      V v = 0;
      if (!scan_real(q, stop, v)) throw ParseError(name, line, "bad value in " + token_at(at, stop));
      if (!std::isfinite(v)) throw ParseError(name, line, "value in " + token_at(at, stop) + " is not finite");
      if (idx < 0) throw ParseError(name, line, "negative feature index " + std::to_string(idx));
      if (idx <= previous)
        throw ParseError(name, line, "feature indices must increase along a line (" +
                                         std::to_string(idx) + " after " + std::to_string(previous) + ")");
      previous = idx;
      min_index = std::min(min_index, idx);
      max_index = std::max(max_index, idx);
      row.push_back(r);
      col.push_back(idx);
      val.push_back(v);
    }
  }
  bool zero_based = base == IndexBase::Zero || (base == IndexBase::Auto && min_index == 0);
  if (base == IndexBase::One && min_index == 0)
    throw ParseError(name, 0, "feature index 0 in a file read as one-based");
  const std::int64_t shift = zero_based ? 0 : 1;
  const std::int64_t needed = max_index < 0 ? 0 : max_index - shift + 1;
  if (n_features > 0 && needed > n_features)
    throw ParseError(name, 0, "feature index " + std::to_string(max_index) + " needs " +
                                  std::to_string(needed) + " features but n_features = " +
                                  std::to_string(n_features));
  CooMatrix<V, I> coo;
  coo.rows = static_cast<index_t>(labels.size());
  coo.cols = n_features > 0 ? n_features : needed;
  detail::check_fits_index<I>(coo.rows, name + " samples");
  detail::check_fits_index<I>(coo.cols, name + " features");
  detail::check_fits_index<I>(static_cast<index_t>(val.size()), name + " nnz");
  coo.row.assign(row.begin(), row.end());
  coo.col.resize(col.size());
  for (std::size_t k = 0; k < col.size(); ++k) coo.col[k] = static_cast<I>(col[k] - shift);
  coo.val = std::move(val);
  SvmlightData<V, I> out;
  out.features = coo_to_csr(coo);
  out.labels = std::move(labels);
  out.zero_based = zero_based;
  return out;
}

template <class V, class I>
SvmlightData<V, I> read_svmlight(const std::string& path, IndexBase base, index_t n_features) {
  const io_detail::MappedFile file(path);
  return parse_svmlight<V, I>(file.view(), path, base, n_features);
}

template <class V, class I>
void write_svmlight(const std::string& path, const CsrMatrix<V, I>& x, const std::vector<V>& labels) {
  if (x.space() != MemorySpace::Host) throw InvalidArgument("write_svmlight: copy X to the host first");
  detail::check_vector_size(static_cast<index_t>(labels.size()), x.rows(), "labels", "X's rows");
  std::string out;
  char buf[64];
  for (index_t r = 0; r < x.rows(); ++r) {
    out.append(buf, std::to_chars(buf, buf + sizeof buf, labels[r]).ptr);
    for (I k = x.row_ptr()[r]; k < x.row_ptr()[r + 1]; ++k) {
      out += ' ';
      out.append(buf, std::to_chars(buf, buf + sizeof buf, static_cast<std::int64_t>(x.col_idx()[k]) + 1).ptr);
      out += ':';
      out.append(buf, std::to_chars(buf, buf + sizeof buf, x.values()[k]).ptr);
    }
    out += '\n';
  }
  write_file_atomic(path, out);
}

#define SHRINK_INSTANTIATE(V, I)                                                                   \
  template SvmlightData<V, I> parse_svmlight<V, I>(std::string_view, const std::string&, IndexBase, \
                                                   index_t);                                        \
  template SvmlightData<V, I> read_svmlight<V, I>(const std::string&, IndexBase, index_t);          \
  template void write_svmlight<V, I>(const std::string&, const CsrMatrix<V, I>&, const std::vector<V>&);
SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE)
#undef SHRINK_INSTANTIATE

}  // namespace shrink
