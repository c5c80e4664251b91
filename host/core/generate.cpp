#include "kernels/ops/instantiate.hpp"
#include "shrink/generate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "host/core/validate.hpp"

namespace shrink {

namespace {

// splitmix64: a counter-based generator, so row r's stream does not depend on other rows.
struct SplitMix {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  index_t below(index_t n) { return static_cast<index_t>(next() % static_cast<std::uint64_t>(n)); }
};

std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Row r's stream starts at a hashed state: seeding with seed + r * increment would make row r+1's
// stream row r's shifted by one draw, and neighbouring rows would pick the same columns.
SplitMix stream_for(std::uint64_t seed, std::uint64_t row) {
  return SplitMix{mix64(mix64(seed) + mix64(row + 0x632be59bd9b4e019ULL))};
}

template <class V>
V value_from(SplitMix& s) {
  return static_cast<V>(2.0 * s.uniform() - 1.0);
}

// Distinct sorted columns: sampling with rejection for short rows, selection sampling for long ones.
void pick_columns(SplitMix& s, index_t cols, index_t count, std::vector<index_t>& out) {
  out.clear();
  if (count >= cols) {
    out.resize(static_cast<std::size_t>(cols));
    std::iota(out.begin(), out.end(), index_t(0));
    return;
  }
  if (count * 8 < cols) {
    while (static_cast<index_t>(out.size()) < count) {
      out.push_back(s.below(cols));
      if (static_cast<index_t>(out.size()) == count) {
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
      }
    }
    return;
  }
  index_t needed = count;
  for (index_t c = 0; c < cols && needed > 0; ++c)
    if (s.uniform() * static_cast<double>(cols - c) < static_cast<double>(needed)) {
      out.push_back(c);
      --needed;
    }
}

template <class V, class I, class Lengths, class Fill>
CsrMatrix<V, I> build(index_t rows, index_t cols, Lengths length_of, Fill fill) {
  detail::check_fits_index<I>(rows, "rows");
  detail::check_fits_index<I>(cols, "cols");
  std::vector<index_t> len(static_cast<std::size_t>(rows));
#pragma omp parallel for schedule(static)
  for (index_t r = 0; r < rows; ++r) len[r] = length_of(r);
  Array<I> row_ptr(static_cast<std::size_t>(rows) + 1);
  index_t total = 0;
  for (index_t r = 0; r < rows; ++r) {
    total += len[r];
    row_ptr[r + 1] = static_cast<I>(total);  // checked below before the matrix is used
  }
  detail::check_fits_index<I>(total, "nnz");
  Array<I> col_idx(static_cast<std::size_t>(total));
  Array<V> values(static_cast<std::size_t>(total));
#pragma omp parallel
  {
    std::vector<index_t> picked;
#pragma omp for schedule(dynamic, 256)
    for (index_t r = 0; r < rows; ++r) fill(r, row_ptr[r], len[r], picked, col_idx.data(), values.data());
  }
  return CsrMatrix<V, I>::adopt(rows, cols, std::move(row_ptr), std::move(col_idx), std::move(values));
}

// Rows of `wanted(r)` distinct random columns. Lengths are drawn first (pick_columns may return
// fewer when duplicates collapse), so the fill pass knows where each row goes; both passes draw
// from the row's own stream and so pick the same columns.
template <class V, class I, class Wanted>
CsrMatrix<V, I> build_sampled(index_t rows, index_t cols, std::uint64_t seed, Wanted wanted) {
  auto draw = [=](index_t r, std::vector<index_t>& picked) {
    SplitMix s = stream_for(seed, static_cast<std::uint64_t>(r));
    pick_columns(s, cols, wanted(r), picked);
    return s;
  };
  return build<V, I>(
      rows, cols,
      [=](index_t r) {
        std::vector<index_t> picked;
        draw(r, picked);
        return static_cast<index_t>(picked.size());
      },
      [=](index_t r, index_t at, index_t, std::vector<index_t>& picked, I* ci, V* vals) {
        SplitMix s = draw(r, picked);
        for (index_t c : picked) {
          ci[at] = static_cast<I>(c);
          vals[at++] = value_from<V>(s);
        }
      });
}

}  // namespace

template <class V, class I>
CsrMatrix<V, I> generate_banded(index_t n, index_t half_width, std::uint64_t seed) {
  if (n < 0 || half_width < 0)
    throw InvalidArgument("generate_banded: n and half_width must be >= 0, got " + std::to_string(n) +
                          ", " + std::to_string(half_width));
  auto lo = [=](index_t r) { return std::max<index_t>(0, r - half_width); };
  auto hi = [=](index_t r) { return std::min<index_t>(n - 1, r + half_width); };
  return build<V, I>(
      n, n, [=](index_t r) { return hi(r) - lo(r) + 1; },
      [=](index_t r, index_t at, index_t, std::vector<index_t>&, I* ci, V* vals) {
        SplitMix s = stream_for(seed, static_cast<std::uint64_t>(r));
        for (index_t c = lo(r); c <= hi(r); ++c, ++at) {
          ci[at] = static_cast<I>(c);
          vals[at] = value_from<V>(s);
        }
      });
}

template <class V, class I>
CsrMatrix<V, I> generate_uniform(index_t rows, index_t cols, index_t per_row, std::uint64_t seed) {
  if (rows < 0 || cols < 0 || per_row < 0)
    throw InvalidArgument("generate_uniform: sizes must be >= 0");
  return build_sampled<V, I>(rows, cols, seed, [=](index_t) { return std::min(per_row, cols); });
}

template <class V, class I>
CsrMatrix<V, I> generate_power_law(index_t rows, index_t cols, double mean_per_row, double exponent,
                                   std::uint64_t seed) {
  if (rows < 0 || cols < 0 || !(mean_per_row > 0) || !(exponent > 1))
    throw InvalidArgument("generate_power_law: need rows, cols >= 0, mean_per_row > 0 and exponent > 1");
  const double scale = mean_per_row * (exponent - 1.0) / exponent;  // Pareto x_m for that mean
  auto length = [=](index_t r) {
    SplitMix s = stream_for(seed ^ 0x5bd1e995ULL, static_cast<std::uint64_t>(r));
    const double u = 1.0 - s.uniform();  // (0, 1]
    const double x = scale * std::pow(u, -1.0 / exponent);
    return static_cast<index_t>(std::min(static_cast<double>(cols), x));
  };
  return build_sampled<V, I>(rows, cols, seed, length);
}

template <class V>
Array<V> generate_vector(index_t n, std::uint64_t seed) {
  Array<V> v(static_cast<std::size_t>(n));
#pragma omp parallel for schedule(static)
  for (index_t i = 0; i < n; ++i) {
    SplitMix s = stream_for(seed ^ 0xabcdefULL, static_cast<std::uint64_t>(i));
    v[static_cast<std::size_t>(i)] = value_from<V>(s);
  }
  return v;
}

#define SHRINK_INSTANTIATE(V, I)                                                                  \
  template CsrMatrix<V, I> generate_banded<V, I>(index_t, index_t, std::uint64_t);                \
  template CsrMatrix<V, I> generate_uniform<V, I>(index_t, index_t, index_t, std::uint64_t);      \
  template CsrMatrix<V, I> generate_power_law<V, I>(index_t, index_t, double, double, std::uint64_t);
SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE)
#undef SHRINK_INSTANTIATE
template Array<float> generate_vector<float>(index_t, std::uint64_t);
template Array<double> generate_vector<double>(index_t, std::uint64_t);

}  // namespace shrink
