// Z = D (X - 1 mu^T) S^-1 as the operator solvers use it (FISTA, working-set Gram, the Gram build on a
// device, the null model of a device X), on the context's backend, with X read where it lives: in
// place on the host for a CPU context and on the device for a device-resident X; a host X on a CUDA
// context is copied over once. D = diag(sqrt(w)) and S = diag(s) (unusable columns: 1/s = 0) are
// applied implicitly around the products, never folded into a copy of X:
//   Z v   = sqrt(w) o (X (v / s)) - (mu . (v / s)) sqrt(w),
//   Z^T r = (X^T (sqrt(w) o r) - (sqrt(w) . r) mu) / s.
// A certificate brings back three dot products and the five scalars of kernels::lasso_dual_terms;
// with unpenalized features the correlations (p values) cross too, and the projection uses
// G_{:,U} = Z^T W Z_U / n, computed once here.
#pragma once
#include <memory>
#include <vector>

#include "host/lasso/problem.hpp"
#include "shrink/array.hpp"

namespace shrink::lasso_detail {

template <class V>
class DesignOperator {
 public:
  DesignOperator(const Context& ctx, const Problem<V>& prob);

  void apply(VectorView<const V> v, VectorView<V> u) const;                     // u = Z v
  void apply_transpose(VectorView<const V> r, V alpha, VectorView<V> g) const;  // g = alpha Z^T r
  // Under a RowSplit, apply_transpose gives this block's part: g summed over the blocks.
  void sum_rows(Array<V>& g) const;
  // Objective and gap at beta into `out`; leaves u = sqrt(w) (yc - Z beta) and g = Z^T u / n (the
  // correlations) current. Returns the fit (1/n) r^T W r.
  double certify(double lambda, const UnpenalizedSolver& unpen, const Array<V>& beta, Array<V>& u, Array<V>& g,
                 Solution& out) const;
  // (1/n) Z^T W r at r = yc after fitting the unpenalized features (their coefficients go to
  // beta_unpenalized), on the host: the null model's correlations.
  std::vector<double> null_gradient(const UnpenalizedSolver& unpen, std::vector<double>& beta_unpenalized) const;
  // G_UU (k x k, row-major) for the UnpenalizedSolver.
  std::vector<double> unpenalized_gram() const;
  // dst (rows x cols.size(), column-major, leading dimension dst.ld) = rows [first, first + dst.rows)
  // of X_j, j in `cols` (device indices), as stored: no centering or scaling.
  void gather_columns(const index_t* cols, index_t first, DenseView<V> dst) const;

  const Design<V>& placed() const noexcept { return x_; }                  // X in the context's space
  const Array<V>& mu() const noexcept { return mu_; }                      // raw column means (p)
  const Array<V>& inverse_scale() const noexcept { return inv_s_; }        // 1 / s_j, 0 when unusable
  const Array<V>& row_scale() const noexcept { return sqw_; }              // sqrt(w_i)
  const Array<V>& dual_factors() const noexcept { return dual_factors_; }  // v_j, 0 when unusable
  const Array<V>& factors() const noexcept { return factors_; }            // v_j
  const Array<V>& scaled_response() const noexcept { return yh_; }         // sqrt(w) yc

 private:
  void unpenalized_columns();  // G_{:,U} and q_U
  void sum_certificate(Array<V>& g, double& a2, double& a1) const;

  const Context& ctx_;
  const Problem<V>& prob_;
  index_t n_, p_;
  Design<V> x_;                           // X in the context's memory space
  mutable CsrMatrix<V, std::int32_t> forward32_;  // sparse X as CSR on a device (X^T is x_'s view)
  mutable CsrMatrix<V, std::int64_t> forward64_;
  Array<V> yh_, sqw_, mu_, inv_s_, factors_, dual_factors_;
  mutable Array<V> tmp_p_, tmp_n_;
  mutable Array<double> split_scalars_;  // the certificate's two scalars on a device (split rows)
  std::vector<double> gram_u_, q_u_;  // G_{:,U} (p x k, column-major) and q_U, on the host
};

}  // namespace shrink::lasso_detail
