// FISTA with function-value restarts, written once against the public kernels so that it runs on
// the context's backend: on a GPU every full pass (Z*v, Z^T*r, the fused prox/momentum step, the
// reductions) is a device kernel and nothing per coordinate crosses to the host. The design and the
// certificate (every kCheckEvery steps) are DesignOperator's.
#include <algorithm>
#include <cmath>

#include "host/core/dispatch.hpp"
#include "kernels/ops/instantiate.hpp"
#include "host/core/validate.hpp"
#include "host/lasso/solvers.hpp"
#include "shrink/error.hpp"

namespace shrink::lasso_detail {

namespace {

constexpr int kCheckEvery = 10;
constexpr int kStallChecks = 20;  // checks without the gap halving at the rounding floor (StallWatch)
constexpr int kPowerIterations = 100;

template <class V>
class FistaSolver final : public Solver {
 public:
  FistaSolver(const Context& ctx, const Problem<V>& prob, const UnpenalizedSolver& unpen, const DesignOperator<V>& op)
      : ctx_(ctx), prob_(prob), unpen_(unpen), design_(op), n_(prob.n), p_(prob.p) {
    const auto space = ctx.memory_space();
    beta_ = Array<V>(ctx, static_cast<std::size_t>(p_), space);
    z_ = Array<V>(ctx, static_cast<std::size_t>(p_), space);
    g_ = Array<V>(ctx, static_cast<std::size_t>(p_), space);
    u_ = Array<V>(ctx, static_cast<std::size_t>(n_), space);
    lipschitz_ = estimate_lipschitz();
  }

  Solution certify(double lambda, const std::vector<double>& beta) override {
    set(beta_, beta);
    Solution s;
    design_.certify(lambda, unpen_, beta_, u_, g_, s);
    return s;
  }

  Solution solve(const SolveRequest& req, std::vector<double>& beta) override {
    const double lambda = req.lambda;
    set(beta_, beta);
    copy_device(beta_, z_);
    const V step = static_cast<V>(1.0 / lipschitz_);
    // The prox's threshold and ridge scales already carry the step.
    const kernels::ProxArgs<V> pen{static_cast<V>(step * lambda * prob_.alpha),
                                   static_cast<V>(step * lambda * (1 - prob_.alpha)), design_.factors().data(),
                                   prob_.positive};
    const V inv_n = static_cast<V>(1.0 / prob_.total_rows());
    Solution out;
    double previous = std::numeric_limits<double>::infinity();
    double t = 1;
    StallWatch stall(kStallChecks);
    for (std::int64_t it = 0;; ++it) {
      if (it % kCheckEvery == 0) {
        design_.certify(lambda, unpen_, beta_, u_, g_, out);
        out.iterations = it;
        if (out.gap <= req.tol * out.objective) break;
        if (it >= req.max_iter || stall.stalled(out.gap, out.objective)) {
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
      design_.apply(z_.view(), u_.view());
      dispatch::axpby<V>(ctx_, V(1), design_.scaled_response().view(), V(-1), u_.view());
      design_.apply_transpose(u_.view(), -inv_n, g_.view());
      design_.sum_rows(g_);
      const double t_next = 0.5 * (1 + std::sqrt(1 + 4 * t * t));
      SHRINK_DISPATCH(ctx_, fista_step, ctx_, p_, z_.data(), g_.data(), beta_.data(), step, pen,
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
    dispatch::axpby<V>(ctx_, V(1), src.view(), V(0), dst.view());
  }

  // Largest eigenvalue of Z^T Z / n by power iteration, padded by 10% (an underestimate would let
  // FISTA diverge); never above the trace.
  double estimate_lipschitz() {
    std::vector<V> start(static_cast<std::size_t>(p_));
    for (index_t j = 0; j < p_; ++j) start[j] = static_cast<V>(1.0 + 0.5 * std::sin(1.0 + j));
    Array<V> v = upload(ctx_, start);
    const V inv_n = static_cast<V>(1.0 / prob_.total_rows());
    double estimate = 0;
    double norm = dispatch::nrm2<V>(ctx_, v.view());
    for (int it = 0; it < kPowerIterations && norm > 0; ++it) {
      dispatch::axpby<V>(ctx_, static_cast<V>(1.0 / norm), v.view(), V(0), v.view());
      design_.apply(v.view(), u_.view());
      design_.apply_transpose(u_.view(), inv_n, g_.view());
      design_.sum_rows(g_);
      norm = dispatch::nrm2<V>(ctx_, g_.view());
      estimate = norm;
      std::swap(v, g_);
    }
    double trace = 0;
    for (index_t j = 0; j < p_; ++j) trace += prob_.lipschitz[j];
    const double l = std::min(1.1 * estimate, trace);
    return l > 0 ? l : 1.0;
  }

  const Context& ctx_;
  const Problem<V>& prob_;
  const UnpenalizedSolver& unpen_;
  const DesignOperator<V>& design_;
  index_t n_, p_;
  Array<V> beta_, z_, g_, u_;
  double lipschitz_ = 1;
};

}  // namespace

template <class V>
std::unique_ptr<Solver> make_fista_solver(const Context& ctx, const Problem<V>& prob,
                                          const UnpenalizedSolver& unpenalized, const DesignOperator<V>& op) {
  return std::make_unique<FistaSolver<V>>(ctx, prob, unpenalized, op);
}

#define SHRINK_INSTANTIATE_FISTA(V)                                                          \
  template std::unique_ptr<Solver> make_fista_solver<V>(const Context&, const Problem<V>&, \
                                                          const UnpenalizedSolver&, const DesignOperator<V>&);
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_FISTA)

}  // namespace shrink::lasso_detail
