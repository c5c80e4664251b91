// Design storage, column statistics, the dual objective and the unpenalized least-squares block.
#include "host/lasso/problem.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

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

void validate_common(double l1_ratio, const std::vector<double>& penalty_factors, index_t p, double tol,
                     std::int64_t max_iter) {
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

// ---- design ------------------------------------------------------------------------------------------
template <class V>
Design<V> make_design(DenseView<const V> x) {
  Design<V> d;
  d.n = x.rows;
  d.p = x.cols;
  d.dense.resize(static_cast<std::size_t>(detail::checked_product(x.rows, x.cols, "X")));
  for (index_t j = 0; j < x.cols; ++j)
    for (index_t i = 0; i < x.rows; ++i) d.dense[j * x.rows + i] = x(i, j);
  detail::check_finite(d.dense.data(), static_cast<index_t>(d.dense.size()), "X (column-major)");
  return d;
}

namespace {
// Column j of the CSC form is row j of the transposed CSR `t` (cols x rows).
template <class V, class I>
Design<V> design_from_transposed(const CsrMatrix<V, I>& t) {
  Design<V> d;
  d.sparse = true;
  d.n = t.cols();
  d.p = t.rows();
  detail::check_fits_index<std::int32_t>(d.n, "X rows (n_samples)");
  const auto* rp = t.row_ptr().data();
  d.col_ptr.assign(rp, rp + d.p + 1);
  d.row_idx.assign(t.col_idx().data(), t.col_idx().data() + t.nnz());
  d.values.assign(t.values().data(), t.values().data() + t.nnz());
  return d;
}
}  // namespace

template <class V, class I>
Design<V> make_design(const CsrMatrix<V, I>& x) {
  if (x.space() != MemorySpace::Host) throw InvalidArgument("X must be in host memory");
  return design_from_transposed(transpose(x));
}
template <class V, class I>
Design<V> make_design(const CscMatrix<V, I>& x) {
  if (x.space() != MemorySpace::Host) throw InvalidArgument("X must be in host memory");
  return design_from_transposed(x.transposed());
}

template <class V>
Design<V> Design<V>::row_subset(const std::vector<index_t>& rows) const {
  Design out;
  out.n = static_cast<index_t>(rows.size());
  out.p = p;
  out.sparse = sparse;
  if (!sparse) {
    out.dense.resize(static_cast<std::size_t>(out.n * p));
    for (index_t j = 0; j < p; ++j)
      for (index_t i = 0; i < out.n; ++i) out.dense[j * out.n + i] = dense[j * n + rows[i]];
    return out;
  }
  std::vector<std::int32_t> new_row(static_cast<std::size_t>(n), -1);
  for (index_t i = 0; i < out.n; ++i) new_row[rows[i]] = static_cast<std::int32_t>(i);
  out.col_ptr.assign(1, 0);
  for (index_t j = 0; j < p; ++j) {
    const std::size_t first = out.row_idx.size();
    for (auto k = col_ptr[j]; k < col_ptr[j + 1]; ++k)
      if (new_row[row_idx[k]] >= 0) {
        out.row_idx.push_back(new_row[row_idx[k]]);
        out.values.push_back(values[k]);
      }
    // Rows may come in any order: keep each column sorted.
    std::vector<std::size_t> order(out.row_idx.size() - first);
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = first + k;
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return out.row_idx[a] < out.row_idx[b]; });
    std::vector<std::int32_t> ri(order.size());
    std::vector<V> va(order.size());
    for (std::size_t k = 0; k < order.size(); ++k) {
      ri[k] = out.row_idx[order[k]];
      va[k] = out.values[order[k]];
    }
    std::copy(ri.begin(), ri.end(), out.row_idx.begin() + static_cast<std::ptrdiff_t>(first));
    std::copy(va.begin(), va.end(), out.values.begin() + static_cast<std::ptrdiff_t>(first));
    out.col_ptr.push_back(static_cast<std::int64_t>(out.row_idx.size()));
  }
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
    const V* a = x->dense.data() + j * n;
    const V* b = x->dense.data() + k * n;
    for (index_t i = 0; i < n; ++i)
      s += (wp ? wp[i] : 1.0) * (static_cast<double>(a[i]) - mu[j]) * (static_cast<double>(b[i]) - mu[k]);
  } else {
    // sum w x_j x_k over common rows, then remove the means: sum w x_j = n mu_j with an intercept.
    auto a = x->col_ptr[j], ae = x->col_ptr[j + 1], b = x->col_ptr[k], be = x->col_ptr[k + 1];
    while (a < ae && b < be) {
      const auto ra = x->row_idx[a], rb = x->row_idx[b];
      if (ra < rb) ++a;
      else if (rb < ra) ++b;
      else {
        s += (wp ? wp[ra] : 1.0) * static_cast<double>(x->values[a]) * static_cast<double>(x->values[b]);
        ++a;
        ++b;
      }
    }
    s -= static_cast<double>(n) * mu[j] * mu[k];
  }
  return s / (static_cast<double>(n) * scale[j] * scale[k]);
}

template <class V>
double Problem<V>::penalty(double lambda, const std::vector<double>& beta) const noexcept {
  double l1 = 0, l2 = 0;
  for (index_t j = 0; j < p; ++j) {
    l1 += factors[j] * std::abs(beta[j]);
    l2 += factors[j] * beta[j] * beta[j];
  }
  return lambda * (alpha * l1 + 0.5 * (1 - alpha) * l2);
}

template <class V>
Problem<V> make_problem(const Design<V>& x, const std::vector<double>& y, const LassoOptions& o) {
  Problem<V> prob;
  prob.x = &x;
  prob.n = x.n;
  prob.p = x.p;
  prob.alpha = o.l1_ratio;
  prob.positive = o.positive;
  prob.intercept = o.fit_intercept;
  prob.standardize = o.standardize;
  const index_t n = x.n, p = x.p;
  const double dn = static_cast<double>(n);

  if (!o.sample_weights.empty()) {
    double total = 0;
    for (double v : o.sample_weights) total += v;
    prob.w.resize(static_cast<std::size_t>(n));
    for (index_t i = 0; i < n; ++i) prob.w[i] = o.sample_weights[i] * dn / total;
  }
  const double* w = prob.weights();
  auto wi = [&](index_t i) { return w ? w[i] : 1.0; };

  prob.ybar = 0;
  if (o.fit_intercept) {
    for (index_t i = 0; i < n; ++i) prob.ybar += wi(i) * y[i];
    prob.ybar /= dn;
  }
  prob.yc.resize(static_cast<std::size_t>(n));
  prob.y_norm2 = 0;
  for (index_t i = 0; i < n; ++i) {
    prob.yc[i] = y[i] - prob.ybar;
    prob.y_norm2 += wi(i) * prob.yc[i] * prob.yc[i];
  }
  prob.y_norm2 /= dn;

  prob.mu.assign(static_cast<std::size_t>(p), 0.0);
  prob.scale.assign(static_cast<std::size_t>(p), 1.0);
  prob.lipschitz.assign(static_cast<std::size_t>(p), 0.0);
#pragma omp parallel for schedule(dynamic, 16)
  for (index_t j = 0; j < p; ++j) {
    // Two passes (mean, then squared deviations) so that large offsets do not cancel.
    double mean = 0, dev = 0, biggest = 0;
    if (!x.sparse) {
      const V* col = x.dense.data() + j * n;
      if (o.fit_intercept) {
        for (index_t i = 0; i < n; ++i) mean += wi(i) * col[i];
        mean /= dn;
      }
      for (index_t i = 0; i < n; ++i) {
        const double d = static_cast<double>(col[i]) - mean;
        dev += wi(i) * d * d;
        biggest = std::max(biggest, std::abs(static_cast<double>(col[i])));
      }
    } else {
      double w_in_column = 0;
      for (auto k = x.col_ptr[j]; k < x.col_ptr[j + 1]; ++k) {
        mean += wi(x.row_idx[k]) * x.values[k];
        w_in_column += wi(x.row_idx[k]);
        biggest = std::max(biggest, std::abs(static_cast<double>(x.values[k])));
      }
      mean = o.fit_intercept ? mean / dn : 0.0;
      for (auto k = x.col_ptr[j]; k < x.col_ptr[j + 1]; ++k) {
        const double d = static_cast<double>(x.values[k]) - mean;
        dev += wi(x.row_idx[k]) * d * d;
      }
      dev += std::max(0.0, dn - w_in_column) * mean * mean;  // the implicit zeros
    }
    const double var = dev / dn;
    prob.mu[j] = mean;
    // A column whose spread is rounding noise is constant: it never enters the model.
    const double noise = 64 * std::numeric_limits<double>::epsilon() * biggest;
    if (!(var > noise * noise)) continue;
    if (o.standardize) {
      prob.scale[j] = std::sqrt(var);
      prob.lipschitz[j] = 1.0;
    } else {
      prob.lipschitz[j] = var;
    }
  }

  prob.factors = o.penalty_factors.empty() ? std::vector<double>(static_cast<std::size_t>(p), 1.0)
                                           : o.penalty_factors;
  for (index_t j = 0; j < p; ++j)
    if (prob.usable(j) && prob.factors[j] == 0) prob.unpenalized.push_back(j);
  return prob;
}

// ---- dual ---------------------------------------------------------------------------------------------
DualPoint dual_from_terms(double lambda, double alpha, const kernels::LassoDualTerms& terms, double a1,
                          double a2) {
  DualPoint d;
  d.value = kernels::dual_value(lambda, alpha, terms, a1, a2, d.theta);
  return d;
}

template <class V>
DualPoint dual_objective(const Problem<V>& prob, double lambda, const double* c, double a1, double a2,
                         const std::vector<index_t>* subset) {
  const auto args = dual_args(lambda, prob.alpha, prob.positive);
  kernels::LassoDualTerms terms;
  auto visit = [&](index_t j) {
    if (prob.usable(j)) kernels::accumulate_dual_terms(terms, c[j], 0.0, prob.factors[j], args);
  };
  if (subset) {
    for (index_t j : *subset) visit(j);
  } else {
    for (index_t j = 0; j < prob.p; ++j) visit(j);
  }
  return dual_from_terms(lambda, prob.alpha, terms, a1, a2);
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
  template struct Design<V>;                                                                       \
  template struct Problem<V>;                                                                      \
  template Design<V> make_design<V>(DenseView<const V>);                                           \
  template Problem<V> make_problem<V>(const Design<V>&, const std::vector<double>&,                \
                                      const LassoOptions&);                                        \
  template DualPoint dual_objective<V>(const Problem<V>&, double, const double*, double, double,   \
                                       const std::vector<index_t>*);                               \
  template UnpenalizedSolver::UnpenalizedSolver(const Problem<V>&);
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_LASSO_PROBLEM)

#define SHRINK_INSTANTIATE_LASSO_DESIGN(V, I)                          \
  template Design<V> make_design<V, I>(const CsrMatrix<V, I>&);        \
  template Design<V> make_design<V, I>(const CscMatrix<V, I>&);
SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE_LASSO_DESIGN)

}  // namespace shrink::lasso_detail
