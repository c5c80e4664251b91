#include "host/lasso/newton.hpp"

#include <algorithm>
#include <cmath>

extern "C" {
// LAPACK (OpenBLAS carries it): Cholesky factorization and the solve with its factor.
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info);
void dpotrs_(const char* uplo, const int* n, const int* nrhs, const double* a, const int* lda, double* b,
             const int* ldb, int* info);
}

namespace shrink::lasso_detail {

namespace {
constexpr double kSingularRidge = 1e-6;  // relative to G_AA's largest diagonal entry
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

bool newton_move(const std::vector<double>& factors, double alpha, double lambda, const std::vector<index_t>& support,
                 const std::vector<double>& beta, const std::vector<double>& gradient, std::vector<double> gram,
                 std::vector<double>& delta, std::vector<double>* projected) {
  const auto k = static_cast<index_t>(support.size());
  std::vector<double> rhs(support.size());
  for (index_t t = 0; t < k; ++t) {
    const index_t j = support[t];
    const double v = factors[j], b = beta[j];
    const double ridge = lambda * (1 - alpha) * v;
    gram[t * k + t] += ridge;
    const double sign = b > 0 ? 1.0 : (b < 0 ? -1.0 : 0.0);
    rhs[t] = gradient[t] - lambda * alpha * v * sign - ridge * b;
  }
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
  rhs = std::move(solution);
  double step = 1;
  index_t lands = -1;
  for (index_t t = 0; t < k; ++t) {
    const index_t j = support[t];
    if (factors[j] == 0 || beta[j] == 0 || beta[j] * rhs[t] >= 0) continue;
    const double reach = -beta[j] / rhs[t];
    if (reach < step) {
      step = reach;
      lands = t;
    }
  }
  delta.resize(support.size());
  for (index_t t = 0; t < k; ++t) delta[t] = step * rhs[t];
  if (lands >= 0) delta[lands] = -beta[support[lands]];
  if (projected) {
    // The whole step with every coefficient that would cross zero stopped on it.
    projected->resize(support.size());
    for (index_t t = 0; t < k; ++t) {
      const index_t j = support[t];
      const bool crosses = factors[j] != 0 && beta[j] != 0 && beta[j] * (beta[j] + rhs[t]) < 0;
      (*projected)[t] = crosses ? -beta[j] : rhs[t];
    }
    if (lands < 0) projected->clear();  // the same as delta
  }
  return true;
}

}  // namespace shrink::lasso_detail
