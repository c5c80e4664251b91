// Working-set coordinate descent on small dense Gram matrices held in the context's memory space:
// the GPU solver for sparse or wide X, where one G over every feature would not fit or pay. Each
// outer iteration
//   1. certifies the full problem (DesignOperator: Z beta and Z^T r, scalars back);
//   2. picks k features (kernels::lasso_working_set: KKT violators first, the worst first, then the
//      coefficients held non-zero, then the zeros closest to entering; one device sort);
//   3. gathers their centered columns a block of rows at a time and builds G_W = Z_W^T W Z_W / n by
//      SYRK, and q_W = c_W + G_W beta_W from the current correlations c, so that q_W - G_W beta_W
//      is the block's gradient with every other coefficient held where it is: a block step of
//      coordinate descent, exact even when W cannot hold every non-zero coefficient;
//   4. runs kernels::gram_cd on the block until the block's own gap (two dots and the five scalars
//      of lasso_dual_terms) is below 0.3x the full gap (celer's ratio), or below the final
//      criterion once W holds every usable feature;
//   5. scatters beta_W back.
// k starts at max(64, 2 nnz) and doubles every outer iteration, up to max_working_set.
#include <algorithm>
#include <cmath>

#include "host/core/dispatch.hpp"
#include "kernels/ops/fork.hpp"
#include "kernels/ops/instantiate.hpp"
#include "host/lasso/solvers.hpp"

namespace shrink::lasso_detail {

namespace {

constexpr int kActiveSweeps = 2;          // sweeps over the block's non-zeros after each full sweep
constexpr index_t kFirstSize = 64;
constexpr double kInnerRatio = 0.3;       // the block's gap target, relative to the full gap
constexpr index_t kBlockEntries = index_t{1} << 22;  // gathered rows x k per SYRK (32 MiB in double)
// Rounds of a block, and outer checks, without the gap halving at the rounding floor (StallWatch).
constexpr int kBlockStallRounds = 200;
constexpr int kOuterStallChecks = 3;

template <class V>
class WorkingSetGramSolver final : public Solver {
 public:
  WorkingSetGramSolver(const Context& ctx, const Problem<V>& prob, const UnpenalizedSolver& unpen,
                       const DesignOperator<V>& op, index_t max_size)
      : ctx_(ctx), prob_(prob), unpen_(unpen), design_(op), n_(prob.n), p_(prob.p) {
    const auto space = ctx.memory_space();
    const auto np = static_cast<std::size_t>(p_);
    beta_ = Array<V>(ctx, np, space);
    g_ = Array<V>(ctx, np, space);
    u_ = Array<V>(ctx, static_cast<std::size_t>(n_), space);
    l1_ = Array<V>(ctx, np, space);
    l2_ = Array<V>(ctx, np, space);
    std::vector<V> lip(np);
    for (index_t j = 0; j < p_; ++j) {
      lip[j] = prob.usable(j) ? static_cast<V>(prob.lipschitz[j]) : V(0);
      usable_ += prob.usable(j) ? 1 : 0;
    }
    lipschitz_ = upload(ctx, lip);
    max_size_ = std::clamp<index_t>(max_size, 1, std::max<index_t>(usable_, 1));
  }

  Solution certify(double lambda, const std::vector<double>& beta) override {
    set_beta(beta);
    Solution s;
    design_.certify(lambda, unpen_, beta_, u_, g_, s);
    return s;
  }

  Solution solve(const SolveRequest& req, std::vector<double>& beta) override {
    const double lambda = req.lambda, a = prob_.alpha;
    set_beta(beta);
    std::vector<V> l1(static_cast<std::size_t>(p_)), l2(static_cast<std::size_t>(p_));
    index_t nonzero = 0;
    for (index_t j = 0; j < p_; ++j) {
      l1[j] = static_cast<V>(lambda * a * prob_.factors[j]);
      l2[j] = static_cast<V>(lambda * (1 - a) * prob_.factors[j]);
      nonzero += beta[j] != 0 ? 1 : 0;
    }
    copy<V>(ctx_, VectorView<const V>(l1), l1_.view());
    copy<V>(ctx_, VectorView<const V>(l2), l2_.view());
    index_t size = std::min(max_size_, std::max(kFirstSize, 2 * nonzero));
    double tighten = 1;  // shrinks while W holds every usable feature and the full check still fails
    Solution out;
    std::int64_t epochs = 0;
    StallWatch stall(kOuterStallChecks);
    for (int outer = 0;; ++outer) {
      const double fit = design_.certify(lambda, unpen_, beta_, u_, g_, out);
      out.iterations = epochs;
      if (out.gap <= req.tol * out.objective || usable_ == 0) break;
      if (epochs >= req.max_iter || stall.stalled(out.gap, out.objective)) {
        out.status = FitStatus::MaxIterations;
        break;
      }
      if (outer > 0) size = std::min(max_size_, 2 * size);
      double inner_tol = kInnerRatio * out.gap;
      if (size == usable_) {
        inner_tol = std::min(inner_tol, 0.5 * tighten * req.tol * out.objective);
        tighten *= 0.1;
      }
      epochs += solve_block(lambda, size, fit, inner_tol, req.max_iter - epochs, out.objective);
    }
    const auto v = beta_.to_vector(ctx_);
    beta.assign(v.begin(), v.end());
    return out;
  }

 private:
  void set_beta(const std::vector<double>& beta) {
    const std::vector<V> v(beta.begin(), beta.end());
    copy<V>(ctx_, VectorView<const V>(v), beta_.view());
  }

  // Buffers for a block of k features (grown, never shrunk).
  void reserve(index_t k) {
    if (k <= capacity_) return;
    const auto space = ctx_.memory_space();
    const auto nk = static_cast<std::size_t>(k);
    for (Array<V>* a : {&beta_w_, &grad_w_, &q_w_, &lip_w_, &l1_w_, &denom_w_, &factors_w_, &mu_w_, &inv_s_w_})
      *a = Array<V>(ctx_, nk, space);
    ws_ = Array<index_t>(ctx_, nk, space);
    active_w_ = Array<index_t>(ctx_, nk, space);
    active_work_w_ = Array<V>(ctx_, 2 * nk, space);
    gram_ = Array<V>(ctx_, nk * nk, space);
    rows_per_block_ = std::clamp<index_t>(kBlockEntries / k, 1, std::max<index_t>(n_, 1));
    columns_ = Array<V>();  // the old block goes first: never two blocks (up to 32 MiB each) at once
    columns_ = Array<V>(ctx_, static_cast<std::size_t>(rows_per_block_) * nk, space);
    capacity_ = k;
  }

  // dst[t] = src[ws[t]] for the block's k features.
  void gather(const Array<V>& src, Array<V>& dst, index_t k) const {
    const auto space = ctx_.memory_space();
    SHRINK_DISPATCH(ctx_, gather_rows, ctx_, DenseView<const V>(src.data(), p_, 1, 1, Layout::RowMajor, space),
                    ws_.data(), DenseView<V>(dst.data(), k, 1, 1, Layout::RowMajor, space));
  }
  VectorView<const V> head(const Array<V>& a, index_t k) const {
    return VectorView<const V>(a.data(), k, ctx_.memory_space());
  }

  // One block step: choose W (k features), build its Gram system, descend until the block's gap is
  // below tol (at least one round) or stalls at the rounding floor of `objective` (the full
  // problem's), scatter back. Returns the rounds run.
  std::int64_t solve_block(double lambda, index_t k, double fit, double tol, std::int64_t budget, double objective) {
    reserve(k);
    const auto space = ctx_.memory_space();
    SHRINK_DISPATCH(ctx_, lasso_working_set, ctx_, p_, g_.data(), beta_.data(), l1_.data(), l2_.data(),
                    lipschitz_.data(), prob_.positive, k, ws_.data());
    gather(beta_, beta_w_, k);
    gather(g_, grad_w_, k);  // c_W: the block's gradient at the current point
    gather(lipschitz_, lip_w_, k);
    gather(l1_, l1_w_, k);
    gather(l2_, denom_w_, k);
    dispatch::axpby<V>(ctx_, V(1), head(lip_w_, k), V(1), VectorView<V>(denom_w_.data(), k, space));  // L_j + l2_j
    gather(design_.dual_factors(), factors_w_, k);
    gather(design_.mu(), mu_w_, k);
    gather(design_.inverse_scale(), inv_s_w_, k);
    const DenseView<V> g(gram_.data(), k, k, k, Layout::ColMajor, space);
    const V inv_n = static_cast<V>(1.0 / prob_.total_rows());
    const bool sparse_host = design_.placed().sparse && space == MemorySpace::Host;
    if (n_ == 0)  // an empty block (a process with no rows) adds zero
      copy<V>(ctx_, VectorView<const V>(std::vector<V>(static_cast<std::size_t>(k * k))),
              VectorView<V>(gram_.data(), k * k, space));
    const bool built = n_ > 0 && sparse_host && sparse_block_gram(k);
    for (index_t first = 0; first < (built ? 0 : n_); first += rows_per_block_) {
      const index_t rows = std::min(rows_per_block_, n_ - first);
      const DenseView<V> z(columns_.data(), rows, k, rows, Layout::ColMajor, space);
      design_.gather_columns(ws_.data(), first, z);
      SHRINK_DISPATCH(ctx_, center_scale_columns, ctx_, z, design_.row_scale().data() + first, mu_w_.data(),
                      inv_s_w_.data());
      dispatch::gram<V>(ctx_, inv_n, z, first == 0 ? V(0) : V(1), g);
    }
    if (prob_.split) sum_block(k);  // the one collective on the block: its k x k Gram, summed
    // q_W = c_W + G_W beta_W; the block's fit constant (1/n) |r + Z_W beta_W|^2_W.
    const VectorView<V> q(q_w_.data(), k, space);
    dispatch::axpby<V>(ctx_, V(1), head(grad_w_, k), V(0), q);
    dispatch::gemv<V>(ctx_, Op::NoTranspose, V(1), g, head(beta_w_, k), V(1), q);
    const double yy = fit + static_cast<double>(dispatch::dot<V>(ctx_, head(grad_w_, k), head(beta_w_, k))) +
                      static_cast<double>(dispatch::dot<V>(ctx_, head(beta_w_, k), head(q_w_, k)));
    std::int64_t rounds = 0;
    StallWatch stall(kBlockStallRounds);
    for (;;) {
      if (rounds > 0) {
        const double gap = block_gap(lambda, k, yy);
        if (gap <= tol || stall.stalled(gap, objective)) break;
      }
      if (rounds >= budget) break;
      SHRINK_DISPATCH(ctx_, gram_cd, ctx_, k, g.data, k, l1_w_.data(), denom_w_.data(), lip_w_.data(),
                      prob_.positive, 1, kActiveSweeps, beta_w_.data(), grad_w_.data(), active_w_.data(),
                      active_work_w_.data());
      ++rounds;
    }
    if (prob_.split) broadcast_block(k);
    SHRINK_DISPATCH(ctx_, scatter_rows, ctx_, DenseView<const V>(beta_w_.data(), k, 1, 1, Layout::RowMajor, space),
                    ws_.data(), DenseView<V>(beta_.data(), p_, 1, 1, Layout::RowMajor, space));
    return rounds;
  }

  // G_W of a sparse X on the host, from the entries alone: the block's rows as CSR over W, then
  //   n G_ab = (sum_i w_i x_ia x_ib - mu_b S_a - mu_a S_b + mu_a mu_b sum_i w_i) / (s_a s_b),
  // S_a = sum_i w_i x_ia, at a cost of sum_i nnz(x_iW)^2 / 2 instead of the n x k dense gather and
  // SYRK (which a GPU wants, and which the CPU paid 30x for on sparse problems). The rows go in a
  // fixed number of chunks, each summed alone and then in order: the same bits on any thread count.
  // Taken when its multiply-adds, sum_i nnz(x_iW)^2 / 2, are under 1/32 of the SYRK's n k^2 / 2:
  // BLAS runs about that much faster per multiply-add than the scattered updates (measured on the
  // suite's genotype design, whose rows are a third full at k = 1024: 1/8 made its path 1.6x slower
  // than SYRK alone); returns false otherwise.
  bool sparse_block_gram(index_t k) {
    const Design<V>& x = design_.placed();
    const auto nk = static_cast<std::size_t>(k);
    const index_t* ws = ws_.data();
    const double* w = prob_.weights();
    // X_W by rows: column t of the block is feature ws[t].
    std::vector<std::int64_t> start(static_cast<std::size_t>(n_) + 1, 0);
    x.with_transposed([&](const auto& xt) {
      for (index_t t = 0; t < k; ++t)
        for (auto e = xt.row_ptr[ws[t]]; e < xt.row_ptr[ws[t] + 1]; ++e) ++start[static_cast<std::size_t>(xt.col_idx[e]) + 1];
    });
    double pairs = 0;
    for (index_t i = 0; i < n_; ++i) pairs += static_cast<double>(start[i + 1]) * static_cast<double>(start[i + 1]);
    if (32 * pairs > static_cast<double>(n_) * static_cast<double>(k) * static_cast<double>(k)) return false;
    for (index_t i = 0; i < n_; ++i) start[i + 1] += start[i];
    std::vector<std::int32_t> col(static_cast<std::size_t>(start[n_]));
    std::vector<double> val(col.size());
    std::vector<double> colsum(nk, 0.0);  // S_a
    {
      std::vector<std::int64_t> at(start.begin(), start.end() - 1);
      x.with_transposed([&](const auto& xt) {
        for (index_t t = 0; t < k; ++t)
          for (auto e = xt.row_ptr[ws[t]]; e < xt.row_ptr[ws[t] + 1]; ++e) {
            const auto i = static_cast<std::size_t>(xt.col_idx[e]);
            const double v = static_cast<double>(xt.values[e]);
            col[static_cast<std::size_t>(at[i])] = static_cast<std::int32_t>(t);
            val[static_cast<std::size_t>(at[i]++)] = v;
            colsum[static_cast<std::size_t>(t)] += (w ? w[i] : 1.0) * v;
          }
      });
    }
    const int chunks = static_cast<int>(std::clamp<index_t>(start[n_] / kernels::kForkEntries, 1, 8));
    std::vector<double> parts(static_cast<std::size_t>(chunks) * nk * nk, 0.0);
#pragma omp parallel for schedule(static, 1)
    for (int c = 0; c < chunks; ++c) {
      double* g = parts.data() + static_cast<std::size_t>(c) * nk * nk;
      const index_t lo = n_ * c / chunks, hi = n_ * (c + 1) / chunks;
      for (index_t i = lo; i < hi; ++i) {
        const double wi = w ? w[i] : 1.0;
        for (auto e = start[i]; e < start[i + 1]; ++e) {
          const double a = wi * val[e];
          const auto ta = static_cast<std::size_t>(col[e]);
          for (auto f = start[i]; f <= e; ++f) g[ta * nk + static_cast<std::size_t>(col[f])] += a * val[f];
        }
      }
    }
    double weight = 0;
    for (index_t i = 0; i < n_; ++i) weight += w ? w[i] : 1.0;
    const double inv_n = 1.0 / prob_.total_rows();
    std::vector<V> out(nk * nk);
    for (std::size_t a = 0; a < nk; ++a) {
      const index_t ja = ws[a];
      const double ma = prob_.mu[ja], ia = prob_.usable(ja) ? 1.0 / prob_.scale[ja] : 0.0;
      for (std::size_t b = 0; b <= a; ++b) {
        const index_t jb = ws[b];
        const double mb = prob_.mu[jb], ib = prob_.usable(jb) ? 1.0 / prob_.scale[jb] : 0.0;
        // An entry pair lands in [max][min] order of the block's columns.
        const std::size_t hi_t = std::max(a, b), lo_t = std::min(a, b);
        double s = 0;
        for (int c = 0; c < chunks; ++c) {
          const double* g = parts.data() + static_cast<std::size_t>(c) * nk * nk;
          s += g[hi_t * nk + lo_t] + (hi_t != lo_t ? g[lo_t * nk + hi_t] : 0.0);
        }
        s += -mb * colsum[a] - ma * colsum[b] + ma * mb * weight;
        out[a * nk + b] = out[b * nk + a] = static_cast<V>(s * inv_n * ia * ib);
      }
    }
    copy<V>(ctx_, VectorView<const V>(out), VectorView<V>(gram_.data(), k * k, MemorySpace::Host));
    return true;
  }

  // Split rows: each block's part of G_W summed over the blocks, and the first block's beta_W given
  // to every block, so that the replicated coefficients stay bit-identical whatever the reductions
  // did.
  void sum_block(index_t k) {
    const auto nk = static_cast<std::size_t>(k * k);
    if (gram_.space() == MemorySpace::Device && prob_.split->sum_on_device({device_values(gram_.data(), nk)})) return;
    auto g = gram_.to_vector(ctx_);
    g.resize(static_cast<std::size_t>(k * k));
    split_sum(prob_.split, g);
    copy<V>(ctx_, VectorView<const V>(g), VectorView<V>(gram_.data(), k * k, ctx_.memory_space()));
  }
  void broadcast_block(index_t k) {
    if (beta_w_.space() == MemorySpace::Device &&
        prob_.split->broadcast_on_device(device_values(beta_w_.data(), static_cast<std::size_t>(k))))
      return;
    auto b = beta_w_.to_vector(ctx_);
    b.resize(static_cast<std::size_t>(k));
    split_broadcast(prob_.split, b);
    copy<V>(ctx_, VectorView<const V>(b), VectorView<V>(beta_w_.data(), k, ctx_.memory_space()));
  }

  // The block's duality gap, from scalars (gram_fit and lasso_dual_terms). Unpenalized features are
  // not projected out here (their gradients go to zero in the sweeps); the full certificate does that.
  double block_gap(double lambda, index_t k, double yy) const {
    const auto f = gram_fit(ctx_, k, yy, q_w_.data(), beta_w_.data(), grad_w_.data());
    const auto terms = SHRINK_DISPATCH(ctx_, lasso_dual_terms, ctx_, k, grad_w_.data(), beta_w_.data(),
                                       factors_w_.data(), dual_args(lambda, prob_.alpha, prob_.positive));
    Solution s;
    set_certificate(s, lambda, prob_.alpha, f.fit, terms, f.a1, f.fit, prob_.kkt_scale);
    return s.gap;
  }

  const Context& ctx_;
  const Problem<V>& prob_;
  const UnpenalizedSolver& unpen_;
  const DesignOperator<V>& design_;
  index_t n_, p_, usable_ = 0, max_size_ = 1, capacity_ = 0, rows_per_block_ = 1;
  Array<V> beta_, g_, u_, l1_, l2_, lipschitz_;
  Array<V> beta_w_, grad_w_, q_w_, lip_w_, l1_w_, denom_w_, factors_w_, mu_w_, inv_s_w_, gram_, columns_, active_work_w_;
  Array<index_t> ws_, active_w_;
};

}  // namespace

template <class V>
std::unique_ptr<Solver> make_working_set_gram_solver(const Context& ctx, const Problem<V>& prob,
                                                     const UnpenalizedSolver& unpenalized, const DesignOperator<V>& op,
                                                     index_t max_working_set) {
  return std::make_unique<WorkingSetGramSolver<V>>(ctx, prob, unpenalized, op, max_working_set);
}

#define SHRINK_INSTANTIATE_WS_GRAM(V)                                                                         \
  template std::unique_ptr<Solver> make_working_set_gram_solver<V>(const Context&, const Problem<V>&,         \
                                                                   const UnpenalizedSolver&,                  \
                                                                   const DesignOperator<V>&, index_t);
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_WS_GRAM)

}  // namespace shrink::lasso_detail
