// Working-set coordinate descent (celer-style): an outer loop certifies the full problem, screens
// features that Gap Safe rules prove zero, and picks a working set by how close each feature's dual
// constraint is to tight; an inner cyclic coordinate descent solves the working-set problem to a
// fraction of the outer gap, its own gap improved by dual extrapolation.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <type_traits>

#include "host/core/dispatch.hpp"
#include "host/lasso/newton.hpp"
#include "host/lasso/solvers.hpp"
#include "kernels/ops/instantiate.hpp"

namespace shrink::lasso_detail {

namespace {

constexpr int kGapEvery = 10;         // epochs between inner gap checks
// The same over every feature, where the checks follow the learned scale (CdSolver::check_scale_):
// at 10, b's late lambdas (15 to 21 epochs) each made one check that failed 10 to 1000 times over.
// Not once the gap is at the rounding floor, where the checks count towards the stall.
constexpr int kEverythingGapEvery = 20;
constexpr int kExtrapolation = 5;     // residuals combined by dual extrapolation
constexpr double kInnerFraction = 0.3;
// An epoch that gains less than this fraction of the target gap has converged the primal far enough
// that the residual-based dual usually certifies: check then rather than waiting for the schedule
// (a working set's checks; those over every feature, and those of a sparse X's strong-rule set,
// learn their level: CdSolver::check_scale_, strong_scale_).
constexpr double kEarlyFactor = 1e-3;
// A check after a sweep that gained less than this fraction of the target teaches nothing of the
// sweeps' rate: its gap is then that of a Newton step or of the dual point's floor.
constexpr double kLearnFloor = 1e-14;
constexpr index_t kFirstWorkingSet = 10;
// A strong-rule set with at least this fraction of the features is widened to all of them.
constexpr double kStrongAllFraction = 0.5;
// After two failed checks, the next waits for this fraction of the epochs their rate predicts.
constexpr double kCheckWait = 0.7;
// narrow_solve's multiply-adds are counted at this fraction against the sweeps' (newton_pays): nearly
// all of them are one SYRK, where the k x k factor's are triangular solves and rotations too. On a
// 400 x 2500 equicorrelated X (rho 0.9, l1_ratio 0.1, supports of 1700) 1, 4 and 8 gave 2711,
// 1098 and 859 epochs over the path, 1.71, 1.35 and 1.32 s (2880 epochs, 2.23 s without it).
constexpr double kNarrowSpeedup = 4;
// The most entries of gathered columns a Newton step on the support may hold (32 MiB of doubles).
constexpr double kNewtonEntries = double(1 << 22);
// Checks without the gap halving, at the rounding floor (StallWatch), that end an inner solve, and
// outer iterations that end the solve.
constexpr int kInnerStallChecks = 30;
constexpr int kOuterStallChecks = 3;

// sum_i w_i a_i b_i (w null: unit weights), on the dense column read (vectorized, AVX2 where the CPU
// has it). The O(n) sums of a check, an extrapolation and an objective were plain loops, one chain
// of dependent adds each: on a tall X (30000 rows and more) they took as long as a sweep.
double weighted_dot(const double* w, const double* a, const double* b, index_t n) {
  return design_detail::dense_dot(a, w, b, n);
}

// Solves the small k x k system M z = rhs by Gaussian elimination with partial pivoting; false when
// M is numerically singular.
bool solve_small(std::vector<double> m, std::vector<double>& z, int k) {
  for (int col = 0; col < k; ++col) {
    int piv = col;
    for (int r = col + 1; r < k; ++r)
      if (std::abs(m[r * k + col]) > std::abs(m[piv * k + col])) piv = r;
    if (!(std::abs(m[piv * k + col]) > 1e-14 * std::abs(m[0]))) return false;
    if (piv != col) {
      for (int c = 0; c < k; ++c) std::swap(m[col * k + c], m[piv * k + c]);
      std::swap(z[col], z[piv]);
    }
    for (int r = col + 1; r < k; ++r) {
      const double f = m[r * k + col] / m[col * k + col];
      for (int c = col; c < k; ++c) m[r * k + c] -= f * m[col * k + c];
      z[r] -= f * z[col];
    }
  }
  for (int r = k - 1; r >= 0; --r) {
    double s = z[r];
    for (int c = r + 1; c < k; ++c) s -= m[r * k + c] * z[c];
    z[r] = s / m[r * k + r];
  }
  return true;
}

}  // namespace

// Dual evaluation from a materialized residual on a host X; shared by the CD solver and the null model.
template <class V>
class ResidualDual {
 public:
  ResidualDual(const Problem<V>& prob, const UnpenalizedSolver& unpen)
      : prob_(prob), unpen_(unpen), work_(static_cast<std::size_t>(prob.n)) {}

  // Projects the unpenalized features out of r (into work_) and returns the move of their
  // coefficients that does it (order of prob.unpenalized; UnpenalizedSolver::step), from `beta`
  // (null: all zero).
  std::vector<double> project(const double* r, const std::vector<double>* beta) {
    const auto n = prob_.n;
    std::copy(r, r + n, work_.begin());
    sum_known_ = false;
    if (unpen_.size() == 0) return {};
    std::vector<double> cu(unpen_.size());
    const double sw = weighted_sum(work_.data());
    for (std::size_t a = 0; a < cu.size(); ++a) {
      const index_t j = prob_.unpenalized[a];
      cu[a] = (column_dot(*prob_.x, j, prob_.weights(), work_.data()) - prob_.mu[j] * sw) /
              (static_cast<double>(n) * prob_.scale[j]);
    }
    std::vector<double> current(cu.size(), 0.0);
    if (beta)
      for (std::size_t a = 0; a < cu.size(); ++a) current[a] = (*beta)[prob_.unpenalized[a]];
    const auto coef = unpen_.step(cu, current, prob_.positive);
    double shift = 0;
    for (std::size_t a = 0; a < coef.size(); ++a) {
      const index_t j = prob_.unpenalized[a];
      column_axpy(*prob_.x, j, -coef[a] / prob_.scale[j], work_.data());
      shift += coef[a] * prob_.mu[j] / prob_.scale[j];
    }
    if (shift != 0)
      for (index_t i = 0; i < n; ++i) work_[i] += shift;
    return coef;
  }

  // c_j = (1/n) z_j^T W rho for rho = the projected residual in work_, over `subset` (or all).
  // `known` (sorted; with subset null): features whose c_j the caller already holds for this
  // residual, left as they are.
  void correlations(std::vector<double>& c, const std::vector<index_t>* subset,
                    const std::vector<index_t>* known = nullptr) {
    if (known && !known->empty() && !subset) {
      rest_.clear();
      auto next = known->begin();
      for (index_t j = 0; j < prob_.p; ++j) {
        if (next != known->end() && *next == j) {
          ++next;
          continue;
        }
        rest_.push_back(j);
      }
      subset = &rest_;
    }
    if (!sum_known_) sum_ = weighted_sum(work_.data());
    sum_known_ = true;
    const double sw = sum_;
    const double dn = static_cast<double>(prob_.n);
    auto run = [&](auto kind) __attribute__((always_inline)) {  // one copy per layout (Reads)
      auto one = [&](index_t j) __attribute__((always_inline)) {
        c[j] = prob_.usable(j) ? (column_dot<V, decltype(kind)::value>(*prob_.x, j, prob_.weights(), work_.data()) -
                                  prob_.mu[j] * sw) /
                                     (dn * prob_.scale[j])
                               : 0.0;
      };
      if (subset) {
        const auto count = static_cast<index_t>(subset->size());
#pragma omp parallel for schedule(dynamic, 32) if (count > 64)
        for (index_t t = 0; t < count; ++t) one((*subset)[t]);
      } else {
#pragma omp parallel for schedule(dynamic, 32) if (prob_.p > 64)
        for (index_t j = 0; j < prob_.p; ++j) one(j);
      }
    };
    if (prob_.x->sparse) run(std::integral_constant<Reads, Reads::Sparse>{});
    else run(std::integral_constant<Reads, Reads::Dense>{});
  }

  // The dual at the best scaling of the residual r; c receives the correlations of r (projected).
  DualPoint evaluate(double lambda, const double* r, const std::vector<double>* beta, std::vector<double>& c,
                     const std::vector<index_t>* subset) {
    project(r, beta);
    const double dn = static_cast<double>(prob_.n);
    const double* w = prob_.weights();
    a1_ = weighted_dot(w, work_.data(), prob_.yc.data(), prob_.n) / dn;
    a2_ = weighted_dot(w, work_.data(), work_.data(), prob_.n) / dn;  // read_all's reference norm too
    if (subset) correlations(c, subset);
    else bounded_correlations(lambda, beta, c, nullptr);
    return dual_objective(prob_, lambda, c.data(), a1_, a2_, subset, beta ? beta->data() : nullptr);
  }

  // The whole problem's dual at the residual the last evaluate took, whose correlations on `known`
  // (sorted) are in c: only the others are read, and its O(n) sums are not taken again.
  DualPoint extend(double lambda, const std::vector<double>* beta, std::vector<double>& c,
                   const std::vector<index_t>& known) {
    bounded_correlations(lambda, beta, c, &known);
    return dual_objective(prob_, lambda, c.data(), a1_, a2_, nullptr, beta ? beta->data() : nullptr);
  }

  // c_j for every feature outside `known` (sorted; null: none), reading X only where the last full
  // read does not settle it. Cauchy-Schwarz bounds how far a correlation has moved since the
  // residual rho_ref of that read: |c_j(rho) - c_j(rho_ref)| <= sqrt(L_j) ||rho - rho_ref||_W / sqrt(n).
  // A feature at zero whose bound stays below lambda alpha v_j meets its dual constraint at rho
  // and is not read: c_j takes the bound (signed as c_j(rho_ref)), which can only lower the dual
  // value, and Gap Safe screening and the working set see it as a feature that may be that close
  // (the strong rule reads c_j(rho_ref): strong_rule_value). Early on a path most features are
  // settled so: over its path text_wide read 26% of the correlations asked for, zipf 20%. When
  // more than kReadAllFraction of them are not, every feature is read and rho becomes the
  // reference.
  void bounded_correlations(double lambda, const std::vector<double>* beta, std::vector<double>& c,
                            const std::vector<index_t>* known) {
    const double limit = lambda * prob_.alpha;
    if (reference_c_.empty() || !(limit > 0)) return read_all(c, known);
    // Rounding: a sum of at most n terms errs by at most n eps of its terms' magnitudes, which
    // Cauchy-Schwarz bounds by sqrt(L_j) times the residual's norm; so c_j(rho_ref) by
    // n eps sqrt(L_j) ||rho_ref||, and the distance by n eps of itself.
    const double rounding = static_cast<double>(prob_.n) * std::numeric_limits<double>::epsilon();
    const double distance = std::sqrt(weighted_distance2(work_.data(), reference_.data()) /
                                      static_cast<double>(prob_.n)) * (1 + rounding) +
                            rounding * reference_rms_;
    unread_.clear();
    index_t candidates = 0;
    auto next = known ? known->begin() : std::vector<index_t>::const_iterator{};
    for (index_t j = 0; j < prob_.p; ++j) {
      if (known && next != known->end() && *next == j) {
        ++next;
        estimated_[j] = 0;
        continue;
      }
      if (!prob_.usable(j)) {  // a constant column: never in the model, its c_j is 0
        c[j] = 0;
        continue;
      }
      ++candidates;
      if (!beta || (*beta)[j] == 0) {
        const double ref = reference_c_[j];
        const double reach = (prob_.positive ? ref : std::abs(ref)) + root_lipschitz_[j] * distance;
        if (reach < limit * prob_.factors[j]) {
          c[j] = prob_.positive ? reach : std::copysign(reach, ref);
          estimated_[j] = 1;
          continue;
        }
      }
      unread_.push_back(j);
      estimated_[j] = 0;
    }
    if (static_cast<double>(unread_.size()) > kReadAllFraction * static_cast<double>(candidates))
      return read_all(c, known);
    correlations(c, &unread_);
  }

  // Every correlation outside `known`; the residual becomes the bounds' reference (its norm is
  // the a2_ its evaluate took).
  void read_all(std::vector<double>& c, const std::vector<index_t>* known) {
    correlations(c, nullptr, known);
    if (root_lipschitz_.empty()) {
      root_lipschitz_.resize(static_cast<std::size_t>(prob_.p));
      for (index_t j = 0; j < prob_.p; ++j) root_lipschitz_[j] = std::sqrt(prob_.lipschitz[j]);
    }
    reference_.assign(work_.begin(), work_.end());
    reference_c_ = c;
    estimated_.assign(static_cast<std::size_t>(prob_.p), 0);
    reference_rms_ = std::sqrt(a2_);
  }

  // c_j as the strong rule should read it: where the last evaluation left a bound in c_j, the
  // exact (if older) c_j(rho_ref) instead, as a bound would let in every feature it cannot settle.
  double strong_rule_value(const std::vector<double>& c, index_t j) const {
    return !estimated_.empty() && estimated_[j] ? reference_c_[j] : c[j];
  }

  // sum_i w_i (a_i - b_i)^2
  double weighted_distance2(const double* a, const double* b) const {
    const double* w = prob_.weights();
    double s = 0;
    if (w) {
#pragma omp simd reduction(+ : s)
      for (index_t i = 0; i < prob_.n; ++i) s += w[i] * (a[i] - b[i]) * (a[i] - b[i]);
    } else {
#pragma omp simd reduction(+ : s)
      for (index_t i = 0; i < prob_.n; ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
    }
    return s;
  }

  double weighted_sum(const double* r) const {
    const double* w = prob_.weights();
    double s = 0;
    if (w) {
#pragma omp simd reduction(+ : s)
      for (index_t i = 0; i < prob_.n; ++i) s += w[i] * r[i];
    } else {
#pragma omp simd reduction(+ : s)
      for (index_t i = 0; i < prob_.n; ++i) s += r[i];
    }
    return s;
  }

 private:
  const Problem<V>& prob_;
  const UnpenalizedSolver& unpen_;
  std::vector<double> work_;
  std::vector<index_t> rest_;  // correlations' features outside `known`
  // Of the projected residual in work_: its weighted sum (when sum_known_), and (1/n) rho^T W yc and
  // (1/n) rho^T W rho from the last evaluate.
  double sum_ = 0, a1_ = 0, a2_ = 0;
  bool sum_known_ = false;
  // bounded_correlations: reads of more than this fraction of the features left become a read of
  // every feature, which renews the reference.
  static constexpr double kReadAllFraction = 0.25;
  std::vector<double> reference_, reference_c_;  // rho_ref and every c_j(rho_ref); empty: none yet
  double reference_rms_ = 0;                     // ||rho_ref||_W / sqrt(n)
  std::vector<double> root_lipschitz_;           // sqrt(L_j)
  std::vector<char> estimated_;  // features whose c_j the last bounded_correlations bounded, not read
  std::vector<index_t> unread_;                  // the features bounded_correlations reads
};

template <class V>
class CdSolver final : public Solver {
 public:
  CdSolver(const Context& ctx, const Problem<V>& prob, const UnpenalizedSolver& unpen)
      : cpu_(host_context(ctx)), prob_(prob), dual_(prob, unpen), n_(prob.n), p_(prob.p),
        rt_(static_cast<std::size_t>(n_)), r_(static_cast<std::size_t>(n_)),
        c_(static_cast<std::size_t>(p_)), c_acc_(static_cast<std::size_t>(p_)) {
    for (index_t j = 0; j < p_; ++j) usable_ += prob.usable(j);
    column_entries_ = static_cast<double>(prob.x->nnz()) / static_cast<double>(std::max<index_t>(p_, 1));
  }

  Solution certify(double lambda, const std::vector<double>& beta) override {
    prob_.residual(beta, rt_, m_);
    materialize();
    Solution s;
    s.objective = primal(lambda, beta);
    s.gap = s.objective - dual_.evaluate(lambda, r_.data(), &beta, c_, nullptr).value;
    remember(lambda);
    return s;
  }

  Solution solve(const SolveRequest& req, std::vector<double>& beta) override {
    const double lambda = req.lambda;
    prob_.residual(beta, rt_, m_);  // fresh each lambda: no drift carried along the path
    std::vector<char> screened(static_cast<std::size_t>(p_), 0);
    index_t nnz = 0;
    for (index_t j = 0; j < p_; ++j) nnz += beta[j] != 0;
    index_t ws_size = std::max<index_t>(kFirstWorkingSet, 2 * nnz);
    InnerResult inner_result;
    Solution out;
    std::int64_t epochs = 0;
    if (warm_ && lambda < previous_lambda_) {
      // Along a path the previous solution's correlations are known: start on the strong-rule set
      // (Tibshirani et al. 2012) and let the first full pass certify it, instead of spending a full
      // pass on the warm start itself.
      const auto ws = strong_set(lambda, beta);
      ws_size = std::max<index_t>(ws_size, static_cast<index_t>(ws.size()));
      materialize();
      const bool everything = static_cast<index_t>(ws.size()) == usable_;
      double* level = everything ? &check_scale_ : prob_.x->sparse ? &strong_scale_ : nullptr;
      inner_result = inner(lambda, ws, everything, level, req.tol * primal(lambda, beta), req, epochs, beta);
      last_ws_ = ws;
    }
    warm_ = false;
    StallWatch stall(kOuterStallChecks);
    for (;;) {
      out.iterations = epochs;
      if (inner_result.certified) {  // the inner check already covered every feature
        out.objective = inner_result.objective;
        out.gap = inner_result.gap;
        out.status = FitStatus::Converged;
        remember(lambda);
        return out;
      }
      // A working-set check that passed left r_ materialized, the objective, and c_ on ws for the
      // residual it last evaluated (the one that passed): only the other features' correlations
      // remain to be read.
      if (inner_result.passed) {
        out.objective = inner_result.objective;
      } else {
        materialize();
        out.objective = primal(lambda, beta);
      }
      const double threshold = req.tol * out.objective;
      // The inner checks found which residual gives the better dual point; evaluate that one first,
      // so that a certifying point costs one pass over X, and the other only when it does not.
      const bool acc_first = inner_result.have_acc && inner_result.acc_wins;
      DualPoint best = inner_result.passed
                           ? dual_.extend(lambda, &beta, c_, last_ws_)
                           : dual_.evaluate(lambda, acc_first ? r_acc_.data() : r_.data(), &beta, c_, nullptr);
      out.gap = out.objective - best.value;
      if (out.gap > threshold && inner_result.have_acc) {
        const DualPoint other = dual_.evaluate(lambda, acc_first ? r_.data() : r_acc_.data(), &beta, c_acc_, nullptr);
        if (other.value > best.value) {
          best = other;
          std::swap(c_, c_acc_);
        }
        out.gap = out.objective - best.value;
      }
      if (out.gap <= threshold) {
        out.status = FitStatus::Converged;
        remember(lambda);
        return out;
      }
      if (epochs >= req.max_iter || stall.stalled(out.gap, out.objective)) {
        out.status = FitStatus::MaxIterations;
        return out;
      }
      if (req.screening) screen(lambda, best.theta, out.gap, beta, screened);
      const auto ws = working_set(lambda, best.theta, beta, screened, ws_size);
      const bool everything = static_cast<index_t>(ws.size()) == candidates_;
      const double tol_in = everything ? req.tol * out.objective : kInnerFraction * out.gap;
      inner_result = inner(lambda, ws, everything, everything ? &check_scale_ : nullptr, tol_in, req, epochs, beta);
      last_ws_ = ws;
      ws_size = std::min<index_t>(2 * ws_size, p_);
      if (ws.empty()) ++epochs;  // everything screened: the next check certifies zero
    }
  }

 private:
  // c_ holds the correlations of the residual at the solution for `lambda`.
  void remember(double lambda) {
    warm_ = true;
    previous_lambda_ = lambda;
  }

  // Non-zeros, unpenalized features, and those the sequential strong rule keeps:
  // |c_j| >= alpha v_j (2 lambda - lambda_previous).
  std::vector<index_t> strong_set(double lambda, const std::vector<double>& beta) const {
    std::vector<index_t> ws;
    const double level = prob_.alpha * (2 * lambda - previous_lambda_);
    for (index_t j = 0; j < p_; ++j) {
      if (!prob_.usable(j)) continue;
      const double c = dual_.strong_rule_value(c_, j);
      const double cj = prob_.positive ? c : std::abs(c);
      if (beta[j] != 0 || prob_.factors[j] == 0 || cj >= level * prob_.factors[j]) ws.push_back(j);
    }
    // When many features pass, the rule's misses are costly: the set is solved to the full
    // tolerance before the check over every feature finds them, and their entry then restarts much
    // of the convergence. Take every feature instead.
    if (static_cast<double>(ws.size()) >= kStrongAllFraction * static_cast<double>(usable_)) {
      ws.clear();
      for (index_t j = 0; j < p_; ++j)
        if (prob_.usable(j)) ws.push_back(j);
    }
    return ws;
  }

  void materialize() {
    for (index_t i = 0; i < n_; ++i) r_[i] = rt_[i] + m_;
  }

  // The primal objective at beta, given its residual r (primal: r_). Inside an inner solve every
  // non-zero lies in its working set `ws`, and the penalty sums over it alone (an O(p) sum at every
  // check and trial point cost 4% of a 2000 x 30000 path).
  double primal(double lambda, const std::vector<double>& beta, const std::vector<index_t>* ws = nullptr) const {
    return objective(lambda, r_.data(), beta, ws);
  }
  double objective(double lambda, const double* r, const std::vector<double>& beta,
                   const std::vector<index_t>* ws = nullptr) const {
    const double s = weighted_dot(prob_.weights(), r, r, n_);
    return 0.5 * s / static_cast<double>(n_) + prob_.penalty(lambda, beta, ws);
  }

  // Gap Safe sphere test (Lasso part only): |c_j(rho)| + sqrt(2 L_j gap) < lambda v_j proves
  // beta_j = 0 at the optimum.
  void screen(double lambda, double theta, double gap, std::vector<double>& beta,
              std::vector<char>& screened) {
    if (prob_.alpha != 1.0 || lambda <= 0 || !(gap > 0)) return;
    for (index_t j = 0; j < p_; ++j) {
      if (screened[j] || !prob_.usable(j) || prob_.factors[j] == 0) continue;
      const double cj = prob_.positive ? theta * c_[j] : std::abs(theta * c_[j]);
      if (cj + std::sqrt(2 * prob_.lipschitz[j] * gap) < lambda * prob_.factors[j]) {
        screened[j] = 1;
        if (beta[j] != 0) {
          prob_.move(j, -beta[j], rt_.data(), m_);
          beta[j] = 0;
        }
      }
    }
  }

  std::vector<index_t> working_set(double lambda, double theta, const std::vector<double>& beta,
                                   const std::vector<char>& screened, index_t ws_size) {
    std::vector<std::pair<double, index_t>> score;
    score.reserve(static_cast<std::size_t>(p_));
    for (index_t j = 0; j < p_; ++j) {
      if (screened[j] || !prob_.usable(j)) continue;
      double d;
      if (beta[j] != 0 || prob_.factors[j] == 0) {
        d = -std::numeric_limits<double>::infinity();
      } else {
        const double cj = prob_.positive ? theta * c_[j] : std::abs(theta * c_[j]);
        d = (lambda * prob_.alpha * prob_.factors[j] - cj) / std::sqrt(prob_.lipschitz[j]);
      }
      score.emplace_back(d, j);
    }
    candidates_ = static_cast<index_t>(score.size());
    const auto keep = static_cast<std::size_t>(std::min<index_t>(
        std::max<index_t>(ws_size, std::count_if(score.begin(), score.end(), [](auto& s) {
                            return std::isinf(s.first);
                          })),
        candidates_));
    std::nth_element(score.begin(), score.begin() + static_cast<std::ptrdiff_t>(keep), score.end());
    std::vector<index_t> ws(keep);
    for (std::size_t t = 0; t < keep; ++t) ws[t] = score[t].second;
    std::sort(ws.begin(), ws.end());
    return ws;
  }

  struct InnerResult {
    bool have_acc = false;   // r_acc_ holds an extrapolated residual
    bool acc_wins = false;   // it gave the better dual point at the last check
    bool certified = false;  // the gap over every feature meets req.tol (ws was everything)
    bool passed = false;     // its last check passed: c_ holds that residual's correlations on ws
    double objective = 0, gap = 0;
  };

  // Cyclic coordinate descent over ws until its gap is <= tol_in. When ws is `everything` (every
  // feature not screened), its checks take every feature's dual constraint and stop at the final
  // criterion (req.tol times the current primal), so that a passing check certifies the full problem
  // without another pass. `level` (null: the fixed trigger) is the learned scale the checks follow.
  InnerResult inner(double lambda, const std::vector<index_t>& ws, bool everything, double* level, double tol_in,
                    const SolveRequest& req, std::int64_t& epochs, std::vector<double>& beta) {
    const std::int64_t max_iter = req.max_iter;
    InnerResult result;
    if (ws.empty()) return result;
    const double a = prob_.alpha;
    std::vector<double> l1(ws.size()), denom(ws.size()), lip(ws.size());
    for (std::size_t t = 0; t < ws.size(); ++t) {
      const index_t j = ws[t];
      l1[t] = lambda * a * prob_.factors[j];
      lip[t] = prob_.lipschitz[j];
      denom[t] = lip[t] + lambda * (1 - a) * prob_.factors[j];
    }
    if (history_.empty()) {  // allocated once per path: nothing is allocated inside the iterations
      history_.assign(static_cast<std::size_t>(kExtrapolation + 1), std::vector<double>(static_cast<std::size_t>(n_)));
      history_m_.assign(static_cast<std::size_t>(kExtrapolation + 1), 0.0);
      beta_history_.resize(static_cast<std::size_t>(kExtrapolation + 1));
    }
    for (auto& b : beta_history_) b.resize(ws.size());
    int stored = 0, since_anderson = 0;
    anderson_stored_ = -1;  // no extrapolation of this solve's residuals yet
    // Once the extrapolated residual has given the better dual point it is evaluated alone: late in
    // a solve the plain residual does not certify first, and each evaluation is a pass over ws.
    bool acc_wins = false;
    // Failed checks show the gap's linear rate; the next check waits for most of the epochs that
    // rate says are still needed.
    double last_gap = 0;
    std::int64_t last_check = 0, next_check = 0;
    // Sweeps alternate as in glmnet: a full sweep over the working set, then sweeps over its non-zero
    // coefficients only until they settle, then a full sweep again. The gap is checked after a full
    // sweep that gained less than kEarlyFactor * tol_in (at a learned `level`: after any sweep whose
    // decrease it predicts will pass), and at least every kGapEvery epochs (kEverythingGapEvery).
    std::vector<std::size_t> all(ws.size()), active;
    std::iota(all.begin(), all.end(), std::size_t{0});
    active.reserve(ws.size());
    const auto find_nonzeros = [&] {
      active.clear();
      for (std::size_t t = 0; t < ws.size(); ++t)
        if (beta[ws[t]] != 0) active.push_back(t);
    };
    bool full = true;
    int active_run = 0, since_check = 0;
    StallWatch stall(kInnerStallChecks);
    bool at_floor = false;  // the last check's gap was at the rounding floor (StallWatch::kFloor)
    while (epochs < max_iter) {
      const auto& sweep = full ? all : active;
      double decrease = 0;  // lower bound on this epoch's objective decrease
      auto run = [&](auto kind) __attribute__((always_inline)) {
        for (std::size_t t : sweep) {
          const index_t j = ws[t];
          const double old = beta[j];
          const double z = lip[t] * old + prob_.template gradient<decltype(kind)::value>(j, rt_.data(), m_);
          const double next = coordinate_update(z, l1[t], denom[t], prob_.positive);
          if (next != old) {
            prob_.template move<decltype(kind)::value>(j, next - old, rt_.data(), m_);
            beta[j] = next;
            decrease += 0.5 * denom[t] * (next - old) * (next - old);
          }
        }
      };
      if (prob_.x->sparse) run(std::integral_constant<Reads, Reads::Sparse>{});
      else run(std::integral_constant<Reads, Reads::Dense>{});
      ++epochs;
      ++since_check;
      sweeps_since_newton_ += column_entries_ * static_cast<double>(sweep.size());
      // The residuals of the last kExtrapolation + 1 epochs, for dual extrapolation.
      record(stored, ws, beta);
      ++stored;
      const bool settled = decrease <= kEarlyFactor * tol_in;
      // At a learned level a check may follow a sweep over the non-zeros too: its gap does not
      // depend on which sweep came last, and on counts_ones_std's late lambdas (support 2700 of
      // 3000) the full sweep it waited for was one epoch in five.
      const bool promising = level ? *level * std::sqrt(std::max(decrease, 0.0) / tol_in) <= 1 : settled;
      bool check_due = !full && level && promising && epochs >= next_check;
      if (full) {
        find_nonzeros();
        check_due = (promising || since_check >= (everything && !at_floor ? kEverythingGapEvery : kGapEvery)) && epochs >= next_check;
      }
      // Anderson acceleration of the primal iterates (as in skglm), from the same combination that
      // extrapolates the dual: r is affine in beta, so the combined residual is r_acc_ itself and
      // trying the point costs O(n + |ws|), not a pass over X. A check that is due comes first (a
      // jump would put it off by an epoch, and it often certifies); when it fails, the step reuses
      // its extrapolation.
      if (!check_due && anderson_step(lambda, ws, beta, stored, since_anderson)) {
        full = true;
        continue;
      }
      if (!full && !check_due) {
        if (settled || ++active_run >= kGapEvery) full = true;
        continue;
      }
      if (!check_due) {
        if (active.size() < ws.size()) {
          full = false;
          active_run = 0;
        }
        continue;
      }
      since_check = 0;
      if (!full) find_nonzeros();  // the non-zeros now, for the Newton step below
      materialize();
      const double primal_value = primal(lambda, beta, &ws);
      const std::vector<index_t>* subset = everything ? nullptr : &ws;
      const double threshold = everything ? req.tol * primal_value : tol_in;
      // The extrapolation (O(k^2 n)) only when its point is evaluated: on a small working set it
      // costs more than an epoch.
      if (acc_wins) result.have_acc = extrapolate(stored);
      double best = -std::numeric_limits<double>::infinity();
      bool best_acc = false;
      const bool plain_read = !(result.have_acc && acc_wins);
      if (plain_read) best = dual_.evaluate(lambda, r_.data(), &beta, c_, subset).value;
      if (primal_value - best > threshold && !acc_wins) result.have_acc = extrapolate(stored);
      if (primal_value - best > threshold && result.have_acc) {
        const double acc = dual_.evaluate(lambda, r_acc_.data(), &beta, c_acc_, subset).value;
        acc_wins = acc_wins || acc > best;
        result.acc_wins = acc_wins;
        if (acc > best) {
          best = acc;
          best_acc = true;
        }
      }
      // Once the extrapolated point is evaluated alone it can go stale: extrapolating residuals that
      // barely move amplifies their rounding (on a one-hot X, gaps of 575 and 1700 times the target
      // where the plain residual's was 2.6 and 13). After a sweep that settled, a failed
      // extrapolated point is followed by the plain one, which takes over when it is better.
      if (primal_value - best > threshold && best_acc && acc_wins && settled && !plain_read) {
        const double plain = dual_.evaluate(lambda, r_.data(), &beta, c_, subset).value;
        if (plain > best) {
          best = plain;
          best_acc = false;
          acc_wins = result.acc_wins = false;
        }
      }
      if (primal_value - best <= threshold) {
        if (level) learn_level(*level, (primal_value - best) / threshold, decrease / threshold);
        if (best_acc) std::swap(c_, c_acc_);  // c_ holds the certifying point's correlations
        result.certified = everything;
        result.passed = true;
        result.objective = primal_value;
        result.gap = primal_value - best;
        break;
      }
      const double gap = primal_value - best;
      if (level) learn_level(*level, gap / threshold, decrease / threshold);
      at_floor = gap <= StallWatch::kFloor * std::abs(primal_value);
      if (stall.stalled(gap, primal_value)) break;  // the outer check decides what follows
      if (last_gap > 0 && gap > 0 && gap < last_gap) {
        const double per_epoch = std::log(gap / last_gap) / static_cast<double>(epochs - last_check);
        next_check = epochs + std::min<std::int64_t>(
                                  kGapEvery, static_cast<std::int64_t>(kCheckWait * std::log(threshold / gap) / per_epoch));
      }
      last_gap = gap;
      last_check = epochs;
      // A failed check after sweeps that have taken as long as a Newton step on the non-zeros: their
      // block is ill-conditioned, and the step may end what the sweeps would take long to finish.
      // (Spending as much as the sweeps since the last step bounds the loss at 2x when it does not
      // help; the gap's rate predicts the epochs left too poorly to choose by.)
      if (newton(lambda, ws, active, beta, primal_value)) {
        next_check = epochs;
        last_gap = 0;
        full = true;
        // The residuals before the step extrapolate to nothing near it: the plain residual is
        // checked next, and extrapolation waits for residuals recorded after the step.
        stored = 0;
        since_anderson = 0;
        anderson_stored_ = -1;
        acc_wins = false;
        result.have_acc = result.acc_wins = false;
        continue;
      }
      if (anderson_step(lambda, ws, beta, stored, since_anderson)) {
        full = true;
        continue;
      }
      if (!full) {
        full = true;  // a check after a sweep over the non-zeros failed: a full sweep next
      } else if (active.size() < ws.size()) {
        full = false;
        active_run = 0;
      }
    }
    return result;
  }

  // One check's gap and its last sweep's decrease, both over the check's target, update the scale
  // that predicts a check's gap from its sweep's decrease.
  static void learn_level(double& scale, double gap, double decrease) {
    if (!(gap > 0) || !(decrease > kLearnFloor)) return;
    scale = std::sqrt(scale * gap / std::sqrt(decrease));
  }

  // A Newton step on the non-zeros ws[active] once the sweeps since the last one have taken as long
  // (newton_pays) and when their columns fit kNewtonEntries; kept only when the objective falls. The
  // system's factor is kept from step to step and updated as the support changes (SupportFactor),
  // or, for the Elastic Net on a support wider than X has rows, the n x n system of narrow_solve
  // is solved where it costs less.
  // True when beta moved.
  bool newton(double lambda, const std::vector<index_t>& ws, const std::vector<std::size_t>& active,
              std::vector<double>& beta, double primal_value) {
    const auto k = static_cast<index_t>(active.size());
    if (k == 0 || static_cast<double>(n_) * static_cast<double>(k) > kNewtonEntries) return false;
    std::vector<index_t> support(active.size());
    for (std::size_t t = 0; t < active.size(); ++t) support[t] = ws[active[t]];
    const double ridge = lambda * (1 - prob_.alpha);
    const double cost = factor_.cost(support, ridge, static_cast<double>(n_));
    const double narrow = narrow_cost(support, ridge);
    if (!newton_pays(std::min(cost, narrow), 1, sweeps_since_newton_)) return false;
    sweeps_since_newton_ = 0;  // spent, whether or not the step then gains
    std::vector<double> gradient(support.size());
    for (index_t t = 0; t < k; ++t) gradient[t] = prob_.gradient(support[t], rt_.data(), m_);
    std::vector<double> delta, projected;
    if (narrow < cost) {
      auto direction = newton_rhs(prob_.factors, prob_.alpha, lambda, support, beta, gradient);
      if (!narrow_solve(support, ridge, direction)) return false;
      newton_step(prob_.factors, support, beta, direction, delta, &projected);
      return take_step(lambda, support, beta, primal_value, delta, projected);
    }
    // G's entries for the factor's new columns: (1/n) Z_order^T Z_new from the gathered columns.
    const auto from_columns = [&](const std::vector<index_t>& order, index_t first, double* out, index_t ld) {
      const auto all = static_cast<index_t>(order.size());
      gather(order);
      dispatch::gemm<double>(cpu_, Op::Transpose, Op::NoTranspose, 1.0 / static_cast<double>(n_),
                             DenseView<const double>(columns_.data(), n_, all, n_, Layout::ColMajor),
                             DenseView<const double>(columns_.data() + first * n_, n_, all - first, n_, Layout::ColMajor),
                             0.0, DenseView<double>(out, all, all - first, ld, Layout::ColMajor));
    };
    if (factor_.factor(support, from_columns, prob_.factors, ridge)) {
      auto direction = newton_rhs(prob_.factors, prob_.alpha, lambda, support, beta, gradient);
      factor_.solve(direction, ridge);
      newton_step(prob_.factors, support, beta, direction, delta, &projected);
    } else {
      gather(support);
      std::vector<double> gram(static_cast<std::size_t>(k * k));
      dispatch::gram<double>(cpu_, 1.0 / static_cast<double>(n_),
                             DenseView<const double>(columns_.data(), n_, k, n_, Layout::ColMajor), 0.0,
                             DenseView<double>(gram.data(), k, k, k, Layout::ColMajor));
      if (!newton_move(prob_.factors, prob_.alpha, lambda, support, beta, gradient, std::move(gram), delta,
                       &projected))
        return false;
    }
    return take_step(lambda, support, beta, primal_value, delta, projected);
  }

  // Multiply-adds of narrow_solve on `support`; infinite where it does not apply: the Lasso, a
  // support no wider than X has rows, or an unpenalized feature on it (V_S not invertible).
  double narrow_cost(const std::vector<index_t>& support, double ridge) const {
    const double k = static_cast<double>(support.size()), n = static_cast<double>(n_);
    if (!(ridge > 0) || k <= n) return std::numeric_limits<double>::infinity();
    for (const index_t j : support)
      if (!(prob_.factors[j] > 0)) return std::numeric_limits<double>::infinity();
    return (n * k + n * n * k / 2 + n * n * n / 3 + 2 * n * k) / kNarrowSpeedup;
  }

  // The Elastic Net's Newton system (G_SS + ridge V_S) d = b on a support S wider than X has rows,
  // through the n x n system of Woodbury's identity: with D = (ridge V_S)^-1 and Z = Z_S,
  //   d = u - D Z^T (n I + Z D Z^T)^-1 Z u,  u = D b,
  // n^2 k / 2 multiply-adds (one SYRK) where the k x k factor takes k^3 / 3 (on a 400 x 2500 X with
  // 1700 non-zeros, 1.4e8 against 1.6e9 fresh, 4e8 updated). b becomes d. False when the system is not
  // numerically positive definite.
  bool narrow_solve(const std::vector<index_t>& support, double ridge, std::vector<double>& b) {
    const auto k = static_cast<index_t>(support.size());
    gather(support);
    // columns_ becomes Y = Z D^1/2 in place, so Z D Z^T = Y Y^T (a SYRK), Z u = Y (D^1/2 b) and
    // D Z^T v = D^1/2 Y^T v.
    std::vector<double> root(support.size());
    for (index_t t = 0; t < k; ++t) {
      root[t] = 1 / std::sqrt(ridge * prob_.factors[support[t]]);
      double* col = columns_.data() + static_cast<std::size_t>(t) * n_;
      for (index_t i = 0; i < n_; ++i) col[i] *= root[t];
      b[t] *= root[t];  // D^1/2 b; u = D^1/2 of this
    }
    const DenseView<const double> y(columns_.data(), n_, k, n_, Layout::ColMajor);
    std::vector<double> m(static_cast<std::size_t>(n_ * n_));
    dispatch::gram<double>(cpu_, 1.0, DenseView<const double>(columns_.data(), k, n_, n_, Layout::RowMajor), 0.0,
                           DenseView<double>(m.data(), n_, n_, n_, Layout::ColMajor));
    for (index_t i = 0; i < n_; ++i) m[i * n_ + i] += static_cast<double>(n_);
    std::vector<double> zu(static_cast<std::size_t>(n_));
    dispatch::gemv<double>(cpu_, Op::NoTranspose, 1.0, y, VectorView<const double>(b.data(), k), 0.0,
                           VectorView<double>(zu.data(), n_));
    if (!solve_spd(m, zu, n_)) return false;
    std::vector<double> back(support.size());
    dispatch::gemv<double>(cpu_, Op::Transpose, 1.0, y, VectorView<const double>(zu.data(), n_), 0.0,
                           VectorView<double>(back.data(), k));
    for (index_t t = 0; t < k; ++t) b[t] = root[t] * (b[t] - back[t]);
    return true;
  }

  // Tries the projected step, then the cut one, keeping the first that lowers the objective. True
  // when beta moved.
  bool take_step(double lambda, const std::vector<index_t>& support, std::vector<double>& beta, double primal_value,
                 const std::vector<double>& delta, const std::vector<double>& projected) {
    const auto k = static_cast<index_t>(support.size());
    // The residual is recomputed after a step rather than moved by it: a large step (and its undoing)
    // would leave rounding in the residual that the certificate then trusts.
    std::vector<double> start(support.size());
    for (index_t t = 0; t < k; ++t) start[t] = beta[support[t]];
    for (const auto* step : {&projected, &delta}) {
      if (step->empty()) continue;
      for (index_t t = 0; t < k; ++t) beta[support[t]] = start[t] + (*step)[t];
      prob_.residual(beta, rt_, m_);
      materialize();
      if (primal(lambda, beta, &support) <= primal_value) return true;
    }
    for (index_t t = 0; t < k; ++t) beta[support[t]] = start[t];  // no gain: back where it was
    prob_.residual(beta, rt_, m_);
    materialize();
    return false;
  }

  // columns_ = Z_S = sqrt(W) (X_S - mu_S) / s_S for the features `s`, n x |s| column-major.
  void gather(const std::vector<index_t>& s) {
    columns_.assign(static_cast<std::size_t>(n_) * s.size(), 0.0);
    const double* w = prob_.weights();
    for (std::size_t t = 0; t < s.size(); ++t) {
      const index_t j = s[t];
      double* col = columns_.data() + t * static_cast<std::size_t>(n_);
      column_axpy(*prob_.x, j, 1.0 / prob_.scale[j], col);
      const double shift = prob_.mu[j] / prob_.scale[j];
      for (index_t i = 0; i < n_; ++i) col[i] = (w ? std::sqrt(w[i]) : 1.0) * (col[i] - shift);
    }
  }

  // The rings' slot t epochs after the oldest (t = 0 ... kExtrapolation) once `stored` are recorded.
  static std::size_t ring_slot(int stored, int t) { return static_cast<std::size_t>((stored + t) % (kExtrapolation + 1)); }

  // Ring slot `stored` takes the current residual (materialized), its mean shift and beta over ws.
  void record(int stored, const std::vector<index_t>& ws, const std::vector<double>& beta) {
    const auto slot = ring_slot(stored, 0);
    auto& r = history_[slot];
    for (index_t i = 0; i < n_; ++i) r[i] = rt_[i] + m_;
    history_m_[slot] = m_;
    auto& b = beta_history_[slot];
    for (std::size_t t = 0; t < ws.size(); ++t) b[t] = beta[ws[t]];
  }

  // Counts the epoch and, every kExtrapolation + 1 of them, tries an Anderson step from the
  // extrapolation of the last `stored` residuals (a failed check at this epoch has computed it
  // already). True when beta moved; the new point is then recorded.
  bool anderson_step(double lambda, const std::vector<index_t>& ws, std::vector<double>& beta, int& stored,
                     int& since_anderson) {
    if (++since_anderson <= kExtrapolation || prob_.positive) return false;
    if (anderson_stored_ != stored && !extrapolate(stored)) return false;
    since_anderson = 0;
    if (!anderson(lambda, ws, beta)) return false;
    record(stored, ws, beta);
    ++stored;
    return true;
  }

  // beta_acc = sum_k c_k B_{k+1} over ws with extrapolate()'s coefficients; its residual is r_acc_.
  // Taken when its objective is below the current one. True when beta moved.
  bool anderson(double lambda, const std::vector<index_t>& ws, std::vector<double>& beta) {
    constexpr int k = kExtrapolation;
    const int stored = anderson_stored_;
    materialize();
    const double current = primal(lambda, beta, &ws);
    start_.resize(ws.size());
    for (std::size_t t = 0; t < ws.size(); ++t) {
      start_[t] = beta[ws[t]];
      double b = 0;
      for (int s = 0; s < k; ++s) b += coefficients_[s] * beta_history_[ring_slot(stored, s + 1)][t];
      beta[ws[t]] = b;
    }
    if (objective(lambda, r_acc_.data(), beta, &ws) < current) {
      double m = 0;
      for (int s = 0; s < k; ++s) m += coefficients_[s] * history_m_[ring_slot(stored, s + 1)];
      m_ = m;
      for (index_t i = 0; i < n_; ++i) rt_[i] = r_acc_[i] - m;
      return true;
    }
    for (std::size_t t = 0; t < ws.size(); ++t) beta[ws[t]] = start_[t];
    return false;
  }

  // r_acc = sum_k c_k R_{k+1}, with c the normalized solution of (U U^T) z = 1 over the residual
  // differences U (Massias et al. 2020, dual extrapolation).
  bool extrapolate(int stored) {
    constexpr int k = kExtrapolation;
    if (stored < k + 1) return false;
    // history_ is a ring; oldest first.
    std::vector<const std::vector<double>*> seq(k + 1);
    for (int t = 0; t <= k; ++t) seq[t] = &history_[ring_slot(stored, t)];
    auto& diff = diff_;
    diff.resize(static_cast<std::size_t>(k) * n_);
    for (int t = 0; t < k; ++t)
      for (index_t i = 0; i < n_; ++i) diff[t * n_ + i] = (*seq[t + 1])[i] - (*seq[t])[i];
    std::vector<double> gram(k * k);
    for (int s = 0; s < k; ++s)
      for (int t = 0; t <= s; ++t) {
        const double d = weighted_dot(nullptr, diff.data() + s * n_, diff.data() + t * n_, n_);
        gram[s * k + t] = gram[t * k + s] = d;
      }
    if (!(gram[0] > 0)) return false;
    std::vector<double> z(k, 1.0);
    if (!solve_small(gram, z, k)) return false;
    double total = 0;
    for (double v : z) total += v;
    if (!(std::abs(total) > 0) || !std::isfinite(total)) return false;
    r_acc_.resize(static_cast<std::size_t>(n_));
    std::fill(r_acc_.begin(), r_acc_.end(), 0.0);
    coefficients_.resize(k);
    anderson_stored_ = stored;
    for (int t = 0; t < k; ++t) {
      const double coef = z[t] / total;
      coefficients_[t] = coef;
      for (index_t i = 0; i < n_; ++i) r_acc_[i] += coef * (*seq[t + 1])[i];
    }
    return true;
  }

  Context cpu_;  // the CPU twins (the Newton step's Gram block), whatever the path's backend
  const Problem<V>& prob_;
  ResidualDual<V> dual_;
  index_t n_, p_;
  std::vector<double> rt_, r_, r_acc_, c_, c_acc_;
  std::vector<index_t> last_ws_;  // the working set of the last inner solve
  SupportFactor factor_;  // G_AA's factor from the last Newton step
  double sweeps_since_newton_ = 0;  // multiply-adds of the sweeps since the last Newton step
  // A check over every feature (a pass over X) is made after a sweep once
  // check_scale_ * sqrt(decrease / target), the gap it predicts, is at most 1: the gap falls about as
  // the square root of the sweeps' decrease (it is dominated by the dual point's distance, which the
  // decrease measures squared). Learned from each such check (a geometric mean of the last scale and
  // the new) and kept along the path; the first check waits for a decrease of kEarlyFactor, as the
  // checks on a working set always do. On (b) the late lambdas took five checks each, four of them
  // failing 10 to 1000 times over.
  double check_scale_ = 1 / std::sqrt(kEarlyFactor);
  // The same for the checks on a sparse X's strong-rule set (a lambda's first working set, solved to
  // the final tolerance). Their fixed trigger checked once too early (a gap 10 to 20 times the
  // target) and then two epochs too late (a gap of 0.07 of it): tfidf_enet_std 581 -> 479 epochs,
  // counts_ones_std 383 -> 348, b 883 -> 834. Not on a dense X, where cd runs the wide problems
  // (p >> n, Newton steps on the support): there it took 8 to 22% more epochs. Nor on the working
  // sets that follow, whose targets are a fraction of each outer gap.
  double strong_scale_ = 1 / std::sqrt(kEarlyFactor);
  std::vector<std::vector<double>> history_, beta_history_;  // rings of residuals and of beta over ws
  std::vector<double> history_m_, coefficients_, start_;
  int anderson_stored_ = -1;  // `stored` at the last extrapolation in this inner solve (-1: none)
  std::vector<double> diff_, columns_;
  double m_ = 0;
  double column_entries_ = 0;  // entries per column of X, for the cost of an epoch
  index_t candidates_ = 0;
  index_t usable_ = 0;  // usable features
  bool warm_ = false;  // c_ holds the previous solution's correlations
  double previous_lambda_ = 0;
};

template <class V>
std::unique_ptr<Solver> make_cd_solver(const Context& ctx, const Problem<V>& prob,
                                       const UnpenalizedSolver& unpenalized) {
  return std::make_unique<CdSolver<V>>(ctx, prob, unpenalized);
}

template <class V>
std::vector<double> null_model_gradient(const Problem<V>& prob, const UnpenalizedSolver& unpenalized,
                                        std::vector<double>& beta_unpenalized, const DesignOperator<V>* op) {
  if (prob.x->space != MemorySpace::Host || prob.split) return op->null_gradient(unpenalized, beta_unpenalized);
  ResidualDual<V> dual(prob, unpenalized);
  beta_unpenalized = dual.project(prob.yc.data(), nullptr);
  std::vector<double> c(static_cast<std::size_t>(prob.p), 0.0);
  dual.correlations(c, nullptr);
  return c;
}

#define SHRINK_INSTANTIATE_CD_SOLVER(V)                                                                   \
  template std::unique_ptr<Solver> make_cd_solver<V>(const Context&, const Problem<V>&, const UnpenalizedSolver&); \
  template std::vector<double> null_model_gradient<V>(const Problem<V>&, const UnpenalizedSolver&, \
                                                      std::vector<double>&, const DesignOperator<V>*);
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_CD_SOLVER)

}  // namespace shrink::lasso_detail
