// Sparse-autoencoder kernels. Matrices are row-major, samples x features; a decoder D is latents x
// inputs (row j is latent j's atom). TopK codes are k (index, value) pairs per sample, indices
// ascending, padded with (0, 0) when fewer than k latents are allowed.
#pragma once
#include "kernels/ops/declare.hpp"

namespace shrink::kernels {

// The elementwise nonlinearity of a layer.
enum class Activation { Identity, Relu, Sigmoid };
// Input corruption for denoising: additive Gaussian noise (level = sigma) or masking (level = p).
enum class Noise { None, Gaussian, Mask };

SHRINK_TWINS(
  /* out = a + alpha * v broadcast over rows (out may alias a) */
  template <class V> void broadcast_add(const Context& ctx, DenseView<const V> a, V alpha, const V* v,
                                        DenseView<V> out);
  /* z = f(z + bias) in place; bias may be null */
  template <class V> void bias_activation(const Context& ctx, DenseView<V> z, const V* bias, Activation f);
  /* g = (g + term_j) * f'(z) given h = f(z); term may be null */
  template <class V> void activation_backward(const Context& ctx, DenseView<const V> h, const V* term,
                                              Activation f, DenseView<V> g);
  /* rho_hat_j = sums_j / rows; term_j = scale beta (-rho/rho_hat + (1-rho)/(1-rho_hat));
     returns beta sum_j KL(rho || rho_hat) */
  template <class V> V kl_penalty(const Context& ctx, index_t latents, const V* sums, index_t rows, V rho,
                                  V beta, V scale, V* term);
  /* the k largest entries of each row of z among allowed columns (all when allowed is null),
     ReLU'd; ties go to the lower column */
  template <class V> void topk_rows(const Context& ctx, DenseView<const V> z, index_t k, const std::uint8_t* allowed,
                                    std::int32_t* idx, V* val);
  /* h = the dense codes of (idx, val) (zero elsewhere) */
  template <class V> void topk_scatter(const Context& ctx, index_t k, const std::int32_t* idx, const V* val,
                                       DenseView<V> h);
  /* x_hat_i = bias + sum_t val_it d_{idx_it}; bias may be null */
  template <class V> void topk_decode(const Context& ctx, index_t k, const std::int32_t* idx, const V* val,
                                      DenseView<const V> d, const V* bias, DenseView<V> x_hat);
  /* out_it = g_i . d_{idx_it} */
  template <class V> void gather_dot(const Context& ctx, index_t k, const std::int32_t* idx, DenseView<const V> g,
                                     DenseView<const V> d, V* out);
  /* the entries of idx grouped by latent: order[ptr_j .. ptr_j+1) hold latent j, ascending */
  std::size_t topk_group_workspace(const Context& ctx, index_t entries, index_t latents);
  void topk_group(const Context& ctx, index_t entries, const std::int32_t* idx, index_t latents, std::int32_t* ptr,
                  std::int32_t* order, void* workspace);
  /* grad_j = beta grad_j + sum_{e in group j} coef_e rows_{e / k}; sums_j = beta sums_j + sum coef
     (sums may be null) */
  template <class V> void topk_weight_grad(const Context& ctx, index_t k, const std::int32_t* ptr,
                                           const std::int32_t* order, const V* coef, DenseView<const V> rows,
                                           V beta, DenseView<V> grad, V* sums);
  template <class V> void row_norms(const Context& ctx, DenseView<const V> d, V* out);
  template <class V> void normalize_rows(const Context& ctx, DenseView<V> d);
  /* g_j -= (g_j . d_j / ||d_j||^2) d_j */
  template <class V> void remove_parallel_rows(const Context& ctx, DenseView<const V> d, DenseView<V> g);
  /* g_j += alpha s_j d_j / ||d_j|| */
  template <class V> void add_scaled_unit_rows(const Context& ctx, DenseView<const V> d, const V* s, V alpha,
                                               DenseView<V> g);
  /* out_i = ||a_i - b_i||^2 */
  template <class V> void row_sq_dist(const Context& ctx, DenseView<const V> a, DenseView<const V> b, V* out);
  /* out = x corrupted by a counter-based generator keyed on (seed, element): the same on every
     backend */
  template <class V> void corrupt(const Context& ctx, DenseView<const V> x, Noise kind, V level,
                                  std::uint64_t seed, DenseView<V> out);
  /* since_j = 0 if latent j fired (val > 0) in the batch, else since_j + samples; dead_j = since_j >=
     dead_after; returns the number dead */
  template <class V> index_t update_dead_latents(const Context& ctx, index_t k, index_t samples,
                                                 const std::int32_t* idx, const V* val, std::int64_t dead_after,
                                                 index_t latents, std::int64_t* since, std::uint8_t* dead);
  /* sums_j = sum_i h_ij, counts_j = #{i : h_ij > 0} */
  template <class V> void latent_activity(const Context& ctx, DenseView<const V> h, V* sums, index_t* counts);)

#define SHRINK_INSTANTIATE_SAE(V)                                                                    \
  SHRINK_KERNEL_INSTANCE(broadcast_add, V) SHRINK_KERNEL_INSTANCE(bias_activation, V)                \
  SHRINK_KERNEL_INSTANCE(activation_backward, V) SHRINK_KERNEL_INSTANCE(kl_penalty, V)               \
  SHRINK_KERNEL_INSTANCE(topk_rows, V) SHRINK_KERNEL_INSTANCE(topk_scatter, V)                       \
  SHRINK_KERNEL_INSTANCE(topk_decode, V) SHRINK_KERNEL_INSTANCE(gather_dot, V)                       \
  SHRINK_KERNEL_INSTANCE(topk_weight_grad, V) SHRINK_KERNEL_INSTANCE(row_norms, V)                   \
  SHRINK_KERNEL_INSTANCE(normalize_rows, V) SHRINK_KERNEL_INSTANCE(remove_parallel_rows, V)          \
  SHRINK_KERNEL_INSTANCE(add_scaled_unit_rows, V) SHRINK_KERNEL_INSTANCE(row_sq_dist, V)             \
  SHRINK_KERNEL_INSTANCE(corrupt, V) SHRINK_KERNEL_INSTANCE(update_dead_latents, V)                  \
  SHRINK_KERNEL_INSTANCE(latent_activity, V)

}  // namespace shrink::kernels
