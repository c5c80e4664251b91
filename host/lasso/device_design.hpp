// The design as the device solvers (FISTA, working-set Gram) hold it, in the context's memory space.
//
// X is folded once on the host into Xh = D X S^-1 (D = diag(sqrt(w)), S = diag(s), unusable columns
// zeroed) and copied over; centering stays implicit:
//   Z v   = Xh v - (mu~ . v) sqrt(w),        Z^T r = Xh^T r - (sqrt(w) . r) mu~,   mu~ = mu / s.
// A certificate brings back three dot products and the five scalars of kernels::lasso_dual_terms;
// only with unpenalized features (projected out on the host) does the residual cross.
#pragma once
#include <optional>
#include <vector>

#include "host/lasso/solvers.hpp"
#include "shrink/ops.hpp"

namespace shrink::lasso_detail {

template <class V>
class DeviceDesign {
 public:
  DeviceDesign(const Context& ctx, const Problem<V>& prob, const UnpenalizedSolver& unpen);

  void apply(VectorView<const V> v, VectorView<V> u) const;                     // u = Z v
  void apply_transpose(VectorView<const V> r, V alpha, VectorView<V> g) const;  // g = alpha Z^T r
  // Objective and gap at beta into `out`; leaves u = sqrt(w) (yc - Z beta) and g = Z^T u / n (the
  // correlations) current. Returns the fit (1/n) r^T W r.
  double certify(double lambda, const Array<V>& beta, Array<V>& u, Array<V>& g, Solution& out) const;
  // dst (rows x cols.size(), column-major, leading dimension dst.ld) = rows [first, first + dst.rows)
  // of the centered columns Z_j, j in `cols` (device indices); `mu_cols` holds mu~ at those columns.
  void gather_columns(const index_t* cols, const V* mu_cols, index_t first, DenseView<V> dst) const;

  const Array<V>& mu() const noexcept { return mu_; }                      // mu~ (p)
  const Array<V>& dual_factors() const noexcept { return dual_factors_; }  // v_j, 0 when unusable
  const Array<V>& factors() const noexcept { return factors_; }            // v_j
  const Array<V>& scaled_response() const noexcept { return yh_; }         // sqrt(w) yc

 private:
  const Context& ctx_;
  const Problem<V>& prob_;
  const UnpenalizedSolver& unpen_;
  index_t n_, p_;
  std::optional<SparseOperator<V, std::int32_t>> sparse_;
  DenseMatrix<V> dense_;  // Xh, column-major n x p (dense X)
  Array<V> yh_, sqw_, mu_, factors_, dual_factors_;
};

}  // namespace shrink::lasso_detail
