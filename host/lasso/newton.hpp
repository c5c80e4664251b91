// A Newton step on the support. Where coordinate descent crawls (an ill-conditioned block of
// non-zeros: correlated columns, the small-lambda end of a path, p >> n), the minimizer of the smooth
// problem that holds the current non-zeros' signs is one k x k solve away. The step goes toward it
// and stops where a coefficient reaches zero; coordinate descent and the gap check then take over,
// so the certificate is untouched.
#pragma once
#include <functional>
#include <vector>

#include "host/lasso/problem.hpp"

namespace shrink::lasso_detail {

// Solves A x = b for a symmetric positive definite k x k A (column-major; overwritten by its
// Cholesky factor) in place of b, with LAPACK. False when A is not numerically positive definite.
bool solve_spd(std::vector<double>& a, std::vector<double>& b, index_t k);

// The right-hand side of the Newton system on `support`:
//   c_A - lambda alpha V_A s_A - lambda (1 - alpha) V_A beta_A,
// s_A = sign(beta_A), c_A the gradient (1/n) Z_A^T W r (order of `support`).
std::vector<double> newton_rhs(const std::vector<double>& factors, double alpha, double lambda,
                               const std::vector<index_t>& support, const std::vector<double>& beta,
                               const std::vector<double>& gradient);

// The move d (returned in `delta`, order of `support`) of beta on `support` toward the solution
// `direction` of the Newton system, cut at the first penalized coefficient that reaches zero (which
// then lands on zero exactly). `projected`, when given, receives the whole step with each
// coefficient that would cross zero stopped on zero (empty when nothing crosses): many coefficients
// near zero cut the step short, and the projected one often gains more (callers try it first and
// keep what lowers the objective).
void newton_step(const std::vector<double>& factors, const std::vector<index_t>& support,
                 const std::vector<double>& beta, const std::vector<double>& direction, std::vector<double>& delta,
                 std::vector<double>* projected);

// newton_step toward the solution of
//   (G_AA + lambda (1 - alpha) V_A) d = newton_rhs(...)
// `gram` holds G_AA (k x k column-major; consumed). False, delta untouched, when G_AA + a small ridge
// is not positive definite.
bool newton_move(const std::vector<double>& factors, double alpha, double lambda, const std::vector<index_t>& support,
                 const std::vector<double>& beta, const std::vector<double>& gradient, std::vector<double> gram,
                 std::vector<double>& delta, std::vector<double>* projected = nullptr);

// How many times faster a multiply-add runs in the Newton step (SYRK and Cholesky: blocked BLAS-3)
// than in the sweeps (a dependent chain of dots and axpys, one coordinate at a time). Measured on the
// Lasso suite (docs/PERF.md): 5.8x against the Gram solver's sweeps at k = 921. Swept from 1 to 64,
// 6 is where the Gram solver's problems are fastest together (a slows from 8 up) and cd's are flat
// from 6 to 16; 1 (multiply-adds counted alike) left mid_ar08 2.4x slower.
constexpr double kNewtonSpeedup = 6;

// Whether `epochs` sweeps of `epoch_cost` multiply-adds each have taken as long as a Newton step of
// `cost` multiply-adds.
inline bool newton_pays(double cost, double epochs, double epoch_cost) {
  return kNewtonSpeedup * epochs * epoch_cost >= cost;
}

// The Cholesky factor of G_SS + mu V_S for a support S (V = diag(v), the Elastic Net's ridge mu =
// lambda (1 - alpha); mu = 0 for the Lasso), kept from one Newton step to the next. Along a path the
// support mostly grows, and a grown support extends the old factor: m new columns cost one
// triangular solve with m right-hand sides (h^2 m) and an m x m factor, not k^3 / 3; a column that
// left costs a rank-one update of the block after it (O((k - t)^2) at position t). A ridge that
// moved since the factor was made is solved by conjugate gradients preconditioned with it: for
// mu_new / mu_held in [1/2, 2] its condition number is at most 2, a dozen iterations of O(k^2).
class SupportFactor {
 public:
  // Writes out[r + c * ld] = G[order[r], order[first + c]] for every r < order.size() and
  // first + c < order.size(): G's columns for the factor's new entries.
  using GramBlock = std::function<void(const std::vector<index_t>& order, index_t first, double* out, index_t ld)>;
  // Multiply-adds factor(support, ..., ridge) and a solve would cost, with G's new entries from
  // gathered columns of `rows` entries (0: read from a G held in memory).
  double cost(const std::vector<index_t>& support, double ridge, double rows = 0) const;
  // Factors G_SS + ridge V_S (support sorted; `fill` gives G's entries, v is indexed by feature)
  // from the held factor: the columns that left are removed, the new ones appended, and it is
  // made afresh when the held ridge is not within a factor of 2 of `ridge`. False, the factor
  // dropped, when it is not numerically positive definite.
  bool factor(const std::vector<index_t>& support, const GramBlock& fill, const std::vector<double>& v, double ridge);
  // z = (G_SS + ridge V_S)^-1 b in place, b in the order of the support last factored.
  void solve(std::vector<double>& b, double ridge) const;
  void clear() { order_.clear(); }

 private:
  // Whether the held factor's ridge serves as a preconditioner for `ridge`.
  bool close(double ridge) const;
  // Removes the columns not in `support` (sorted) from the held factor.
  void drop(const std::vector<index_t>& support);
  std::vector<index_t> order_;      // the factor's columns, in its order
  std::vector<index_t> position_;   // support[t] is column position_[t] of the factor
  std::vector<double> v_;           // v of the factor's columns, in its order
  std::vector<double> l_;           // lower-triangular factor, column-major, leading dimension cap_
  index_t cap_ = 0;
  double ridge_ = 0;                // the factor is of G_SS + ridge_ V_S
};

}  // namespace shrink::lasso_detail
