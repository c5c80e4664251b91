// Block magnitude pruning (per layer and global), its report, and the gradual sparsity schedule.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>
#include <string>

#include "kernels/ops/instantiate.hpp"
#include "host/core/validate.hpp"
#include "host/io/text_scan.hpp"
#include "host/nn/nn_detail.hpp"
#include "shrink/nn.hpp"

namespace shrink {

namespace {

// Accumulates one entry into a block score.
struct NormAccumulator {
  BlockNorm norm;
  double acc = 0;
  void add(double v) {
    const double a = std::abs(v);
    if (norm == BlockNorm::L1) acc += a;
    else if (norm == BlockNorm::L2) acc += a * a;
    else acc = std::max(acc, a);
  }
  double value() const { return norm == BlockNorm::L2 ? std::sqrt(acc) : acc; }
};

}  // namespace

// ---- names ------------------------------------------------------------------------------------------
void check_block_shape(const BlockShape& block, std::string_view what) {
  if (block.rows < 1 || block.cols < 1 || block.rows > kMaxBlockSide || block.cols > kMaxBlockSide)
    throw InvalidArgument(std::string(what) + " " + std::to_string(block.rows) + "x" +
                          std::to_string(block.cols) + " is out of range; each side must be in [1, " +
                          std::to_string(kMaxBlockSide) + "]");
}

BlockShape parse_block_shape(std::string_view text) {
  const std::string_view s = text;
  auto bad = [&]() {
    return InvalidArgument("block size '" + std::string(text) + "' is malformed; expected RxC such as 32x32, "
                           "with 1 <= R, C <= " + std::to_string(kMaxBlockSide));
  };
  const auto x = s.find_first_of("xX");
  auto number = [&](std::string_view part) {
    long long v = 0;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (part.empty() || ec != std::errc() || end != part.data() + part.size()) throw bad();
    return static_cast<index_t>(v);
  };
  BlockShape b;
  if (x == std::string_view::npos) {
    b.rows = b.cols = number(s);
  } else {
    b.rows = number(s.substr(0, x));
    b.cols = number(s.substr(x + 1));
  }
  if (b.rows < 1 || b.cols < 1 || b.rows > kMaxBlockSide || b.cols > kMaxBlockSide) throw bad();
  return b;
}

const char* to_string(BlockNorm norm) noexcept {
  switch (norm) {
    case BlockNorm::L1: return "l1";
    case BlockNorm::L2: return "l2";
    case BlockNorm::Max: return "max";
  }
  return "?";
}

BlockNorm parse_block_norm(std::string_view text) {
  using io_detail::iequals;
  if (iequals(text, "l1")) return BlockNorm::L1;
  if (iequals(text, "l2")) return BlockNorm::L2;
  if (iequals(text, "max") || iequals(text, "linf")) return BlockNorm::Max;
  throw InvalidArgument("block norm '" + std::string(text) + "' is not one of l1, l2, max");
}

// ---- norms ------------------------------------------------------------------------------------------
template <class V>
std::vector<double> block_norms(DenseView<const V> w, BlockShape block, BlockNorm norm) {
  if (w.space != MemorySpace::Host) throw InvalidArgument("block_norms: W is in device memory");
  check_block_shape(block);
  const index_t gr = (w.rows + block.rows - 1) / block.rows, gc = (w.cols + block.cols - 1) / block.cols;
  std::vector<NormAccumulator> acc(static_cast<std::size_t>(gr * gc), NormAccumulator{norm});
  for (index_t r = 0; r < w.rows; ++r)
    for (index_t c = 0; c < w.cols; ++c) acc[(r / block.rows) * gc + c / block.cols].add(w(r, c));
  std::vector<double> out(acc.size());
  for (std::size_t k = 0; k < acc.size(); ++k) out[k] = acc[k].value();
  return out;
}

template <class V, class I>
std::vector<double> block_norms(const BsrMatrix<V, I>& w, BlockNorm norm) {
  if (w.space() != MemorySpace::Host) throw InvalidArgument("block_norms: W is in device memory");
  const index_t bs = w.block_height() * w.block_width();
  std::vector<double> out(static_cast<std::size_t>(w.nnzb()));
  for (index_t k = 0; k < w.nnzb(); ++k) {  // padding is zero, so it never changes a norm
    NormAccumulator a{norm};
    for (index_t e = 0; e < bs; ++e) a.add(w.values()[k * bs + e]);
    out[k] = a.value();
  }
  return out;
}

// ---- pruning ----------------------------------------------------------------------------------------
void nn_detail::check_sparsity(double sparsity, const std::string& what) {
  if (!(sparsity >= 0.0 && sparsity <= 1.0))
    throw InvalidArgument(what + " " + std::to_string(sparsity) + " is outside [0, 1]");
}

index_t blocks_to_keep(index_t total, double sparsity) {
  nn_detail::check_sparsity(sparsity, "sparsity");
  const auto removed = static_cast<index_t>(std::llround(sparsity * static_cast<double>(total)));
  return std::clamp<index_t>(total - removed, 0, total);
}

std::vector<index_t> nn_detail::top_blocks(const std::vector<double>& scores, index_t keep) {
  std::vector<index_t> order(scores.size());
  std::iota(order.begin(), order.end(), index_t{0});
  // Largest first; equal scores keep the lower index first. Total order, so deterministic.
  std::stable_sort(order.begin(), order.end(), [&](index_t a, index_t b) { return scores[a] > scores[b]; });
  order.resize(static_cast<std::size_t>(keep));
  std::sort(order.begin(), order.end());
  return order;
}

std::vector<std::vector<index_t>> nn_detail::top_blocks_across(const std::vector<std::vector<double>>& scores,
                                                              index_t keep) {
  // Concatenated in layer order, so index order breaks ties by layer, then by position.
  std::vector<double> all;
  std::vector<index_t> first{0};
  for (const auto& layer : scores) {
    all.insert(all.end(), layer.begin(), layer.end());
    first.push_back(static_cast<index_t>(all.size()));
  }
  const auto kept = top_blocks(all, std::min(keep, static_cast<index_t>(all.size())));
  std::vector<std::vector<index_t>> out(scores.size());
  std::size_t q = 0;
  for (std::size_t l = 0; l < scores.size(); ++l)
    for (; q < kept.size() && kept[q] < first[l + 1]; ++q) out[l].push_back(kept[q] - first[l]);
  return out;
}

template <class V, class I>
PruneReport prune_report(DenseView<const V> original, const BsrMatrix<V, I>& pruned, double target,
                         BlockNorm norm, int histogram_bins) {
  PruneReport r;
  r.blocks_total = pruned.block_grid_rows() * pruned.block_grid_cols();
  r.blocks_kept = pruned.nnzb();
  r.target_sparsity = target;
  r.block_sparsity = r.blocks_total ? 1.0 - double(r.blocks_kept) / double(r.blocks_total) : 0.0;
  const auto dense = bsr_to_dense(pruned);
  double diff = 0, total = 0;
  index_t zeros = 0;
  for (index_t i = 0; i < original.rows; ++i)
    for (index_t j = 0; j < original.cols; ++j) {
      const double a = original(i, j), b = dense(i, j);
      diff += (a - b) * (a - b);
      total += a * a;
      zeros += b == 0;
    }
  const index_t elements = original.rows * original.cols;
  r.element_sparsity = elements ? double(zeros) / double(elements) : 0.0;
  r.relative_frobenius_error = total > 0 ? std::sqrt(diff / total) : 0.0;
  const auto norms = block_norms(original, {pruned.block_height(), pruned.block_width()}, norm);
  r.block_norm_histogram = magnitude_histogram(norms, histogram_bins);
  return r;
}

namespace {
template <class V>
void check_weights(DenseView<const V> w, const std::string& what) {
  if (w.space != MemorySpace::Host) throw InvalidArgument(what + " is in device memory; prune on the host");
  detail::check_finite(w, what);
}
}  // namespace

template <class V, class I>
PrunedMatrix<V, I> prune_blocks(DenseView<const V> w, const PruneOptions& o) {
  check_block_shape(o.block);
  nn_detail::check_sparsity(o.sparsity, "sparsity");
  check_weights(w, "W");
  const auto norms = block_norms(w, o.block, o.norm);
  const auto kept = nn_detail::top_blocks(norms, blocks_to_keep(static_cast<index_t>(norms.size()), o.sparsity));
  PrunedMatrix<V, I> out{dense_to_bsr<V, I>(w, o.block.rows, o.block.cols, kept), {}};
  out.report = prune_report(w, out.weights, o.sparsity, o.norm, o.histogram_bins);
  return out;
}

template <class V, class I>
std::vector<PrunedMatrix<V, I>> prune_blocks_global(std::span<const DenseView<const V>> layers,
                                                    const PruneOptions& o) {
  check_block_shape(o.block);
  nn_detail::check_sparsity(o.sparsity, "sparsity");
  std::vector<std::vector<double>> scores;
  index_t total = 0;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    check_weights(layers[l], "layer " + std::to_string(l) + " W");
    scores.push_back(block_norms(layers[l], o.block, o.norm));
    total += static_cast<index_t>(scores.back().size());
  }
  const auto kept = nn_detail::top_blocks_across(scores, blocks_to_keep(total, o.sparsity));
  std::vector<PrunedMatrix<V, I>> out;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    PrunedMatrix<V, I> p{dense_to_bsr<V, I>(layers[l], o.block.rows, o.block.cols, kept[l]), {}};
    p.report = prune_report(layers[l], p.weights, o.sparsity, o.norm, o.histogram_bins);
    out.push_back(std::move(p));
  }
  return out;
}

// ---- schedule ---------------------------------------------------------------------------------------
SparsitySchedule SparsitySchedule::one_shot(double sparsity, std::int64_t step) {
  SparsitySchedule s;
  s.initial_sparsity = s.final_sparsity = sparsity;
  s.begin_step = step;
  return s;
}

void SparsitySchedule::validate() const {
  nn_detail::check_sparsity(initial_sparsity, "initial sparsity");
  nn_detail::check_sparsity(final_sparsity, "final sparsity");
  if (begin_step < 0) throw InvalidArgument("schedule begin step must be >= 0, got " + std::to_string(begin_step));
  if (prunings < 0) throw InvalidArgument("schedule prunings n must be >= 0, got " + std::to_string(prunings));
  if (interval < 1) throw InvalidArgument("schedule interval dt must be >= 1, got " + std::to_string(interval));
}

double SparsitySchedule::sparsity_at(std::int64_t t) const {
  if (t < begin_step) return initial_sparsity;
  if (prunings == 0 || t >= end_step()) return final_sparsity;
  const double frac = 1.0 - double(t - begin_step) / double(prunings * interval);
  return final_sparsity + (initial_sparsity - final_sparsity) * frac * frac * frac;
}

bool SparsitySchedule::prunes_at(std::int64_t t) const {
  return t >= begin_step && t <= end_step() && (t - begin_step) % interval == 0;
}

#define SHRINK_INSTANTIATE_V(V)                                                                     \
  template std::vector<double> block_norms<V>(DenseView<const V>, BlockShape, BlockNorm);
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_V)
#undef SHRINK_INSTANTIATE_V
#define SHRINK_INSTANTIATE_VI(V, I)                                                                 \
  template std::vector<double> block_norms<V, I>(const BsrMatrix<V, I>&, BlockNorm);                \
  template PruneReport prune_report<V, I>(DenseView<const V>, const BsrMatrix<V, I>&, double,      \
                                          BlockNorm, int);                                          \
  template PrunedMatrix<V, I> prune_blocks<V, I>(DenseView<const V>, const PruneOptions&);          \
  template std::vector<PrunedMatrix<V, I>> prune_blocks_global<V, I>(                               \
      std::span<const DenseView<const V>>, const PruneOptions&);
SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE_VI)
#undef SHRINK_INSTANTIATE_VI

}  // namespace shrink
