// Pieces shared by the pruning, layer and distillation code.
#pragma once
#include <string>
#include <vector>

#include "shrink/nn.hpp"

namespace shrink::nn_detail {

void check_sparsity(double sparsity, const std::string& what);
// Indices of the `keep` largest scores (ties: lower index first), in increasing index order.
std::vector<index_t> top_blocks(const std::vector<double>& scores, index_t keep);
// A BSR holding the grid blocks `kept` (row-major grid indices, increasing) of w.
template <class V, class I>
BsrMatrix<V, I> keep_grid_blocks(DenseView<const V> w, BlockShape block, const std::vector<index_t>& kept);

}  // namespace shrink::nn_detail
