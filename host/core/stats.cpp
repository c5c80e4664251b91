#include "shrink/stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "shrink/error.hpp"

namespace shrink {

MagnitudeHistogram magnitude_histogram(std::span<const double> values, int bins) {
  if (bins < 1) throw InvalidArgument("histogram bins must be >= 1, got " + std::to_string(bins));
  double lo = std::numeric_limits<double>::infinity(), hi = 0;
  for (double c : values)
    if (c != 0) {
      lo = std::min(lo, std::abs(c));
      hi = std::max(hi, std::abs(c));
    }
  MagnitudeHistogram h;
  h.counts.assign(static_cast<std::size_t>(bins), 0);
  if (hi == 0) {
    h.edges.assign(static_cast<std::size_t>(bins) + 1, 0.0);
    return h;
  }
  const double a = std::log10(lo), b = std::log10(hi);
  for (int k = 0; k <= bins; ++k) h.edges.push_back(std::pow(10.0, a + (b - a) * k / bins));
  for (double c : values) {
    if (c == 0) continue;
    const int k = b > a ? static_cast<int>((std::log10(std::abs(c)) - a) / (b - a) * bins) : bins - 1;
    h.counts[static_cast<std::size_t>(std::clamp(k, 0, bins - 1))]++;
  }
  return h;
}

}  // namespace shrink
