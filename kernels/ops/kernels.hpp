// Kernel declarations. Each kernel is declared once here and implemented twice, with this same
// signature, in kernels/cpu (shrink::kernels::cpu, the oracle) and kernels/cuda
// (shrink::kernels::cuda, device pointers, the context's stream). host/core/ops.cpp validates and
// dispatches. Pointers point into the backend's memory space; sizes are already checked.
#pragma once
#include <cstddef>
#include <cstdint>

#include "host/core/instantiate.hpp"
#include "kernels/ops/batch_lasso_math.hpp"
#include "kernels/ops/lasso_math.hpp"
#include "kernels/ops/optim_math.hpp"
#include "shrink/matrix.hpp"
#include "shrink/nn.hpp"
#include "shrink/ops.hpp"
#include "shrink/sae.hpp"

namespace shrink::kernels {

template <class V>
struct ProxArgs {
  V l1;              // threshold scale (already multiplied by the step where there is one)
  V l2;              // ridge scale
  const V* factors;  // per-coordinate weights, or nullptr for all ones
  bool positive;
};


// Sparse-autoencoder kernels (sae.{cpp,cu}). All matrices are row-major, samples x features; a
// decoder D is latents x inputs (row j is latent j's atom). TopK codes are k (index, value) pairs per
// sample, indices ascending, padded with (0, 0) when fewer than k latents are allowed.
// clang-format off
#define SHRINK_SAE_KERNEL_DECLARATIONS                                                                  \
  /* out = a + alpha * v broadcast over rows (out may alias a) */                                      \
  template <class V> void broadcast_add(const Context& ctx, DenseView<const V> a, V alpha, const V* v,  \
                                        DenseView<V> out);                                              \
  /* z = f(z + bias) in place; bias may be null */                                                     \
  template <class V> void bias_activation(const Context& ctx, DenseView<V> z, const V* bias,           \
                                          Activation f);                                                \
  /* g = (g + term_j) * f'(z) given h = f(z); term may be null */                                      \
  template <class V> void activation_backward(const Context& ctx, DenseView<const V> h, const V* term,  \
                                              Activation f, DenseView<V> g);                            \
  /* rho_hat_j = sums_j / rows (sums: column sums of the codes, from column_sums);                     \
     term_j = scale * beta * (-rho/rho_hat + (1-rho)/(1-rho_hat)); returns beta sum_j KL(rho||rho_hat) */ \
  template <class V> V kl_penalty(const Context& ctx, index_t latents, const V* sums, index_t rows,      \
                                  V rho, V beta, V scale, V* term);                                     \
  /* the k largest entries of each row of z among allowed columns (all when allowed is null), ReLU'd;  \
     ties go to the lower column */                                                                    \
  template <class V> void topk_rows(const Context& ctx, DenseView<const V> z, index_t k,                \
                                    const std::uint8_t* allowed, std::int32_t* idx, V* val);            \
  /* h = the dense codes of (idx, val) (zero elsewhere) */                                             \
  template <class V> void topk_scatter(const Context& ctx, index_t k, const std::int32_t* idx,          \
                                       const V* val, DenseView<V> h);                                   \
  /* x_hat_i = bias + sum_t val_it * d_{idx_it}; bias may be null */                                   \
  template <class V> void topk_decode(const Context& ctx, index_t k, const std::int32_t* idx,           \
                                      const V* val, DenseView<const V> d, const V* bias,                \
                                      DenseView<V> x_hat);                                              \
  /* out_it = g_i . d_{idx_it} */                                                                      \
  template <class V> void gather_dot(const Context& ctx, index_t k, const std::int32_t* idx,            \
                                     DenseView<const V> g, DenseView<const V> d, V* out);               \
  /* the entries of idx grouped by latent: entries order[ptr_j .. ptr_j+1) hold latent j, ascending */ \
  std::size_t topk_group_workspace(const Context& ctx, index_t entries, index_t latents);               \
  void topk_group(const Context& ctx, index_t entries, const std::int32_t* idx, index_t latents,        \
                  std::int32_t* ptr, std::int32_t* order, void* workspace);                             \
  /* grad_j = beta grad_j + sum_{e in group j} coef_e * rows_{e / k};  sums_j = beta sums_j + sum coef  \
     (sums may be null) */                                                                             \
  template <class V> void topk_weight_grad(const Context& ctx, index_t k, const std::int32_t* ptr,      \
                                           const std::int32_t* order, const V* coef,                    \
                                           DenseView<const V> rows, V beta, DenseView<V> grad, V* sums);\
  template <class V> void row_norms(const Context& ctx, DenseView<const V> d, V* out);                  \
  template <class V> void normalize_rows(const Context& ctx, DenseView<V> d);                           \
  /* g_j -= (g_j . d_j / ||d_j||^2) d_j */                                                             \
  template <class V> void remove_parallel_rows(const Context& ctx, DenseView<const V> d,                \
                                               DenseView<V> g);                                         \
  /* g_j += alpha * s_j * d_j / ||d_j|| */                                                             \
  template <class V> void add_scaled_unit_rows(const Context& ctx, DenseView<const V> d, const V* s,    \
                                               V alpha, DenseView<V> g);                                \
  /* out_i = ||a_i - b_i||^2 */                                                                        \
  template <class V> void row_sq_dist(const Context& ctx, DenseView<const V> a, DenseView<const V> b,   \
                                      V* out);                                                          \
  /* out = x corrupted by a counter-based generator keyed on (seed, element): same on every backend */ \
  template <class V> void corrupt(const Context& ctx, DenseView<const V> x, CorruptionKind kind,        \
                                  V level, std::uint64_t seed, DenseView<V> out);                       \
  template <class V> void gather_rows(const Context& ctx, DenseView<const V> src, const index_t* rows,  \
                                      DenseView<V> dst);                                                \
  /* the inverse: row rows[i] of dst = row i of src (rows distinct) */                                 \
  template <class V> void scatter_rows(const Context& ctx, DenseView<const V> src, const index_t* rows, \
                                       DenseView<V> dst);                                               \
  /* since_j = 0 if latent j fired (val > 0) in the batch, else since_j + samples; dead_j = since_j >=  \
     dead_after; returns the number dead */                                                            \
  template <class V> index_t update_dead_latents(const Context& ctx, index_t k, index_t samples,        \
                                                 const std::int32_t* idx, const V* val,                 \
                                                 std::int64_t dead_after, index_t latents,              \
                                                 std::int64_t* since, std::uint8_t* dead);              \
  /* sums_j = sum_i h_ij, counts_j = #{i : h_ij > 0} */                                                \
  template <class V> void latent_activity(const Context& ctx, DenseView<const V> h, V* sums,            \
                                          index_t* counts);
// clang-format on

// clang-format off
#define SHRINK_KERNEL_DECLARATIONS                                                                      \
  /* prox.{cpp,cu} */                                                                                  \
  template <class V> void prox(const Context& ctx, index_t n, const V* v, ProxArgs<V> p, V* x);         \
  template <class V> void prox_grad_step(const Context& ctx, index_t n, const V* v, const V* g,         \
                                         V step, ProxArgs<V> p, V* x);                                  \
  template <class V> void fista_step(const Context& ctx, index_t n, V* y, const V* g, V* x, V step,     \
                                     ProxArgs<V> p, V momentum);                                        \
  template <class V> void extrapolate(const Context& ctx, index_t n, const V* x_new, const V* x_old,    \
                                      V momentum, V* y);                                                \
  /* y = alpha*x + beta*y (beta == 0 overwrites y) */                                                  \
  template <class V> void axpby(const Context& ctx, index_t n, V alpha, const V* x, V beta, V* y);     \
  /* spmv.{cpp,cu} */                                                                                  \
  template <class V, class I> std::size_t csr_spmv_workspace(const Context& ctx,                        \
                                                             const CsrView<V, I>& a, Op op);            \
  template <class V, class I> void csr_spmv(const Context& ctx, V alpha, const CsrView<V, I>& a,        \
                                            const V* x, V beta, V* y, void* workspace);                 \
  template <class V, class I> void csr_spmv_transpose(const Context& ctx, V alpha,                      \
                                                      const CsrView<V, I>& a, const V* x, V beta,       \
                                                      V* y, void* workspace);                           \
  template <class V, class I> void csr_spmm(const Context& ctx, V alpha, const CsrView<V, I>& a,        \
                                            DenseView<const V> b, V beta, DenseView<V> c);              \
  /* dst (row-major, k x cols) = A(rows[t], col_first + c), zeros included */                          \
  template <class V, class I> void csr_gather_rows_dense(const Context& ctx, const CsrView<V, I>& a,    \
                                                         const index_t* rows, index_t col_first,        \
                                                         DenseView<V> dst);                             \
  /* writes the CSR of A^T: t_row_ptr (cols+1), t_col_idx and t_values (nnz) */                        \
  template <class V, class I> void csr_transpose(const Context& ctx, const CsrView<V, I>& a,            \
                                                 I* t_row_ptr, I* t_col_idx, V* t_values);              \
  /* reduce.{cpp,cu} */                                                                                \
  template <class V> V dot(const Context& ctx, index_t n, const V* x, const V* y);                      \
  template <class V> V nrm2(const Context& ctx, index_t n, const V* x);                                 \
  template <class V> V amax(const Context& ctx, index_t n, const V* x);                                 \
  template <class V> V sum(const Context& ctx, index_t n, const V* x);                                  \
  template <class V> index_t count_nonfinite(const Context& ctx, index_t n, const V* x);                \
  /* the dual / penalty terms of p coordinates (correlations c, coefficients beta, factors v) */       \
  template <class V> LassoDualTerms lasso_dual_terms(const Context& ctx, index_t p, const V* c,         \
                                                     const V* beta, const V* factors,                   \
                                                     LassoDualArgs args);                               \
  /* lasso.{cpp,cu}: coordinate descent on a dense Gram (column-major, leading dimension ld), grad =  */ \
  /* q - G beta kept current. `rounds` times: a sweep over every coordinate with lipschitz > 0, then  */ \
  /* `active_sweeps` sweeps over those left non-zero (listed in `active`, p entries of workspace).   */ \
  template <class V> void gram_cd(const Context& ctx, index_t p, const V* gram, index_t ld,            \
                                  const V* l1, const V* denom, const V* lipschitz, bool positive,       \
                                  int rounds, int active_sweeps, V* beta, V* grad, index_t* active);    \
  /* the k features with the smallest working_set_key (ties to the lower index), ascending in `out`; */ \
  /* returns how many beta_j are non-zero. l1, l2: lambda alpha v_j and lambda (1 - alpha) v_j.    */ \
  template <class V> index_t lasso_working_set(const Context& ctx, index_t p, const V* c, const V* beta, \
                                               const V* l1, const V* l2, const V* lipschitz,            \
                                               bool positive, index_t k, index_t* out);                 \
  /* batch_lasso.{cpp,cu}: solve_batch_problem for problems 0..m-1 (a warp each on CUDA, threads  */ \
  /* over problems on the CPU)                                                                      */ \
  template <class V> void batch_gram_cd(const Context& ctx, const BatchGramArgs<V>& args);              \
  /* build_batch_problem for every problem of a distinct batch                                      */ \
  template <class V> void batch_gram_build(const Context& ctx, const BatchBuildArgs<V>& args);          \
  /* y column-major n x m: mean_b (0 unless center) and sumsq_b = (1/n) sum_i (y_ib - mean_b)^2, in   */ \
  /* double; y is centered in place when center                                                      */ \
  template <class V> void center_columns(const Context& ctx, DenseView<V> y, bool center, double* mean, \
                                         double* sumsq);                                                \
  /* the non-zeros of each column of a column-major p x m block, column b's at offsets[b]            */ \
  template <class V> void compress_columns(const Context& ctx, DenseView<const V> a,                    \
                                           const std::int64_t* offsets, std::int64_t* rows,             \
                                           double* values);                                             \
  /* blas.{cpp,cu} */                                                                                  \
  template <class V> void gemv(const Context& ctx, Op op, V alpha, DenseView<const V> a, const V* x,    \
                               V beta, V* y);                                                           \
  template <class V> void gemm(const Context& ctx, Op op_a, Op op_b, V alpha, DenseView<const V> a,     \
                               DenseView<const V> b, V beta, DenseView<V> c);                   \
  /* C = alpha A^T A + beta C (SYRK; both triangles written) */                                        \
  template <class V> void gram(const Context& ctx, V alpha, DenseView<const V> a, V beta,             \
                               DenseView<V> c);                                                         \
  /* bsr.{cpp,cu}: Y = X W^T + bias; dX = dY W (W read by block column); dW on W's blocks */          \
  template <class V, class I> void bsr_forward(const Context& ctx, DenseView<const V> x,                \
                                               const BsrView<V, I>& w, const V* bias, DenseView<V> y,   \
                                               MatmulPrecision precision);                              \
  template <class V, class I> void bsr_backward_input(const Context& ctx, DenseView<const V> dy,        \
                                                      const BsrView<V, I>& w, const I* col_ptr,         \
                                                      const I* block_row, const I* block_index,         \
                                                      DenseView<V> dx, MatmulPrecision precision);      \
  template <class V, class I> void bsr_weight_grad(const Context& ctx, DenseView<const V> dy,           \
                                                   DenseView<const V> x, const BsrView<V, I>& w,        \
                                                   V* grad, MatmulPrecision precision);                 \
  template <class V> void column_sums(const Context& ctx, DenseView<const V> m, V* out);                \
  /* optim.{cpp,cu} */                                                                                 \
  template <class V> void adam_step(const Context& ctx, index_t n, V* w, const V* g, V* m, V* v,        \
                                    AdamArgs<V> a);                                                     \
  template <class V> void sgd_step(const Context& ctx, index_t n, V* w, const V* g, V* velocity,        \
                                   SgdArgs<V> a);                                                       \
  /* g[i] = 0 where a[i] <= 0 (the ReLU backward, given the ReLU's output a) */                        \
  template <class V> void relu_mask(const Context& ctx, index_t n, const V* a, V* g);                   \
  SHRINK_SAE_KERNEL_DECLARATIONS
// clang-format on

namespace cpu {
SHRINK_KERNEL_DECLARATIONS
}  // namespace cpu
namespace cuda {
SHRINK_KERNEL_DECLARATIONS
template <class V, class I>
void cusparse_spmv(const Context& ctx, SpmvAlgorithm algorithm, Op op, V alpha,
                   const CsrView<V, I>& a, const V* x, V beta, V* y);
// The cuSPARSE baselines of bsr_forward (float, square blocks).
template <class V, class I>
void cusparse_bsr_forward(const Context& ctx, BsrAlgorithm algorithm, DenseView<const V> x,
                          const BsrView<V, I>& w, const V* bias, DenseView<V> y);
}  // namespace cuda

// Explicit instantiations, shared by both twins (each twin expands them in its own namespace).
#define SHRINK_INSTANTIATE_PROX(V)                                                             \
  template void prox<V>(const Context&, index_t, const V*, ProxArgs<V>, V*);                   \
  template void prox_grad_step<V>(const Context&, index_t, const V*, const V*, V, ProxArgs<V>, \
                                  V*);                                                         \
  template void fista_step<V>(const Context&, index_t, V*, const V*, V*, V, ProxArgs<V>, V);   \
  template void extrapolate<V>(const Context&, index_t, const V*, const V*, V, V*);             \
  template void axpby<V>(const Context&, index_t, V, const V*, V, V*);
#define SHRINK_INSTANTIATE_REDUCE(V)                                      \
  template V dot<V>(const Context&, index_t, const V*, const V*);         \
  template V nrm2<V>(const Context&, index_t, const V*);                  \
  template V amax<V>(const Context&, index_t, const V*);                  \
  template V sum<V>(const Context&, index_t, const V*);                   \
  template index_t count_nonfinite<V>(const Context&, index_t, const V*);                          \
  template LassoDualTerms lasso_dual_terms<V>(const Context&, index_t, const V*, const V*, const V*, \
                                              LassoDualArgs);
#define SHRINK_INSTANTIATE_LASSO(V)                                                                  \
  template void gram_cd<V>(const Context&, index_t, const V*, index_t, const V*, const V*, const V*, \
                           bool, int, int, V*, V*, index_t*);                                     \
  template index_t lasso_working_set<V>(const Context&, index_t, const V*, const V*, const V*, const V*, \
                                        const V*, bool, index_t, index_t*);
#define SHRINK_INSTANTIATE_BATCH_LASSO(V)                                                           \
  template void batch_gram_cd<V>(const Context&, const BatchGramArgs<V>&);                            \
  template void batch_gram_build<V>(const Context&, const BatchBuildArgs<V>&);                        \
  template void center_columns<V>(const Context&, DenseView<V>, bool, double*, double*);              \
  template void compress_columns<V>(const Context&, DenseView<const V>, const std::int64_t*,          \
                                    std::int64_t*, double*);
#define SHRINK_INSTANTIATE_SPARSE(V, I)                                                             \
  template std::size_t csr_spmv_workspace<V, I>(const Context&, const CsrView<V, I>&, Op);         \
  template void csr_spmv<V, I>(const Context&, V, const CsrView<V, I>&, const V*, V, V*, void*);   \
  template void csr_spmv_transpose<V, I>(const Context&, V, const CsrView<V, I>&, const V*, V, V*, \
                                         void*);                                                    \
  template void csr_spmm<V, I>(const Context&, V, const CsrView<V, I>&, DenseView<const V>, V,     \
                               DenseView<V>);                                                       \
  template void csr_gather_rows_dense<V, I>(const Context&, const CsrView<V, I>&, const index_t*, index_t, \
                                            DenseView<V>);                                                 \
  template void csr_transpose<V, I>(const Context&, const CsrView<V, I>&, I*, I*, V*);
#define SHRINK_INSTANTIATE_BSR(V, I)                                                               \
  template void bsr_forward<V, I>(const Context&, DenseView<const V>, const BsrView<V, I>&,         \
                                  const V*, DenseView<V>, MatmulPrecision);                         \
  template void bsr_backward_input<V, I>(const Context&, DenseView<const V>, const BsrView<V, I>&,  \
                                         const I*, const I*, const I*, DenseView<V>,                \
                                         MatmulPrecision);                                          \
  template void bsr_weight_grad<V, I>(const Context&, DenseView<const V>, DenseView<const V>,       \
                                      const BsrView<V, I>&, V*, MatmulPrecision);
#define SHRINK_INSTANTIATE_OPTIM(V)                                                                \
  template void column_sums<V>(const Context&, DenseView<const V>, V*);                            \
  template void adam_step<V>(const Context&, index_t, V*, const V*, V*, V*, AdamArgs<V>);          \
  template void sgd_step<V>(const Context&, index_t, V*, const V*, V*, SgdArgs<V>);                \
  template void relu_mask<V>(const Context&, index_t, const V*, V*);
#define SHRINK_INSTANTIATE_SAE(V)                                                                    \
  template void broadcast_add<V>(const Context&, DenseView<const V>, V, const V*, DenseView<V>);      \
  template void bias_activation<V>(const Context&, DenseView<V>, const V*, Activation);               \
  template void activation_backward<V>(const Context&, DenseView<const V>, const V*, Activation,      \
                                       DenseView<V>);                                                 \
  template V kl_penalty<V>(const Context&, index_t, const V*, index_t, V, V, V, V*);                  \
  template void topk_rows<V>(const Context&, DenseView<const V>, index_t, const std::uint8_t*,        \
                             std::int32_t*, V*);                                                      \
  template void topk_scatter<V>(const Context&, index_t, const std::int32_t*, const V*, DenseView<V>); \
  template void topk_decode<V>(const Context&, index_t, const std::int32_t*, const V*,                \
                               DenseView<const V>, const V*, DenseView<V>);                           \
  template void gather_dot<V>(const Context&, index_t, const std::int32_t*, DenseView<const V>,       \
                              DenseView<const V>, V*);                                                \
  template void topk_weight_grad<V>(const Context&, index_t, const std::int32_t*,                     \
                                    const std::int32_t*, const V*, DenseView<const V>, V,             \
                                    DenseView<V>, V*);                                                \
  template void row_norms<V>(const Context&, DenseView<const V>, V*);                                 \
  template void normalize_rows<V>(const Context&, DenseView<V>);                                      \
  template void remove_parallel_rows<V>(const Context&, DenseView<const V>, DenseView<V>);            \
  template void add_scaled_unit_rows<V>(const Context&, DenseView<const V>, const V*, V,              \
                                        DenseView<V>);                                                \
  template void row_sq_dist<V>(const Context&, DenseView<const V>, DenseView<const V>, V*);           \
  template void corrupt<V>(const Context&, DenseView<const V>, CorruptionKind, V, std::uint64_t,      \
                           DenseView<V>);                                                             \
  template void gather_rows<V>(const Context&, DenseView<const V>, const index_t*, DenseView<V>);     \
  template void scatter_rows<V>(const Context&, DenseView<const V>, const index_t*, DenseView<V>);    \
  template index_t update_dead_latents<V>(const Context&, index_t, index_t, const std::int32_t*,      \
                                          const V*, std::int64_t, index_t, std::int64_t*,             \
                                          std::uint8_t*);                                             \
  template void latent_activity<V>(const Context&, DenseView<const V>, V*, index_t*);
#define SHRINK_INSTANTIATE_BLAS(V)                                                                 \
  template void gemv<V>(const Context&, Op, V, DenseView<const V>, const V*, V, V*);               \
  template void gemm<V>(const Context&, Op, Op, V, DenseView<const V>, DenseView<const V>, V,      \
                        DenseView<V>);                                                             \
  template void gram<V>(const Context&, V, DenseView<const V>, V, DenseView<V>);

}  // namespace shrink::kernels
