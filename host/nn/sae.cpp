// The sparse autoencoder: configuration, normalization, parameters in one flat vector, and the
// forward/backward pass written once over the kernel twins (dense weights through gemm, block-sparse
// weights through the BSR kernels, TopK codes through the gather kernels).
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <utility>

#include "host/core/dispatch.hpp"
#include "kernels/ops/instantiate.hpp"
#include "host/core/validate.hpp"
#include "host/nn/nn_detail.hpp"
#include "shrink/io.hpp"
#include "shrink/sae.hpp"

namespace shrink {

// ---- names ------------------------------------------------------------------------------------------
const char* to_string(SaeActivation a) noexcept {
  switch (a) {
    case SaeActivation::SigmoidKl: return "sigmoid-kl";
    case SaeActivation::ReluL1: return "relu-l1";
    case SaeActivation::TopK: return "topk";
  }
  return "?";
}

SaeActivation parse_sae_activation(std::string_view text) {
  if (text == "sigmoid-kl") return SaeActivation::SigmoidKl;
  if (text == "relu-l1") return SaeActivation::ReluL1;
  if (text == "topk") return SaeActivation::TopK;
  throw InvalidArgument("activation '" + std::string(text) + "' is not one of sigmoid-kl, relu-l1, topk");
}

const char* to_string(Normalization n) noexcept {
  switch (n) {
    case Normalization::None: return "none";
    case Normalization::MinMax: return "minmax";
    case Normalization::Standard: return "standard";
  }
  return "?";
}

Normalization parse_normalization(std::string_view text) {
  if (text == "none") return Normalization::None;
  if (text == "minmax") return Normalization::MinMax;
  if (text == "standard") return Normalization::Standard;
  throw InvalidArgument("normalization '" + std::string(text) + "' is not one of none, minmax, standard");
}

const char* to_string(SaeScore method) noexcept {
  return method == SaeScore::Neighbors ? "neighbors" : "reconstruction";
}

SaeScore parse_sae_score(std::string_view text) {
  if (text == "reconstruction") return SaeScore::Reconstruction;
  if (text == "neighbors") return SaeScore::Neighbors;
  throw InvalidArgument("score '" + std::string(text) + "' is not one of reconstruction, neighbors");
}

const char* to_string(SaeOptimizer kind) noexcept { return kind == SaeOptimizer::Adam ? "adam" : "lbfgs"; }

SaeOptimizer parse_sae_optimizer(std::string_view text) {
  if (text == "adam") return SaeOptimizer::Adam;
  if (text == "lbfgs") return SaeOptimizer::Lbfgs;
  throw InvalidArgument("optimizer '" + std::string(text) + "' is not one of adam, lbfgs");
}

void SaeConfig::validate() const {
  auto fail = [](const std::string& what) { throw InvalidArgument(what); };
  auto finite_nonneg = [&](double v, const char* name) {
    if (!(v >= 0) || !std::isfinite(v)) fail(std::string(name) + " must be finite and >= 0, got " + std::to_string(v));
  };
  if (inputs < 1) fail("inputs must be >= 1, got " + std::to_string(inputs));
  if (latents < 1) fail("latents must be >= 1, got " + std::to_string(latents));
  if (latents > std::numeric_limits<std::int32_t>::max())
    fail("latents (" + std::to_string(latents) + ") overflow the 32-bit latent index");
  // inputs x latents weights: a product past 2^60 cannot be counted, let alone stored.
  if (static_cast<double>(inputs) * static_cast<double>(latents) > 0x1p60)
    fail("inputs x latents (" + std::to_string(inputs) + " x " + std::to_string(latents) + ") is too large to count");
  finite_nonneg(weight_decay, "weight decay");
  switch (activation) {
    case SaeActivation::SigmoidKl:
      if (!(rho > 0 && rho < 1)) fail("rho must be in (0, 1), got " + std::to_string(rho));
      finite_nonneg(beta, "beta");
      break;
    case SaeActivation::ReluL1: finite_nonneg(l1, "l1"); break;
    case SaeActivation::TopK:
      if (k < 1 || k > latents)
        fail("k must be in [1, latents = " + std::to_string(latents) + "], got " + std::to_string(k));
      if (aux_k < 0 || aux_k > latents)
        fail("aux_k must be in [0, latents = " + std::to_string(latents) + "], got " + std::to_string(aux_k));
      finite_nonneg(aux_coeff, "aux_coeff");
      if (dead_after < 0) fail("dead_after must be >= 0, got " + std::to_string(dead_after));
      break;
  }
  if (unit_norm_decoder && activation == SaeActivation::SigmoidKl)
    fail("unit-norm decoder columns apply to the relu-l1 and topk variants, not sigmoid-kl");
  if (l1_decoder_norm && activation != SaeActivation::ReluL1)
    fail("the decoder-norm-weighted L1 applies to relu-l1 only");
  if (block_sparse) {
    check_block_shape(block, "SAE block size");
    if (tied) fail("tied weights are not supported with block-sparse encoder and decoder");
    if (unit_norm_decoder) fail("unit-norm decoder columns are not supported with block-sparse weights");
    if (l1_decoder_norm) fail("the decoder-norm-weighted L1 is not supported with block-sparse weights");
    if (aux_k > 0) fail("AuxK is not supported with block-sparse weights");
  }
}

// ---- normalization -----------------------------------------------------------------------------------
template <class V>
Normalizer Normalizer::fit(Normalization kind, DenseView<const V> data) {
  Normalizer n;
  n.kind = kind;
  if (kind == Normalization::None) return n;
  if (data.rows < 1) throw InvalidArgument("normalization needs at least one sample");
  const index_t d = data.cols;
  n.offset.assign(static_cast<std::size_t>(d), 0);
  n.scale.assign(static_cast<std::size_t>(d), 1);
  for (index_t j = 0; j < d; ++j) {
    if (kind == Normalization::MinMax) {
      double lo = data(0, j), hi = data(0, j);
      for (index_t i = 1; i < data.rows; ++i) {
        lo = std::min<double>(lo, data(i, j));
        hi = std::max<double>(hi, data(i, j));
      }
      n.offset[j] = lo;
      n.scale[j] = hi > lo ? hi - lo : 1;
    } else {
      double mean = 0, m2 = 0;  // Welford
      for (index_t i = 0; i < data.rows; ++i) {
        const double x = data(i, j), delta = x - mean;
        mean += delta / double(i + 1);
        m2 += delta * (x - mean);
      }
      const double sd = std::sqrt(m2 / double(data.rows));
      n.offset[j] = mean;
      n.scale[j] = sd > 0 ? sd : 1;
    }
  }
  return n;
}

namespace {
void check_normalizer_width(const Normalizer& n, index_t cols) {
  if (n.kind != Normalization::None && static_cast<index_t>(n.offset.size()) != cols)
    throw DimensionMismatch("the data has " + std::to_string(cols) + " features but the normalizer was fitted on " +
                            std::to_string(n.offset.size()));
}
}  // namespace

template <class V>
void Normalizer::apply(DenseView<V> data) const {
  if (kind == Normalization::None) return;
  check_normalizer_width(*this, data.cols);
  for (index_t i = 0; i < data.rows; ++i)
    for (index_t j = 0; j < data.cols; ++j) data(i, j) = V((double(data(i, j)) - offset[j]) / scale[j]);
}

template <class V>
void Normalizer::invert(DenseView<V> data) const {
  if (kind == Normalization::None) return;
  check_normalizer_width(*this, data.cols);
  for (index_t i = 0; i < data.rows; ++i)
    for (index_t j = 0; j < data.cols; ++j) data(i, j) = V(double(data(i, j)) * scale[j] + offset[j]);
}

#define SHRINK_INSTANTIATE_NORMALIZER(V)                                             \
  template Normalizer Normalizer::fit<V>(Normalization, DenseView<const V>);         \
  template void Normalizer::apply<V>(DenseView<V>) const;                            \
  template void Normalizer::invert<V>(DenseView<V>) const;
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_NORMALIZER)

// ---- the model ---------------------------------------------------------------------------------------
using I32 = std::int32_t;

template <class V>
struct SparseAutoencoder<V>::Impl {
  // Offsets of the parameter blocks in the flat vector.
  index_t enc_w = 0, enc_b = 0, dec_w = 0, dec_b = 0, enc_w_size = 0, dec_w_size = 0;
  // Block-sparse patterns: W_e (latents x inputs) and W_d (inputs x latents), host and context copies.
  std::vector<I32> enc_rp, enc_ci, dec_rp, dec_ci;
  Array<I32> enc_rp_c, enc_ci_c, dec_rp_c, dec_ci_c;
  BsrColumnIndex<I32> enc_cols, dec_cols;
  // TopK dead-latent tracking.
  Array<std::int64_t> since;
  Array<std::uint8_t> dead;
  index_t dead_count = 0;
  // Per-batch workspace (sized for `batch` samples).
  index_t batch = -1;
  Array<V> xc, z, h, dh, xhat, gx, ehat, term, colsum, norms, d_tmp;
  Array<V> l1_term;  // the unweighted L1's dL/dh_ij = l1 / batch, set once per batch size
  Array<I32> idx, aux_idx, ptr, order, aux_ptr, aux_order;
  Array<V> val, dval, aux_val, aux_dval;
  Array<unsigned char> group_ws;
  bool aux_active = false;  // the last forward selected AuxK latents
};

namespace {

template <class V>
DenseView<V> rows_of(Array<V>& a, index_t rows, index_t cols, index_t offset = 0) {
  return {a.data() + offset, rows, cols, cols, Layout::RowMajor, a.space()};
}
template <class V>
DenseView<const V> rows_of(const Array<V>& a, index_t rows, index_t cols, index_t offset = 0) {
  return {a.data() + offset, rows, cols, cols, Layout::RowMajor, a.space()};
}
template <class V>
VectorView<V> part(Array<V>& a, index_t offset, index_t n) {
  return {a.data() + offset, n, a.space()};
}
template <class V>
VectorView<const V> part(const Array<V>& a, index_t offset, index_t n) {
  return {a.data() + offset, n, a.space()};
}

// Every stored block of the full grid (an initial block-sparse pattern before pruning).
void full_pattern(index_t rows, index_t cols, BlockShape b, std::vector<I32>& rp, std::vector<I32>& ci) {
  const index_t gr = (rows + b.rows - 1) / b.rows, gc = (cols + b.cols - 1) / b.cols;
  detail::check_fits_index<I32>(gr * gc, "SAE block grid");
  rp.resize(static_cast<std::size_t>(gr + 1));
  ci.clear();
  for (index_t r = 0; r < gr; ++r) {
    rp[r] = static_cast<I32>(r * gc);
    for (index_t c = 0; c < gc; ++c) ci.push_back(static_cast<I32>(c));
  }
  rp[gr] = static_cast<I32>(gr * gc);
}

// TopK codes run through the gather decoder (dense weights, not the dense masked baseline).
bool sparse_topk_of(const SaeConfig& c) {
  return c.activation == SaeActivation::TopK && c.topk_decoder == TopKDecoder::Sparse && !c.block_sparse;
}

using kernels::Activation;

Activation activation_of(const SaeConfig& c) {
  return c.activation == SaeActivation::SigmoidKl ? Activation::Sigmoid : Activation::Relu;
}

}  // namespace

template <class V>
void SparseAutoencoder<V>::build_layout() {
  const index_t d = config_.inputs, m = config_.latents;
  Impl& s = *impl_;
  if (config_.block_sparse) {
    const index_t bs = config_.block.rows * config_.block.cols;
    s.enc_w_size = static_cast<index_t>(s.enc_ci.size()) * bs;
    s.dec_w_size = static_cast<index_t>(s.dec_ci.size()) * bs;
    const MemorySpace sp = ctx_->memory_space();
    s.enc_rp_c = Array<I32>::from_vector(s.enc_rp).copy_to(*ctx_, sp);
    s.enc_ci_c = Array<I32>::from_vector(s.enc_ci).copy_to(*ctx_, sp);
    s.dec_rp_c = Array<I32>::from_vector(s.dec_rp).copy_to(*ctx_, sp);
    s.dec_ci_c = Array<I32>::from_vector(s.dec_ci).copy_to(*ctx_, sp);
    auto index_of = [&](index_t rows, index_t cols, const std::vector<I32>& rp, const std::vector<I32>& ci) {
      std::vector<V> zeros(ci.size() * static_cast<std::size_t>(bs), V(0));
      auto host = BsrMatrix<V, I32>::from_arrays(rows, cols, config_.block.rows, config_.block.cols, rp, ci,
                                                 std::move(zeros));
      return bsr_column_index(*ctx_, host);
    };
    s.enc_cols = index_of(m, d, s.enc_rp, s.enc_ci);
    s.dec_cols = index_of(d, m, s.dec_rp, s.dec_ci);
  } else {
    // Weights, their Adam moments and the gradient: refused past the memory budget before any is made.
    check_memory(4.0 * 2.0 * static_cast<double>(m) * static_cast<double>(d) * sizeof(V), "SAE weights");
    s.enc_w_size = config_.tied ? 0 : m * d;
    s.dec_w_size = m * d;
  }
  s.enc_w = 0;
  s.enc_b = s.enc_w_size;
  s.dec_w = s.enc_b + m;
  s.dec_b = s.dec_w + s.dec_w_size;
  if (config_.tied) s.enc_w = s.dec_w;  // W_e = W_d^T: the same storage (D, latents x inputs)
  s.batch = -1;
}

template <class V>
SparseAutoencoder<V>::SparseAutoencoder(const Context& ctx, const SaeConfig& config, std::uint64_t seed,
                                        Normalizer normalizer, std::vector<V> decoder_bias)
    : ctx_(&ctx), config_(config), normalizer_(std::move(normalizer)), impl_(std::make_unique<Impl>()) {
  config_.validate();
  const index_t d = config_.inputs, m = config_.latents;
  check_normalizer_width(normalizer_, d);
  if (!decoder_bias.empty()) {
    detail::check_vector_size(static_cast<index_t>(decoder_bias.size()), d, "decoder bias", "inputs");
    detail::check_finite(decoder_bias.data(), d, "decoder bias");
  }
  // Dense initial weights: D (latents x inputs, rows are atoms) and E (latents x inputs).
  std::mt19937_64 rng(seed);
  const double a = std::sqrt(6.0 / double(d + m + 1));
  std::uniform_real_distribution<double> uniform(-a, a);
  std::vector<V> dmat(static_cast<std::size_t>(m * d)), emat;
  for (auto& x : dmat) x = V(uniform(rng));
  if (config_.unit_norm_decoder)
    for (index_t j = 0; j < m; ++j) {
      double s = 0;
      for (index_t q = 0; q < d; ++q) s += double(dmat[j * d + q]) * dmat[j * d + q];
      const double inv = s > 0 ? 1 / std::sqrt(s) : 0;
      for (index_t q = 0; q < d; ++q) dmat[j * d + q] = V(dmat[j * d + q] * inv);
    }
  if (!config_.tied) {
    if (config_.unit_norm_decoder) emat = dmat;  // encoder starts as the decoder's transpose
    else {
      emat.resize(dmat.size());
      for (auto& x : emat) x = V(uniform(rng));
    }
  }
  Impl& s = *impl_;
  std::vector<V> enc_values, dec_values;
  if (config_.block_sparse) {
    full_pattern(m, d, config_.block, s.enc_rp, s.enc_ci);
    full_pattern(d, m, config_.block, s.dec_rp, s.dec_ci);
    // W_d = D^T (inputs x latents).
    DenseMatrix<V> wd(d, m);
    for (index_t j = 0; j < m; ++j)
      for (index_t q = 0; q < d; ++q) wd(q, j) = dmat[j * d + q];
    const DenseView<const V> ev(emat.data(), m, d, d, Layout::RowMajor);
    std::vector<index_t> all_e(static_cast<std::size_t>(s.enc_ci.size())), all_d(s.dec_ci.size());
    std::iota(all_e.begin(), all_e.end(), index_t(0));
    std::iota(all_d.begin(), all_d.end(), index_t(0));
    enc_values = dense_to_bsr<V, I32>(ev, config_.block.rows, config_.block.cols, all_e).values().to_vector(ctx);
    dec_values = dense_to_bsr<V, I32>(wd.view(), config_.block.rows, config_.block.cols, all_d).values().to_vector(ctx);
  } else {
    enc_values = std::move(emat);
    dec_values = std::move(dmat);
  }
  build_layout();
  std::vector<V> p(static_cast<std::size_t>(s.dec_b + d), V(0));
  std::copy(enc_values.begin(), enc_values.end(), p.begin() + s.enc_w);
  std::copy(dec_values.begin(), dec_values.end(), p.begin() + s.dec_w);
  if (!decoder_bias.empty()) std::copy(decoder_bias.begin(), decoder_bias.end(), p.begin() + s.dec_b);
  const MemorySpace sp = ctx.memory_space();
  params_ = Array<V>::from_vector(p).copy_to(ctx, sp);
  grad_ = Array<V>(ctx, p.size(), sp);
  m_ = Array<V>(ctx, p.size(), sp);
  v_ = Array<V>(ctx, p.size(), sp);
  s.since = Array<std::int64_t>(ctx, static_cast<std::size_t>(m), sp);
  s.dead = Array<std::uint8_t>(ctx, static_cast<std::size_t>(m), sp);
}

template <class V>
SparseAutoencoder<V>::SparseAutoencoder(const Context& ctx, const SaeConfig& config, Normalizer normalizer,
                                        const State& st)
    : ctx_(&ctx), config_(config), normalizer_(std::move(normalizer)), impl_(std::make_unique<Impl>()) {
  config_.validate();
  check_normalizer_width(normalizer_, config_.inputs);
  Impl& s = *impl_;
  if (config_.block_sparse) {
    auto narrow = [](const std::vector<std::int64_t>& v) { return std::vector<I32>(v.begin(), v.end()); };
    s.enc_rp = narrow(st.encoder_row_ptr);
    s.enc_ci = narrow(st.encoder_col_idx);
    s.dec_rp = narrow(st.decoder_row_ptr);
    s.dec_ci = narrow(st.decoder_col_idx);
    // Validates the patterns (sizes, order, range) before anything indexes with them.
    const index_t bs = config_.block.rows * config_.block.cols;
    auto check = [&](index_t rows, index_t cols, const std::vector<I32>& rp, const std::vector<I32>& ci,
                     const char* what) {
      std::vector<V> zeros(ci.size() * static_cast<std::size_t>(bs), V(0));
      (void)what;
      BsrMatrix<V, I32>::from_arrays(rows, cols, config_.block.rows, config_.block.cols, rp, ci, std::move(zeros));
    };
    check(config_.latents, config_.inputs, s.enc_rp, s.enc_ci, "encoder");
    check(config_.inputs, config_.latents, s.dec_rp, s.dec_ci, "decoder");
  }
  build_layout();
  const auto n = static_cast<std::size_t>(s.dec_b + config_.inputs);
  auto check_len = [&](std::size_t got, const char* what) {
    if (got != n)
      throw DimensionMismatch(std::string("saved ") + what + " has " + std::to_string(got) +
                              " values but the configuration needs " + std::to_string(n));
  };
  check_len(st.params.size(), "parameters");
  check_len(st.adam_m.size(), "Adam first moments");
  check_len(st.adam_v.size(), "Adam second moments");
  detail::check_finite(st.params.data(), static_cast<index_t>(n), "saved parameters");
  const MemorySpace sp = ctx.memory_space();
  params_ = Array<V>::from_vector(st.params).copy_to(ctx, sp);
  grad_ = Array<V>(ctx, n, sp);
  m_ = Array<V>::from_vector(st.adam_m).copy_to(ctx, sp);
  v_ = Array<V>::from_vector(st.adam_v).copy_to(ctx, sp);
  t_ = st.t;
  std::vector<std::int64_t> since = st.since_fired;
  since.resize(static_cast<std::size_t>(config_.latents), 0);
  s.since = Array<std::int64_t>::from_vector(since).copy_to(ctx, sp);
  std::vector<std::uint8_t> dead(since.size());
  for (std::size_t j = 0; j < since.size(); ++j) {
    dead[j] = config_.dead_after > 0 && since[j] >= config_.dead_after;
    s.dead_count += dead[j];
  }
  s.dead = Array<std::uint8_t>::from_vector(dead).copy_to(ctx, sp);
}

template <class V>
SparseAutoencoder<V>::SparseAutoencoder(SparseAutoencoder&&) noexcept = default;
template <class V>
SparseAutoencoder<V>& SparseAutoencoder<V>::operator=(SparseAutoencoder&&) noexcept = default;
template <class V>
SparseAutoencoder<V>::~SparseAutoencoder() = default;

template <class V>
typename SparseAutoencoder<V>::State SparseAutoencoder<V>::state() const {
  State st;
  st.params = params_.to_vector(*ctx_);
  st.adam_m = m_.to_vector(*ctx_);
  st.adam_v = v_.to_vector(*ctx_);
  st.t = t_;
  st.since_fired = impl_->since.to_vector(*ctx_);
  auto widen = [](const std::vector<I32>& v) { return std::vector<std::int64_t>(v.begin(), v.end()); };
  st.encoder_row_ptr = widen(impl_->enc_rp);
  st.encoder_col_idx = widen(impl_->enc_ci);
  st.decoder_row_ptr = widen(impl_->dec_rp);
  st.decoder_col_idx = widen(impl_->dec_ci);
  return st;
}

template <class V>
std::vector<V> SparseAutoencoder<V>::parameters_on_host() const {
  return params_.to_vector(*ctx_);
}

template <class V>
std::vector<V> SparseAutoencoder<V>::gradient_on_host() const {
  return grad_.to_vector(*ctx_);
}

template <class V>
void SparseAutoencoder<V>::set_parameters(std::span<const V> values) {
  detail::check_vector_size(static_cast<index_t>(values.size()), parameter_count(), "parameters",
                            "the model's parameter count");
  detail::check_finite(values.data(), static_cast<index_t>(values.size()), "parameters");
  detail::copy_bytes(ctx_, params_.data(), params_.space(), values.data(), MemorySpace::Host,
                     values.size() * sizeof(V));
}

// ---- forward and backward ------------------------------------------------------------------------------
namespace {

template <class V>
void ensure(Array<V>& a, const Context& ctx, index_t n) {
  if (static_cast<index_t>(a.size()) != n) a = Array<V>(ctx, static_cast<std::size_t>(n), ctx.memory_space());
}

}  // namespace

// The views of the weights in the flat parameter vector, and the forward pass up to x_hat.
template <class V>
struct SaeWeights {
  DenseView<const V> enc, dec;          // dense: E and D (latents x inputs)
  BsrView<V, I32> enc_bsr, dec_bsr;     // block-sparse: W_e (latents x inputs), W_d (inputs x latents)
  const V* enc_bias;
  const V* dec_bias;
};

template <class V>
static SaeWeights<V> weights_of(const SaeConfig& c, const typename SparseAutoencoder<V>::Impl& s, const V* p,
                                MemorySpace sp) {
  const index_t d = c.inputs, m = c.latents;
  SaeWeights<V> w{};
  w.enc = {p + s.enc_w, m, d, d, Layout::RowMajor, sp};
  w.dec = {p + s.dec_w, m, d, d, Layout::RowMajor, sp};
  if (c.block_sparse) {
    const index_t bh = c.block.rows, bw = c.block.cols;
    w.enc_bsr = {m, d, bh, bw, static_cast<index_t>(s.enc_ci.size()), s.enc_rp_c.data(), s.enc_ci_c.data(),
                 p + s.enc_w, sp};
    w.dec_bsr = {d, m, bh, bw, static_cast<index_t>(s.dec_ci.size()), s.dec_rp_c.data(), s.dec_ci_c.data(),
                 p + s.dec_w, sp};
  }
  w.enc_bias = p + s.enc_b;
  w.dec_bias = p + s.dec_b;
  return w;
}

template <class V>
void SparseAutoencoder<V>::prepare(index_t batch) {
  Impl& s = *impl_;
  if (s.batch == batch) return;
  const Context& ctx = *ctx_;
  const index_t d = config_.inputs, m = config_.latents, b = batch;
  const bool topk = config_.activation == SaeActivation::TopK;
  const bool sparse_topk = sparse_topk_of(config_);
  ensure(s.xc, ctx, b * d);
  ensure(s.z, ctx, b * m);
  ensure(s.h, ctx, topk && !sparse_topk ? b * m : 0);
  ensure(s.dh, ctx, sparse_topk ? 0 : b * m);
  ensure(s.xhat, ctx, b * d);
  ensure(s.gx, ctx, b * d);
  ensure(s.term, ctx, m);
  ensure(s.colsum, ctx, m);
  ensure(s.norms, ctx, m);
  ensure(s.d_tmp, ctx, d);
  if (config_.activation == SaeActivation::ReluL1 && !config_.l1_decoder_norm) {
    const std::vector<V> constant(static_cast<std::size_t>(m), V(config_.l1) / V(b));
    s.l1_term = Array<V>::from_vector(constant).copy_to(ctx, ctx.memory_space());
  }
  if (topk) {
    const index_t k = config_.k, ak = config_.aux_k;
    ensure(s.idx, ctx, b * k);
    ensure(s.val, ctx, b * k);
    ensure(s.dval, ctx, b * k);
    ensure(s.ptr, ctx, m + 1);
    ensure(s.order, ctx, b * k);
    ensure(s.aux_idx, ctx, b * ak);
    ensure(s.aux_val, ctx, b * ak);
    ensure(s.aux_dval, ctx, b * ak);
    ensure(s.aux_ptr, ctx, ak > 0 ? m + 1 : 0);
    ensure(s.aux_order, ctx, b * ak);
    ensure(s.ehat, ctx, ak > 0 ? b * d : 0);
    const std::size_t ws = std::max(SHRINK_DISPATCH(ctx, topk_group_workspace, ctx, b * k, m),
                                    SHRINK_DISPATCH(ctx, topk_group_workspace, ctx, b * ak, m));
    s.group_ws = Array<unsigned char>(ctx, std::max<std::size_t>(ws, 1), ctx.memory_space());
  }
  s.batch = batch;
}

template <class V>
void SparseAutoencoder<V>::forward(DenseView<const V> input) {
  const Context& ctx = *ctx_;
  Impl& s = *impl_;
  const index_t b = input.rows, d = config_.inputs, m = config_.latents;
  prepare(b);
  const SaeWeights<V> w = weights_of<V>(config_, s, params_.data(), params_.space());
  const bool topk = config_.activation == SaeActivation::TopK;
  const bool sparse_topk = sparse_topk_of(config_);
  const DenseView<V> xc = rows_of(s.xc, b, d), z = rows_of(s.z, b, m), xhat = rows_of(s.xhat, b, d);
  SHRINK_DISPATCH(ctx, broadcast_add, ctx, input, V(-1), w.dec_bias, xc);
  if (config_.block_sparse)
    SHRINK_DISPATCH(ctx, bsr_forward, ctx, DenseView<const V>(xc), w.enc_bsr, w.enc_bias, z, kernels::Precision::Strict);
  else
    dispatch::gemm<V>(ctx, Op::NoTranspose, Op::Transpose, V(1), xc, w.enc, V(0), z);
  // The BSR forward has added b_e already.
  SHRINK_DISPATCH(ctx, bias_activation, ctx, z, config_.block_sparse ? nullptr : w.enc_bias,
                  topk ? Activation::Identity : activation_of(config_));
  if (topk) SHRINK_DISPATCH(ctx, topk_rows, ctx, DenseView<const V>(z), config_.k, nullptr, s.idx.data(), s.val.data());
  if (sparse_topk) {
    SHRINK_DISPATCH(ctx, topk_decode, ctx, config_.k, s.idx.data(), s.val.data(), w.dec, w.dec_bias, xhat);
    return;
  }
  DenseView<V> h = z;
  if (topk) {
    h = rows_of(s.h, b, m);
    SHRINK_DISPATCH(ctx, topk_scatter, ctx, config_.k, s.idx.data(), s.val.data(), h);
  }
  if (config_.block_sparse) {
    SHRINK_DISPATCH(ctx, bsr_forward, ctx, DenseView<const V>(h), w.dec_bsr, w.dec_bias, xhat, kernels::Precision::Strict);
  } else {
    dispatch::gemm<V>(ctx, Op::NoTranspose, Op::NoTranspose, V(1), h, w.dec, V(0), xhat);
    SHRINK_DISPATCH(ctx, bias_activation, ctx, xhat, w.dec_bias, Activation::Identity);
  }
}

namespace {
template <class T>
void check_batch(const Context& ctx, const DenseView<T>& x, index_t inputs, const char* name) {
  detail::check_dense(ctx, x, name);
  if (x.layout != Layout::RowMajor || x.ld != x.cols)
    throw InvalidArgument(std::string(name) + " must be contiguous row-major (samples x features)");
  if (x.cols != inputs)
    throw DimensionMismatch(std::string(name) + " has " + std::to_string(x.cols) + " features but the model has " +
                            std::to_string(inputs) + " inputs");
  if (x.rows < 1) throw InvalidArgument(std::string(name) + " has no samples");
}
}  // namespace

template <class V>
SaeLoss SparseAutoencoder<V>::evaluate(In<DenseView<const V>> input, In<DenseView<const V>> target,
                                       bool want_gradient, bool track_dead) {
  const Context& ctx = *ctx_;
  const index_t d = config_.inputs, m = config_.latents;
  check_batch(ctx, input, d, "input");
  check_batch(ctx, target, d, "target");
  if (target.rows != input.rows)
    throw DimensionMismatch("target has " + std::to_string(target.rows) + " samples but input has " +
                            std::to_string(input.rows));
  forward(input);
  Impl& s = *impl_;
  const index_t b = input.rows;
  const V scale = V(1) / V(b);
  const MemorySpace sp = params_.space();
  const SaeWeights<V> w = weights_of<V>(config_, s, params_.data(), sp);
  const bool topk = config_.activation == SaeActivation::TopK;
  const bool sparse_topk = sparse_topk_of(config_);
  const DenseView<V> xc = rows_of(s.xc, b, d), z = rows_of(s.z, b, m);
  const DenseView<V> h = topk ? (sparse_topk ? DenseView<V>{} : rows_of(s.h, b, m)) : z;
  SaeLoss loss;

  // Residual r = x_hat - x (in place of x_hat).
  const VectorView<V> r = part(s.xhat, 0, b * d);
  dispatch::axpby<V>(ctx, V(-1), VectorView<const V>(target.data, b * d, sp), V(1), r);
  loss.reconstruction = 0.5 * double(scale) * double(dispatch::dot<V>(ctx, r, r));

  // Sparsity terms: the value, and term_j = dL/dh_ij added inside the activation backward.
  const V* term = nullptr;
  if (config_.activation == SaeActivation::SigmoidKl) {
    dispatch::column_sums<V>(ctx, DenseView<const V>(h), s.colsum.view());
    loss.sparsity = double(SHRINK_DISPATCH(ctx, kl_penalty, ctx, m, static_cast<const V*>(s.colsum.data()), b,
                                           V(config_.rho), V(config_.beta), scale, s.term.data()));
    term = s.term.data();
  } else if (config_.activation == SaeActivation::ReluL1 && config_.l1 > 0) {
    const V c = V(config_.l1) * scale;
    dispatch::column_sums<V>(ctx, DenseView<const V>(h), s.colsum.view());
    if (config_.l1_decoder_norm) {
      SHRINK_DISPATCH(ctx, row_norms, ctx, w.dec, s.norms.data());
      loss.sparsity = double(c) * double(dispatch::dot<V>(ctx, s.colsum.view(), s.norms.view()));
      dispatch::axpby<V>(ctx, c, s.norms.view(), V(0), s.term.view());
      term = s.term.data();
    } else {
      loss.sparsity = double(c) * double(dispatch::sum<V>(ctx, s.colsum.view()));
      term = s.l1_term.data();
    }
  }

  // Weight decay on the weights (tied: once).
  const VectorView<const V> we = part(std::as_const(params_), s.enc_w, s.enc_w_size);
  const VectorView<const V> wd = part(std::as_const(params_), s.dec_w, s.dec_w_size);
  if (config_.weight_decay > 0)
    loss.weight_decay = 0.5 * config_.weight_decay * (double(dispatch::dot<V>(ctx, we, we)) + double(dispatch::dot<V>(ctx, wd, wd)));

  // AuxK: the dead latents' top aux_k pre-activations reconstruct the residual e = x - x_hat.
  s.aux_active = topk && config_.aux_k > 0 && s.dead_count > 0;
  const DenseView<V> ehat = s.aux_active ? rows_of(s.ehat, b, d) : DenseView<V>{};
  const VectorView<V> ra = s.aux_active ? part(s.ehat, 0, b * d) : VectorView<V>{};
  if (s.aux_active) {
    SHRINK_DISPATCH(ctx, topk_rows, ctx, DenseView<const V>(z), config_.aux_k, s.dead.data(), s.aux_idx.data(),
                    s.aux_val.data());
    SHRINK_DISPATCH(ctx, topk_decode, ctx, config_.aux_k, s.aux_idx.data(), s.aux_val.data(), w.dec,
                    static_cast<const V*>(nullptr), ehat);
    dispatch::axpby<V>(ctx, V(1), r, V(1), ra);  // e_hat - e = e_hat + r
    loss.auxiliary = config_.aux_coeff * 0.5 * double(scale) * double(dispatch::dot<V>(ctx, ra, ra));
  }
  loss.total = loss.reconstruction + loss.sparsity + loss.weight_decay + loss.auxiliary;

  if (want_gradient) {
    const DenseView<V> gx = rows_of(s.gx, b, d);
    dispatch::axpby<V>(ctx, scale, r, V(0), part(s.gx, 0, b * d));
    if (s.aux_active) {
      dispatch::axpby<V>(ctx, V(config_.aux_coeff) * scale, ra, V(0), ra);  // now dL/de_hat
      if (!config_.aux_detach_residual) dispatch::axpby<V>(ctx, V(1), ra, V(1), part(s.gx, 0, b * d));
    }
    const DenseView<V> g_enc = rows_of(grad_, m, d, s.enc_w), g_dec = rows_of(grad_, m, d, s.dec_w);
    V* g_enc_b = grad_.data() + s.enc_b;
    dispatch::column_sums<V>(ctx, DenseView<const V>(gx), part(grad_, s.dec_b, d));
    const V enc_beta = config_.tied ? V(1) : V(0);  // tied: the encoder's part adds to D's gradient
    if (sparse_topk) {
      const index_t k = config_.k;
      SHRINK_DISPATCH(ctx, gather_dot, ctx, k, s.idx.data(), DenseView<const V>(gx), w.dec, s.dval.data());
      SHRINK_DISPATCH(ctx, topk_group, ctx, b * k, s.idx.data(), m, s.ptr.data(), s.order.data(), s.group_ws.data());
      SHRINK_DISPATCH(ctx, topk_weight_grad, ctx, k, s.ptr.data(), s.order.data(), s.val.data(),
                      DenseView<const V>(gx), V(0), g_dec, static_cast<V*>(nullptr));
      dispatch::relu_mask<V>(ctx, part(std::as_const(s.val), 0, b * k), part(s.dval, 0, b * k));
    } else {
      const DenseView<V> dh = rows_of(s.dh, b, m);
      if (config_.block_sparse) {
        SHRINK_DISPATCH(ctx, bsr_weight_grad, ctx, DenseView<const V>(gx), DenseView<const V>(h), w.dec_bsr, grad_.data() + s.dec_w, kernels::Precision::Strict);
        SHRINK_DISPATCH(ctx, bsr_backward_input, ctx, DenseView<const V>(gx), w.dec_bsr, s.dec_cols.col_ptr.data(),
                        s.dec_cols.block_row.data(), s.dec_cols.block_index.data(), dh, kernels::Precision::Strict);
      } else {
        dispatch::gemm<V>(ctx, Op::Transpose, Op::NoTranspose, V(1), h, gx, V(0), g_dec);
        dispatch::gemm<V>(ctx, Op::NoTranspose, Op::Transpose, V(1), gx, w.dec, V(0), dh);
      }
      if (config_.l1_decoder_norm && config_.l1 > 0)
        SHRINK_DISPATCH(ctx, add_scaled_unit_rows, ctx, w.dec, s.colsum.data(), V(config_.l1) * scale, g_dec);
      SHRINK_DISPATCH(ctx, activation_backward, ctx, DenseView<const V>(h), term,
                      topk ? Activation::Relu : activation_of(config_), dh);
      // Encoder: dW_e = dZ^T Xc on the weights' pattern, db_e = column sums of dZ.
      if (config_.block_sparse)
        SHRINK_DISPATCH(ctx, bsr_weight_grad, ctx, DenseView<const V>(dh), DenseView<const V>(xc), w.enc_bsr, grad_.data() + s.enc_w, kernels::Precision::Strict);
      else
        dispatch::gemm<V>(ctx, Op::Transpose, Op::NoTranspose, V(1), dh, xc, enc_beta, g_enc);
      dispatch::column_sums<V>(ctx, DenseView<const V>(dh), part(grad_, s.enc_b, m));
    }
    if (sparse_topk)
      SHRINK_DISPATCH(ctx, topk_weight_grad, ctx, config_.k, s.ptr.data(), s.order.data(), s.dval.data(),
                      DenseView<const V>(xc), enc_beta, g_enc, g_enc_b);
    if (s.aux_active) {
      const index_t ak = config_.aux_k;
      SHRINK_DISPATCH(ctx, gather_dot, ctx, ak, s.aux_idx.data(), DenseView<const V>(ehat), w.dec,
                      s.aux_dval.data());
      SHRINK_DISPATCH(ctx, topk_group, ctx, b * ak, s.aux_idx.data(), m, s.aux_ptr.data(), s.aux_order.data(),
                      s.group_ws.data());
      SHRINK_DISPATCH(ctx, topk_weight_grad, ctx, ak, s.aux_ptr.data(), s.aux_order.data(), s.aux_val.data(),
                      DenseView<const V>(ehat), V(1), g_dec, static_cast<V*>(nullptr));
      dispatch::relu_mask<V>(ctx, part(std::as_const(s.aux_val), 0, b * ak), part(s.aux_dval, 0, b * ak));
      SHRINK_DISPATCH(ctx, topk_weight_grad, ctx, ak, s.aux_ptr.data(), s.aux_order.data(), s.aux_dval.data(),
                      DenseView<const V>(xc), V(1), g_enc, g_enc_b);
    }
    // b_d also enters the encoder (z = W_e (x - b_d) + b_e): db_d -= W_e^T db_e.
    if (config_.block_sparse) {
      const DenseView<const V> db_e(g_enc_b, 1, m, m, Layout::RowMajor, sp);
      SHRINK_DISPATCH(ctx, bsr_backward_input, ctx, DenseView<const V>(db_e), w.enc_bsr, s.enc_cols.col_ptr.data(),
                      s.enc_cols.block_row.data(), s.enc_cols.block_index.data(), rows_of(s.d_tmp, 1, d),
                      kernels::Precision::Strict);
      dispatch::axpby<V>(ctx, V(-1), s.d_tmp.view(), V(1), part(grad_, s.dec_b, d));
    } else {
      dispatch::gemv<V>(ctx, Op::Transpose, V(-1), w.enc, VectorView<const V>(g_enc_b, m, sp), V(1), part(grad_, s.dec_b, d));
    }
    if (config_.weight_decay > 0) {
      const V wdc = V(config_.weight_decay);
      if (!config_.tied) dispatch::axpby<V>(ctx, wdc, we, V(1), part(grad_, s.enc_w, s.enc_w_size));
      dispatch::axpby<V>(ctx, wdc, wd, V(1), part(grad_, s.dec_w, s.dec_w_size));
    }
  }
  if (track_dead && topk)
    s.dead_count = SHRINK_DISPATCH(ctx, update_dead_latents, ctx, config_.k, b, s.idx.data(),
                                   static_cast<const V*>(s.val.data()), config_.dead_after, m, s.since.data(),
                                   s.dead.data());
  return loss;
}

template <class V>
void SparseAutoencoder<V>::step(const OptimizerOptions& options) {
  options.validate();
  const Context& ctx = *ctx_;
  Impl& s = *impl_;
  const DenseView<V> dec = rows_of(params_, config_.latents, config_.inputs, s.dec_w);
  if (config_.unit_norm_decoder)
    SHRINK_DISPATCH(ctx, remove_parallel_rows, ctx, DenseView<const V>(dec),
                    rows_of(grad_, config_.latents, config_.inputs, s.dec_w));
  ++t_;
  nn_detail::optimizer_step<V>(ctx, options, t_, params_.view(), grad_.view(), m_.view(), v_.view());
  if (config_.unit_norm_decoder) SHRINK_DISPATCH(ctx, normalize_rows, ctx, dec);
}

template <class V>
void SparseAutoencoder<V>::encode(In<DenseView<const V>> x, DenseView<V> h, VectorView<V> errors) {
  const Context& ctx = *ctx_;
  check_batch(ctx, x, config_.inputs, "X");
  detail::check_dense(ctx, h, "codes");
  if (h.rows != x.rows || h.cols != config_.latents)
    throw DimensionMismatch("codes are " + detail::shape(h.rows, h.cols) + " but need " +
                            detail::shape(x.rows, config_.latents));
  if (!errors.empty()) detail::check_vec(ctx, errors, x.rows, "errors", "X's samples");
  forward(x);
  if (!errors.empty()) errors_after_forward(x, errors);
  Impl& s = *impl_;
  const index_t b = x.rows, m = config_.latents;
  if (config_.activation == SaeActivation::TopK) {
    SHRINK_DISPATCH(ctx, topk_scatter, ctx, config_.k, s.idx.data(), s.val.data(), h);
  } else {
    const DenseView<const V> z = rows_of(std::as_const(s.z), b, m);
    SHRINK_DISPATCH(ctx, broadcast_add, ctx, z, V(0), s.term.data(), h);  // a copy (alpha 0, finite term)
  }
}

template <class V>
void SparseAutoencoder<V>::reconstruct(In<DenseView<const V>> x, DenseView<V> x_hat) {
  const Context& ctx = *ctx_;
  check_batch(ctx, x, config_.inputs, "X");
  detail::check_dense(ctx, x_hat, "reconstruction");
  if (x_hat.rows != x.rows || x_hat.cols != config_.inputs)
    throw DimensionMismatch("reconstruction is " + detail::shape(x_hat.rows, x_hat.cols) + " but needs " +
                            detail::shape(x.rows, config_.inputs));
  forward(x);
  const DenseView<const V> xh = rows_of(std::as_const(impl_->xhat), x.rows, config_.inputs);
  SHRINK_DISPATCH(ctx, broadcast_add, ctx, xh, V(0), impl_->d_tmp.data(), x_hat);
}

template <class V>
void SparseAutoencoder<V>::reconstruction_errors(In<DenseView<const V>> x, VectorView<V> errors) {
  const Context& ctx = *ctx_;
  check_batch(ctx, x, config_.inputs, "X");
  detail::check_vec(ctx, errors, x.rows, "errors", "X's samples");
  forward(x);
  errors_after_forward(x, errors);
}

template <class V>
void SparseAutoencoder<V>::set_scorer(Scorer scorer) {
  if (scorer.method == SaeScore::Reconstruction) {
    scorer.neighbors = 0;
    scorer.reference.clear();
  } else {
    const index_t d = config_.inputs;
    const auto size = static_cast<index_t>(scorer.reference.size());
    if (size == 0 || size % d != 0)
      throw InvalidArgument("the neighbors' reference holds " + std::to_string(size) +
                            " values, not a positive multiple of the " + std::to_string(d) + " inputs");
    const index_t rows = size / d;
    if (scorer.neighbors < 1 || scorer.neighbors > rows)
      throw InvalidArgument("neighbors must be in [1, " + std::to_string(rows) + "] (the reference rows), got " +
                            std::to_string(scorer.neighbors));
    detail::check_finite(scorer.reference.data(), size, "the neighbors' reference");
  }
  scorer_ = std::move(scorer);
}

// Squared distances by ||x||^2 + ||r||^2 - 2 x.r (the cross term one gemm per chunk of samples), the k
// smallest selected, then those k recomputed exactly in double: the expansion's cancellation may
// blur near-ties at the k-th place, never the distances reported.
template <class V>
void SparseAutoencoder<V>::anomaly_scores(In<DenseView<const V>> x, VectorView<V> scores) {
  if (scorer_.method == SaeScore::Reconstruction) {
    reconstruction_errors(x, scores);
    return;
  }
  const Context& ctx = *ctx_;
  check_batch(ctx, x, config_.inputs, "X");
  detail::check_vec(ctx, scores, x.rows, "scores", "X's samples");
  const index_t n = x.rows, d = config_.inputs, k = scorer_.neighbors;
  const index_t refs = scorer_.reference_rows(d);
  const V* ref = scorer_.reference.data();
  std::vector<V> xs(static_cast<std::size_t>(n * d));
  detail::copy_bytes(&ctx, xs.data(), MemorySpace::Host, x.data, x.space, sizeof(V) * static_cast<std::size_t>(n * d));
  std::vector<double> ref_norm(static_cast<std::size_t>(refs));
  for (index_t j = 0; j < refs; ++j) {
    double t = 0;
    for (index_t c = 0; c < d; ++c) t += double(ref[j * d + c]) * double(ref[j * d + c]);
    ref_norm[j] = t;
  }
  const Context cpu(ContextOptions{Backend::Cpu, 0, ctx.cpu_threads(), ctx.deterministic(), false});
  const index_t chunk = std::clamp<index_t>((index_t(1) << 22) / refs, 1, n);
  std::vector<V> cross(static_cast<std::size_t>(chunk * refs));
  std::vector<V> out(static_cast<std::size_t>(n));
  for (index_t b = 0; b < n; b += chunk) {
    const index_t rows = std::min(chunk, n - b);
    dispatch::gemm<V>(cpu, Op::NoTranspose, Op::Transpose, V(-2),
                      DenseView<const V>(xs.data() + b * d, rows, d, d, Layout::RowMajor),
                      DenseView<const V>(ref, refs, d, d, Layout::RowMajor), V(0),
                      DenseView<V>(cross.data(), rows, refs, refs, Layout::RowMajor));
#pragma omp parallel num_threads(std::max(1, ctx.cpu_threads())) if (rows > 16)
    {
    std::vector<std::pair<double, index_t>> dist(static_cast<std::size_t>(refs));
#pragma omp for schedule(static)
    for (index_t i = 0; i < rows; ++i) {
      const V* xi = xs.data() + (b + i) * d;
      for (index_t j = 0; j < refs; ++j) dist[j] = {double(cross[i * refs + j]) + ref_norm[j], j};
      std::nth_element(dist.begin(), dist.begin() + (k - 1), dist.end());
      double total = 0;
      for (index_t t = 0; t < k; ++t) {
        const V* rj = ref + dist[t].second * d;
        double sq = 0;
        for (index_t c = 0; c < d; ++c) {
          const double e = double(xi[c]) - double(rj[c]);
          sq += e * e;
        }
        total += std::sqrt(sq);
      }
      out[b + i] = V(total / double(k));
    }
    }
  }
  detail::copy_bytes(&ctx, scores.data, scores.space, out.data(), MemorySpace::Host, sizeof(V) * out.size());
}

template <class V>
void SparseAutoencoder<V>::errors_after_forward(DenseView<const V> x, VectorView<V> errors) {
  const Context& ctx = *ctx_;
  const DenseView<const V> xh = rows_of(std::as_const(impl_->xhat), x.rows, config_.inputs);
  SHRINK_DISPATCH(ctx, row_sq_dist, ctx, xh, x, errors.data);
  dispatch::axpby<V>(ctx, V(1) / V(config_.inputs), VectorView<const V>(errors), V(0), errors);
}

// ---- weights on the host ------------------------------------------------------------------------------
template <class V>
DenseMatrix<V> SparseAutoencoder<V>::encoder_weights() const {
  const index_t d = config_.inputs, m = config_.latents;
  const std::vector<V> p = params_.to_vector(*ctx_);
  const Impl& s = *impl_;
  if (config_.block_sparse) {
    auto bsr = BsrMatrix<V, I32>::from_arrays(m, d, config_.block.rows, config_.block.cols, s.enc_rp, s.enc_ci,
                                              std::vector<V>(p.begin() + s.enc_w, p.begin() + s.enc_w + s.enc_w_size));
    return bsr_to_dense(bsr);
  }
  DenseMatrix<V> e(m, d);
  std::copy(p.begin() + s.enc_w, p.begin() + s.enc_w + m * d, e.data());
  return e;
}

template <class V>
DenseMatrix<V> SparseAutoencoder<V>::decoder_weights() const {
  const index_t d = config_.inputs, m = config_.latents;
  const std::vector<V> p = params_.to_vector(*ctx_);
  const Impl& s = *impl_;
  if (config_.block_sparse) {
    auto bsr = BsrMatrix<V, I32>::from_arrays(d, m, config_.block.rows, config_.block.cols, s.dec_rp, s.dec_ci,
                                              std::vector<V>(p.begin() + s.dec_w, p.begin() + s.dec_w + s.dec_w_size));
    return bsr_to_dense(bsr);
  }
  DenseMatrix<V> wd(d, m);
  for (index_t j = 0; j < m; ++j)
    for (index_t q = 0; q < d; ++q) wd(q, j) = p[s.dec_w + j * d + q];
  return wd;
}

template <class V>
std::vector<V> SparseAutoencoder<V>::encoder_bias() const {
  const std::vector<V> p = params_.to_vector(*ctx_);
  return {p.begin() + impl_->enc_b, p.begin() + impl_->enc_b + config_.latents};
}

template <class V>
std::vector<V> SparseAutoencoder<V>::decoder_bias() const {
  const std::vector<V> p = params_.to_vector(*ctx_);
  return {p.begin() + impl_->dec_b, p.begin() + impl_->dec_b + config_.inputs};
}

// ---- block sparsity ------------------------------------------------------------------------------------
template <class V>
double SparseAutoencoder<V>::block_sparsity() const {
  if (!config_.block_sparse) return 0;
  const Impl& s = *impl_;
  const index_t gr = (config_.latents + config_.block.rows - 1) / config_.block.rows;
  const index_t gc = (config_.inputs + config_.block.cols - 1) / config_.block.cols;
  const index_t dr = (config_.inputs + config_.block.rows - 1) / config_.block.rows;
  const index_t dc = (config_.latents + config_.block.cols - 1) / config_.block.cols;
  const double total = double(gr * gc + dr * dc);
  return 1 - double(s.enc_ci.size() + s.dec_ci.size()) / total;
}

template <class V>
void SparseAutoencoder<V>::prune_to(double sparsity, BlockNorm norm) {
  if (!config_.block_sparse) throw InvalidArgument("prune_to needs a block-sparse model (config.block_sparse)");
  if (!(sparsity >= 0 && sparsity <= 1))
    throw InvalidArgument("sparsity must be in [0, 1], got " + std::to_string(sparsity));
  Impl& s = *impl_;
  std::vector<V> p = params_.to_vector(*ctx_), mv = m_.to_vector(*ctx_), vv = v_.to_vector(*ctx_);
  const index_t bs = config_.block.rows * config_.block.cols;
  std::vector<V> np, nm, nv;
  auto take = [&](index_t from, index_t n) {
    np.insert(np.end(), p.begin() + from, p.begin() + from + n);
    nm.insert(nm.end(), mv.begin() + from, mv.begin() + from + n);
    nv.insert(nv.end(), vv.begin() + from, vv.begin() + from + n);
  };
  // One layer: rank its stored blocks, keep the top ones in storage order, copy their state.
  auto prune_layer = [&](index_t rows, index_t cols, std::vector<I32>& rp, std::vector<I32>& ci, index_t offset) {
    const index_t grid = ((rows + config_.block.rows - 1) / config_.block.rows) *
                         ((cols + config_.block.cols - 1) / config_.block.cols);
    const index_t keep = std::min<index_t>(blocks_to_keep(grid, sparsity), static_cast<index_t>(ci.size()));
    auto host = BsrMatrix<V, I32>::from_arrays(rows, cols, config_.block.rows, config_.block.cols, rp, ci,
                                               std::vector<V>(p.begin() + offset, p.begin() + offset +
                                                                  static_cast<index_t>(ci.size()) * bs));
    const std::vector<index_t> kept = nn_detail::top_blocks(block_norms(host, norm), keep);
    std::vector<I32> nrp(rp.size(), 0), nci;
    std::size_t next = 0;
    for (std::size_t br = 0; br + 1 < rp.size(); ++br) {
      for (I32 q = rp[br]; q < rp[br + 1]; ++q)
        if (next < kept.size() && kept[next] == q) {
          nci.push_back(ci[q]);
          take(offset + q * bs, bs);
          ++next;
        }
      nrp[br + 1] = static_cast<I32>(nci.size());
    }
    rp = std::move(nrp);
    ci = std::move(nci);
  };
  prune_layer(config_.latents, config_.inputs, s.enc_rp, s.enc_ci, s.enc_w);
  take(s.enc_b, config_.latents);
  prune_layer(config_.inputs, config_.latents, s.dec_rp, s.dec_ci, s.dec_w);
  take(s.dec_b, config_.inputs);
  build_layout();
  const MemorySpace sp = ctx_->memory_space();
  params_ = Array<V>::from_vector(np).copy_to(*ctx_, sp);
  m_ = Array<V>::from_vector(nm).copy_to(*ctx_, sp);
  v_ = Array<V>::from_vector(nv).copy_to(*ctx_, sp);
  grad_ = Array<V>(*ctx_, np.size(), sp);
}

template <class V>
void SparseAutoencoder<V>::set_dead_after(std::int64_t samples) {
  if (samples < 1) throw InvalidArgument("dead_after must be >= 1 sample, got " + std::to_string(samples));
  config_.dead_after = samples;
}

template <class V>
double SparseAutoencoder<V>::dead_fraction() const {
  return double(impl_->dead_count) / double(config_.latents);
}

template class SparseAutoencoder<float>;
template class SparseAutoencoder<double>;

}  // namespace shrink
