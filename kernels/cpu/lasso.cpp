// CPU twins of the Gram coordinate descent (the oracle for the CUDA kernel and the CPU Gram solver's
// inner loop: one coefficient at a time in index order; a move updates the whole gradient) and of
// the working-set choice.
#include <omp.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "kernels/ops/kernels.hpp"

namespace shrink::kernels::cpu {

namespace {

// Minimizes over coordinate j; true when beta_j moved.
template <class V>
inline bool gram_coordinate(index_t p, const V* gram, index_t ld, const V* l1, const V* denom,
                            const V* lipschitz, bool positive, index_t j, V* beta, V* grad) {
  const V old = beta[j];
  const V next = coordinate_update(lipschitz[j] * old + grad[j], l1[j], denom[j], positive);
  if (next == old) return false;
  const V delta = next - old;
  beta[j] = next;
  const V* g = gram + j * ld;
#pragma omp simd
  for (index_t k = 0; k < p; ++k) grad[k] -= delta * g[k];
  return true;
}

}  // namespace

template <class V>
void gram_cd(const Context&, index_t p, const V* gram, index_t ld, const V* l1, const V* denom,
             const V* lipschitz, bool positive, int rounds, int active_sweeps, V* beta, V* grad,
             index_t* active) {
  for (int round = 0; round < rounds; ++round) {
    index_t count = 0;
    for (index_t j = 0; j < p; ++j) {
      if (!(lipschitz[j] > 0)) continue;
      gram_coordinate(p, gram, ld, l1, denom, lipschitz, positive, j, beta, grad);
      if (beta[j] != 0) active[count++] = j;
    }
    for (int sweep = 0; sweep < active_sweeps; ++sweep)
      for (index_t t = 0; t < count; ++t)
        gram_coordinate(p, gram, ld, l1, denom, lipschitz, positive, active[t], beta, grad);
  }
}

template <class V>
index_t lasso_working_set(const Context&, index_t p, const V* c, const V* beta, const V* l1, const V* l2,
                          const V* lipschitz, bool positive, index_t k, index_t* out) {
  std::vector<double> key(static_cast<std::size_t>(p));
  index_t nonzero = 0;
  for (index_t j = 0; j < p; ++j) {
    key[j] = working_set_key(c[j], beta[j], l1[j], l2[j], lipschitz[j], positive);
    nonzero += beta[j] != 0;
  }
  std::vector<index_t> order(static_cast<std::size_t>(p));
  std::iota(order.begin(), order.end(), index_t{0});
  // (key, index) is a total order, so the first k are the same set a stable sort by key gives.
  auto before = [&](index_t a, index_t b) { return key[a] < key[b] || (key[a] == key[b] && a < b); };
  k = std::min(k, p);
  std::nth_element(order.begin(), order.begin() + k, order.end(), before);
  std::sort(order.begin(), order.begin() + k);
  std::copy_n(order.begin(), k, out);
  return nonzero;
}

SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_LASSO)

}  // namespace shrink::kernels::cpu
