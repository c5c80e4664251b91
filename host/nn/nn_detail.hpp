// Pieces shared by the pruning, layer and distillation code.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "host/core/dispatch.hpp"
#include "shrink/nn.hpp"

namespace shrink::nn_detail {

// One optimizer step on w with gradient g and the state (m, v: Adam's moments; m: SGD's velocity
// when momentum > 0) at step count t >= 1, through the dispatch: the layer and the SAE validate
// their options once, and the public adam_step / sgd_step check and then come here too.
template <class V>
void optimizer_step(const Context& ctx, const OptimizerOptions& o, std::int64_t t, VectorView<V> w,
                    VectorView<const V> g, VectorView<V> m, VectorView<V> v) {
  if (o.kind == OptimizerKind::Adam) {
    const kernels::AdamArgs<V> a{V(o.learning_rate), V(o.beta1), V(o.beta2), V(o.epsilon), V(o.weight_decay),
                                 V(1 - std::pow(o.beta1, double(t))), V(1 - std::pow(o.beta2, double(t)))};
    SHRINK_DISPATCH(ctx, adam_step, ctx, w.size, w.data, g.data, m.data, v.data, a);
  } else {
    const kernels::SgdArgs<V> a{V(o.learning_rate), V(o.momentum), V(o.weight_decay)};
    SHRINK_DISPATCH(ctx, sgd_step, ctx, w.size, w.data, g.data, o.momentum != 0 ? m.data : nullptr, a);
  }
}

void check_sparsity(double sparsity, const std::string& what);
// Indices of the `keep` largest scores (ties: lower index first), in increasing index order.
std::vector<index_t> top_blocks(const std::vector<double>& scores, index_t keep);
// One ranking over the blocks of several layers (ties: lower layer, then lower index): which blocks
// of each layer are among the `keep` largest, as per-layer indices in increasing order.
std::vector<std::vector<index_t>> top_blocks_across(const std::vector<std::vector<double>>& scores, index_t keep);

}  // namespace shrink::nn_detail
