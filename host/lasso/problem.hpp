// The internal form of one Lasso / Elastic-Net problem, shared by every solver.
//
// X is a Design (column-major dense or CSC, read in place, on the host or a device). The solvers work on the standardized,
// centered design Z with z_ij = (x_ij - mu_j) / s_j without forming it: the residual is kept as
// r = rt + m, where rt = yc - X b (touched only where column j has entries) and m = mu . b is a scalar,
// with b_j = beta_j / s_j the original-scale coefficients.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "host/lasso/design.hpp"
#include "host/lasso/row_split.hpp"
#include "kernels/ops/lasso_math.hpp"
#include "shrink/lasso.hpp"

namespace shrink::lasso_detail {

template <class V>
struct Problem {
  const Design<V>* x = nullptr;
  index_t n = 0, p = 0;        // n: the rows held here (one block of them under a RowSplit)
  const RowSplit* split = nullptr;  // rows split over processes; null: every row is here
  double alpha = 1;
  bool positive = false, intercept = true, standardize = false;
  std::vector<double> w;       // empty: unit weights; else normalized to sum n
  std::vector<double> yc;      // y - ybar
  double ybar = 0;
  double y_norm2 = 0;          // (1/n) sum w yc^2
  std::vector<double> mu;      // weighted column means (0 without intercept)
  std::vector<double> scale;   // s_j (1 without standardize)
  std::vector<double> lipschitz;  // L_j = (1/n) sum w z_j^2 (0: constant column, never used)
  std::vector<double> factors;    // v_j
  std::vector<index_t> unpenalized;  // usable j with v_j == 0, fitted without penalty
  // The null model's largest |c_j| / v_j (lambda_max * alpha): the scale of the KKT certificate at
  // lambda = 0, where least squares has no dual bound (set once the null model is known).
  double kkt_scale = 0;

  const double* weights() const noexcept { return w.empty() ? nullptr : w.data(); }
  // The number of rows over every block: the 1/n of the objective.
  double total_rows() const noexcept { return static_cast<double>(split ? split->total_rows() : n); }
  void sum_rows(double* values, std::size_t count) const {
    if (split) split->sum(values, count);
  }
  bool usable(index_t j) const noexcept { return lipschitz[j] > 0; }
  // The members below read X on the host (a host design only).
  // Gradient coordinate (1/n) z_j^T W r for r = rt + m.
  template <Reads kind = Reads::Any>
  [[gnu::always_inline]] double gradient(index_t j, const double* rt, double m) const noexcept {
    const double s = column_dot<V, kind>(*x, j, weights(), rt) + static_cast<double>(n) * m * mu[j];
    return s / (static_cast<double>(n) * scale[j]);
  }
  // beta_j += delta (standardized scale): rt -= (delta/s_j) x_j, m += (delta/s_j) mu_j.
  template <Reads kind = Reads::Any>
  [[gnu::always_inline]] void move(index_t j, double delta, double* rt, double& m) const noexcept {
    const double db = delta / scale[j];
    column_axpy<V, kind>(*x, j, -db, rt);
    m += db * mu[j];
  }
  // rt, m for a given beta.
  void residual(const std::vector<double>& beta, std::vector<double>& rt, double& m) const;
  // (1/n) z_j^T W z_k
  double gram_entry(index_t j, index_t k) const;
  // Penalty value lambda * sum v_j (alpha |beta_j| + (1-alpha)/2 beta_j^2).
  // Given `support` (sorted, holding every non-zero of beta: a working set), the sum runs over it
  // alone, with the same bits.
  double penalty(double lambda, const std::vector<double>& beta,
                 const std::vector<index_t>* support = nullptr) const noexcept;
};

using kernels::coordinate_update;

// Builds the problem: weights normalized, y centered, column statistics (one pass over X where it
// lives: the context's kernels for a device X, the CPU twin for a host X). Inputs already validated.
// Under a split, X and y (and the weights) are this block's rows and the statistics are completed
// over every block.
template <class V>
Problem<V> make_problem(const Context& ctx, const Design<V>& x, const std::vector<double>& y,
                        const LassoOptions& options, const RowSplit* split = nullptr);

// Fenchel dual of the problem at rho = theta * r, where r is a residual with every unpenalized
// feature already projected out. c_j = (1/n) z_j^T W r, a1 = (1/n) yc^T W r, a2 = (1/n) r^T W r.
// Only the features in `subset` (all usable penalized ones when null) enter the constraints.
// Returns the dual value and theta; c_j * theta is the dual point's correlation.
struct DualPoint {
  double value = 0;
  double theta = 0;
};
template <class V>
DualPoint dual_objective(const Problem<V>& prob, double lambda, const double* c, double a1, double a2,
                         const std::vector<index_t>* subset = nullptr, const double* beta = nullptr);
// The same dual from the coordinates' reduced terms (kernels::lasso_dual_terms over factors that are
// zero for unusable features), for solvers whose correlations live on a device.
// At lambda = 0 (least squares) there is no dual bound: the certificate is then the KKT residual,
// terms.kkt relative to the null model's (kkt_scale), times the fit: value = a2/2 (1 - kkt / kkt_scale).
DualPoint dual_from_terms(double lambda, double alpha, const kernels::LassoDualTerms& terms, double a1,
                          double a2, double kkt_scale = 0);
inline kernels::LassoDualArgs dual_args(double lambda, double alpha, bool positive) {
  return {lambda * alpha, lambda * (1 - alpha), positive};
}

// Least squares on the unpenalized features: a = G_UU^+ c_U by a Cholesky factorization that drops
// linearly dependent columns (their a_j is 0).
class UnpenalizedSolver {
 public:
  UnpenalizedSolver() = default;
  // G_UU from a host design's columns.
  template <class V> explicit UnpenalizedSolver(const Problem<V>& prob);
  // G_UU given (k x k, row-major; from DesignOperator for a device design).
  explicit UnpenalizedSolver(std::vector<double> gram_uu);
  std::size_t size() const noexcept { return k_; }
  // c holds c_U in the order of prob.unpenalized; returns a in the same order.
  std::vector<double> solve(const std::vector<double>& c) const;
  // The nonnegative least-squares form: s >= 0 minimizing 1/2 s^T G_UU s - c^T s (Lawson-Hanson).
  std::vector<double> solve_nonnegative(const std::vector<double>& c) const;
  // The move t of the unpenalized coefficients (now `current`) that projects them out of a residual
  // with correlations c: G_UU^+ c, or under positivity the t keeping current + t >= 0 that leaves
  // c_j = 0 where current + t > 0 and c_j <= 0 where it is 0 (a dual-feasible projection).
  std::vector<double> step(const std::vector<double>& c, const std::vector<double>& current, bool positive) const;
  double gram(std::size_t a, std::size_t b) const noexcept { return g_[a * k_ + b]; }

 private:
  std::size_t k_ = 0;
  std::vector<double> g_, chol_;
  std::vector<char> kept_;
};

// Per-solution outputs of a solver (beta on the standardized scale).
struct Solution {
  double objective = 0, gap = 0;
  std::int64_t iterations = 0;
  FitStatus status = FitStatus::Converged;
};

using kernels::StallWatch;  // the rounding-floor stop (kernels/ops/lasso_math.hpp)

// The primal at an iterate (fit = (1/n) r^T W r, its penalty from `terms`) and its gap to the dual
// built from the same terms, a1 and a2 (see dual_from_terms).
inline void set_certificate(Solution& out, double lambda, double alpha, double fit,
                            const kernels::LassoDualTerms& terms, double a1, double a2, double kkt_scale) {
  out.objective = 0.5 * fit + lambda * (alpha * terms.l1 + 0.5 * (1 - alpha) * terms.l2);
  out.gap = out.objective - dual_from_terms(lambda, alpha, terms, a1, a2, kkt_scale).value;
}

double default_tol(bool single_precision) noexcept;

// A per-sample or per-feature vector option: empty, or `expected` finite values >= 0.
void check_vector(const std::vector<double>& v, index_t expected, const std::string& what, const std::string& why);
// The options a path and a batch share: l1_ratio in [0, 1], penalty factors (p values), tol, max_iter.
void validate_common(const LassoCoreOptions& options, index_t p);
// Column j of a sparse coefficient matrix, dense; `what` names j in the out-of-range error.
std::vector<double> dense_column(const CscMatrix<double, std::int64_t>& m, std::size_t j, const char* what);

}  // namespace shrink::lasso_detail
