// Column statistics, the dual objective and the unpenalized least-squares block.
#include "host/lasso/problem.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "host/core/dispatch.hpp"
#include "kernels/ops/instantiate.hpp"
#include "host/core/validate.hpp"
#include "shrink/error.hpp"

namespace shrink::lasso_detail {

double default_tol(bool single_precision) noexcept { return single_precision ? 1e-4 : 1e-6; }

void check_vector(const std::vector<double>& v, index_t expected, const std::string& what, const std::string& why) {
  if (v.empty()) return;
  detail::check_vector_size(static_cast<index_t>(v.size()), expected, what, why);
  detail::check_finite(v.data(), expected, what);
  for (index_t i = 0; i < expected; ++i)
    if (v[i] < 0)
      throw InvalidArgument(what + "[" + std::to_string(i) + "] = " + std::to_string(v[i]) +
                            " is negative; it must be >= 0");
}

void validate_common(const LassoCoreOptions& o, index_t p) {
  const double l1_ratio = o.l1_ratio, tol = o.tol;
  const std::int64_t max_iter = o.max_iter;
  const auto& penalty_factors = o.penalty_factors;
  if (!(l1_ratio >= 0 && l1_ratio <= 1))
    throw InvalidArgument("l1_ratio must be in [0, 1], got " + std::to_string(l1_ratio));
  check_vector(penalty_factors, p, "penalty_factors", "X has " + std::to_string(p) + " columns");
  if (!(tol >= 0 && std::isfinite(tol)))
    throw InvalidArgument("tol must be >= 0 (0 for the default), got " + std::to_string(tol));
  if (max_iter < 1) throw InvalidArgument("max_iter must be >= 1, got " + std::to_string(max_iter));
}

std::vector<double> dense_column(const CscMatrix<double, std::int64_t>& m, std::size_t j, const char* what) {
  if (j >= static_cast<std::size_t>(m.cols()))
    throw InvalidArgument(std::string(what) + " " + std::to_string(j) + " >= " + std::to_string(m.cols()));
  std::vector<double> out(static_cast<std::size_t>(m.rows()), 0.0);
  const auto& t = m.transposed();  // row j of the transpose is column j
  for (auto k = t.row_ptr().data()[j]; k < t.row_ptr().data()[j + 1]; ++k)
    out[t.col_idx().data()[k]] = t.values().data()[k];
  return out;
}

// ---- problem -----------------------------------------------------------------------------------------
template <class V>
void Problem<V>::residual(const std::vector<double>& beta, std::vector<double>& rt, double& m) const {
  rt = yc;
  m = 0;
  for (index_t j = 0; j < p; ++j)
    if (beta[j] != 0) move(j, beta[j], rt.data(), m);
}

template <class V>
double Problem<V>::gram_entry(index_t j, index_t k) const {
  const double* wp = weights();
  double s = 0;
  if (!x->sparse) {
    const V* a = x->dense.data + j * x->dense.ld;
    const V* b = x->dense.data + k * x->dense.ld;
    for (index_t i = 0; i < n; ++i)
      s += (wp ? wp[i] : 1.0) * (static_cast<double>(a[i]) - mu[j]) * (static_cast<double>(b[i]) - mu[k]);
  } else {
    // sum w x_j x_k over common rows, then remove the means: sum w x_j = n mu_j with an intercept.
    x->with_transposed([&](const auto& xt) {
      auto a = xt.row_ptr[j], ae = xt.row_ptr[j + 1], b = xt.row_ptr[k], be = xt.row_ptr[k + 1];
      while (a < ae && b < be) {
        const auto ra = xt.col_idx[a], rb = xt.col_idx[b];
        if (ra < rb) ++a;
        else if (rb < ra) ++b;
        else {
          s += (wp ? wp[ra] : 1.0) * static_cast<double>(xt.values[a]) * static_cast<double>(xt.values[b]);
          ++a;
          ++b;
        }
      }
    });
    s -= static_cast<double>(n) * mu[j] * mu[k];
  }
  return s / (static_cast<double>(n) * scale[j] * scale[k]);
}

template <class V>
double Problem<V>::penalty(double lambda, const std::vector<double>& beta,
                           const std::vector<index_t>* support) const noexcept {
  double l1 = 0, l2 = 0;
  const auto add = [&](index_t j) {
    l1 += factors[j] * std::abs(beta[j]);
    l2 += factors[j] * beta[j] * beta[j];
  };
  if (support) {
    for (const index_t j : *support) add(j);
  } else {
    for (index_t j = 0; j < p; ++j) add(j);
  }
  return lambda * (alpha * l1 + 0.5 * (1 - alpha) * l2);
}

// The blocks' column moments combined into the whole X's (Chan, Golub and LeVeque's pairwise
// update): mean = sum_b W_b mean_b / n and dev = sum_b (dev_b + W_b (mean_b - mean)^2), with W_b the
// block's weight and mean_b, dev_b its own weighted mean and deviation; the largest magnitudes by a
// max.
inline void combine_moments(const RowSplit& split, double weight, bool center, double dn, std::vector<double>& mean,
                            std::vector<double>& dev, std::vector<double>& biggest) {
  const std::size_t np = mean.size();
  std::vector<double> total(np);
  for (std::size_t j = 0; j < np; ++j) total[j] = weight > 0 ? weight * mean[j] : 0.0;
  split.sum(total.data(), np);
  for (std::size_t j = 0; j < np; ++j) {
    const double global = center ? total[j] / dn : 0.0;
    const double shift = weight > 0 ? mean[j] - global : 0.0;
    dev[j] = (weight > 0 ? dev[j] : 0.0) + weight * shift * shift;
    mean[j] = global;
  }
  split.sum(dev.data(), np);
  split.max(biggest.data(), np);
}

template <class V>
Problem<V> make_problem(const Context& ctx, const Design<V>& x, const std::vector<double>& y, const LassoOptions& o,
                        const RowSplit* split) {
  Problem<V> prob;
  prob.x = &x;
  prob.n = x.n;
  prob.p = x.p;
  prob.split = split;
  prob.alpha = o.l1_ratio;
  prob.positive = o.positive;
  prob.intercept = o.fit_intercept;
  prob.standardize = o.standardize;
  const index_t n = x.n, p = x.p;
  const double dn = prob.total_rows();

  // Split rows: every block takes part in the sum (a block without weights counts its rows; the
  // caller makes sure that either every block holding rows has weights or none does).
  double weight_total = o.sample_weights.empty() ? dn : 0.0;
  if (!o.sample_weights.empty() || split) {
    weight_total = o.sample_weights.empty() ? static_cast<double>(n) : 0.0;
    for (double v : o.sample_weights) weight_total += v;
    prob.sum_rows(&weight_total, 1);
  }
  if (!o.sample_weights.empty()) {
    const double total = weight_total;
    prob.w.resize(static_cast<std::size_t>(n));
    for (index_t i = 0; i < n; ++i) prob.w[i] = o.sample_weights[i] * dn / total;
  }
  const double* w = prob.weights();
  auto wi = [&](index_t i) { return w ? w[i] : 1.0; };
  // The moment kernels take weights that sum to the rows they see. Split rows: this block's weights
  // rescaled to sum to its own rows, so the kernels give the block's own weighted mean, and its
  // deviation scaled back by W_b / n_b below.
  double block_weight = static_cast<double>(n);
  std::vector<double> block_w;
  const double* moment_w = w;
  if (split && w) {
    block_weight = 0;
    for (index_t i = 0; i < n; ++i) block_weight += w[i];
    if (block_weight > 0) {
      block_w.resize(static_cast<std::size_t>(n));
      for (index_t i = 0; i < n; ++i) block_w[i] = w[i] * static_cast<double>(n) / block_weight;
      moment_w = block_w.data();
    }
  }

  prob.ybar = 0;
  if (o.fit_intercept) {
    for (index_t i = 0; i < n; ++i) prob.ybar += wi(i) * y[i];
    prob.sum_rows(&prob.ybar, 1);
    prob.ybar /= dn;
  }
  prob.yc.resize(static_cast<std::size_t>(n));
  prob.y_norm2 = 0;
  for (index_t i = 0; i < n; ++i) {
    prob.yc[i] = y[i] - prob.ybar;
    prob.y_norm2 += wi(i) * prob.yc[i] * prob.yc[i];
  }
  prob.sum_rows(&prob.y_norm2, 1);
  prob.y_norm2 /= dn;

  // Per column: the weighted mean, the weighted sum of squared deviations from it (two passes, so
  // that large offsets do not cancel) and the largest magnitude, computed where X lives.
  const auto np = static_cast<std::size_t>(p);
  std::vector<double> mean(np), dev(np), biggest(np);
  if (n == 0) {
    // An empty block (a process with no rows) adds nothing.
  } else if (x.space == MemorySpace::Host) {
    if (x.sparse)
      x.with_transposed([&](const auto& xt) {
        SHRINK_DISPATCH_AT(ctx, MemorySpace::Host, csc_column_moments, ctx, xt, moment_w, o.fit_intercept, mean.data(),
                           dev.data(), biggest.data());
      });
    else
      SHRINK_DISPATCH_AT(ctx, MemorySpace::Host, column_moments, ctx, x.dense, moment_w, o.fit_intercept, mean.data(),
                         dev.data(), biggest.data());
  } else {
    const auto space = x.space;
    Array<double> wd, md(ctx, np, space), dd(ctx, np, space), bd(ctx, np, space);
    if (moment_w)
      wd = Array<double>::from_vector(std::vector<double>(moment_w, moment_w + n)).copy_to(ctx, space);
    const double* wp = moment_w ? wd.data() : nullptr;
    if (x.sparse)
      x.with_transposed([&](const auto& xt) {
        SHRINK_DISPATCH(ctx, csc_column_moments, ctx, xt, wp, o.fit_intercept, md.data(), dd.data(), bd.data());
      });
    else
      SHRINK_DISPATCH(ctx, column_moments, ctx, x.dense, wp, o.fit_intercept, md.data(), dd.data(), bd.data());
    mean = md.to_vector(ctx);
    dev = dd.to_vector(ctx);
    biggest = bd.to_vector(ctx);
  }
  if (split) {
    if (n > 0)
      for (auto& d : dev) d *= block_weight / static_cast<double>(n);
    combine_moments(*split, n > 0 ? block_weight : 0.0, o.fit_intercept, dn, mean, dev, biggest);
  }

  prob.mu = std::move(mean);
  prob.scale.assign(np, 1.0);
  prob.lipschitz.assign(np, 0.0);
  for (index_t j = 0; j < p; ++j) {
    const double var = dev[j] / dn;
    // A column whose spread is rounding noise is constant: it never enters the model.
    const double noise = 64 * std::numeric_limits<double>::epsilon() * biggest[j];
    if (!(var > noise * noise)) continue;
    if (o.standardize) {
      prob.scale[j] = std::sqrt(var);
      prob.lipschitz[j] = 1.0;
    } else {
      prob.lipschitz[j] = var;
    }
  }

  prob.factors = o.penalty_factors.empty() ? std::vector<double>(np, 1.0) : o.penalty_factors;
  for (index_t j = 0; j < p; ++j)
    if (prob.usable(j) && prob.factors[j] == 0) prob.unpenalized.push_back(j);
  return prob;
}

// ---- dual ---------------------------------------------------------------------------------------------
DualPoint dual_from_terms(double lambda, double alpha, const kernels::LassoDualTerms& terms, double a1,
                          double a2, double kkt_scale) {
  DualPoint d;
  if (lambda == 0 && kkt_scale > 0) {
    d.theta = 1;
    d.value = 0.5 * a2 * (1 - std::min(1.0, terms.kkt / kkt_scale));
    return d;
  }
  d.value = kernels::dual_value(lambda, alpha, terms, a1, a2, d.theta);
  return d;
}

template <class V>
DualPoint dual_objective(const Problem<V>& prob, double lambda, const double* c, double a1, double a2,
                         const std::vector<index_t>* subset, const double* beta) {
  const auto args = dual_args(lambda, prob.alpha, prob.positive);
  kernels::LassoDualTerms terms;
  auto visit = [&](index_t j) {
    if (prob.usable(j)) kernels::accumulate_dual_terms(terms, c[j], beta ? beta[j] : 0.0, prob.factors[j], args);
  };
  if (subset) {
    for (index_t j : *subset) visit(j);
  } else {
    for (index_t j = 0; j < prob.p; ++j) visit(j);
  }
  return dual_from_terms(lambda, prob.alpha, terms, a1, a2, prob.kkt_scale);
}

// ---- unpenalized block ---------------------------------------------------------------------------------
namespace {

// Cholesky of the k x k matrix g restricted to `in`, dropping dependent columns: a pivot below 1e-10
// of its diagonal leaves the column out (kept = 0).
void factor_subset(const std::vector<double>& g, std::size_t k, const std::vector<char>& in,
                   std::vector<double>& chol, std::vector<char>& kept) {
  chol = g;
  kept = in;
  for (std::size_t j = 0; j < k; ++j) {
    if (!kept[j]) continue;
    double d = chol[j * k + j];
    for (std::size_t t = 0; t < j; ++t)
      if (kept[t]) d -= chol[j * k + t] * chol[j * k + t];
    if (!(d > 1e-10 * g[j * k + j])) {
      kept[j] = 0;
      continue;
    }
    const double l = std::sqrt(d);
    chol[j * k + j] = l;
    for (std::size_t i = j + 1; i < k; ++i) {
      double s = chol[i * k + j];
      for (std::size_t t = 0; t < j; ++t)
        if (kept[t]) s -= chol[i * k + t] * chol[j * k + t];
      chol[i * k + j] = s / l;
    }
  }
}

// z = G_SS^-1 c_S on the kept columns S, 0 elsewhere.
std::vector<double> solve_factored(const std::vector<double>& chol, const std::vector<char>& kept, std::size_t k,
                                   const std::vector<double>& c) {
  std::vector<double> z(k, 0.0);
  for (std::size_t i = 0; i < k; ++i) {
    if (!kept[i]) continue;
    double s = c[i];
    for (std::size_t t = 0; t < i; ++t)
      if (kept[t]) s -= chol[i * k + t] * z[t];
    z[i] = s / chol[i * k + i];
  }
  for (std::size_t i = k; i-- > 0;) {
    if (!kept[i]) continue;
    double s = z[i];
    for (std::size_t t = i + 1; t < k; ++t)
      if (kept[t]) s -= chol[t * k + i] * z[t];
    z[i] = s / chol[i * k + i];
  }
  return z;
}

}  // namespace

template <class V>
UnpenalizedSolver::UnpenalizedSolver(const Problem<V>& prob) : k_(prob.unpenalized.size()) {
  g_.assign(k_ * k_, 0.0);
  for (std::size_t a = 0; a < k_; ++a)
    for (std::size_t b = 0; b <= a; ++b)
      g_[a * k_ + b] = g_[b * k_ + a] = prob.gram_entry(prob.unpenalized[a], prob.unpenalized[b]);
  factor_subset(g_, k_, std::vector<char>(k_, 1), chol_, kept_);
}

UnpenalizedSolver::UnpenalizedSolver(std::vector<double> gram_uu)
    : k_(static_cast<std::size_t>(std::llround(std::sqrt(static_cast<double>(gram_uu.size()))))), g_(std::move(gram_uu)) {
  factor_subset(g_, k_, std::vector<char>(k_, 1), chol_, kept_);
}

std::vector<double> UnpenalizedSolver::solve(const std::vector<double>& c) const {
  return solve_factored(chol_, kept_, k_, c);
}

std::vector<double> UnpenalizedSolver::solve_nonnegative(const std::vector<double>& c) const {
  // Lawson-Hanson active set on min 1/2 s^T G s - c^T s, s >= 0: free the coordinate with the largest
  // positive gradient, solve on the free set, and step back to the boundary whenever the unconstrained
  // solution leaves the feasible set.
  std::vector<double> s(k_, 0.0), chol;
  std::vector<char> free(k_, 0), kept;
  double scale = 0;
  for (double v : c) scale = std::max(scale, std::abs(v));
  const double tiny = 1e-13 * scale;
  auto gradient = [&](std::size_t i) {
    double w = c[i];
    for (std::size_t t = 0; t < k_; ++t) w -= g_[i * k_ + t] * s[t];
    return w;
  };
  for (std::size_t outer = 0; outer < 3 * k_ + 3; ++outer) {
    std::size_t best = k_;
    double top = tiny;
    for (std::size_t i = 0; i < k_; ++i) {
      if (free[i]) continue;
      const double w = gradient(i);
      if (w > top) {
        top = w;
        best = i;
      }
    }
    if (best == k_) break;
    free[best] = 1;
    for (std::size_t inner = 0; inner < k_ + 1; ++inner) {
      factor_subset(g_, k_, free, chol, kept);
      std::vector<double> cs(k_, 0.0);
      for (std::size_t i = 0; i < k_; ++i) cs[i] = kept[i] ? c[i] : 0.0;
      const auto z = solve_factored(chol, kept, k_, cs);
      bool feasible = true;
      for (std::size_t i = 0; i < k_; ++i)
        if (kept[i] && z[i] <= 0) feasible = false;
      if (feasible) {
        for (std::size_t i = 0; i < k_; ++i) s[i] = kept[i] ? z[i] : 0.0;
        for (std::size_t i = 0; i < k_; ++i)
          if (free[i] && !kept[i]) free[i] = 0;  // dependent: stays at zero
        break;
      }
      double step = 1;
      for (std::size_t i = 0; i < k_; ++i)
        if (kept[i] && z[i] <= 0) step = std::min(step, s[i] / (s[i] - z[i]));
      for (std::size_t i = 0; i < k_; ++i) {
        s[i] += step * ((kept[i] ? z[i] : 0.0) - s[i]);
        if (free[i] && (!kept[i] || s[i] <= 0)) {
          free[i] = 0;
          s[i] = 0;
        }
      }
    }
  }
  return s;
}

std::vector<double> UnpenalizedSolver::step(const std::vector<double>& c, const std::vector<double>& current,
                                            bool positive) const {
  if (!positive) return solve(c);
  // t = s - current with s >= 0 minimizing 1/2 (s - current)^T G (s - current) - c^T (s - current).
  std::vector<double> shifted(c);
  for (std::size_t a = 0; a < k_; ++a)
    for (std::size_t b = 0; b < k_; ++b) shifted[a] += g_[a * k_ + b] * current[b];
  auto t = solve_nonnegative(shifted);
  for (std::size_t a = 0; a < k_; ++a) t[a] -= current[a];
  return t;
}

#define SHRINK_INSTANTIATE_LASSO_PROBLEM(V)                                                        \
  template struct Problem<V>;                                                                      \
  template Problem<V> make_problem<V>(const Context&, const Design<V>&, const std::vector<double>&, \
                                      const LassoOptions&, const RowSplit*);                       \
  template DualPoint dual_objective<V>(const Problem<V>&, double, const double*, double, double,   \
                                       const std::vector<index_t>*, const double*);                \
  template UnpenalizedSolver::UnpenalizedSolver(const Problem<V>&);
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_LASSO_PROBLEM)

}  // namespace shrink::lasso_detail
