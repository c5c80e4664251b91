#include "host/lasso/newton.hpp"

#include <algorithm>
#include <cmath>

extern "C" {
// LAPACK (OpenBLAS carries it): Cholesky factorization and the solve with its factor.
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info);
void dpotrs_(const char* uplo, const int* n, const int* nrhs, const double* a, const int* lda, double* b,
             const int* ldb, int* info);
// BLAS: the triangular solve and the rank-k update that extend a Cholesky factor; the plane
// rotations that take a column out of one.
void dtrsm_(const char* side, const char* uplo, const char* trans, const char* diag, const int* m, const int* n,
            const double* alpha, const double* a, const int* lda, double* b, const int* ldb);
void dsyrk_(const char* uplo, const char* trans, const int* n, const int* k, const double* alpha, const double* a,
            const int* lda, const double* beta, double* c, const int* ldc);
void drot_(const int* n, double* x, const int* incx, double* y, const int* incy, const double* c, const double* s);
void dtrmv_(const char* uplo, const char* trans, const char* diag, const int* n, const double* a, const int* lda,
            double* x, const int* incx);
}

namespace shrink::lasso_detail {

namespace {
constexpr double kSingularRidge = 1e-6;  // relative to G_AA's largest diagonal entry
// Enough for a relative residual of 1e-12 at condition number 2 (rate (sqrt 2 - 1) / (sqrt 2 + 1)).
constexpr int kConjugateGradientSteps = 20;
}

bool solve_spd(std::vector<double>& a, std::vector<double>& b, index_t k) {
  if (k <= 0) return true;
  const int n = static_cast<int>(k), one = 1;
  int info = 0;
  dpotrf_("L", &n, a.data(), &n, &info);
  if (info != 0) return false;
  // A pivot far below the diagonal it came from: the columns are (nearly) dependent, and the step
  // would be noise.
  double largest = 0, smallest = INFINITY;
  for (index_t j = 0; j < k; ++j) {
    largest = std::max(largest, a[j * k + j]);
    smallest = std::min(smallest, a[j * k + j]);
  }
  if (!(smallest > 1e-7 * largest)) return false;
  dpotrs_("L", &n, &one, a.data(), &n, b.data(), &n, &info);
  return info == 0;
}

std::vector<double> newton_rhs(const std::vector<double>& factors, double alpha, double lambda,
                               const std::vector<index_t>& support, const std::vector<double>& beta,
                               const std::vector<double>& gradient) {
  std::vector<double> rhs(support.size());
  for (std::size_t t = 0; t < support.size(); ++t) {
    const index_t j = support[t];
    const double v = factors[j], b = beta[j];
    const double sign = b > 0 ? 1.0 : (b < 0 ? -1.0 : 0.0);
    rhs[t] = gradient[t] - lambda * alpha * v * sign - lambda * (1 - alpha) * v * b;
  }
  return rhs;
}

void newton_step(const std::vector<double>& factors, const std::vector<index_t>& support,
                 const std::vector<double>& beta, const std::vector<double>& direction, std::vector<double>& delta,
                 std::vector<double>* projected) {
  const auto k = static_cast<index_t>(support.size());
  double step = 1;
  index_t lands = -1;
  for (index_t t = 0; t < k; ++t) {
    const index_t j = support[t];
    if (factors[j] == 0 || beta[j] == 0 || beta[j] * direction[t] >= 0) continue;
    const double reach = -beta[j] / direction[t];
    if (reach < step) {
      step = reach;
      lands = t;
    }
  }
  delta.resize(support.size());
  for (index_t t = 0; t < k; ++t) delta[t] = step * direction[t];
  if (lands >= 0) delta[lands] = -beta[support[lands]];
  if (projected) {
    // The whole step with every coefficient that would cross zero stopped on it.
    projected->resize(support.size());
    for (index_t t = 0; t < k; ++t) {
      const index_t j = support[t];
      const bool crosses = factors[j] != 0 && beta[j] != 0 && beta[j] * (beta[j] + direction[t]) < 0;
      (*projected)[t] = crosses ? -beta[j] : direction[t];
    }
    if (lands < 0) projected->clear();  // the same as delta
  }
}

bool newton_move(const std::vector<double>& factors, double alpha, double lambda, const std::vector<index_t>& support,
                 const std::vector<double>& beta, const std::vector<double>& gradient, std::vector<double> gram,
                 std::vector<double>& delta, std::vector<double>* projected) {
  const auto k = static_cast<index_t>(support.size());
  const auto rhs = newton_rhs(factors, alpha, lambda, support, beta, gradient);
  for (index_t t = 0; t < k; ++t) gram[t * k + t] += lambda * (1 - alpha) * factors[support[t]];
  // G_AA is singular when the iterate holds more non-zeros than X has independent rows (p >> n,
  // before the support is found): then the step of a lightly regularized system, still a descent
  // direction for the smooth problem (the caller keeps it only if the objective falls).
  auto system = gram;
  auto solution = rhs;
  if (!solve_spd(system, solution, k)) {
    double largest = 0;
    for (index_t t = 0; t < k; ++t) largest = std::max(largest, gram[t * k + t]);
    for (index_t t = 0; t < k; ++t) gram[t * k + t] += kSingularRidge * largest;
    solution = rhs;
    if (!solve_spd(gram, solution, k)) return false;
  }
  newton_step(factors, support, beta, solution, delta, projected);
  return true;
}

// ---- SupportFactor ---------------------------------------------------------------------------------

bool SupportFactor::close(double ridge) const {
  if (ridge == ridge_) return true;
  return ridge > 0 && ridge_ > 0 && ridge <= 2 * ridge_ && ridge_ <= 2 * ridge;
}

double SupportFactor::cost(const std::vector<index_t>& support, double ridge, double rows) const {
  const double k = static_cast<double>(support.size());
  double kept = 0, cost = 0;
  if (close(ridge)) {
    const auto k_old = static_cast<double>(order_.size());
    for (std::size_t t = 0; t < order_.size(); ++t) {
      if (std::binary_search(support.begin(), support.end(), order_[t])) {
        ++kept;
      } else {  // a rank-one update of the trailing block by rotations: slower than BLAS-3, counted 3x
        const double trailing = k_old - static_cast<double>(t) - 1;
        cost += 3 * trailing * trailing;
      }
    }
  }
  const double m = k - kept;
  if (m > 0) cost += rows * k + rows * k * m;  // the new columns' entries from k gathered columns
  // The solve: two triangular solves, or conjugate gradients (counted at their most steps) when the
  // held factor's ridge is not this one.
  cost += kept > 0 && ridge != ridge_ ? kConjugateGradientSteps * 4 * k * k : 2 * k * k;
  return cost + kept * kept * m + kept * m * m + m * m * m / 3;
}

void SupportFactor::drop(const std::vector<index_t>& support) {
  const auto k = static_cast<index_t>(order_.size());
  std::vector<char> gone(order_.size());
  bool any = false;
  for (index_t t = 0; t < k; ++t) any |= gone[t] = !std::binary_search(support.begin(), support.end(), order_[t]);
  if (!any) return;
  double* l = l_.data();
  const index_t ld = cap_;
  // Removing column t leaves the columns before it as they are and adds x x^T (x = column t below
  // the diagonal) to the trailing block's product: a rank-one update by plane rotations. All the
  // columns that leave go in one pass over the factor: each column is rotated against the x of
  // every column that left before it, in turn. These are the operations of removing them one at a
  // time, but the factor (larger than the cache) is read once, not once per column removed.
  std::vector<double> xs;  // the x of each column taken out so far, k entries each
  index_t removed = 0;
  const int one = 1;
  for (index_t i = 0; i < k; ++i) {
    double* col = l + i * ld;
    const int below = static_cast<int>(k - i - 1);
    for (index_t a = 0; a < removed; ++a) {
      double* x = xs.data() + a * k;
      const double r = std::hypot(col[i], x[i]), c = col[i] / r, s = x[i] / r;
      col[i] = r;
      if (below > 0) drot_(&below, col + i + 1, &one, x + i + 1, &one, &c, &s);
    }
    if (gone[i]) {
      xs.resize(static_cast<std::size_t>((removed + 1) * k));
      std::copy(col + i + 1, col + k, xs.data() + removed * k + i + 1);
      ++removed;
    }
  }
  // Compact in place: every entry moves to an index no larger than its own, in reading order.
  index_t to_col = 0;
  for (index_t c = 0; c < k; ++c) {
    if (gone[c]) continue;
    index_t to_row = to_col;
    for (index_t r = c; r < k; ++r)
      if (!gone[r]) l[to_row++ + to_col * ld] = l[r + c * ld];
    v_[static_cast<std::size_t>(to_col)] = v_[static_cast<std::size_t>(c)];
    order_[static_cast<std::size_t>(to_col++)] = order_[static_cast<std::size_t>(c)];
  }
  order_.resize(static_cast<std::size_t>(to_col));
  v_.resize(order_.size());
}

bool SupportFactor::factor(const std::vector<index_t>& support, const GramBlock& fill, const std::vector<double>& v,
                           double ridge) {
  const auto k = static_cast<index_t>(support.size());
  if (!close(ridge)) order_.clear();
  drop(support);
  if (order_.empty()) ridge_ = ridge;
  const auto held = static_cast<index_t>(order_.size());
  if (k > cap_) {  // grow geometrically, keeping the held columns
    const index_t cap = std::max<index_t>(k, 2 * cap_);
    std::vector<double> grown(static_cast<std::size_t>(cap * cap));
    for (index_t c = 0; c < held; ++c)
      std::copy_n(l_.data() + c * cap_, held, grown.data() + c * cap);
    l_ = std::move(grown);
    cap_ = cap;
  }
  // Where each of `support` sits in the factor: a held column where it is, a new one after them.
  std::vector<std::pair<index_t, index_t>> at(order_.size());  // (feature, column), by feature
  for (std::size_t c = 0; c < order_.size(); ++c) at[c] = {order_[c], static_cast<index_t>(c)};
  std::sort(at.begin(), at.end());
  position_.resize(support.size());
  for (std::size_t t = 0; t < support.size(); ++t) {
    const auto found = std::lower_bound(at.begin(), at.end(), std::make_pair(support[t], index_t{0}));
    if (found != at.end() && found->first == support[t]) {
      position_[t] = found->second;
    } else {
      position_[t] = static_cast<index_t>(order_.size());
      order_.push_back(support[t]);
    }
  }
  v_.resize(order_.size());
  for (auto c = static_cast<std::size_t>(held); c < order_.size(); ++c) v_[c] = v[order_[c]];
  const int h = static_cast<int>(held), m = static_cast<int>(k - held), ld = static_cast<int>(cap_);
  double* l = l_.data();
  // [L 0; W^T S]: W = L^-1 G_{old,new}, S S^T = G_{new,new} - W^T W.
  if (k > held) fill(order_, held, l + held * cap_, cap_);
  for (index_t c = held; c < k; ++c) l[c + c * cap_] += ridge_ * v_[static_cast<std::size_t>(c)];
  if (h > 0 && m > 0) {
    const double one = 1, minus_one = -1;
    double* w = l + h * cap_;  // rows 0..h-1 of the new columns
    dtrsm_("L", "L", "N", "N", &h, &m, &one, l, &ld, w, &ld);
    dsyrk_("L", "T", &m, &h, &minus_one, w, &ld, &one, l + h + h * cap_, &ld);
    // Column-major lower factor: the block below the held columns holds W^T.
    for (index_t c = held; c < k; ++c)
      for (index_t r = 0; r < held; ++r) l[c + r * cap_] = l[r + c * cap_];
  }
  int info = 0;
  if (m > 0) dpotrf_("L", &m, l + h + h * cap_, &ld, &info);
  double largest = 0, smallest = INFINITY;
  for (index_t j = 0; j < k; ++j) {
    largest = std::max(largest, l[j + j * cap_]);
    smallest = std::min(smallest, l[j + j * cap_]);
  }
  // The same test as solve_spd: a pivot far below the largest means (nearly) dependent columns.
  if (info != 0 || !(smallest > 1e-7 * largest)) {
    order_.clear();
    return false;
  }
  return true;
}

void SupportFactor::solve(std::vector<double>& b, double ridge) const {
  const int k = static_cast<int>(order_.size()), ld = static_cast<int>(cap_), one = 1;
  const auto n = order_.size();
  std::vector<double> rhs(n);
  for (std::size_t t = 0; t < b.size(); ++t) rhs[position_[t]] = b[t];
  // M^-1 r with M = L L^T, the held factor.
  auto precondition = [&](std::vector<double>& r) {
    int info = 0;
    dpotrs_("L", &k, &one, l_.data(), &ld, r.data(), &k, &info);
  };
  auto x = rhs;
  precondition(x);
  const double moved = ridge - ridge_;
  if (moved != 0 && k > 0) {
    // A z = (L L^T + (ridge - ridge_) V) z: two triangular products, G itself is not needed.
    auto apply = [&](const std::vector<double>& z, std::vector<double>& out) {
      out = z;
      dtrmv_("L", "T", "N", &k, l_.data(), &ld, out.data(), &one);
      dtrmv_("L", "N", "N", &k, l_.data(), &ld, out.data(), &one);
      for (std::size_t t = 0; t < n; ++t) out[t] += moved * v_[t] * z[t];
    };
    auto dot = [](const std::vector<double>& u, const std::vector<double>& w) {
      double s = 0;
      for (std::size_t t = 0; t < u.size(); ++t) s += u[t] * w[t];
      return s;
    };
    std::vector<double> r(n), z, p, ap;
    apply(x, ap);
    for (std::size_t t = 0; t < n; ++t) r[t] = rhs[t] - ap[t];
    const double target = 1e-24 * dot(rhs, rhs);
    z = r;
    precondition(z);
    p = z;
    double rz = dot(r, z);
    for (int it = 0; it < kConjugateGradientSteps && dot(r, r) > target; ++it) {
      apply(p, ap);
      const double pap = dot(p, ap);
      if (!(pap > 0)) break;
      const double a = rz / pap;
      for (std::size_t t = 0; t < n; ++t) {
        x[t] += a * p[t];
        r[t] -= a * ap[t];
      }
      z = r;
      precondition(z);
      const double rz_next = dot(r, z);
      for (std::size_t t = 0; t < n; ++t) p[t] = z[t] + (rz_next / rz) * p[t];
      rz = rz_next;
    }
  }
  for (std::size_t t = 0; t < b.size(); ++t) b[t] = x[position_[t]];
}

}  // namespace shrink::lasso_detail
