// Coordinate descent on a dense Gram matrix, written once for both twins over a team: the CPU's
// is one thread (SerialTeam), CUDA's a warp or a block. Coordinate descent is sequential, so every
// member computes the same update and the O(p) gradient update is split over the members; sync()
// orders those writes before the next read.
//
// A Team has: index_t rank() and size(); void sync(); double sum(double) and max(double) over the
// team (every member gets the result); subtract(count, delta, x, y) (y_k -= delta x_k) and
// subtract_at(count, delta, x, at, y) (y_u -= delta x_{at_u}) split over the members, which the
// CPU's one-thread team vectorizes.
#pragma once
#include <cstdint>

#include "kernels/ops/cd_kernels.hpp"

namespace shrink::kernels {

namespace batch_detail {

template <class V>
SHRINK_HD V factor_of(const BatchGramArgs<V>& a, batch_index j) {
  return a.factors ? a.factors[j] : V(1);
}

// The minimizer over coordinate j (lipschitz lj, now at `old` with gradient g) at this lambda.
template <class V>
SHRINK_HD V coordinate_step(const BatchGramArgs<V>& a, double lambda, batch_index j, V lj, V old, V g) {
  const V v = factor_of(a, j);
  return coordinate_update<V>(lj * old + g, static_cast<V>(lambda * a.alpha * v),
                              static_cast<V>(lj + lambda * (1 - a.alpha) * v), a.positive);
}

// Exact minimization over the unpenalized block: beta_U += G_UU^+ c_U, so that c_U = 0 to rounding
// (the dual's equality constraints for those features).
template <class V, class Team>
SHRINK_HD void solve_unpenalized(const Team& team, const BatchGramArgs<V>& a, const V* gram, V* beta, V* grad,
                                 V* step) {
  const batch_index k = a.n_unpenalized;
  if (k == 0) return;
  for (batch_index u = team.rank(); u < k; u += team.size()) {
    double s = 0;
    for (batch_index v = 0; v < k; ++v)
      s += static_cast<double>(a.unpenalized_inverse[u * k + v]) * grad[a.unpenalized[v]];
    step[u] = static_cast<V>(s);
  }
  team.sync();
  for (batch_index u = 0; u < k; ++u) {
    const V t = step[u];
    if (t == V(0)) continue;
    team.subtract(a.p, t, gram + a.unpenalized[u] * a.ld_gram, grad);
    if (team.rank() == 0) beta[a.unpenalized[u]] += t;
  }
  team.sync();
}

// The minimizer over coordinate j of a batched problem at its lambda (from the factors v_j).
template <class V>
struct BatchRule {
  const BatchGramArgs<V>& a;
  double lambda;
  SHRINK_HD V operator()(batch_index j, V lj, V old, V g) const { return coordinate_step(a, lambda, j, lj, old, g); }
};

// The minimizer over coordinate j from per-coordinate thresholds l1_j and denominators denom_j (the
// single-problem solvers, whose penalty is folded into those arrays).
template <class V>
struct ThresholdRule {
  const V* l1;
  const V* denom;
  bool positive;
  SHRINK_HD V operator()(batch_index j, V lj, V old, V g) const {
    return coordinate_update<V>(lj * old + g, l1[j], denom[j], positive);
  }
};

// One sweep over the usable coordinates (lip_j > 0) among `list` (null: 0 .. count - 1), each move
// updating the whole gradient. Returns whether anything moved (the same in every member).
template <class V, class Team, class Rule>
SHRINK_HD bool sweep(const Team& team, batch_index p, const V* gram, batch_index ld, const V* lip, const Rule& rule,
                     V* beta, V* grad, batch_index count, const std::int64_t* list) {
  bool moved = false;
  for (batch_index t = 0; t < count; ++t) {
    const batch_index j = list ? list[t] : t;
    const V lj = lip[j];
    if (!(lj > V(0))) continue;
    const V old = beta[j], g = grad[j];
    team.sync();  // every member has read beta_j and grad_j before any member writes
    const V next = rule(j, lj, old, g);
    if (next == old) continue;  // the same decision in every member
    moved = true;
    team.subtract(p, next - old, gram + j * ld, grad);
    if (team.rank() == 0) beta[j] = next;
    team.sync();
  }
  return moved;
}
template <class V, class Team, class Rule>
SHRINK_HD void sweep(const Team& team, batch_index p, const V* gram, batch_index ld, const V* lip, const Rule& rule,
                     V* beta, V* grad) {
  sweep(team, p, gram, ld, lip, rule, beta, grad, p, static_cast<const std::int64_t*>(nullptr));
}

// Sweeps over A = {j usable : beta_j != 0} with the gradient kept on A only, so a move costs |A|
// rather than p; the moves reach the full gradient once at the end (|A| p). Stops after `sweeps`
// sweeps or a sweep that moved nothing. A support above p/4 updates the whole gradient instead.
template <class V, class Team, class Rule>
SHRINK_HD void active_sweeps(const Team& team, batch_index p, const V* gram, batch_index ld, const V* lip,
                             const Rule& rule, int sweeps, V* beta, V* grad, std::int64_t* set, V* set_grad,
                             V* moves) {
  batch_index count = 0;
  for (batch_index j = 0; j < p; ++j) {  // every member scans, so every member knows |A|
    if (beta[j] == V(0) || !(lip[j] > V(0))) continue;
    if (team.rank() == 0) {
      set[count] = j;
      set_grad[count] = grad[j];
      moves[count] = V(0);
    }
    ++count;
  }
  team.sync();
  if (count == 0) return;
  if (4 * count > p) {
    // A large support: gathering G's entries at A costs more than updating the whole gradient
    // contiguously (on a_cpu, p = 1000 with |A| in the hundreds, the gathers took the Gram path
    // from 0.41 s to 0.49 s), so each move updates the whole gradient.
    for (int s = 0; s < sweeps; ++s)
      if (!sweep(team, p, gram, ld, lip, rule, beta, grad, count, static_cast<const std::int64_t*>(set))) break;
    return;
  }
  for (int s = 0; s < sweeps; ++s) {
    bool moved = false;
    for (batch_index t = 0; t < count; ++t) {
      const batch_index j = set[t];
      const V old = beta[j], g = set_grad[t], lj = lip[j];
      team.sync();
      const V next = rule(j, lj, old, g);
      if (next == old) continue;
      moved = true;
      const V delta = next - old;
      team.subtract_at(count, delta, gram + j * ld, set, set_grad);
      if (team.rank() == 0) {
        beta[j] = next;
        moves[t] += delta;
      }
      team.sync();
    }
    if (!moved) break;  // the same in every member
  }
  for (batch_index t = 0; t < count; ++t) {
    const V delta = moves[t];
    if (delta == V(0)) continue;
    team.subtract(p, delta, gram + set[t] * ld, grad);
  }
  team.sync();
}

// Primal objective and duality gap at beta (grad = q - G beta): fit = yy - q.beta - beta.grad and
// a1 = yy - q.beta, as in the single-problem Gram solver.
template <class V, class Team>
SHRINK_HD void certify(const Team& team, const BatchGramArgs<V>& a, const V* lip, const V* q, double yy,
                       double lambda, const V* beta, const V* grad, BatchProblemResult& out) {
  const LassoDualArgs args{lambda * a.alpha, lambda * (1 - a.alpha), a.positive};
  LassoDualTerms terms;
  double qb = 0, bg = 0;
  for (batch_index j = team.rank(); j < a.p; j += team.size()) {
    const double b = beta[j];
    qb += static_cast<double>(q[j]) * b;
    bg += b * static_cast<double>(grad[j]);
    if (lip[j] > V(0)) accumulate_dual_terms(terms, grad[j], b, factor_of(a, j), args);
  }
  qb = team.sum(qb);
  bg = team.sum(bg);
  terms.max_ratio = team.max(terms.max_ratio);
  terms.l1 = team.sum(terms.l1);
  terms.l2 = team.sum(terms.l2);
  terms.excess = team.sum(terms.excess);
  terms.penalized = team.sum(terms.penalized);
  double fit = yy - qb - bg;
  fit = fit > 0 ? fit : 0.0;
  double theta = 0;
  const double dual = dual_value(lambda, a.alpha, terms, yy - qb, fit, theta);
  out.objective = 0.5 * fit + lambda * (a.alpha * terms.l1 + 0.5 * (1 - a.alpha) * terms.l2);
  out.gap = out.objective - dual;
}

}  // namespace batch_detail

// Solves problem b from zero: the null model (unpenalized block), lambda_max_b, then rounds of one
// full sweep and up to `active_sweeps` sweeps over the non-zero coefficients, certified after every
// round until gap <= tol * objective or max_iter rounds.
template <class V, class Team>
SHRINK_HD void solve_batch_problem(const Team& team, const BatchGramArgs<V>& a, batch_index b) {
  using namespace batch_detail;
  const batch_index p = a.p;
  const V* gram = a.gram + b * a.gram_stride;
  const V* lip = a.lipschitz + b * a.lipschitz_stride;
  const V* q = a.q + b * a.ldq;
  V* beta = a.beta + b * a.ldb;
  V* grad = a.grad + b * a.ldg;
  V* step = a.scratch ? a.scratch + b * a.n_unpenalized : nullptr;
  for (batch_index j = team.rank(); j < p; j += team.size()) {
    beta[j] = V(0);
    grad[j] = q[j];
  }
  team.sync();
  solve_unpenalized(team, a, gram, beta, grad, step);

  // lambda_max: the smallest lambda at which the null model is optimal, alpha lambda_max = the dual
  // terms' max c'_j / v_j over the penalized features.
  LassoDualTerms reach;
  for (batch_index j = team.rank(); j < p; j += team.size())
    if (lip[j] > V(0)) accumulate_dual_terms(reach, grad[j], 0.0, factor_of(a, j), LassoDualArgs{0, 0, a.positive});
  const double top = team.max(reach.max_ratio);
  BatchProblemResult out;
  out.lambda_max = a.alpha > 0 ? top / a.alpha : 0.0;  // alpha = 0 needs given lambdas (host check)
  out.lambda = a.lambdas ? a.lambdas[b] : a.lambda_ratio * out.lambda_max;
  const double yy = a.yy[b];

  // A gap stalled at the rounding floor for 200 rounds ends the problem, not converged.
  StallWatch stall(200);
  for (std::int64_t round = 0;; ++round) {
    // Below lambda_max the null model violates KKT: the first certificate comes after a round.
    const bool certified = round > 0 || !(out.lambda < out.lambda_max);
    if (certified) certify(team, a, lip, q, yy, out.lambda, beta, grad, out);
    out.iterations = round;
    // lambda = 0 only from a ratio of lambda_max = 0: the null model already zeroes every gradient.
    if (certified && (out.gap <= a.tol * out.objective || !(out.lambda > 0))) {
      out.converged = 1;
      break;
    }
    if (round >= a.max_iter) break;
    if (certified && stall.stalled(out.gap, out.objective)) break;
    const BatchRule<V> rule{a, out.lambda};
    sweep(team, p, gram, a.ld_gram, lip, rule, beta, grad);
    active_sweeps(team, p, gram, a.ld_gram, lip, rule, a.active_sweeps, beta, grad, a.active + b * p,
                  a.active_grad + b * p, a.active_moves + b * p);
    solve_unpenalized(team, a, gram, beta, grad, step);
  }

  double intercept = 0, nnz = 0;
  for (batch_index j = team.rank(); j < p; j += team.size()) {
    if (a.mu) intercept += static_cast<double>(a.mu[b * a.mu_stride + j]) * beta[j];
    nnz += beta[j] != V(0);
  }
  intercept = team.sum(intercept);
  out.nnz = static_cast<std::int32_t>(team.sum(nnz));
  out.intercept = a.mu ? a.ybar[b] - intercept : 0.0;
  if (team.rank() == 0) a.results[b] = out;
}

// The single-problem Gram solver's inner loop (the gram_cd kernel): `rounds` times, a full sweep and
// up to `active_sweeps` sweeps over the non-zeros, on a one-problem team. work holds 2p values.
template <class V, class Team>
SHRINK_HD void gram_cd_rounds(const Team& team, batch_index p, const V* gram, batch_index ld, const V* l1,
                              const V* denom, const V* lip, bool positive, int rounds, int sweeps, V* beta, V* grad,
                              std::int64_t* active, V* work) {
  using namespace batch_detail;
  const ThresholdRule<V> rule{l1, denom, positive};
  for (int round = 0; round < rounds; ++round) {
    sweep(team, p, gram, ld, lip, rule, beta, grad);
    active_sweeps(team, p, gram, ld, lip, rule, sweeps, beta, grad, active, work, work + p);
  }
}

template <class V, class Team>
SHRINK_HD void build_batch_problem(const Team& team, const BatchBuildArgs<V>& a, batch_index b) {
  const batch_index n = a.n, p = a.p;
  const V* x = a.x + b * a.x_stride;
  const V* y = a.y + b * a.y_stride;
  V* gram = a.gram + b * p * p;
  V* mu = a.mu + b * p;
  const double dn = static_cast<double>(n);
  double ys = 0;
  for (batch_index i = team.rank(); i < n; i += team.size()) ys += y[i];
  const double ybar = a.intercept ? team.sum(ys) / dn : 0.0;
  for (batch_index j = team.rank(); j < p; j += team.size()) {
    double s = 0;
    if (a.intercept)
      for (batch_index i = 0; i < n; ++i) s += x[j * a.ldx + i];
    mu[j] = static_cast<V>(s / dn);
  }
  team.sync();
  // Entries (j, k) of the square dealt to the members, each pair computed once (k >= j) and
  // mirrored; then one item per column for q_j and L_j. Centered in double before the product.
  const batch_index square = p * p;
  for (batch_index t = team.rank(); t < square + p; t += team.size()) {
    if (t < square) {
      const batch_index j = t / p, k = t % p;
      if (k < j) continue;
      const double mj = mu[j], mk = mu[k];
      double s = 0;
      for (batch_index i = 0; i < n; ++i)
        s += (static_cast<double>(x[j * a.ldx + i]) - mj) * (static_cast<double>(x[k * a.ldx + i]) - mk);
      gram[j * p + k] = gram[k * p + j] = static_cast<V>(s / dn);
    } else {
      const batch_index j = t - square;
      const double mj = mu[j];
      double s = 0, biggest = 0;
      for (batch_index i = 0; i < n; ++i) {
        const double xi = x[j * a.ldx + i];
        s += (xi - mj) * (static_cast<double>(y[i]) - ybar);
        biggest = (xi < 0 ? -xi : xi) > biggest ? (xi < 0 ? -xi : xi) : biggest;
      }
      a.q[b * p + j] = static_cast<V>(s / dn);
      // The noise floor of the single-problem solver: a column whose spread is below it is constant.
      double var = 0;
      for (batch_index i = 0; i < n; ++i) {
        const double d = static_cast<double>(x[j * a.ldx + i]) - mj;
        var += d * d;
      }
      var /= dn;
      const double noise = 64 * 2.220446049250313e-16 * biggest;
      a.lipschitz[b * p + j] = var > noise * noise ? static_cast<V>(var) : V(0);
    }
  }
  double dev = 0;
  for (batch_index i = team.rank(); i < n; i += team.size()) {
    const double d = static_cast<double>(y[i]) - ybar;
    dev += d * d;
  }
  dev = team.sum(dev);
  if (team.rank() == 0) {
    a.yy[b] = dev / dn;
    a.ybar[b] = ybar;
  }
  team.sync();
}


}  // namespace shrink::kernels
