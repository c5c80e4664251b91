// Pieces shared by the pruning, layer and distillation code.
#pragma once
#include <string>
#include <vector>

#include "shrink/nn.hpp"

namespace shrink::nn_detail {

void check_sparsity(double sparsity, const std::string& what);
// Indices of the `keep` largest scores (ties: lower index first), in increasing index order.
std::vector<index_t> top_blocks(const std::vector<double>& scores, index_t keep);
// One ranking over the blocks of several layers (ties: lower layer, then lower index): which blocks
// of each layer are among the `keep` largest, as per-layer indices in increasing order.
std::vector<std::vector<index_t>> top_blocks_across(const std::vector<std::vector<double>>& scores, index_t keep);

}  // namespace shrink::nn_detail
