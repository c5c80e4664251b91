// Coordinate descent on the Gram matrix G = Z^T W Z / n and q = Z^T W yc / n, built once per problem
// with one BLAS product; an epoch then costs O(p) plus O(p) per coefficient that moves, and the gap
// needs no pass over X.
#include <algorithm>
#include <cmath>
#include <memory>

#include "host/core/instantiate.hpp"
#include "host/lasso/solvers.hpp"
#include "shrink/context.hpp"
#include "shrink/ops.hpp"

namespace shrink::lasso_detail {

namespace {

template <class V>
class GramSolver final : public Solver {
 public:
  GramSolver(const Problem<V>& prob, const UnpenalizedSolver& unpen)
      : prob_(prob), unpen_(unpen), p_(prob.p), grad_(static_cast<std::size_t>(p_)) {
    // Zs = sqrt(w) (X - mu) / s in double, built one block of rows at a time (at most ~32 MiB, so
    // n >> p never needs an n x p copy); centering before the product keeps large column offsets
    // from cancelling in G.
    const index_t n = prob.n;
    const double* w = prob.weights();
    const index_t block = std::clamp<index_t>((index_t{1} << 22) / std::max<index_t>(p_, 1), 1, std::max<index_t>(n, 1));
    std::unique_ptr<double[]> zs_data(new double[static_cast<std::size_t>(block * p_)]);
    std::vector<double> yw(static_cast<std::size_t>(block));
    const Context cpu(ContextOptions{Backend::Cpu, 0, 0, true, false});
    gram_ = DenseMatrix<double>(p_, p_, Layout::ColMajor);
    q_.assign(static_cast<std::size_t>(p_), 0.0);
    const double inv_n = 1.0 / static_cast<double>(n);
    for (index_t first = 0; first < n; first += block) {
      const index_t rows = std::min(block, n - first);
      const DenseView<double> zs(zs_data.get(), rows, p_, rows, Layout::ColMajor);
      for (index_t i = 0; i < rows; ++i) yw[i] = (w ? std::sqrt(w[first + i]) : 1.0) * prob.yc[first + i];
#pragma omp parallel for schedule(static)
      for (index_t j = 0; j < p_; ++j) {
        double* col = zs.data + j * rows;
        if (!prob.usable(j)) {
          std::fill(col, col + rows, 0.0);
          continue;
        }
        const double sj = prob.scale[j], mj = prob.mu[j];
        const V* xc = prob.x->dense.data() + j * n + first;
        for (index_t i = 0; i < rows; ++i)
          col[i] = (w ? std::sqrt(w[first + i]) : 1.0) * (static_cast<double>(xc[i]) - mj) / sj;
      }
      const double beta = first == 0 ? 0.0 : 1.0;
      gram<double>(cpu, inv_n, zs, beta, gram_.view());
      gemv<double>(cpu, Op::Transpose, inv_n, zs, VectorView<const double>(yw.data(), rows), 1.0,
                   VectorView<double>(q_));
    }
  }

  Solution certify(double lambda, const std::vector<double>& beta) override {
    set_gradient(beta);
    Solution s;
    s.objective = primal(lambda, beta);
    s.gap = s.objective - dual(lambda, beta);
    return s;
  }

  Solution solve(const SolveRequest& req, std::vector<double>& beta) override {
    const double lambda = req.lambda, a = prob_.alpha;
    set_gradient(beta);
    std::vector<double> l1(static_cast<std::size_t>(p_)), denom(static_cast<std::size_t>(p_));
    std::vector<index_t> active;
    for (index_t j = 0; j < p_; ++j) {
      l1[j] = lambda * a * prob_.factors[j];
      denom[j] = prob_.lipschitz[j] + lambda * (1 - a) * prob_.factors[j];
      if (prob_.usable(j)) active.push_back(j);
    }
    Solution out;
    for (std::int64_t epoch = 0;; ++epoch) {
      out.objective = primal(lambda, beta);
      out.gap = out.objective - dual(lambda, beta);
      out.iterations = epoch;
      if (out.gap <= req.tol * out.objective) return out;
      if (epoch >= req.max_iter) {
        out.status = FitStatus::MaxIterations;
        return out;
      }
      for (index_t j : active) {
        const double old = beta[j];
        const double z = prob_.lipschitz[j] * old + grad_[j];
        const double next = coordinate_update(z, l1[j], denom[j], prob_.positive);
        if (next == old) continue;
        const double delta = next - old;
        beta[j] = next;
        const double* g = gram_.data() + j * p_;
#pragma omp simd
        for (index_t k = 0; k < p_; ++k) grad_[k] -= delta * g[k];
      }
    }
  }

 private:
  // grad = q - G beta
  void set_gradient(const std::vector<double>& beta) {
    grad_ = q_;
    for (index_t j = 0; j < p_; ++j) {
      if (beta[j] == 0) continue;
      const double* g = gram_.data() + j * p_;
      for (index_t k = 0; k < p_; ++k) grad_[k] -= beta[j] * g[k];
    }
  }

  // (1/n) r^T W r = y^T W y / n - 2 q.beta + beta^T G beta, with G beta = q - grad.
  double residual_norm2(const std::vector<double>& beta) const {
    double qb = 0, bgb = 0;
    for (index_t j = 0; j < p_; ++j) {
      qb += q_[j] * beta[j];
      bgb += beta[j] * (q_[j] - grad_[j]);
    }
    return std::max(prob_.y_norm2 - 2 * qb + bgb, 0.0);
  }

  double primal(double lambda, const std::vector<double>& beta) const {
    return 0.5 * residual_norm2(beta) + prob_.penalty(lambda, beta);
  }

  double dual(double lambda, const std::vector<double>& beta) {
    double a2 = residual_norm2(beta);
    double a1 = prob_.y_norm2;
    for (index_t j = 0; j < p_; ++j) a1 -= q_[j] * beta[j];
    c_ = grad_;
    if (unpen_.size() > 0) {
      // Project the unpenalized columns out: r' = r - Z_U t with t = G_UU^+ c_U.
      std::vector<double> cu(unpen_.size());
      for (std::size_t u = 0; u < cu.size(); ++u) cu[u] = grad_[prob_.unpenalized[u]];
      const auto t = unpen_.solve(cu);
      double tgt = 0;
      for (std::size_t u = 0; u < t.size(); ++u) {
        const index_t j = prob_.unpenalized[u];
        a1 -= q_[j] * t[u];
        a2 -= 2 * t[u] * cu[u];
        for (std::size_t v = 0; v < t.size(); ++v) tgt += t[u] * unpen_.gram(u, v) * t[v];
        const double* g = gram_.data() + j * p_;
        for (index_t k = 0; k < p_; ++k) c_[k] -= t[u] * g[k];
      }
      a2 = std::max(a2 + tgt, 0.0);
    }
    return dual_objective(prob_, lambda, c_.data(), a1, a2).value;
  }

  const Problem<V>& prob_;
  const UnpenalizedSolver& unpen_;
  index_t p_;
  DenseMatrix<double> gram_;
  std::vector<double> q_, grad_, c_;
};

}  // namespace

template <class V>
std::unique_ptr<Solver> make_gram_solver(const Problem<V>& prob, const UnpenalizedSolver& unpenalized) {
  return std::make_unique<GramSolver<V>>(prob, unpenalized);
}

#define SHRINK_INSTANTIATE_GRAM(V) \
  template std::unique_ptr<Solver> make_gram_solver<V>(const Problem<V>&, const UnpenalizedSolver&);
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_GRAM)

}  // namespace shrink::lasso_detail
