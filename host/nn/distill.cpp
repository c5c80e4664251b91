// Distillation of a dense teacher (one layer or a ReLU MLP) into a block-sparse student: minibatch
// Adam/SGD on the MSE between the two networks' outputs, with gradual block pruning.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

#include "kernels/ops/instantiate.hpp"
#include "host/core/validate.hpp"
#include "host/nn/nn_detail.hpp"
#include "host/core/dispatch.hpp"
#include "shrink/nn.hpp"

namespace shrink {

const char* to_string(ScheduleKind kind) noexcept { return kind == ScheduleKind::Cubic ? "cubic" : "oneshot"; }

ScheduleKind parse_schedule_kind(std::string_view text) {
  if (text == "cubic") return ScheduleKind::Cubic;
  if (text == "oneshot" || text == "one-shot") return ScheduleKind::OneShot;
  throw InvalidArgument("schedule '" + std::string(text) + "' is not one of cubic, oneshot");
}

namespace {

// A dense matrix as one vector (for the elementwise kernels).
template <class V>
VectorView<V> flat(DenseMatrix<V>& m) {
  return {m.data(), m.rows() * m.cols(), m.space()};
}
template <class V>
VectorView<const V> flat(const DenseMatrix<V>& m) {
  return {m.data(), m.rows() * m.cols(), m.space()};
}

// A network of BlockSparseLinear layers joined by ReLU, with the activations of the last forward pass.
template <class V, class I>
class Network {
 public:
  Network(const Context& ctx, std::vector<BlockSparseLinear<V, I>> layers) : ctx_(&ctx), layers_(std::move(layers)) {}
  std::vector<BlockSparseLinear<V, I>>& layers() { return layers_; }
  index_t out_features() const { return layers_.back().out_features(); }

  // Keeps every layer's input and output for backward(); returns the output.
  const DenseMatrix<V>& forward(DenseView<const V> x) {
    acts_.resize(layers_.size());
    DenseView<const V> in = x;
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      auto& a = acts_[l];
      if (a.rows() != x.rows || a.cols() != layers_[l].out_features())
        a = DenseMatrix<V>(*ctx_, x.rows, layers_[l].out_features(), Layout::RowMajor, ctx_->memory_space());
      layers_[l].forward(in, a.view());
      if (l + 1 < layers_.size())  // ReLU: the prox of the indicator of x >= 0 (threshold 0, positive)
        SHRINK_DISPATCH(*ctx_, prox, *ctx_, a.rows() * a.cols(), a.data(), kernels::ProxArgs<V>{V(0), V(0), nullptr, true},
                        a.data());
      in = a.view();
    }
    return acts_.back();
  }

  // Given dL/d(output), fills every layer's gradients (after forward() on the same x).
  void backward(DenseView<const V> x, DenseView<const V> grad) {
    for (std::size_t l = layers_.size(); l-- > 0;) {
      if (l == 0) {
        layers_[l].backward(x, grad, DenseView<V>{});
        break;
      }
      const DenseView<const V> in = acts_[l - 1].view();
      auto& dx = scratch_[l % 2];  // the gradient below layer l; the other buffer holds `grad`
      if (dx.rows() != in.rows || dx.cols() != in.cols)
        dx = DenseMatrix<V>(*ctx_, in.rows, in.cols, Layout::RowMajor, ctx_->memory_space());
      layers_[l].backward(in, grad, dx.view());
      dispatch::relu_mask<V>(*ctx_, flat(acts_[l - 1]), flat(dx));
      grad = dx.view();
    }
  }


 private:
  const Context* ctx_;
  std::vector<BlockSparseLinear<V, I>> layers_;
  std::vector<DenseMatrix<V>> acts_;
  DenseMatrix<V> scratch_[2];
};

template <class V, class I>
BsrMatrix<V, I> all_blocks(DenseView<const V> w, BlockShape block) {
  const index_t total = ((w.rows + block.rows - 1) / block.rows) * ((w.cols + block.cols - 1) / block.cols);
  std::vector<index_t> every(static_cast<std::size_t>(total));
  std::iota(every.begin(), every.end(), index_t{0});
  return dense_to_bsr<V, I>(w, block.rows, block.cols, every);
}

// Outputs of `net` on all of x (host), in chunks of `chunk` rows.
template <class V, class I>
std::vector<V> outputs(const Context& ctx, Network<V, I>& net, DenseView<const V> x, index_t chunk) {
  std::vector<V> out(static_cast<std::size_t>(x.rows * net.out_features()));
  for (index_t r0 = 0; r0 < x.rows; r0 += chunk) {
    const index_t rows = std::min(chunk, x.rows - r0);
    DenseMatrix<V> part(rows, x.cols);
    for (index_t i = 0; i < rows; ++i)
      for (index_t j = 0; j < x.cols; ++j) part(i, j) = x(r0 + i, j);
    const auto dev = part.copy_to(ctx, ctx.memory_space());
    const auto y = net.forward(dev.view()).copy_to(ctx, MemorySpace::Host);
    std::copy_n(y.data(), rows * net.out_features(), out.begin() + r0 * net.out_features());
  }
  return out;
}

template <class V>
double relative_error(const std::vector<V>& got, const std::vector<V>& want) {
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    diff += (double(got[i]) - want[i]) * (double(got[i]) - want[i]);
    norm += double(want[i]) * want[i];
  }
  return norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

template <class V>
void validate_distill(std::span<const DenseLayer<V>> teacher, DenseView<const V> inputs, const DistillOptions& o) {
  if (teacher.empty()) throw InvalidArgument("distill: the teacher has no layers");
  check_block_shape(o.block);
  nn_detail::check_sparsity(o.sparsity, "sparsity");
  if (o.steps < 1) throw InvalidArgument("distill: steps must be >= 1, got " + std::to_string(o.steps));
  if (o.batch_size < 1) throw InvalidArgument("distill: batch size must be >= 1, got " + std::to_string(o.batch_size));
  if (o.prune_interval < 0)
    throw InvalidArgument("distill: prune interval must be >= 0, got " + std::to_string(o.prune_interval));
  if (!(o.prune_fraction > 0 && o.prune_fraction <= 1))
    throw InvalidArgument("distill: prune fraction must be in (0, 1], got " + std::to_string(o.prune_fraction));
  o.optimizer.validate();
  if (inputs.space != MemorySpace::Host) throw InvalidArgument("distill: the inputs must be in host memory");
  if (inputs.rows < 1) throw InvalidArgument("distill: the inputs have no samples");
  index_t width = inputs.cols;
  for (std::size_t l = 0; l < teacher.size(); ++l) {
    const auto& w = teacher[l].weights;
    const std::string name = "teacher layer " + std::to_string(l);
    if (w.space() != MemorySpace::Host) throw InvalidArgument(name + " must be in host memory");
    if (w.cols() != width)
      throw DimensionMismatch(name + " W is " + detail::shape(w.rows(), w.cols()) + " (out x in) but its input has " +
                              std::to_string(width) + (l == 0 ? " features (the columns of the inputs)" : " features"));
    detail::check_finite(w.view(), name + " W");
    if (!teacher[l].bias.empty()) {
      detail::check_vector_size(static_cast<index_t>(teacher[l].bias.size()), w.rows(), name + " bias", name + " W");
      detail::check_finite(teacher[l].bias.data(), w.rows(), name + " bias");
    }
    width = w.rows();
  }
  detail::check_finite(inputs, "distill: input");
}

}  // namespace

template <class V, class I>
DistillResult<V, I> distill(const Context& ctx, std::span<const DenseLayer<V>> teacher, DenseView<const V> inputs,
                            const DistillOptions& o) {
  validate_distill(teacher, inputs, o);
  const auto t_begin = std::chrono::steady_clock::now();
  const index_t n = inputs.rows, batch = std::min(o.batch_size, n), chunk = std::max<index_t>(batch, 4096);

  auto make_net = [&](auto weights_of) {
    std::vector<BlockSparseLinear<V, I>> layers;
    for (std::size_t l = 0; l < teacher.size(); ++l) {
      layers.emplace_back(ctx, weights_of(l), teacher[l].bias);
      layers.back().set_precision(o.precision);
    }
    return Network<V, I>(ctx, std::move(layers));
  };
  std::vector<BsrMatrix<V, I>> full;  // the teacher's weights, every block stored
  for (const auto& layer : teacher) full.push_back(all_blocks<V, I>(layer.weights.view(), o.block));
  auto teacher_net = make_net([&](std::size_t l) -> const BsrMatrix<V, I>& { return full[l]; });
  const auto target = outputs(ctx, teacher_net, inputs, chunk);
  const index_t out = teacher_net.out_features();

  DistillResult<V, I> result;
  {  // the baseline: one-shot magnitude pruning, no training
    auto one_shot = make_net([&](std::size_t l) {
      return prune_blocks<V, I>(teacher[l].weights.view(), {o.block, o.sparsity, o.norm}).weights;
    });
    result.one_shot_relative_error = relative_error(outputs(ctx, one_shot, inputs, chunk), target);
  }

  SparsitySchedule schedule = SparsitySchedule::one_shot(o.sparsity, 0);
  if (o.schedule == ScheduleKind::Cubic) {
    const std::int64_t dt = o.prune_interval > 0 ? o.prune_interval : std::max<std::int64_t>(1, o.steps / 50);
    const auto span = static_cast<std::int64_t>(o.prune_fraction * double(o.steps - 1));
    if (span / dt >= 1) schedule = {0.0, o.sparsity, 0, span / dt, dt};
  }

  auto student = make_net([&](std::size_t l) -> const BsrMatrix<V, I>& { return full[l]; });
  std::vector<index_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), index_t{0});
  std::mt19937_64 rng(o.seed);
  index_t cursor = n;  // reshuffle on first use
  // Minibatches are gathered on the host and copied into buffers made once.
  DenseMatrix<V> xb(batch, inputs.cols), tb(batch, out);
  const MemorySpace space = ctx.memory_space();
  DenseMatrix<V> xd(ctx, batch, inputs.cols, Layout::RowMajor, space), td(ctx, batch, out, Layout::RowMajor, space);
  DenseMatrix<V> grad(ctx, batch, out, Layout::RowMajor, space);
  double sparsity = 0;
  for (std::int64_t t = 0; t < o.steps; ++t) {
    if (schedule.prunes_at(t)) {
      sparsity = schedule.sparsity_at(t);
      for (auto& layer : student.layers()) layer.prune_to(sparsity, o.norm);
    }
    for (index_t i = 0; i < batch; ++i) {  // the next minibatch of a seeded shuffle
      if (cursor == n) {
        std::shuffle(order.begin(), order.end(), rng);
        cursor = 0;
      }
      const index_t s = order[cursor++];
      for (index_t j = 0; j < inputs.cols; ++j) xb(i, j) = inputs(s, j);
      std::copy_n(target.begin() + s * out, out, tb.data() + i * out);
    }
    copy<V>(ctx, flat(xb), flat(xd));
    copy<V>(ctx, flat(tb), flat(td));
    // grad = (y - target) / batch, the gradient of loss = ||y - target||^2 / (2 batch)
    copy<V>(ctx, flat(student.forward(xd.view())), flat(grad));
    dispatch::axpby<V>(ctx, V(-1) / V(batch), flat(td), V(1) / V(batch), flat(grad));
    const double norm = dispatch::nrm2<V>(ctx, flat(grad));
    const double loss = 0.5 * double(batch) * norm * norm;
    result.loss.push_back(loss);
    student.backward(xd.view(), grad.view());
    for (auto& layer : student.layers()) layer.step(o.optimizer);
    if (o.progress) o.progress(t + 1, loss, sparsity);
  }
  // The schedule's last pruning may be skipped when steps are few: make sure the target is reached.
  for (auto& layer : student.layers()) layer.prune_to(o.sparsity, o.norm);

  result.student_relative_error = relative_error(outputs(ctx, student, inputs, chunk), target);
  index_t kept = 0, total = 0;
  for (auto& layer : student.layers()) {
    result.weights.push_back(layer.weights_on_host());
    result.biases.push_back(layer.bias_on_host());
    kept += result.weights.back().nnzb();
    total += result.weights.back().block_grid_rows() * result.weights.back().block_grid_cols();
  }
  result.block_sparsity = total ? 1.0 - double(kept) / double(total) : 0.0;
  result.steps = o.steps;
  result.time_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_begin).count();
  return result;
}

#define SHRINK_INSTANTIATE_VI(V, I)                                                                  \
  template DistillResult<V, I> distill<V, I>(const Context&, std::span<const DenseLayer<V>>,         \
                                             DenseView<const V>, const DistillOptions&);
SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE_VI)
#undef SHRINK_INSTANTIATE_VI

}  // namespace shrink
