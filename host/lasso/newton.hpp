// A Newton step on the support. Where coordinate descent crawls (an ill-conditioned block of
// non-zeros: correlated columns, the small-lambda end of a path, p >> n), the minimizer of the smooth
// problem that holds the current non-zeros' signs is one k x k solve away. The step goes toward it
// and stops where a coefficient reaches zero; coordinate descent and the gap check then take over,
// so the certificate is untouched.
#pragma once
#include <vector>

#include "host/lasso/problem.hpp"

namespace shrink::lasso_detail {

// Solves A x = b for a symmetric positive definite k x k A (column-major; overwritten by its
// Cholesky factor) in place of b, with LAPACK. False when A is not numerically positive definite.
bool solve_spd(std::vector<double>& a, std::vector<double>& b, index_t k);

// The move d (returned in `delta`, order of `support`) of beta on `support` toward the solution of
//   (G_AA + lambda (1 - alpha) V_A) d = c_A - lambda alpha V_A s_A - lambda (1 - alpha) V_A beta_A,
// s_A = sign(beta_A), c_A the gradient (1/n) Z_A^T W r, cut at the first penalized coefficient that
// reaches zero (which then lands on zero exactly). `gram` holds G_AA (k x k column-major; consumed).
// `projected`, when given, receives the whole step with each coefficient that would cross zero
// stopped on zero (empty when nothing crosses): many coefficients near zero cut the step short, and
// the projected one often gains more (callers try it first and keep what lowers the objective).
// False, delta untouched, when G_AA + a small ridge is not positive definite.
bool newton_move(const std::vector<double>& factors, double alpha, double lambda, const std::vector<index_t>& support,
                 const std::vector<double>& beta, const std::vector<double>& gradient, std::vector<double> gram,
                 std::vector<double>& delta, std::vector<double>* projected = nullptr);

// Whether `epochs` sweeps of `epoch_cost` multiply-adds each have cost as much as a Newton step:
// building G_AA from k gathered columns of `rows` entries, and factoring it.
inline bool newton_pays(double rows, double k, double epochs, double epoch_cost) {
  const double newton = rows * k * (k + 1) / 2 + k * k * k / 3 + rows * k;
  return epochs * epoch_cost >= newton;
}

}  // namespace shrink::lasso_detail
