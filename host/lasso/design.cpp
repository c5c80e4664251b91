// Designs: X read in place, or converted once (and counted) when its layout or format does not suit.
#include "host/lasso/design.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

#include "host/core/cpu.hpp"
#include "host/core/dispatch.hpp"
#include "host/core/validate.hpp"
#include "kernels/ops/instantiate.hpp"
#include "shrink/error.hpp"

namespace shrink::lasso_detail {

Context host_context(const Context& ctx) {
  return Context(ContextOptions{Backend::Cpu, 0, ctx.cpu_threads(), ctx.deterministic(), false});
}

namespace {

template <class T>
std::shared_ptr<const void> keep(T&& storage) {
  return std::make_shared<std::decay_t<T>>(std::forward<T>(storage));
}

// NaN/Inf anywhere in X's values: on the host the first one is named, on a device they are counted.
template <class V>
void check_values(const Context& ctx, const V* values, index_t count, MemorySpace space, const char* what) {
  if (space == MemorySpace::Host) {
    detail::check_finite(values, count, what);
    return;
  }
  detail::check_space(space, ctx, what);
  const index_t bad = dispatch::count_nonfinite<V>(ctx, VectorView<const V>(values, count, space));
  if (bad > 0)
    throw NonFinite(std::string(what) + " holds " + std::to_string(bad) + " NaN/Inf values; only finite values are accepted");
}

template <class V, class I>
void set_transposed(Design<V>& d, const CsrView<V, I>& xt) {
  if constexpr (std::is_same_v<I, std::int64_t>) {
    d.wide_index = true;
    d.xt64 = xt;
  } else {
    d.xt32 = xt;
  }
}

}  // namespace

bool fits_memory(double bytes) {
  try {
    check_memory(bytes, "");
    return true;
  } catch (const OutOfMemory&) {
    return false;
  }
}

template <class V>
void group_columns(Design<V>& x) {
  x.groups.reset();
  if (!x.sparse || x.space != MemorySpace::Host || x.n > std::numeric_limits<std::int32_t>::max()) return;
  x.with_transposed([&](const auto& xt) {
    // Which columns qualify, and their entries, before anything is allocated.
    std::int64_t grouped_entries = 0;
    std::vector<char> grouped(static_cast<std::size_t>(x.p), 0);
    std::vector<double> seen;
    for (index_t j = 0; j < x.p; ++j) {
      seen.clear();
      bool few = true;
      for (auto k = xt.row_ptr[j]; k < xt.row_ptr[j + 1] && few; ++k) {
        const auto v = static_cast<double>(xt.values[k]);
        if (std::find(seen.begin(), seen.end(), v) != seen.end()) continue;
        if (static_cast<int>(seen.size()) == ColumnGroups::kMaxValues) few = false;
        else seen.push_back(v);
      }
      if (few && xt.row_ptr[j + 1] > xt.row_ptr[j]) {
        grouped[static_cast<std::size_t>(j)] = 1;
        grouped_entries += static_cast<std::int64_t>(xt.row_ptr[j + 1] - xt.row_ptr[j]);
      }
    }
    // The grouped copy of the rows costs 4 bytes an entry: only where most entries gain from it.
    if (2 * grouped_entries < static_cast<std::int64_t>(xt.nnz)) return;
    if (!fits_memory(4.0 * static_cast<double>(xt.nnz) + 8.0 * static_cast<double>(x.p))) return;
    auto cg = std::make_shared<ColumnGroups>();
    cg->rows.resize(static_cast<std::size_t>(xt.nnz));
    cg->first.assign(static_cast<std::size_t>(x.p) + 1, 0);
    for (index_t j = 0; j < x.p; ++j) {
      cg->first[static_cast<std::size_t>(j)] = static_cast<std::int64_t>(cg->value.size());
      if (!grouped[static_cast<std::size_t>(j)]) continue;
      const auto begin = static_cast<std::int64_t>(xt.row_ptr[j]), stop = static_cast<std::int64_t>(xt.row_ptr[j + 1]);
      seen.clear();
      for (auto k = begin; k < stop; ++k) {
        const auto v = static_cast<double>(xt.values[k]);
        if (std::find(seen.begin(), seen.end(), v) == seen.end()) seen.push_back(v);
      }
      auto at = begin;
      for (const double v : seen) {  // in order of first appearance; rows ascending within a group
        for (auto k = begin; k < stop; ++k)
          if (static_cast<double>(xt.values[k]) == v) cg->rows[static_cast<std::size_t>(at++)] = static_cast<std::int32_t>(xt.col_idx[k]);
        cg->value.push_back(v);
        cg->end.push_back(at);
      }
    }
    cg->first[static_cast<std::size_t>(x.p)] = static_cast<std::int64_t>(cg->value.size());
    cg->entries = grouped_entries;
    x.groups = std::move(cg);
  });
}

template <class V>
Design<V> make_design(const Context& ctx, DenseView<const V> x) {
  Design<V> d;
  d.n = x.rows;
  d.p = x.cols;
  d.space = x.space;
  const index_t count = detail::checked_product(x.rows, x.cols, "X");
  if (x.space != MemorySpace::Host) detail::check_space(x.space, ctx, "X");
  if (x.layout == Layout::ColMajor && (x.ld >= x.rows || x.cols <= 1)) {
    d.dense = x;
    if (x.ld == x.rows || x.cols <= 1) check_values(ctx, x.data, count, x.space, "X");
    else if (x.space == MemorySpace::Host) detail::check_finite(x, "X");
    else for (index_t j = 0; j < x.cols; ++j) check_values(ctx, x.data + j * x.ld, x.rows, x.space, "X");
    return d;
  }
  // Row-major: one column-major copy, made where X lives.
  DenseMatrix<V> cm(ctx, x.rows, x.cols, Layout::ColMajor, x.space);
  if (x.space == MemorySpace::Host) {
    detail::check_finite(x, "X");
    V* out = cm.data();
    for (index_t i = 0; i < x.rows; ++i)
      for (index_t j = 0; j < x.cols; ++j) out[j * x.rows + i] = x(i, j);
    ++ctx.count_transfers().input_host_copies;
  } else {
    SHRINK_DISPATCH(ctx, copy_dense, ctx, x, cm.view());
    check_values(ctx, cm.data(), count, x.space, "X");
    ++ctx.count_transfers().input_device_copies;
  }
  d.dense = DenseView<const V>(cm.view());
  d.owned = keep(std::move(cm));
  return d;
}

template <class V, class I>
Design<V> make_design(const Context& ctx, const CscView<V, I>& x) {
  Design<V> d;
  d.n = x.rows;
  d.p = x.cols;
  d.space = x.space;
  d.sparse = true;
  if (x.space == MemorySpace::Host) validate(x.transposed(), "X (CSC)");
  else check_values(ctx, x.values, x.nnz, x.space, "X values");
  set_transposed(d, x.transposed());
  group_columns(d);
  return d;
}

namespace {

// A sparse design that owns X^T (the result of a conversion).
template <class V, class I>
Design<V> owning_sparse(index_t n, index_t p, MemorySpace space, CsrMatrix<V, I>&& xt) {
  Design<V> d;
  d.n = n;
  d.p = p;
  d.space = space;
  d.sparse = true;
  set_transposed(d, xt.view());
  d.owned = keep(std::move(xt));
  group_columns(d);
  return d;
}

}  // namespace

template <class V, class I>
Design<V> make_design(const Context& ctx, const CsrView<V, I>& x) {
  // The CSC of X is the CSR of X^T: one transpose, where X lives.
  if (x.space != MemorySpace::Host) {
    detail::check_space(x.space, ctx, "X");
    check_values(ctx, x.values, x.nnz, x.space, "X values");
    ++ctx.count_transfers().input_device_copies;
    return owning_sparse(x.rows, x.cols, x.space, dispatch::transpose(ctx, x));
  }
  validate(x, "X");
  auto xt = dispatch::transpose(host_context(ctx), x);
  ++ctx.count_transfers().input_host_copies;
  if constexpr (std::is_same_v<I, std::int64_t>) {
    // The conversion is a copy anyway: 32-bit indices where they fit halve the index traffic of
    // every coordinate-descent sweep.
    if (xt.nnz() <= std::numeric_limits<std::int32_t>::max() && x.rows <= std::numeric_limits<std::int32_t>::max()) {
      auto narrow = [](const Array<std::int64_t>& a) {
        return Array<std::int32_t>::from_vector(std::vector<std::int32_t>(a.data(), a.data() + a.size()));
      };
      return owning_sparse(x.rows, x.cols, MemorySpace::Host,
                           CsrMatrix<V, std::int32_t>::adopt(xt.rows(), xt.cols(), narrow(xt.row_ptr()),
                                                             narrow(xt.col_idx()), std::move(xt.values())));
    }
  }
  return owning_sparse(x.rows, x.cols, MemorySpace::Host, std::move(xt));
}

namespace {

// x copied into `space` (host or the context's device), dense columns packed (ld = n).
template <class V>
Design<V> copy_design(const Context& ctx, const Design<V>& x, MemorySpace space) {
  Design<V> d = x;
  d.space = space;
  d.groups.reset();
  if (!x.sparse) {
    DenseMatrix<V> m(ctx, x.n, x.p, Layout::ColMajor, space);
    const auto column = sizeof(V) * static_cast<std::size_t>(x.n);
    if (x.dense.ld == x.n || x.p <= 1)
      detail::copy_bytes(&ctx, m.data(), space, x.dense.data, x.space, column * static_cast<std::size_t>(x.p));
    else
      for (index_t j = 0; j < x.p; ++j)
        detail::copy_bytes(&ctx, m.data() + j * x.n, space, x.dense.data + j * x.dense.ld, x.space, column);
    d.dense = DenseView<const V>(m.view());
    d.owned = keep(std::move(m));
    return d;
  }
  x.with_transposed([&](const auto& xt) {
    using I = std::remove_cv_t<std::remove_pointer_t<decltype(xt.row_ptr)>>;
    auto copy = [&](const auto* src, index_t count) {
      using T = std::remove_cv_t<std::remove_pointer_t<decltype(src)>>;
      Array<T> a(ctx, static_cast<std::size_t>(count), space);
      detail::copy_bytes(&ctx, a.data(), space, src, x.space, sizeof(T) * static_cast<std::size_t>(count));
      return a;
    };
    auto m = CsrMatrix<V, I>::adopt(xt.rows, xt.cols, copy(xt.row_ptr, xt.rows + 1), copy(xt.col_idx, xt.nnz),
                                    copy(xt.values, xt.nnz));
    set_transposed(d, m.view());
    d.owned = keep(std::move(m));
  });
  return d;
}

}  // namespace

template <class V>
std::vector<std::int64_t> mostly_zero_columns(const Design<V>& x) {
  if (x.sparse || x.space != MemorySpace::Host) return {};
  const double limit = kSparseDensity * static_cast<double>(x.n) * static_cast<double>(x.p);
  auto count = [&](index_t j) {
    const V* col = x.dense.data + j * x.dense.ld;
    std::int64_t c = 0;
    for (index_t i = 0; i < x.n; ++i) c += col[i] != V(0);
    return c;
  };
  // Every 16th column first (whole columns: 1/16 of X's bytes): a dense X is told by that much.
  constexpr index_t kStride = 16;
  double sampled = 0;
  for (index_t j = 0; j < x.p; j += kStride) sampled += static_cast<double>(count(j));
  const double sample_entries = static_cast<double>((x.p + kStride - 1) / kStride) * static_cast<double>(x.n);
  if (sampled > 1.5 * kSparseDensity * sample_entries) return {};
  std::vector<std::int64_t> ends(static_cast<std::size_t>(x.p) + 1, 0);
  for (index_t j = 0; j < x.p; ++j) {
    ends[static_cast<std::size_t>(j) + 1] = ends[static_cast<std::size_t>(j)] + count(j);
    if (static_cast<double>(ends[static_cast<std::size_t>(j) + 1]) > limit) return {};
  }
  return ends;
}

template <class V>
Design<V> sparse_copy(const Context& ctx, const Design<V>& x, const std::vector<std::int64_t>& ends) {
  constexpr auto kMax = std::numeric_limits<std::int32_t>::max();
  if (ends.empty() || x.n > kMax || ends.back() > kMax) return x;
  const auto nnz = ends.back();
  if (!fits_memory(static_cast<double>(nnz) * (sizeof(V) + 2 * sizeof(std::int32_t)))) return x;
  std::vector<std::int32_t> ptr(ends.begin(), ends.end());
  std::vector<std::int32_t> idx(static_cast<std::size_t>(nnz));
  std::vector<V> val(static_cast<std::size_t>(nnz));
  std::size_t at = 0;
  for (index_t j = 0; j < x.p; ++j) {
    const V* col = x.dense.data + j * x.dense.ld;
    for (index_t i = 0; i < x.n; ++i)
      if (col[i] != V(0)) {
        idx[at] = static_cast<std::int32_t>(i);
        val[at++] = col[i];
      }
  }
  ++ctx.count_transfers().input_host_copies;
  return owning_sparse(x.n, x.p, MemorySpace::Host,
                       CsrMatrix<V, std::int32_t>::adopt(x.p, x.n, Array<std::int32_t>::from_vector(std::move(ptr)),
                                                         Array<std::int32_t>::from_vector(std::move(idx)),
                                                         Array<V>::from_vector(std::move(val))));
}

namespace {

// x's column groups for its columns moved to the positions `order` gives (X^T's new row starts in
// `ptr`): a copy, not a second look at every entry (group_columns).
template <class V, class I>
std::shared_ptr<ColumnGroups> reordered_groups(const ColumnGroups& from, const CsrView<V, I>& xt, const I* ptr,
                                               const std::vector<index_t>& order) {
  auto to = std::make_shared<ColumnGroups>();
  to->rows.resize(from.rows.size());
  to->first.assign(order.size() + 1, 0);
  to->value.reserve(from.value.size());
  to->end.reserve(from.end.size());
  for (std::size_t k = 0; k < order.size(); ++k) {
    const index_t j = order[k];
    const auto old_begin = static_cast<std::int64_t>(xt.row_ptr[j]), new_begin = static_cast<std::int64_t>(ptr[k]);
    to->first[k] = static_cast<std::int64_t>(to->value.size());
    if (from.first[static_cast<std::size_t>(j)] == from.first[static_cast<std::size_t>(j) + 1]) continue;
    std::copy(from.rows.begin() + old_begin, from.rows.begin() + static_cast<std::int64_t>(xt.row_ptr[j + 1]),
              to->rows.begin() + new_begin);
    for (auto g = from.first[static_cast<std::size_t>(j)]; g < from.first[static_cast<std::size_t>(j) + 1]; ++g) {
      to->value.push_back(from.value[static_cast<std::size_t>(g)]);
      to->end.push_back(from.end[static_cast<std::size_t>(g)] - old_begin + new_begin);
    }
  }
  to->first[order.size()] = static_cast<std::int64_t>(to->value.size());
  return to;
}

}  // namespace

template <class V>
Design<V> columns_by_count(const Context& ctx, const Design<V>& x, bool intercept, std::vector<index_t>& order) {
  order.clear();
  if (!x.sparse || x.space != MemorySpace::Host || x.p < 2) return x;
  return x.with_transposed([&](const auto& xt) -> Design<V> {
    using I = std::remove_cv_t<std::remove_pointer_t<decltype(xt.row_ptr)>>;
    const auto count = [&](index_t j) { return xt.row_ptr[j + 1] - xt.row_ptr[j]; };
    // A full column of one value is the intercept's twin, never in the model: it weighs nothing.
    std::vector<double> weight(static_cast<std::size_t>(x.p));
    double total = 0, heaviest = 0;
    for (index_t j = 0; j < x.p; ++j) {
      const auto begin = xt.row_ptr[j], end = xt.row_ptr[j + 1];
      const bool constant = intercept && count(j) == x.n &&
                            std::all_of(xt.values + begin, xt.values + end, [&](V v) { return v == xt.values[begin]; });
      weight[static_cast<std::size_t>(j)] = constant ? 0.0 : static_cast<double>(count(j));
      total += weight[static_cast<std::size_t>(j)];
      heaviest = std::max(heaviest, weight[static_cast<std::size_t>(j)]);
    }
    if (heaviest < kHeavyColumn * total / static_cast<double>(x.p)) return x;
    std::vector<index_t> by_count(static_cast<std::size_t>(x.p));
    std::iota(by_count.begin(), by_count.end(), index_t{0});
    std::stable_sort(by_count.begin(), by_count.end(),
                     [&](index_t a, index_t b) { return weight[static_cast<std::size_t>(a)] < weight[static_cast<std::size_t>(b)]; });
    if (std::is_sorted(by_count.begin(), by_count.end()) ||
        !fits_memory(static_cast<double>(xt.nnz) * (sizeof(V) + sizeof(I)) + 8.0 * static_cast<double>(x.p)))
      return x;
    // Written in place (Arrays on 2 MiB pages): the copy is an O(nnz) pass, and on a VM each 4 KiB
    // page a std::vector touches first costs as much as copying it.
    Array<I> ptr(static_cast<std::size_t>(x.p) + 1), idx(static_cast<std::size_t>(xt.nnz));
    Array<V> val(static_cast<std::size_t>(xt.nnz));
    for (index_t k = 0; k < x.p; ++k) {
      const index_t j = by_count[static_cast<std::size_t>(k)];
      const auto at = ptr[static_cast<std::size_t>(k)];
      std::copy(xt.col_idx + xt.row_ptr[j], xt.col_idx + xt.row_ptr[j + 1], idx.data() + at);
      std::copy(xt.values + xt.row_ptr[j], xt.values + xt.row_ptr[j + 1], val.data() + at);
      ptr[static_cast<std::size_t>(k) + 1] = at + count(j);
    }
    Design<V> d;
    d.n = x.n;
    d.p = x.p;
    d.sparse = true;
    if (x.groups) d.groups = reordered_groups(*x.groups, xt, ptr.data(), by_count);
    auto m = CsrMatrix<V, I>::adopt(x.p, x.n, std::move(ptr), std::move(idx), std::move(val));
    set_transposed(d, m.view());
    d.owned = keep(std::move(m));
    ++ctx.count_transfers().input_host_copies;
    order = std::move(by_count);
    return d;
  });
}

namespace {

// The sparse form of centered_if_offset. A column far from zero holds more than 99% non-zeros
// (sparse_column_far_from_zero), so storing it whole and centered costs at most 1% more of its
// entries; the other columns are copied as they are.
template <class V>
Design<V> centered_sparse_if_offset(const Context& ctx, const Design<V>& x) {
  const index_t n = x.n, p = x.p;
  return x.with_transposed([&](const auto& xt) -> Design<V> {
    using I = std::remove_cv_t<std::remove_pointer_t<decltype(xt.row_ptr)>>;
    std::vector<double> mean(static_cast<std::size_t>(p), 0.0);
    std::vector<char> offset(static_cast<std::size_t>(p), 0);
    std::int64_t entries = 0;
    bool any = false;
    for (index_t j = 0; j < p; ++j) {
      if (sparse_column_far_from_zero(xt, j, n, mean[j])) {
        offset[j] = 1;
        any = true;
        entries += n;
      } else {
        entries += static_cast<std::int64_t>(xt.row_ptr[j + 1] - xt.row_ptr[j]);
      }
    }
    if (!any || entries > static_cast<std::int64_t>(std::numeric_limits<I>::max()) ||
        !fits_memory(static_cast<double>(entries) * (sizeof(V) + sizeof(I)))) return x;
    std::vector<I> ptr(static_cast<std::size_t>(p) + 1, 0), idx;
    std::vector<V> val;
    idx.reserve(static_cast<std::size_t>(entries));
    val.reserve(static_cast<std::size_t>(entries));
    std::vector<double> whole(static_cast<std::size_t>(n));
    for (index_t j = 0; j < p; ++j) {
      const auto begin = xt.row_ptr[j], end = xt.row_ptr[j + 1];
      if (offset[j]) {
        std::fill(whole.begin(), whole.end(), -mean[j]);
        for (auto k = begin; k < end; ++k) whole[xt.col_idx[k]] = static_cast<double>(xt.values[k]) - mean[j];
        for (index_t i = 0; i < n; ++i) {
          idx.push_back(static_cast<I>(i));
          val.push_back(static_cast<V>(whole[i]));
        }
      } else {
        idx.insert(idx.end(), xt.col_idx + begin, xt.col_idx + end);
        val.insert(val.end(), xt.values + begin, xt.values + end);
      }
      ptr[static_cast<std::size_t>(j) + 1] = static_cast<I>(idx.size());
    }
    ++ctx.count_transfers().input_host_copies;
    Design<V> d = owning_sparse(n, p, MemorySpace::Host,
                                CsrMatrix<V, I>::adopt(p, n, Array<I>::from_vector(std::move(ptr)),
                                                       Array<I>::from_vector(std::move(idx)),
                                                       Array<V>::from_vector(std::move(val))));
    d.shift = std::move(mean);
    return d;
  });
}

}  // namespace

template <class V>
Design<V> centered_if_offset(const Context& ctx, const Design<V>& x) {
  if (x.space != MemorySpace::Host || x.n < 2) return x;
  if (x.sparse) return centered_sparse_if_offset(ctx, x);
  const index_t n = x.n, p = x.p;
  std::vector<double> mean(static_cast<std::size_t>(p));
  bool offset = false;
#pragma omp parallel for schedule(static) reduction(|| : offset)
  for (index_t j = 0; j < p; ++j) {
    const V* col = x.dense.data + j * x.dense.ld;
    double s = 0;
    for (index_t i = 0; i < n; ++i) s += static_cast<double>(col[i]);
    const double mu = s / static_cast<double>(n);
    double dev = 0;
    for (index_t i = 0; i < n; ++i) dev += (static_cast<double>(col[i]) - mu) * (static_cast<double>(col[i]) - mu);
    mean[j] = mu;
    offset = offset || far_from_zero(mu, dev / static_cast<double>(n));
  }
  if (!offset || !fits_memory(static_cast<double>(n) * static_cast<double>(p) * sizeof(V))) return x;
  DenseMatrix<V> centered(n, p, Layout::ColMajor);
#pragma omp parallel for schedule(static)
  for (index_t j = 0; j < p; ++j) {
    const V* col = x.dense.data + j * x.dense.ld;
    V* out = centered.data() + j * n;
    for (index_t i = 0; i < n; ++i) out[i] = static_cast<V>(static_cast<double>(col[i]) - mean[j]);
  }
  ++ctx.count_transfers().input_host_copies;
  Design<V> d = x;
  d.dense = DenseView<const V>(centered.view());
  d.owned = keep(std::move(centered));
  d.shift = std::move(mean);
  return d;
}

template <class V>
Design<V> host_copy(const Context& ctx, const Design<V>& x) {
  if (x.space == MemorySpace::Host) return x;
  ++ctx.count_transfers().input_host_copies;
  auto d = copy_design(ctx, x, MemorySpace::Host);
  group_columns(d);
  return d;
}

template <class V>
Design<V> device_copy(const Context& ctx, const Design<V>& x) {
  if (x.space != MemorySpace::Host) return x;
  if (ctx.memory_space() == MemorySpace::Host)
    throw InvalidArgument("device_copy needs a CUDA context");  // internal: the callers check
  ++ctx.count_transfers().input_device_copies;
  return copy_design(ctx, x, ctx.memory_space());
}

template <class V>
void multiply(const Context& ctx, const Design<V>& x, const V* b, V* out) {
  const auto space = x.space;
  if (!x.sparse) {
    SHRINK_DISPATCH_AT(ctx, space, gemv, ctx, Op::NoTranspose, V(1), x.dense, b, V(0), out);
    return;
  }
  x.with_transposed([&](const auto& xt) {
    if (space == MemorySpace::Host) dispatch::spmv(host_context(ctx), Op::Transpose, V(1), xt, b, V(0), out);
    else dispatch::spmv(ctx, Op::Transpose, V(1), xt, b, V(0), out);
  });
}

template <class V>
Design<V> Design<V>::row_subset(const std::vector<index_t>& rows) const {
  Design out;
  out.n = static_cast<index_t>(rows.size());
  out.p = p;
  out.sparse = sparse;
  if (!sparse) {
    DenseMatrix<V> m(out.n, p, Layout::ColMajor);
    for (index_t j = 0; j < p; ++j)
      for (index_t i = 0; i < out.n; ++i) m.data()[j * out.n + i] = dense.data[j * dense.ld + rows[i]];
    out.dense = DenseView<const V>(m.view());
    out.owned = keep(std::move(m));
    return out;
  }
  with_transposed([&](const auto& xt) {
    using I = std::remove_cv_t<std::remove_pointer_t<decltype(xt.row_ptr)>>;
    std::vector<I> new_row(static_cast<std::size_t>(n), I(-1));
    for (index_t i = 0; i < out.n; ++i) new_row[rows[i]] = static_cast<I>(i);
    std::vector<I> ptr{0}, idx;
    std::vector<V> val;
    for (index_t j = 0; j < p; ++j) {
      const std::size_t first = idx.size();
      for (auto k = xt.row_ptr[j]; k < xt.row_ptr[j + 1]; ++k)
        if (new_row[xt.col_idx[k]] >= 0) {
          idx.push_back(new_row[xt.col_idx[k]]);
          val.push_back(xt.values[k]);
        }
      // Rows may come in any order: keep each column sorted.
      std::vector<std::size_t> order(idx.size() - first);
      std::iota(order.begin(), order.end(), first);
      std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return idx[a] < idx[b]; });
      std::vector<I> ri(order.size());
      std::vector<V> va(order.size());
      for (std::size_t k = 0; k < order.size(); ++k) {
        ri[k] = idx[order[k]];
        va[k] = val[order[k]];
      }
      std::copy(ri.begin(), ri.end(), idx.begin() + static_cast<std::ptrdiff_t>(first));
      std::copy(va.begin(), va.end(), val.begin() + static_cast<std::ptrdiff_t>(first));
      ptr.push_back(static_cast<I>(idx.size()));
    }
    auto m = CsrMatrix<V, I>::adopt(p, out.n, Array<I>::from_vector(ptr), Array<I>::from_vector(idx),
                                    Array<V>::from_vector(val));
    set_transposed(out, m.view());
    out.owned = keep(std::move(m));
  });
  group_columns(out);
  return out;
}

namespace design_detail {
namespace {

template <class V>
[[gnu::always_inline]] inline double dense_dot_body(const V* col, const double* w, const double* r, index_t n) noexcept {
  double s = 0;
  if (w) {
#pragma omp simd reduction(+ : s)
    for (index_t i = 0; i < n; ++i) s += w[i] * static_cast<double>(col[i]) * r[i];
  } else {
#pragma omp simd reduction(+ : s)
    for (index_t i = 0; i < n; ++i) s += static_cast<double>(col[i]) * r[i];
  }
  return s;
}
template <class V>
[[gnu::always_inline]] inline void dense_axpy_body(const V* col, double a, double* r, index_t n) noexcept {
#pragma omp simd
  for (index_t i = 0; i < n; ++i) r[i] += a * static_cast<double>(col[i]);
}
template <class V>
__attribute__((target("avx2,fma"))) double dense_dot_avx2(const V* col, const double* w, const double* r, index_t n) noexcept {
  return dense_dot_body(col, w, r, n);
}
template <class V>
__attribute__((target("avx2,fma"))) void dense_axpy_avx2(const V* col, double a, double* r, index_t n) noexcept {
  dense_axpy_body(col, a, r, n);
}

}  // namespace

template <class V>
double dense_dot(const V* col, const double* w, const double* r, index_t n) noexcept {
  return this_cpu().avx2_fma ? dense_dot_avx2(col, w, r, n) : dense_dot_body(col, w, r, n);
}
template <class V>
void dense_axpy(const V* col, double a, double* r, index_t n) noexcept {
  if (this_cpu().avx2_fma) dense_axpy_avx2(col, a, r, n);
  else dense_axpy_body(col, a, r, n);
}

}  // namespace design_detail

#define SHRINK_INSTANTIATE_DESIGN(V)                                                   \
  template struct Design<V>;                                                           \
  template Design<V> make_design<V>(const Context&, DenseView<const V>);               \
  template void group_columns<V>(Design<V>&);                                          \
  template Design<V> host_copy<V>(const Context&, const Design<V>&);                   \
  template std::vector<std::int64_t> mostly_zero_columns<V>(const Design<V>&);         \
  template Design<V> sparse_copy<V>(const Context&, const Design<V>&, const std::vector<std::int64_t>&); \
  template Design<V> centered_if_offset<V>(const Context&, const Design<V>&);          \
  template Design<V> columns_by_count<V>(const Context&, const Design<V>&, bool, std::vector<index_t>&); \
  template Design<V> device_copy<V>(const Context&, const Design<V>&);                 \
  template void multiply<V>(const Context&, const Design<V>&, const V*, V*);
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_DESIGN)
#define SHRINK_INSTANTIATE_DENSE_READS(V)                                                          \
  template double design_detail::dense_dot<V>(const V*, const double*, const double*, index_t) noexcept; \
  template void design_detail::dense_axpy<V>(const V*, double, double*, index_t) noexcept;
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_DENSE_READS)
#define SHRINK_INSTANTIATE_DESIGN_SPARSE(V, I)                                         \
  template Design<V> make_design<V, I>(const Context&, const CsrView<V, I>&);          \
  template Design<V> make_design<V, I>(const Context&, const CscView<V, I>&);
SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE_DESIGN_SPARSE)

}  // namespace shrink::lasso_detail
