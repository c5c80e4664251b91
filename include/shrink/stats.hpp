// Small summaries reported next to results: magnitude histograms.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace shrink {

// Histogram of |values| over the non-zero entries: `bins` log10-spaced bins from the smallest to the
// largest magnitude. edges has bins + 1 entries (all zero when every value is zero).
struct MagnitudeHistogram {
  std::vector<double> edges;
  std::vector<std::int64_t> counts;
};
MagnitudeHistogram magnitude_histogram(std::span<const double> values, int bins = 10);

}  // namespace shrink
