// The block-sparse layer: public kernels (validated, dispatched), optimizer steps, BlockSparseLinear
// and pattern changes that carry optimizer state.
#include <cmath>
#include <numeric>
#include <string>

#include "host/core/dispatch.hpp"
#include "kernels/ops/instantiate.hpp"
#include "host/core/validate.hpp"
#include "host/nn/nn_detail.hpp"
#include "shrink/nn.hpp"

namespace shrink {

using detail::check_dense;
using detail::check_space;
using detail::check_vec;

// ---- names ------------------------------------------------------------------------------------------
const char* to_string(MatmulPrecision precision) noexcept {
  switch (precision) {
    case MatmulPrecision::Strict: return "strict";
    case MatmulPrecision::Tf32: return "tf32";
    case MatmulPrecision::Bf16: return "bf16";
  }
  return "?";
}

MatmulPrecision parse_matmul_precision(std::string_view text) {
  if (text == "strict" || text == "fp32" || text == "fp64") return MatmulPrecision::Strict;
  if (text == "tf32") return MatmulPrecision::Tf32;
  if (text == "bf16") return MatmulPrecision::Bf16;
  throw InvalidArgument("matmul precision '" + std::string(text) + "' is not one of strict, tf32, bf16");
}

const char* to_string(BsrAlgorithm algorithm) noexcept {
  switch (algorithm) {
    case BsrAlgorithm::Auto: return "auto";
    case BsrAlgorithm::CusparseBsr: return "cusparse-bsr";
  }
  return "?";
}

const char* to_string(OptimizerKind kind) noexcept { return kind == OptimizerKind::Sgd ? "sgd" : "adam"; }

OptimizerKind parse_optimizer(std::string_view text) {
  if (text == "sgd") return OptimizerKind::Sgd;
  if (text == "adam") return OptimizerKind::Adam;
  throw InvalidArgument("optimizer '" + std::string(text) + "' is not one of sgd, adam");
}

void OptimizerOptions::validate() const {
  auto positive = [](double v, const char* what) {
    if (!(v > 0) || !std::isfinite(v))
      throw InvalidArgument(std::string(what) + " must be finite and > 0, got " + std::to_string(v));
  };
  auto unit = [](double v, const char* what) {
    if (!(v >= 0 && v < 1)) throw InvalidArgument(std::string(what) + " must be in [0, 1), got " + std::to_string(v));
  };
  positive(learning_rate, "learning rate");
  unit(momentum, "momentum");
  unit(beta1, "beta1");
  unit(beta2, "beta2");
  positive(epsilon, "epsilon");
  if (!(weight_decay >= 0) || !std::isfinite(weight_decay))
    throw InvalidArgument("weight decay must be finite and >= 0, got " + std::to_string(weight_decay));
}

// ---- kernels ----------------------------------------------------------------------------------------
namespace {

template <class V, class I>
void check_bsr(const Context& ctx, const BsrView<V, I>& w, const char* name) {
  check_space(w.space, ctx, name);
  check_block_shape({w.block_height, w.block_width}, std::string(name) + " block size");
  if (w.rows < 0 || w.cols < 0 || w.nnzb < 0)
    throw InvalidArgument(std::string(name) + ": negative shape " + detail::shape(w.rows, w.cols));
  detail::check_fits_index<I>(w.nnzb * w.block_size(), std::string(name) + " stored values");
}

template <class T>
void check_activations(const Context& ctx, const DenseView<T>& m, const char* name) {
  check_dense(ctx, m, name);
  if (m.layout != Layout::RowMajor)
    throw InvalidArgument(std::string(name) + " must be row-major (samples x features), got " + to_string(m.layout));
}

void check_shape(const char* what, index_t got, index_t want, const std::string& why) {
  if (got != want)
    throw DimensionMismatch(std::string(what) + " is " + std::to_string(got) + " but " + why + " needs " +
                            std::to_string(want));
}

std::string layer_shape(index_t out, index_t in) {
  return "W (" + detail::shape(out, in) + ", out x in)";
}

// A product of the layer that maps `in` (samples x in_features) to `out` (samples x out_features):
// both row-major in ctx's space, with W's sizes. Returns W's shape for later messages.
template <class V, class I, class A, class B>
std::string check_layer_product(const Context& ctx, const BsrView<V, I>& w, const DenseView<A>& in,
                                const char* in_name, index_t in_features, const DenseView<B>& out,
                                const char* out_name, index_t out_features) {
  check_bsr(ctx, w, "W");
  check_activations(ctx, in, in_name);
  check_activations(ctx, out, out_name);
  const std::string shape = layer_shape(w.rows, w.cols);
  check_shape((std::string(in_name) + " columns").c_str(), in.cols, in_features, shape);
  check_shape((std::string(out_name) + " columns").c_str(), out.cols, out_features, shape);
  check_shape((std::string(out_name) + " rows").c_str(), out.rows, in.rows,
              std::string(in_name) + " (" + std::to_string(in.rows) + " samples)");
  return shape;
}

// The public precision as the kernels name it.
kernels::Precision to_kernel(MatmulPrecision precision) {
  switch (precision) {
    case MatmulPrecision::Tf32: return kernels::Precision::Tf32;
    case MatmulPrecision::Bf16: return kernels::Precision::Bf16;
    case MatmulPrecision::Strict: break;
  }
  return kernels::Precision::Strict;
}

}  // namespace

template <class V, class I>
void bsr_linear_forward(const Context& ctx, In<DenseView<const V>> x, const BsrView<V, I>& w,
                        In<VectorView<const V>> bias, DenseView<V> y, MatmulPrecision precision,
                        BsrAlgorithm algorithm) {
  const auto shape = check_layer_product(ctx, w, x, "X", w.cols, y, "Y", w.rows);
  if (!bias.empty()) check_vec(ctx, bias, w.rows, "bias", shape);
  if (algorithm != BsrAlgorithm::Auto) {
    detail::cusparse_bsr_forward(ctx, x, w, bias.empty() ? nullptr : bias.data, y);
    return;
  }
  SHRINK_DISPATCH(ctx, bsr_forward, ctx, x, w, bias.empty() ? nullptr : bias.data, y, to_kernel(precision));
}

template <class V, class I>
void bsr_linear_backward_input(const Context& ctx, In<DenseView<const V>> dy, const BsrView<V, I>& w,
                               const BsrColumnIndex<I>& columns, DenseView<V> dx, MatmulPrecision precision) {
  const auto shape = check_layer_product(ctx, w, dy, "dY", w.rows, dx, "dX", w.cols);
  check_vec(ctx, columns.col_ptr.view(), w.block_grid_cols() + 1, "column index col_ptr", shape);
  check_vec(ctx, columns.block_row.view(), w.nnzb, "column index block_row", shape);
  check_vec(ctx, columns.block_index.view(), w.nnzb, "column index block_index", shape);
  SHRINK_DISPATCH(ctx, bsr_backward_input, ctx, dy, w, columns.col_ptr.data(), columns.block_row.data(),
                  columns.block_index.data(), dx, to_kernel(precision));
}

template <class V, class I>
void bsr_linear_weight_grad(const Context& ctx, In<DenseView<const V>> dy, In<DenseView<const V>> x,
                            const BsrView<V, I>& w, VectorView<V> grad, MatmulPrecision precision) {
  check_layer_product(ctx, w, dy, "dY", w.rows, x, "X", w.cols);
  check_vec(ctx, grad, w.nnzb * w.block_size(), "dW", "W's stored blocks");
  SHRINK_DISPATCH(ctx, bsr_weight_grad, ctx, dy, x, w, grad.data, to_kernel(precision));
}

template <class V>
void column_sums(const Context& ctx, In<DenseView<const V>> m, VectorView<V> out) {
  check_dense(ctx, m, "M");
  check_vec(ctx, out, m.cols, "out", "M's columns");
  SHRINK_DISPATCH(ctx, column_sums, ctx, m, out.data);
}

template <class V>
void relu_mask(const Context& ctx, In<VectorView<const V>> a, VectorView<V> g) {
  check_vec(ctx, a, a.size, "a", "");
  check_vec(ctx, g, a.size, "g", "a");
  SHRINK_DISPATCH(ctx, relu_mask, ctx, a.size, a.data, g.data);
}

template <class V>
void adam_step(const Context& ctx, VectorView<V> w, In<VectorView<const V>> g, VectorView<V> m,
               VectorView<V> v, const OptimizerOptions& o, std::int64_t t) {
  o.validate();
  if (o.kind != OptimizerKind::Adam) throw InvalidArgument("adam_step: the options are for SGD");
  if (t < 1) throw InvalidArgument("Adam step t must be >= 1, got " + std::to_string(t));
  check_vec(ctx, w, w.size, "w", "");
  check_vec(ctx, g, w.size, "g", "w");
  check_vec(ctx, m, w.size, "m", "w");
  check_vec(ctx, v, w.size, "v", "w");
  nn_detail::optimizer_step<V>(ctx, o, t, w, g, m, v);
}

template <class V>
void sgd_step(const Context& ctx, VectorView<V> w, In<VectorView<const V>> g, VectorView<V> velocity,
              const OptimizerOptions& o) {
  o.validate();
  if (o.kind != OptimizerKind::Sgd) throw InvalidArgument("sgd_step: the options are for Adam");
  check_vec(ctx, w, w.size, "w", "");
  check_vec(ctx, g, w.size, "g", "w");
  if (o.momentum != 0) check_vec(ctx, velocity, w.size, "velocity", "w (momentum > 0)");
  nn_detail::optimizer_step<V>(ctx, o, 1, w, g, velocity, {});
}

template <class V, class I>
BsrColumnIndex<I> bsr_column_index(const Context& ctx, const BsrMatrix<V, I>& w) {
  std::vector<I> rp = w.block_row_ptr().to_vector(ctx), ci = w.block_col_idx().to_vector(ctx);
  const index_t gc = w.block_grid_cols();
  std::vector<I> cp(static_cast<std::size_t>(gc + 1), 0), row(ci.size()), index(ci.size());
  for (auto c : ci) cp[c + 1]++;
  for (index_t c = 0; c < gc; ++c) cp[c + 1] += cp[c];
  std::vector<I> next(cp.begin(), cp.end() - 1);
  for (index_t br = 0; br + 1 < static_cast<index_t>(rp.size()); ++br)
    for (I k = rp[br]; k < rp[br + 1]; ++k) {  // block rows ascending: each column stays sorted
      const I at = next[ci[k]]++;
      row[at] = static_cast<I>(br);
      index[at] = k;
    }
  const MemorySpace s = ctx.memory_space();
  return {Array<I>::from_vector(cp).copy_to(ctx, s), Array<I>::from_vector(row).copy_to(ctx, s),
          Array<I>::from_vector(index).copy_to(ctx, s)};
}

// ---- BlockSparseLinear -------------------------------------------------------------------------------
template <class V, class I>
BlockSparseLinear<V, I>::BlockSparseLinear(const Context& ctx, const BsrMatrix<V, I>& weights, std::vector<V> bias)
    : ctx_(&ctx) {
  check_block_shape(BlockShape{weights.block_height(), weights.block_width()}, "layer block size");
  if (weights.space() == MemorySpace::Host) validate(weights.view(), "layer W");
  if (bias.empty()) bias.assign(static_cast<std::size_t>(weights.rows()), V(0));
  detail::check_vector_size(static_cast<index_t>(bias.size()), weights.rows(), "bias",
                            layer_shape(weights.rows(), weights.cols()));
  detail::check_finite(bias.data(), static_cast<index_t>(bias.size()), "bias");
  w_ = weights.copy_to(ctx, ctx.memory_space());
  columns_ = bsr_column_index(ctx, w_);
  b_ = Array<V>::from_vector(bias).copy_to(ctx, ctx.memory_space());
  gw_ = Array<V>(ctx, w_.values().size(), ctx.memory_space());
  gb_ = Array<V>(ctx, b_.size(), ctx.memory_space());
}

template <class V, class I>
BsrMatrix<V, I> BlockSparseLinear<V, I>::weights_on_host() const {
  return w_.copy_to(*ctx_, MemorySpace::Host);
}

template <class V, class I>
std::vector<V> BlockSparseLinear<V, I>::bias_on_host() const {
  return b_.to_vector(*ctx_);
}

template <class V, class I>
double BlockSparseLinear<V, I>::block_sparsity() const {
  const index_t total = w_.block_grid_rows() * w_.block_grid_cols();
  return total ? 1.0 - double(w_.nnzb()) / double(total) : 0.0;
}

template <class V, class I>
void BlockSparseLinear<V, I>::forward(In<DenseView<const V>> x, DenseView<V> y) const {
  check_layer_product(*ctx_, w_.view(), x, "X", w_.cols(), y, "Y", w_.rows());
  SHRINK_DISPATCH(*ctx_, bsr_forward, *ctx_, x, w_.view(), b_.data(), y, to_kernel(precision_));
}

template <class V, class I>
void BlockSparseLinear<V, I>::backward(In<DenseView<const V>> x, In<DenseView<const V>> dy, DenseView<V> dx) {
  const auto w = w_.view();
  check_layer_product(*ctx_, w, dy, "dY", w.rows, x, "X", w.cols);
  const bool want_dx = dx.data != nullptr || dx.rows * dx.cols > 0;
  if (want_dx) check_layer_product(*ctx_, w, dy, "dY", w.rows, dx, "dX", w.cols);
  SHRINK_DISPATCH(*ctx_, bsr_weight_grad, *ctx_, dy, x, w, gw_.data(), to_kernel(precision_));
  dispatch::column_sums<V>(*ctx_, dy, gb_.view());
  if (want_dx)
    SHRINK_DISPATCH(*ctx_, bsr_backward_input, *ctx_, dy, w, columns_.col_ptr.data(), columns_.block_row.data(),
                    columns_.block_index.data(), dx, to_kernel(precision_));
}

template <class V, class I>
void BlockSparseLinear<V, I>::step(const OptimizerOptions& o) {
  o.validate();
  const auto zeros = [&](Array<V>& a, std::size_t n) {
    if (a.size() != n) a = Array<V>(*ctx_, n, ctx_->memory_space());
  };
  ++t_;
  if (o.kind == OptimizerKind::Adam) {
    zeros(m_w_, gw_.size());
    zeros(v_w_, gw_.size());
    zeros(m_b_, gb_.size());
    zeros(v_b_, gb_.size());
    nn_detail::optimizer_step<V>(*ctx_, o, t_, w_.values().view(), gw_.view(), m_w_.view(), v_w_.view());
    nn_detail::optimizer_step<V>(*ctx_, o, t_, b_.view(), gb_.view(), m_b_.view(), v_b_.view());
  } else {
    if (o.momentum != 0) {
      zeros(m_w_, gw_.size());
      zeros(m_b_, gb_.size());
    }
    nn_detail::optimizer_step<V>(*ctx_, o, t_, w_.values().view(), gw_.view(), m_w_.view(), {});
    nn_detail::optimizer_step<V>(*ctx_, o, t_, b_.view(), gb_.view(), m_b_.view(), {});
  }
}

namespace {
// Keeps the entries of blocks `kept` (storage order, increasing) of an array laid out like W's values.
template <class V>
Array<V> gather_blocks(const Context& ctx, const Array<V>& a, const std::vector<index_t>& kept, index_t bs) {
  if (a.empty()) return {};
  const auto host = a.to_vector(ctx);
  std::vector<V> out(kept.size() * static_cast<std::size_t>(bs));
  for (std::size_t q = 0; q < kept.size(); ++q)
    std::copy_n(host.begin() + kept[q] * bs, bs, out.begin() + static_cast<index_t>(q) * bs);
  return Array<V>::from_vector(out).copy_to(ctx, a.space());
}
}  // namespace

template <class V, class I>
void BlockSparseLinear<V, I>::keep_stored_blocks(const std::vector<index_t>& kept) {
  keep_blocks_of(weights_on_host(), kept);
}

template <class V, class I>
void BlockSparseLinear<V, I>::keep_blocks_of(const BsrMatrix<V, I>& host, const std::vector<index_t>& kept) {
  const index_t bs = host.block_height() * host.block_width();
  const auto& rp = host.block_row_ptr();
  std::vector<I> new_rp(rp.size(), 0), new_ci;
  std::vector<V> values;
  std::size_t q = 0;
  for (index_t br = 0; br + 1 < static_cast<index_t>(rp.size()); ++br) {
    for (; q < kept.size() && kept[q] < rp[br + 1]; ++q) {
      new_ci.push_back(host.block_col_idx()[kept[q]]);
      values.insert(values.end(), host.values().data() + kept[q] * bs, host.values().data() + (kept[q] + 1) * bs);
    }
    new_rp[br + 1] = static_cast<I>(new_ci.size());
  }
  const auto kept_host = BsrMatrix<V, I>::adopt(host.rows(), host.cols(), host.block_height(), host.block_width(),
                                                Array<I>::from_vector(new_rp), Array<I>::from_vector(new_ci),
                                                Array<V>::from_vector(values));
  columns_ = bsr_column_index(*ctx_, kept_host);
  w_ = kept_host.copy_to(*ctx_, ctx_->memory_space());
  gw_ = gather_blocks(*ctx_, gw_, kept, bs);
  m_w_ = gather_blocks(*ctx_, m_w_, kept, bs);
  v_w_ = gather_blocks(*ctx_, v_w_, kept, bs);
}

namespace {
// The report of keeping `kept` out of blocks whose norms (under `norm`) are `norms`, computed from
// the stored values before the change.
template <class V, class I>
PruneReport layer_prune_report(const BsrMatrix<V, I>& before_host, const std::vector<index_t>& kept,
                               double target, BlockNorm norm) {
  PruneReport r;
  const index_t bs = before_host.block_height() * before_host.block_width();
  r.blocks_total = before_host.block_grid_rows() * before_host.block_grid_cols();
  r.blocks_kept = static_cast<index_t>(kept.size());
  r.target_sparsity = target;
  r.block_sparsity = r.blocks_total ? 1.0 - double(r.blocks_kept) / double(r.blocks_total) : 0.0;
  std::vector<char> keep(static_cast<std::size_t>(before_host.nnzb()), 0);
  for (auto k : kept) keep[k] = 1;
  double total = 0, dropped = 0;
  index_t nonzero = 0;
  for (index_t k = 0; k < before_host.nnzb(); ++k)
    for (index_t e = 0; e < bs; ++e) {
      const double v = before_host.values()[k * bs + e];
      total += v * v;
      if (keep[k]) nonzero += v != 0;
      else dropped += v * v;
    }
  const index_t elements = before_host.rows() * before_host.cols();
  r.element_sparsity = elements ? 1.0 - double(nonzero) / double(elements) : 0.0;
  r.relative_frobenius_error = total > 0 ? std::sqrt(dropped / total) : 0.0;
  r.block_norm_histogram = magnitude_histogram(block_norms(before_host, norm), 10);
  return r;
}
}  // namespace

template <class V, class I>
PruneReport BlockSparseLinear<V, I>::prune_to(double sparsity, BlockNorm norm) {
  nn_detail::check_sparsity(sparsity, "sparsity");
  const auto host = weights_on_host();
  const index_t total = host.block_grid_rows() * host.block_grid_cols();
  const index_t keep = std::min(host.nnzb(), blocks_to_keep(total, sparsity));
  const auto kept = nn_detail::top_blocks(block_norms(host, norm), keep);
  auto report = layer_prune_report(host, kept, sparsity, norm);
  keep_blocks_of(host, kept);
  return report;
}

template <class V, class I>
std::vector<PruneReport> prune_layers_global(std::span<BlockSparseLinear<V, I>* const> layers, double sparsity,
                                             BlockNorm norm) {
  nn_detail::check_sparsity(sparsity, "sparsity");
  std::vector<BsrMatrix<V, I>> hosts;
  std::vector<std::vector<double>> scores;
  index_t total = 0;
  for (auto* layer : layers) {
    hosts.push_back(layer->weights_on_host());
    scores.push_back(block_norms(hosts.back(), norm));
    total += hosts.back().block_grid_rows() * hosts.back().block_grid_cols();
  }
  const auto kept = nn_detail::top_blocks_across(scores, blocks_to_keep(total, sparsity));
  std::vector<PruneReport> reports;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    reports.push_back(layer_prune_report(hosts[l], kept[l], sparsity, norm));
    layers[l]->keep_blocks_of(hosts[l], kept[l]);
  }
  return reports;
}

#define SHRINK_INSTANTIATE_V(V)                                                                     \
  template void column_sums<V>(const Context&, DenseView<const V>, VectorView<V>);                 \
  template void relu_mask<V>(const Context&, VectorView<const V>, VectorView<V>);                  \
  template void adam_step<V>(const Context&, VectorView<V>, VectorView<const V>, VectorView<V>,     \
                             VectorView<V>, const OptimizerOptions&, std::int64_t);                 \
  template void sgd_step<V>(const Context&, VectorView<V>, VectorView<const V>, VectorView<V>,      \
                            const OptimizerOptions&);
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_V)
#undef SHRINK_INSTANTIATE_V
#define SHRINK_INSTANTIATE_VI(V, I)                                                                 \
  template void bsr_linear_forward<V, I>(const Context&, DenseView<const V>, const BsrView<V, I>&,  \
                                         VectorView<const V>, DenseView<V>, MatmulPrecision,        \
                                         BsrAlgorithm);                                             \
  template void bsr_linear_backward_input<V, I>(const Context&, DenseView<const V>,                 \
                                                const BsrView<V, I>&, const BsrColumnIndex<I>&,     \
                                                DenseView<V>, MatmulPrecision);                     \
  template void bsr_linear_weight_grad<V, I>(const Context&, DenseView<const V>, DenseView<const V>, \
                                             const BsrView<V, I>&, VectorView<V>, MatmulPrecision); \
  template BsrColumnIndex<I> bsr_column_index<V, I>(const Context&, const BsrMatrix<V, I>&);        \
  template class BlockSparseLinear<V, I>;                                                           \
  template std::vector<PruneReport> prune_layers_global<V, I>(                                      \
      std::span<BlockSparseLinear<V, I>* const>, double, BlockNorm);
SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE_VI)
#undef SHRINK_INSTANTIATE_VI

}  // namespace shrink
