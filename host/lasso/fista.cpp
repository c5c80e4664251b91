// FISTA with function-value restarts, written once against the public kernels so that it runs on
// the context's backend: on a GPU every full pass (Z*v, Z^T*r, the fused prox/momentum step, the
// reductions) is a device kernel and nothing per coordinate crosses to the host.
//
// The design is folded once on the host into Xh = D X S^-1 (D = diag(sqrt(w)), S = diag(s), unusable
// columns zeroed) and copied to the device; centering stays implicit:
//   Z v   = Xh v - (mu~ . v) sqrt(w),        Z^T r = Xh^T r - (sqrt(w) . r) mu~,   mu~ = mu / s.
// A gap check (every kCheckEvery steps) brings back three dot products and the five scalars of
// kernels::lasso_dual_terms; only with unpenalized features (projected out on the host) does the
// residual cross.
#include <algorithm>
#include <cmath>
#include <optional>

#include "host/core/dispatch.hpp"
#include "host/core/instantiate.hpp"
#include "host/core/validate.hpp"
#include "host/lasso/solvers.hpp"
#include "shrink/error.hpp"
#include "shrink/ops.hpp"

namespace shrink::lasso_detail {

namespace {

constexpr int kCheckEvery = 10;
constexpr int kPowerIterations = 100;

template <class V>
class FistaSolver final : public Solver {
 public:
  FistaSolver(const Context& ctx, const Problem<V>& prob, const UnpenalizedSolver& unpen)
      : ctx_(ctx), prob_(prob), unpen_(unpen), n_(prob.n), p_(prob.p) {
    const auto& d = *prob.x;
    const double* w = prob.weights();
    auto row_scale = [&](index_t i) { return w ? std::sqrt(w[i]) : 1.0; };
    auto col_scale = [&](index_t j) { return prob.usable(j) ? 1.0 / prob.scale[j] : 0.0; };
    const auto space = ctx.memory_space();
    if (d.sparse) {
      detail::check_fits_index<std::int32_t>(d.nnz(), "X non-zeros (the proximal-gradient solver indexes them with 32 bits)");
      std::vector<std::int32_t> ptr(d.col_ptr.begin(), d.col_ptr.end());
      std::vector<std::int32_t> idx(d.row_idx.begin(), d.row_idx.end());
      std::vector<V> val(d.values.size());
      for (index_t j = 0; j < p_; ++j)
        for (auto k = d.col_ptr[j]; k < d.col_ptr[j + 1]; ++k)
          val[k] = static_cast<V>(d.values[k] * row_scale(d.row_idx[k]) * col_scale(j));
      // The CSC of Xh is the CSR of its transpose; the operator wants Xh itself in CSR.
      auto csc = CscMatrix<V, std::int32_t>(CsrMatrix<V, std::int32_t>::adopt(
          p_, n_, Array<std::int32_t>::from_vector(ptr), Array<std::int32_t>::from_vector(idx),
          Array<V>::from_vector(val)));
      sparse_.emplace(ctx, csc_to_csr(csc));
      sparse_->transposed();  // build X^T now, outside the timed iterations
    } else {
      DenseMatrix<V> xh(n_, p_, Layout::ColMajor);
      for (index_t j = 0; j < p_; ++j)
        for (index_t i = 0; i < n_; ++i)
          xh.data()[j * n_ + i] = static_cast<V>(d.dense[j * n_ + i] * row_scale(i) * col_scale(j));
      dense_ = xh.copy_to(ctx, space);
    }
    std::vector<V> yh(static_cast<std::size_t>(n_)), sqw(static_cast<std::size_t>(n_));
    for (index_t i = 0; i < n_; ++i) {
      sqw[i] = static_cast<V>(row_scale(i));
      yh[i] = static_cast<V>(row_scale(i) * prob.yc[i]);
    }
    std::vector<V> mu(static_cast<std::size_t>(p_)), v(static_cast<std::size_t>(p_)), dv(static_cast<std::size_t>(p_));
    for (index_t j = 0; j < p_; ++j) {
      mu[j] = static_cast<V>(prob.mu[j] * col_scale(j));
      v[j] = static_cast<V>(prob.factors[j]);
      dv[j] = prob.usable(j) ? v[j] : V(0);  // unusable features have no dual constraint
    }
    dual_factors_ = upload(ctx_, dv);
    yh_ = upload(ctx_, yh);
    sqw_ = upload(ctx_, sqw);
    mu_ = upload(ctx_, mu);
    factors_ = upload(ctx_, v);
    beta_ = Array<V>(ctx, static_cast<std::size_t>(p_), space);
    z_ = Array<V>(ctx, static_cast<std::size_t>(p_), space);
    g_ = Array<V>(ctx, static_cast<std::size_t>(p_), space);
    u_ = Array<V>(ctx, static_cast<std::size_t>(n_), space);
    lipschitz_ = estimate_lipschitz();
  }

  Solution certify(double lambda, const std::vector<double>& beta) override {
    set(beta_, beta);
    Solution s;
    check(lambda, s);
    return s;
  }

  Solution solve(const SolveRequest& req, std::vector<double>& beta) override {
    const double lambda = req.lambda;
    set(beta_, beta);
    copy_device(beta_, z_);
    const V step = static_cast<V>(1.0 / lipschitz_);
    const Penalty<V> pen{static_cast<V>(lambda * prob_.alpha), static_cast<V>(lambda * (1 - prob_.alpha)),
                         factors_.view(), prob_.positive};
    const V inv_n = static_cast<V>(1.0 / static_cast<double>(n_));
    Solution out;
    double previous = std::numeric_limits<double>::infinity();
    double t = 1;
    for (std::int64_t it = 0;; ++it) {
      if (it % kCheckEvery == 0) {
        check(lambda, out);
        out.iterations = it;
        if (out.gap <= req.tol * out.objective) break;
        if (it >= req.max_iter) {
          out.status = FitStatus::MaxIterations;
          break;
        }
        if (out.objective > previous) {  // restart the momentum
          t = 1;
          copy_device(beta_, z_);
        }
        previous = out.objective;
      }
      // g = grad f(z) = -(1/n) Z^T (yh - Z z)
      apply(z_.view(), u_.view());
      axpby<V>(ctx_, V(1), yh_.view(), V(-1), u_.view());
      apply_transpose(u_.view(), -inv_n, g_.view());
      const double t_next = 0.5 * (1 + std::sqrt(1 + 4 * t * t));
      fista_step<V>(ctx_, z_.view(), g_.view(), beta_.view(), step, pen,
                    static_cast<V>((t - 1) / t_next));
      t = t_next;
    }
    beta = get(beta_);
    return out;
  }

 private:
  void set(Array<V>& dst, const std::vector<double>& src) const {
    std::vector<V> tmp(src.begin(), src.end());
    dst = upload(ctx_, tmp);
  }
  std::vector<double> get(const Array<V>& src) const {
    const auto v = src.to_vector(ctx_);
    return std::vector<double>(v.begin(), v.end());
  }
  void copy_device(const Array<V>& src, Array<V>& dst) const {
    axpby<V>(ctx_, V(1), src.view(), V(0), dst.view());
  }

  // u = Z v
  void apply(VectorView<const V> v, VectorView<V> u) const {
    if (sparse_) sparse_->apply(Op::NoTranspose, V(1), v, V(0), u);
    else gemv<V>(ctx_, Op::NoTranspose, V(1), dense_.view(), v, V(0), u);
    if (prob_.intercept) axpby<V>(ctx_, -dot<V>(ctx_, mu_.view(), v), sqw_.view(), V(1), u);
  }
  // g = alpha Z^T r
  void apply_transpose(VectorView<const V> r, V alpha, VectorView<V> g) const {
    if (sparse_) sparse_->apply(Op::Transpose, alpha, r, V(0), g);
    else gemv<V>(ctx_, Op::Transpose, alpha, dense_.view(), r, V(0), g);
    if (prob_.intercept) axpby<V>(ctx_, -alpha * dot<V>(ctx_, sqw_.view(), r), mu_.view(), V(1), g);
  }

  // Largest eigenvalue of Z^T Z / n by power iteration, padded by 10% (an underestimate would let
  // FISTA diverge); never above the trace.
  double estimate_lipschitz() {
    std::vector<V> start(static_cast<std::size_t>(p_));
    for (index_t j = 0; j < p_; ++j) start[j] = static_cast<V>(1.0 + 0.5 * std::sin(1.0 + j));
    Array<V> v = upload(ctx_, start);
    const V inv_n = static_cast<V>(1.0 / static_cast<double>(n_));
    double estimate = 0;
    double norm = nrm2<V>(ctx_, v.view());
    for (int it = 0; it < kPowerIterations && norm > 0; ++it) {
      axpby<V>(ctx_, static_cast<V>(1.0 / norm), v.view(), V(0), v.view());
      apply(v.view(), u_.view());
      apply_transpose(u_.view(), inv_n, g_.view());
      norm = nrm2<V>(ctx_, g_.view());
      estimate = norm;
      std::swap(v, g_);
    }
    double trace = 0;
    for (index_t j = 0; j < p_; ++j) trace += prob_.lipschitz[j];
    const double l = std::min(1.1 * estimate, trace);
    return l > 0 ? l : 1.0;
  }

  // Objective and gap at beta_ (u_ ends up holding sqrt(w) * residual, g_ the correlations).
  void check(double lambda, Solution& out) {
    apply(beta_.view(), u_.view());
    axpby<V>(ctx_, V(1), yh_.view(), V(-1), u_.view());
    const double dn = static_cast<double>(n_);
    const double a2 = static_cast<double>(dot<V>(ctx_, u_.view(), u_.view())) / dn;
    double dual;
    if (unpen_.size() > 0) {
      const auto beta = get(beta_);
      out.objective = 0.5 * a2 + prob_.penalty(lambda, beta);
      auto r = get(u_);
      const double* w = prob_.weights();
      if (w)
        for (index_t i = 0; i < n_; ++i) r[i] = w[i] > 0 ? r[i] / std::sqrt(w[i]) : 0.0;
      dual = residual_dual(prob_, unpen_, lambda, r, beta).value;
    } else {
      // On the device: the correlations, then one reduction for the penalty and the dual's terms.
      apply_transpose(u_.view(), static_cast<V>(1.0 / dn), g_.view());
      const double a1 = static_cast<double>(dot<V>(ctx_, yh_.view(), u_.view())) / dn;
      const auto terms = SHRINK_DISPATCH(ctx_, lasso_dual_terms, ctx_, p_, g_.data(), beta_.data(),
                                         dual_factors_.data(), dual_args(lambda, prob_.alpha, prob_.positive));
      out.objective = 0.5 * a2 + lambda * (prob_.alpha * terms.l1 + 0.5 * (1 - prob_.alpha) * terms.l2);
      dual = dual_from_terms(lambda, prob_.alpha, terms, a1, a2).value;
    }
    out.gap = out.objective - dual;
  }

  const Context& ctx_;
  const Problem<V>& prob_;
  const UnpenalizedSolver& unpen_;
  index_t n_, p_;
  std::optional<SparseOperator<V, std::int32_t>> sparse_;
  DenseMatrix<V> dense_;
  Array<V> yh_, sqw_, mu_, factors_, dual_factors_, beta_, z_, g_, u_;
  double lipschitz_ = 1;
};

}  // namespace

template <class V>
std::unique_ptr<Solver> make_fista_solver(const Context& ctx, const Problem<V>& prob,
                                          const UnpenalizedSolver& unpenalized) {
  return std::make_unique<FistaSolver<V>>(ctx, prob, unpenalized);
}

#define SHRINK_INSTANTIATE_FISTA(V)                                                          \
  template std::unique_ptr<Solver> make_fista_solver<V>(const Context&, const Problem<V>&, \
                                                          const UnpenalizedSolver&);
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_FISTA)

}  // namespace shrink::lasso_detail
