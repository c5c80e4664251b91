// Per-coordinate Lasso / Elastic-Net arithmetic shared by the host solvers and both kernel twins
// (host+device inline), so the certificate is the same formula wherever it is computed.
#pragma once
#include <cmath>
#include "kernels/ops/prox_math.hpp"

namespace shrink::kernels {

// What the dual objective and the penalty need from the coordinates, as sums and a max, so a device
// can reduce them and hand the host five scalars. Only coordinates with a factor v_j > 0 count.
struct LassoDualTerms {
  double max_ratio = 0;  // max c'_j / v_j, c' = c (positive) or |c|: bounds the dual scaling
  double l1 = 0;         // sum v_j |beta_j|
  double l2 = 0;         // sum v_j beta_j^2
  double excess = 0;     // sum max(c'_j - l1_scale v_j, 0)^2 / (2 l2_scale v_j): the smooth conjugates at theta = 1
  double penalized = 0;  // how many coordinates counted
  double kkt = 0;        // max KKT violation / v_j at beta: the certificate when lambda = 0 (least squares)
};

struct LassoDualArgs {
  double l1_scale = 0;  // lambda * alpha
  double l2_scale = 0;  // lambda * (1 - alpha)
  bool positive = false;
};

SHRINK_HD void accumulate_dual_terms(LassoDualTerms& t, double c, double beta, double v,
                                     const LassoDualArgs& a) {
  if (!(v > 0)) return;
  t.penalized += 1;
  const double cp = a.positive ? c : magnitude(c);
  const double ratio = cp / v;
  if (ratio > t.max_ratio) t.max_ratio = ratio;
  t.l1 += v * magnitude(beta);
  t.l2 += v * beta * beta;
  // Optimality of coordinate j: c_j = l1 v sign(beta_j) + l2 v beta_j where beta_j != 0, and c'_j <= l1 v
  // where it is 0.
  const double violation = beta != 0 ? magnitude(c - copy_sign(a.l1_scale * v, beta) - a.l2_scale * v * beta)
                                     : positive_part(cp - a.l1_scale * v);
  if (violation / v > t.kkt) t.kkt = violation / v;
  if (a.l2_scale > 0) {
    const double e = positive_part(cp - a.l1_scale * v);
    t.excess += e * e / (2 * a.l2_scale * v);
  }
}

SHRINK_HD LassoDualTerms combine_dual_terms(const LassoDualTerms& x, const LassoDualTerms& y) {
  LassoDualTerms t;
  t.max_ratio = y.max_ratio > x.max_ratio ? y.max_ratio : x.max_ratio;
  t.l1 = x.l1 + y.l1;
  t.l2 = x.l2 + y.l2;
  t.excess = x.excess + y.excess;
  t.penalized = x.penalized + y.penalized;
  t.kkt = y.kkt > x.kkt ? y.kkt : x.kkt;
  return t;
}

// The dual at the best scaling theta of a residual r (a1 = (1/n) yc^T W r, a2 = (1/n) r^T W r) whose
// correlations reduced to `terms`; returns the dual value and sets theta. Every penalized coordinate
// is smooth when alpha < 1 (its conjugate is finite everywhere), so the dual point is r itself,
// theta = 1. For the Lasso, theta is the best scaling that keeps |theta c_j| <= lambda v_j (c_j <= ...
// when positive).
SHRINK_HD double dual_value(double lambda, double alpha, const LassoDualTerms& terms, double a1, double a2,
                            double& theta) {
  const bool smooth = terms.penalized > 0 && lambda * (1 - alpha) > 0;
  if (smooth) {
    theta = 1;
    return a1 - 0.5 * a2 - terms.excess;
  }
  const bool bounded = terms.max_ratio > 0;
  const double theta_max = bounded ? lambda * alpha / terms.max_ratio : 0.0;
  if (a2 > 0) {
    theta = a1 / a2 > 0 ? a1 / a2 : 0.0;
    if (bounded && theta > theta_max) theta = theta_max;
  } else {
    theta = bounded && theta_max < 1.0 ? theta_max : 1.0;
  }
  return theta * a1 - 0.5 * theta * theta * a2;
}

// The exact minimizer over one coefficient: S(z, l1) / denom, or max(z - l1, 0) / denom when
// positive, with z = L_j beta_j + g_j and denom = L_j + the coordinate's ridge weight.
template <class V>
SHRINK_HD V coordinate_update(V z, V l1, V denom, bool positive) {
  return positive ? positive_part(z - l1) / denom : copy_sign(positive_part(magnitude(z) - l1), z) / denom;
}

// Order of feature j for the next working set, smaller first (one sort key, so both twins and any
// tie-break by index agree): KKT violators first, the worst first; then coefficients held non-zero
// (or unpenalized) that satisfy KKT; then zeros, the closest to entering first; unusable features
// (L_j = 0) last. Distances are scaled by 1/sqrt(L_j), the feature's own units. c_j = (1/n) z_j^T W r,
// l1 = lambda alpha v_j, l2 = lambda (1 - alpha) v_j.
SHRINK_HD double working_set_key(double c, double beta, double l1, double l2, double lipschitz, bool positive) {
  if (!(lipschitz > 0)) return 4.0;
  const double unit = 1.0 / sqrt(lipschitz);
  const double reach = positive ? c : magnitude(c);  // what the dual constraint bounds by l1
  double violation;
  if (beta != 0) violation = magnitude(c - copy_sign(l1, beta) - l2 * beta);
  else violation = positive_part(reach - l1);
  violation *= unit;
  if (violation > 0) return -1.0 - violation / (1.0 + violation);  // (-2, -1)
  if (beta != 0 || (l1 == 0 && l2 == 0)) return -1.0;
  const double slack = (l1 - reach) * unit;  // >= 0
  return slack / (1.0 + slack);                // [0, 1)
}

// Ends a solve whose gap has reached double precision's rounding floor. A relative gap is certified
// to about 1e-14 at best (its sums round); a tol below that ran every lambda to max_iter (3.4 s at
// tol 1e-14 on a 300 x 20 X that takes 0.02 s at 1e-13). Stalled: the gap is within kFloor of the
// objective and has not halved over `checks` checks in a row. Above the floor it never fires, so a
// slow solve at a usual tol is not cut short. Used by the host solvers and the batched kernel.
class StallWatch {
 public:
  static constexpr double kFloor = 1e4 * 2.220446049250313e-16;
  SHRINK_HD explicit StallWatch(int checks) : checks_(checks) {}
  SHRINK_HD bool stalled(double gap, double objective) {
    const double floor = kFloor * (objective < 0 ? -objective : objective);
    if (!(gap <= floor) || mark_ == 0 || gap < 0.5 * mark_) {
      mark_ = gap;
      since_ = 0;
      return false;
    }
    return ++since_ >= checks_;
  }

 private:
  int checks_;
  double mark_ = 0;
  int since_ = 0;
};

}  // namespace shrink::kernels
