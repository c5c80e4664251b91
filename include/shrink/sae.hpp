// Sparse autoencoders: x_hat = W_d h + b_d with h = f(W_e (x - b_d) + b_e), in three variants
//   sigmoid-kl  sigmoid units, beta * sum_j KL(rho || rho_hat_j) (rho_hat: batch mean activation)
//   relu-l1     ReLU units, l1 * mean_i sum_j c_j h_ij (c_j = 1, or the decoder column norm)
//   topk        ReLU of the k largest pre-activations per sample, plus the AuxK loss on dead
//               latents (Gao et al. 2024, "Scaling and evaluating sparse autoencoders")
// with optional tied weights (W_e = W_d^T), unit-norm decoder columns and block-sparse encoder and
// decoder (BSR, pruned gradually). The loss on a batch of B samples is
//   (1/(2B)) sum_i ||x_hat_i - x_i||^2 + sparsity term + (weight_decay/2) * sum of squared weights
//   [+ aux_coeff * (1/(2B)) sum_i ||e_hat_i - (x_i - x_hat_i)||^2 for AuxK, the residual held fixed].
//
// Samples are rows (batch x features, row-major). The model works on normalized inputs; the
// Normalizer it carries maps raw data there (sae_* helpers below apply it for you).
#pragma once
#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "shrink/matrix.hpp"
#include "shrink/nn.hpp"
#include "shrink/ops.hpp"
#include "shrink/stats.hpp"

namespace shrink {

enum class SaeActivation { SigmoidKl, ReluL1, TopK };
const char* to_string(SaeActivation activation) noexcept;
SaeActivation parse_sae_activation(std::string_view text);  // sigmoid-kl, relu-l1, topk

// How the TopK decoder runs: from the k active latents by gathering (never forming the dense
// batch x latents code or its gradient), or as the dense masked product (the baseline it must equal).
enum class TopKDecoder { Sparse, Dense };

enum class Normalization { None, MinMax, Standard };
const char* to_string(Normalization kind) noexcept;
Normalization parse_normalization(std::string_view text);  // none, minmax, standard

// x_normalized = (x - offset) / scale per feature. A constant feature gets scale 1.
struct Normalizer {
  Normalization kind = Normalization::None;
  std::vector<double> offset, scale;  // empty for None

  template <class V>
  static Normalizer fit(Normalization kind, DenseView<const V> data);  // host data
  template <class V>
  void apply(DenseView<V> data) const;  // host, in place
  template <class V>
  void invert(DenseView<V> data) const;  // host, in place
};

// How `sae score` rates a sample (anomaly scores, higher is more anomalous):
//   reconstruction  the mean squared reconstruction error on the normalized scale;
//   neighbors       the mean Euclidean distance, on the normalized scale, to the k nearest of the
//                   reference samples (training rows) the model keeps.
enum class SaeScore { Reconstruction, Neighbors };
const char* to_string(SaeScore method) noexcept;
SaeScore parse_sae_score(std::string_view text);  // reconstruction, neighbors

// The most training rows a model keeps as neighbors' reference (a seeded sample beyond it): 8192,
// and no more than 2^24 values (wide data keeps fewer rows).
inline constexpr index_t kSaeReferenceRows = 8192;
inline constexpr index_t kSaeReferenceValues = index_t(1) << 24;
constexpr index_t sae_reference_rows(index_t inputs) noexcept {
  return inputs < 1 ? kSaeReferenceRows : std::clamp(kSaeReferenceValues / inputs, index_t(1), kSaeReferenceRows);
}

// Corruption of the inputs for denoising: x_in = x + N(0, level^2), or x_in = x with each entry
// zeroed with probability level. The target stays the clean x.
enum class CorruptionKind { None, Gaussian, Mask };
struct Corruption {
  CorruptionKind kind = CorruptionKind::None;
  double level = 0;  // sigma, or the masking probability in [0, 1)
};

struct SaeConfig {
  index_t inputs = 0;   // d
  index_t latents = 0;  // m
  SaeActivation activation = SaeActivation::ReluL1;
  double rho = 0.05, beta = 3;   // sigmoid-kl: rho in (0, 1), beta >= 0
  double l1 = 1e-3;              // relu-l1
  bool l1_decoder_norm = false;  // relu-l1: weight latent j's L1 by ||decoder column j||
  index_t k = 32;                // topk: active latents per sample, 1 <= k <= latents
  index_t aux_k = 0;             // topk: AuxK latents (0: no AuxK)
  double aux_coeff = 1.0 / 32;
  bool aux_detach_residual = true;  // AuxK's target e = x - x_hat is held fixed (as Gao et al.); false
                                    // differentiates through it too (the exact gradient, for checks)
  std::int64_t dead_after = 0;   // samples without firing before a latent counts as dead (0: one epoch)
  double weight_decay = 0;       // on W_e and W_d, not on the biases
  bool tied = false;             // W_e = W_d^T
  bool unit_norm_decoder = false;
  TopKDecoder topk_decoder = TopKDecoder::Sparse;
  bool block_sparse = false;     // encoder and decoder in BSR with blocks of `block`
  BlockShape block;
  void validate() const;  // InvalidArgument naming the field
};

struct SaeLoss {
  double total = 0, reconstruction = 0, sparsity = 0, auxiliary = 0, weight_decay = 0;
};

template <class V>
class SparseAutoencoder {
 public:
  // Random initialization (seeded): weights uniform in +-sqrt(6/(d+m+1)); for unit-norm decoders the
  // columns are normalized and the encoder starts as the decoder's transpose. b_d starts at
  // `decoder_bias` when given (e.g. the data mean), else 0; b_e at 0.
  SparseAutoencoder(const Context& ctx, const SaeConfig& config, std::uint64_t seed, Normalizer normalizer = {},
                    std::vector<V> decoder_bias = {});

  const Context& context() const noexcept { return *ctx_; }
  const SaeConfig& config() const noexcept { return config_; }
  const Normalizer& normalizer() const noexcept { return normalizer_; }

  // All trainable values as one vector: [W_e | b_e | W_d | b_d] (tied: [W_d | b_e | b_d]); block-
  // sparse weights contribute their stored blocks (BSR values, padding included).
  index_t parameter_count() const noexcept { return static_cast<index_t>(params_.size()); }
  std::vector<V> parameters_on_host() const;
  void set_parameters(std::span<const V> values);  // refuses NaN/Inf and a wrong length
  std::vector<V> gradient_on_host() const;
  const Array<V>& parameters() const noexcept { return params_; }
  Array<V>& parameters() noexcept { return params_; }
  const Array<V>& gradient() const noexcept { return grad_; }

  // The loss on a batch. `input` is what the encoder sees (the corrupted x when denoising), `target`
  // the clean x; both batch x inputs, row-major, in the context's space. With want_gradient the
  // gradient of the total loss is left in gradient(). TopK also updates the dead-latent counters
  // when track_dead is set (training).
  SaeLoss evaluate(In<DenseView<const V>> input, In<DenseView<const V>> target, bool want_gradient,
                   bool track_dead = false);
  // One optimizer step on gradient() (Adam or SGD), then the unit-norm projection if configured.
  void step(const OptimizerOptions& options);
  std::int64_t steps_taken() const noexcept { return t_; }

  // Dense codes h (batch x latents), reconstructions (batch x inputs), and per-sample mean squared
  // reconstruction errors, for normalized x in the context's space. encode also writes the errors
  // when `errors` is given (one forward pass for both).
  void encode(In<DenseView<const V>> x, DenseView<V> h, VectorView<V> errors = {});
  void reconstruct(In<DenseView<const V>> x, DenseView<V> x_hat);
  void reconstruction_errors(In<DenseView<const V>> x, VectorView<V> errors);

  // The anomaly scorer (SaeScore): reconstruction, or neighbors with k and the reference samples
  // (normalized, rows x inputs, row-major, on the host). A new model scores by reconstruction.
  struct Scorer {
    SaeScore method = SaeScore::Reconstruction;
    index_t neighbors = 0;  // k (neighbors)
    std::vector<V> reference;
    index_t reference_rows(index_t inputs) const noexcept {
      return inputs > 0 ? static_cast<index_t>(reference.size()) / inputs : 0;
    }
  };
  const Scorer& scorer() const noexcept { return scorer_; }
  void set_scorer(Scorer scorer);  // validated: k in [1, reference rows], finite values
  // Anomaly scores of normalized x (context's space) by the scorer; neighbors are found on the host.
  void anomaly_scores(In<DenseView<const V>> x, VectorView<V> scores);

  // Weights on the host, dense: W_e (latents x inputs), W_d (inputs x latents).
  DenseMatrix<V> encoder_weights() const;
  DenseMatrix<V> decoder_weights() const;
  std::vector<V> encoder_bias() const;
  std::vector<V> decoder_bias() const;

  // Block sparsity over the encoder's and decoder's block grids (0 for dense models).
  double block_sparsity() const;
  // Keeps, in each of W_e and W_d, the stored blocks with the largest norms so that its block
  // sparsity is `sparsity` (never adds blocks). Adam moments follow the kept blocks.
  void prune_to(double sparsity, BlockNorm norm = BlockNorm::L2);

  // Fraction of latents that have not fired for dead_after samples (TopK training only).
  double dead_fraction() const;
  void set_dead_after(std::int64_t samples);  // >= 1

  struct Impl;  // opaque: patterns, views and per-batch workspaces

  // ---- state for checkpoints --------------------------------------------------------------------
  struct State {
    std::vector<V> params, adam_m, adam_v;
    std::int64_t t = 0;                         // optimizer steps
    std::vector<std::int64_t> since_fired;      // TopK: samples since each latent fired
    std::vector<std::int64_t> encoder_row_ptr, encoder_col_idx, decoder_row_ptr, decoder_col_idx;
  };
  State state() const;
  // Rebuilds a model from a saved state (validated against the configuration).
  SparseAutoencoder(const Context& ctx, const SaeConfig& config, Normalizer normalizer, const State& state);

  SparseAutoencoder(SparseAutoencoder&&) noexcept;
  SparseAutoencoder& operator=(SparseAutoencoder&&) noexcept;
  ~SparseAutoencoder();

 private:
  void build_layout();
  void prepare(index_t batch);               // sizes the workspace for `batch` samples
  void forward(DenseView<const V> input);    // up to x_hat, leaving codes in the workspace
  void errors_after_forward(DenseView<const V> x, VectorView<V> errors);
  const Context* ctx_;
  SaeConfig config_;
  Normalizer normalizer_;
  Scorer scorer_;
  Array<V> params_, grad_, m_, v_;
  std::int64_t t_ = 0;
  std::unique_ptr<Impl> impl_;
};

// ---- training -----------------------------------------------------------------------------------------
enum class SaeOptimizer { Adam, Lbfgs };
const char* to_string(SaeOptimizer kind) noexcept;
SaeOptimizer parse_sae_optimizer(std::string_view text);  // adam, lbfgs

struct SaeMetrics {
  index_t samples = 0;
  double mse = 0;              // mean over samples and features of (x_hat - x)^2 (normalized scale)
  double fvu = 0;              // sum ||x - x_hat||^2 / sum ||x - mean(x)||^2
  double l0 = 0;               // mean number of active (> 0) latents per sample
  double mean_activation = 0;  // mean of h over samples and latents (compare with rho)
  double dead_fraction = 0;    // latents never active on these samples
  double sparsity_ratio = 0;   // zero activations / (samples * latents)
  MagnitudeHistogram activation_histogram;  // of the non-zero activations, when bins > 0
};

struct SaeEpochLog {
  std::int64_t epoch = 0, step = 0;
  double loss = 0;  // mean training loss over the epoch's batches
  SaeMetrics metrics;
  double block_sparsity = 0;
  double time_s = 0;
};

// The learning rate over a run: constant, or a linear warm-up then a cosine decay to a floor.
enum class LearningRateSchedule { Constant, Cosine };
const char* to_string(LearningRateSchedule kind) noexcept;
LearningRateSchedule parse_learning_rate_schedule(std::string_view text);  // constant, cosine

struct SaeTrainOptions {
  std::int64_t epochs = 10;      // passes over the data (Adam)
  std::int64_t steps = 0;        // Adam: train this many steps instead (0: use epochs); with early
                                 // stopping the budget, which the run may end before
  index_t batch_size = 256;
  SaeOptimizer optimizer = SaeOptimizer::Adam;
  OptimizerOptions adam{OptimizerKind::Adam, 1e-3};
  LearningRateSchedule lr_schedule = LearningRateSchedule::Constant;
  double warmup_fraction = 0.05;    // cosine: warm-up over this fraction of the run's planned steps
  double final_lr_fraction = 0.1;   // cosine: the rate ends at this fraction of adam.learning_rate
  // Early stopping (Adam): a seeded validation_fraction of the samples is held out of training; its
  // mean reconstruction error is checked every check_every steps (0: once per epoch, or 50 times a
  // run if that is more often). After `patience` checks without a relative improvement of 1e-4
  // the run stops, and the parameters of the best check are kept. patience 0: the run goes on.
  double validation_fraction = 0;
  std::int64_t patience = 0;
  std::int64_t check_every = 0;
  std::int64_t lbfgs_iterations = 400;  // L-BFGS: full-batch iterations
  index_t lbfgs_history = 10;
  Corruption corruption;
  // Block-sparse models: prune to `sparsity` on the cubic schedule over the first prune_fraction of
  // the planned steps (or at once for OneShot).
  double sparsity = 0;
  ScheduleKind schedule = ScheduleKind::Cubic;
  double prune_fraction = 0.75;
  BlockNorm norm = BlockNorm::L2;
  std::uint64_t seed = 0;
  bool epoch_metrics = true;  // a metrics pass over the data after every epoch
  std::function<void(const SaeEpochLog&)> on_epoch;
  std::function<void(std::int64_t done, std::int64_t total)> progress;  // steps
};

// Where training stands, so that a resumed run continues exactly (same shuffles, noise, schedule).
struct SaeTrainState {
  std::uint64_t seed = 0;
  std::int64_t epochs_done = 0, steps_done = 0;
  std::int64_t epoch_step = 0;  // steps already taken inside the current epoch
  SparsitySchedule schedule;  // in optimizer steps; prunings == 0 and final 0 when unused
};

struct SaeTrainResult {
  SaeMetrics metrics;  // on the training samples (without the held-out ones) after the last step
  std::vector<double> epoch_loss;
  std::int64_t epochs = 0, steps = 0;  // epochs completed and steps taken by this call
  double time_s = 0;
  bool converged = true;  // L-BFGS: reached its tolerance
  // Early stopping: held-out samples, the best check's mean squared error and step, and whether the
  // run stopped before its budget.
  index_t validation_samples = 0;
  double validation_mse = 0;
  std::int64_t best_step = 0;
  bool stopped_early = false;
};

// Trains on `data` (normalized, samples x inputs, in the context's space or on the host), continuing
// from `state` (epochs_done, steps_done) and updating it.
template <class V>
SaeTrainResult sae_train(const Context& ctx, SparseAutoencoder<V>& model, DenseView<const V> data,
                         const SaeTrainOptions& options, SaeTrainState& state);

// Metrics on normalized data (host or the context's space), evaluated in chunks.
template <class V>
SaeMetrics sae_metrics(const Context& ctx, SparseAutoencoder<V>& model, DenseView<const V> data,
                       int histogram_bins = 0);

// ---- defaults chosen from the data ---------------------------------------------------------------------
// The choices a run may leave to the data. Each field left empty is chosen by resolve_sae_settings
// from the training data's shape; a field that is set is kept as given.
struct SaeAutoOptions {
  std::optional<SaeActivation> activation;  // topk
  std::optional<index_t> latents;           // 2 x inputs, in [16, 4096]
  std::optional<index_t> k;                 // inputs / 5, at least 1 (topk)
  std::optional<index_t> aux_k;             // latents / 4, at least k (topk; 0 with block-sparse weights)
  std::optional<bool> unit_norm_decoder;    // on for relu-l1 and topk with dense weights
  std::optional<Normalization> normalize;   // minmax
  std::optional<std::int64_t> epochs;       // a fixed length; set, it turns early stopping off
  std::optional<std::int64_t> steps;        // likewise
  std::optional<index_t> batch_size;        // samples / 16, in [8, 256]
  std::optional<double> learning_rate;      // 3e-3
  std::optional<LearningRateSchedule> schedule;  // cosine
  std::optional<double> validation_fraction;     // 0.1 with >= 50 samples and no fixed length, else 0
  std::optional<std::int64_t> patience;          // 10 checks when validating
  std::optional<SaeScore> score;                 // neighbors
  std::optional<index_t> neighbors;              // 5, at most the samples (neighbors)
};

// Everything a training run uses, once resolved.
struct SaeSettings {
  SaeConfig config;
  Normalization normalize = Normalization::None;
  SaeTrainOptions train;
  SaeScore score = SaeScore::Reconstruction;
  index_t neighbors = 0;
};

// Resolves `chosen` for training data of samples x inputs. `base` carries every option the data does
// not choose (rho, beta, l1, weight decay, tied, blocks, corruption, seed, Adam's betas, ...); its
// fields that SaeAutoOptions covers are overwritten. The result is validated. For a resumed model,
// pass its configuration in base and leave the model's own fields (activation, latents, k, aux_k,
// unit_norm_decoder, normalize) set to it: only the training options are chosen.
SaeSettings resolve_sae_settings(const SaeAutoOptions& chosen, SaeSettings base, index_t samples, index_t inputs);

// A model trained with resolved settings, from raw samples (host, samples x inputs): fits the
// normalizer, starts b_d at the normalized mean (relu-l1, topk), trains, sets the scorer
// (sae_set_scorer), and returns the model with its training state. The data is not modified.
template <class V>
struct SaeFit {
  SparseAutoencoder<V> model;
  SaeTrainState state;
  SaeTrainResult result;
};
template <class V>
SaeFit<V> sae_fit(const Context& ctx, const SaeSettings& settings, DenseView<const V> data);
// Sets the model's scorer: for neighbors, the reference is the normalized samples (host), or a
// sample of sae_reference_rows(inputs) of them drawn with `seed`, and k is at most their count.
template <class V>
void sae_set_scorer(SparseAutoencoder<V>& model, SaeScore method, index_t neighbors,
                    DenseView<const V> normalized, std::uint64_t seed);

// ---- checkpoints ----------------------------------------------------------------------------------------
// A versioned binary file: magic, version, value type, configuration, normalizer, training state,
// parameters, optimizer state, the anomaly scorer (version 2) and an FNV-1a 64 checksum of
// everything before it. Written to a temporary file and renamed. Loading refuses a bad magic, version, type, size or checksum.
struct SaeCheckpointInfo {
  int value_bytes = 0;  // 4 (float) or 8 (double)
  SaeConfig config;
};
SaeCheckpointInfo sae_checkpoint_info(const std::string& path);

template <class V>
void save_sae(const std::string& path, const SparseAutoencoder<V>& model, const SaeTrainState& state);
template <class V>
struct LoadedSae {
  SparseAutoencoder<V> model;
  SaeTrainState state;
};
template <class V>
LoadedSae<V> load_sae(const Context& ctx, const std::string& path);
template <class V>  // the checkpoint's bytes in memory; name is used in messages
LoadedSae<V> parse_sae(const Context& ctx, std::string_view bytes, const std::string& name);

}  // namespace shrink
