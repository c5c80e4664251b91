// Block-pruned layers: block magnitude pruning and its schedules, the BlockSparseLinear layer with its
// forward/backward kernels and optimizer steps, and distillation of a dense teacher into a
// block-sparse student.
//
// Conventions: activations are row-major batch x features; a layer's weight W is out x in in BSR, so
// a layer computes Y = X W^T + b. Block sizes run from 1x1 to 64x64. A dimension the block size does
// not divide gets a partial last block row or column, stored zero-padded (see BsrMatrix); pruning
// scores such a block on its entries inside the matrix only.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

#include "shrink/matrix.hpp"
#include "shrink/ops.hpp"
#include "shrink/stats.hpp"

namespace shrink {

// ---- blocks and their norms -------------------------------------------------------------------------
struct BlockShape {
  index_t rows = 1, cols = 1;
};
inline constexpr index_t kMaxBlockSide = 64;
// "RxC" (or "R" for R x R) with 1 <= R, C <= 64; InvalidArgument quoting the text otherwise.
BlockShape parse_block_shape(std::string_view text);
// Throws InvalidArgument unless 1 <= rows, cols <= 64.
void check_block_shape(const BlockShape& block, std::string_view what = "block size");

enum class BlockNorm { L1, L2, Max };
const char* to_string(BlockNorm norm) noexcept;
BlockNorm parse_block_norm(std::string_view text);  // "l1", "l2" or "max"

// The norm of every block of the grid over w, in row-major grid order (index br * grid_cols + bc).
template <class V>
std::vector<double> block_norms(DenseView<const V> w, BlockShape block, BlockNorm norm);
template <class V> requires(!std::is_const_v<V>)
std::vector<double> block_norms(DenseView<V> w, BlockShape block, BlockNorm norm) {
  return block_norms<V>(DenseView<const V>(w), block, norm);
}
// The norm of every stored block of a host BSR matrix, in storage order.
template <class V, class I>
std::vector<double> block_norms(const BsrMatrix<V, I>& w, BlockNorm norm);

// ---- pruning ----------------------------------------------------------------------------------------
// Blocks kept for a target sparsity s over `total` blocks: total - round(s * total). The achieved
// block sparsity is the target exactly whenever s * total is a whole number, else the nearest one.
index_t blocks_to_keep(index_t total, double sparsity);

struct PruneOptions {
  BlockShape block;
  double sparsity = 0;  // fraction of blocks removed, in [0, 1]
  BlockNorm norm = BlockNorm::L2;
  int histogram_bins = 10;
};

struct PruneReport {
  index_t blocks_total = 0, blocks_kept = 0;
  double target_sparsity = 0;
  double block_sparsity = 0;            // 1 - blocks_kept / blocks_total
  double element_sparsity = 0;          // zeros / (rows * cols) of the pruned matrix
  double relative_frobenius_error = 0;  // ||W - W_pruned||_F / ||W||_F (0 when W is zero)
  MagnitudeHistogram block_norm_histogram;  // norms of all blocks before pruning
};

template <class V, class I = std::int32_t>
struct PrunedMatrix {
  BsrMatrix<V, I> weights;
  PruneReport report;
};

// Keeps the blocks with the largest norms; ties go to the block first in row-major grid order, so the
// result is deterministic. Refuses NaN/Inf weights and a sparsity outside [0, 1].
template <class V, class I = std::int32_t>
PrunedMatrix<V, I> prune_blocks(DenseView<const V> w, const PruneOptions& options);
// One ranking over the blocks of all layers (ties: lower layer, then grid order): the total kept is
// set by the sparsity over all blocks, so layers end at different sparsities.
template <class V, class I = std::int32_t>
std::vector<PrunedMatrix<V, I>> prune_blocks_global(std::span<const DenseView<const V>> layers,
                                                    const PruneOptions& options);
// Statistics of a pruned BSR matrix against the dense original.
template <class V, class I>
PruneReport prune_report(DenseView<const V> original, const BsrMatrix<V, I>& pruned,
                         double target_sparsity, BlockNorm norm, int histogram_bins = 10);

// Gradual pruning (Zhu and Gupta, 2017, "To prune, or not to prune"):
//   s_t = s_f + (s_i - s_f) * (1 - (t - t0) / (n * dt))^3,  pruning at t = t0, t0 + dt, ..., t0 + n dt.
// Before t0 the sparsity is s_i, after t0 + n dt it is s_f. One-shot pruning is n = 0.
struct SparsitySchedule {
  double initial_sparsity = 0;  // s_i
  double final_sparsity = 0;    // s_f
  std::int64_t begin_step = 0;  // t0
  std::int64_t prunings = 0;    // n
  std::int64_t interval = 1;    // dt

  static SparsitySchedule one_shot(double sparsity, std::int64_t step = 0);
  void validate() const;                            // InvalidArgument naming the bad field
  double sparsity_at(std::int64_t step) const;      // s_t
  bool prunes_at(std::int64_t step) const;          // t = t0 + k dt, 0 <= k <= n
  std::int64_t end_step() const { return begin_step + prunings * interval; }
};

// ---- layer kernels ----------------------------------------------------------------------------------
// Inputs of the tensor-core paths: Strict keeps the value type end to end (FP32 or FP64 FMA); Tf32
// and Bf16 round the inputs of float products on the GPU and accumulate in FP32. The CPU and double
// precision always run Strict.
enum class MatmulPrecision { Strict, Tf32, Bf16 };
const char* to_string(MatmulPrecision precision) noexcept;
MatmulPrecision parse_matmul_precision(std::string_view text);  // "strict"/"fp32", "tf32", "bf16"

// The forward product's implementation: ours, or the cuSPARSE BSR baseline (cusparseSbsrmm: CUDA,
// float, 32-bit indices, square blocks that divide W's shape).
enum class BsrAlgorithm { Auto, CusparseBsr };
const char* to_string(BsrAlgorithm algorithm) noexcept;

// W's blocks by block column (CSC of the block pattern), so that dX = dY W reads W in transposed
// order without a transposed copy of the values. Built on the host once per pattern.
template <class I>
struct BsrColumnIndex {
  Array<I> col_ptr;      // block_grid_cols + 1
  Array<I> block_row;    // nnzb: the block row of each entry
  Array<I> block_index;  // nnzb: the stored block (index into W's blocks)
};
template <class V, class I>
BsrColumnIndex<I> bsr_column_index(const Context& ctx, const BsrMatrix<V, I>& w);

// Y = X W^T + bias. X is batch x in, Y batch x out, both row-major; bias is empty or has out entries.
template <class V, class I>
void bsr_linear_forward(const Context& ctx, In<DenseView<const V>> x, const BsrView<V, I>& w,
                        In<VectorView<const V>> bias, DenseView<V> y,
                        MatmulPrecision precision = MatmulPrecision::Strict,
                        BsrAlgorithm algorithm = BsrAlgorithm::Auto);
// dX = dY W (dY batch x out, dX batch x in).
template <class V, class I>
void bsr_linear_backward_input(const Context& ctx, In<DenseView<const V>> dy, const BsrView<V, I>& w,
                               const BsrColumnIndex<I>& columns, DenseView<V> dx,
                               MatmulPrecision precision = MatmulPrecision::Strict);
// The blocks of dY^T X on W's pattern only: grad has nnzb * R * C entries, laid out like W's values
// (padding entries are zero).
template <class V, class I>
void bsr_linear_weight_grad(const Context& ctx, In<DenseView<const V>> dy, In<DenseView<const V>> x,
                            const BsrView<V, I>& w, VectorView<V> grad,
                            MatmulPrecision precision = MatmulPrecision::Strict);
// out[j] = sum_i m(i, j) (deterministic).
template <class V>
void column_sums(const Context& ctx, In<DenseView<const V>> m, VectorView<V> out);

// The ReLU backward: g[i] = 0 wherever the ReLU's output a[i] <= 0. (The forward is
// soft_threshold(x, 0, {}, positive = true).)
template <class V>
void relu_mask(const Context& ctx, In<VectorView<const V>> a, VectorView<V> g);

// ---- optimizers (fused, one pass each) ------------------------------------------------------------
enum class OptimizerKind { Sgd, Adam };
const char* to_string(OptimizerKind kind) noexcept;
OptimizerKind parse_optimizer(std::string_view text);

struct OptimizerOptions {
  OptimizerKind kind = OptimizerKind::Adam;
  double learning_rate = 1e-3;
  double momentum = 0;  // SGD (heavy ball)
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;  // Adam
  double weight_decay = 0;  // L2: g += weight_decay * w
  void validate() const;
};

// Adam step t (1-based) on n parameters, with bias correction: m and v are updated in place.
template <class V>
void adam_step(const Context& ctx, VectorView<V> w, In<VectorView<const V>> g, VectorView<V> m,
               VectorView<V> v, const OptimizerOptions& options, std::int64_t t);
// SGD with momentum: velocity = momentum * velocity + g; w -= lr * velocity. velocity may be empty
// when momentum is 0.
template <class V>
void sgd_step(const Context& ctx, VectorView<V> w, In<VectorView<const V>> g, VectorView<V> velocity,
              const OptimizerOptions& options);

// ---- the layer --------------------------------------------------------------------------------------
// Y = X W^T + b with W in BSR, on the context's backend. Gradients land in the layer; step() applies
// them on the stored blocks only, so the pattern never changes except through prune_to(), which
// carries the optimizer state of the kept blocks.
template <class V, class I = std::int32_t>
class BlockSparseLinear {
 public:
  // Copies weights (host or device) and bias (empty: zeros) into the context's memory space.
  BlockSparseLinear(const Context& ctx, const BsrMatrix<V, I>& weights, std::vector<V> bias = {});

  index_t in_features() const noexcept { return w_.cols(); }
  index_t out_features() const noexcept { return w_.rows(); }
  BlockShape block() const noexcept { return {w_.block_height(), w_.block_width()}; }
  const BsrMatrix<V, I>& weights() const noexcept { return w_; }  // in the context's space
  const Array<V>& bias() const noexcept { return b_; }
  BsrMatrix<V, I> weights_on_host() const;
  std::vector<V> bias_on_host() const;
  double block_sparsity() const;  // 1 - nnzb / grid blocks

  MatmulPrecision precision() const noexcept { return precision_; }
  void set_precision(MatmulPrecision precision) { precision_ = precision; }

  // y = x W^T + b (x batch x in, y batch x out, row-major, in the context's space).
  void forward(In<DenseView<const V>> x, DenseView<V> y) const;
  // Given dL/dY, stores dL/dW (on the stored blocks) and dL/db, and writes dL/dX when dx has data.
  void backward(In<DenseView<const V>> x, In<DenseView<const V>> dy, DenseView<V> dx);
  const Array<V>& weight_grad() const noexcept { return gw_; }
  const Array<V>& bias_grad() const noexcept { return gb_; }

  // One optimizer step with the last gradients.
  void step(const OptimizerOptions& options);
  std::int64_t steps_taken() const noexcept { return t_; }
  const Array<V>& optimizer_state(int k) const noexcept { return k == 0 ? m_w_ : v_w_; }

  // Keeps the stored blocks with the largest norms so that the block sparsity over the whole grid is
  // `sparsity` (never adds blocks: a lower target keeps them all). Optimizer state and gradients
  // follow the kept blocks.
  PruneReport prune_to(double sparsity, BlockNorm norm = BlockNorm::L2);
  // Keeps the stored blocks with these indices (increasing), with their optimizer state.
  void keep_stored_blocks(const std::vector<index_t>& kept);

 private:
  template <class V2, class I2>
  friend std::vector<PruneReport> prune_layers_global(std::span<BlockSparseLinear<V2, I2>* const> layers,
                                                      double sparsity, BlockNorm norm);
  // keep_stored_blocks given W already copied to the host.
  void keep_blocks_of(const BsrMatrix<V, I>& host, const std::vector<index_t>& kept);
  const Context* ctx_;
  BsrMatrix<V, I> w_;
  BsrColumnIndex<I> columns_;
  Array<V> b_, gw_, gb_;
  Array<V> m_w_, v_w_, m_b_, v_b_;  // Adam moments, or SGD velocity in m_
  std::int64_t t_ = 0;
  MatmulPrecision precision_ = MatmulPrecision::Strict;
};

// Keeps one ranking over the stored blocks of all layers (see prune_blocks_global).
template <class V, class I>
std::vector<PruneReport> prune_layers_global(std::span<BlockSparseLinear<V, I>* const> layers,
                                             double sparsity, BlockNorm norm = BlockNorm::L2);

// ---- distillation -----------------------------------------------------------------------------------
// A dense layer of a teacher: W is out x in, bias empty or out entries. Layers of a multi-layer
// teacher are joined by ReLU (none after the last).
template <class V>
struct DenseLayer {
  DenseMatrix<V> weights;
  std::vector<V> bias;
};

enum class ScheduleKind { Cubic, OneShot };
const char* to_string(ScheduleKind kind) noexcept;
ScheduleKind parse_schedule_kind(std::string_view text);

struct DistillOptions {
  BlockShape block;
  double sparsity = 0.9;
  BlockNorm norm = BlockNorm::L2;
  ScheduleKind schedule = ScheduleKind::Cubic;
  std::int64_t steps = 1000;
  std::int64_t batch_size = 256;
  // Cubic: prune every `prune_interval` steps (0: steps / 50) from step 0 until `prune_fraction` of
  // the steps; the rest fine-tunes at the final sparsity. One-shot prunes at step 0.
  std::int64_t prune_interval = 0;
  double prune_fraction = 0.75;
  OptimizerOptions optimizer{OptimizerKind::Adam, 1e-3};
  std::uint64_t seed = 0;
  MatmulPrecision precision = MatmulPrecision::Strict;
  std::function<void(std::int64_t step, double loss, double sparsity)> progress;
};

template <class V, class I = std::int32_t>
struct DistillResult {
  std::vector<BsrMatrix<V, I>> weights;  // host, one per layer
  std::vector<std::vector<V>> biases;
  double student_relative_error = 0;   // ||student(X) - teacher(X)||_F / ||teacher(X)||_F
  double one_shot_relative_error = 0;  // the same for one-shot magnitude pruning of the teacher
  double block_sparsity = 0;           // achieved, over all layers' blocks
  std::vector<double> loss;            // training loss at every step
  std::int64_t steps = 0;
  double time_s = 0;
};

// Trains a block-sparse student of the teacher's shape, started from the teacher's weights, on the
// MSE of its outputs against the teacher's on minibatches of `inputs` (samples x in), pruning on the
// schedule to the target sparsity.
template <class V, class I = std::int32_t>
DistillResult<V, I> distill(const Context& ctx, std::span<const DenseLayer<V>> teacher,
                            DenseView<const V> inputs, const DistillOptions& options);

}  // namespace shrink
