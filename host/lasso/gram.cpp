// Coordinate descent on the Gram matrix G = Z^T W Z / n and q = Z^T W yc / n, built once per problem
// with one SYRK per block of rows; an epoch then costs O(p) plus O(p) per coefficient that moves, and
// the gap needs no pass over X. G, q, the gradient q - G beta and beta live in the context's memory
// space: on a GPU the sweeps are one kernel (kernels::gram_cd: a full sweep, then sweeps over the
// coefficients it left non-zero, the working set) and a gap check brings back five scalars and two
// dot products. Unpenalized features are projected out on the host (p values cross per check).
#include <algorithm>
#include <cmath>
#include <memory>

#include "host/core/dispatch.hpp"
#include "host/lasso/newton.hpp"
#include "host/lasso/solvers.hpp"
#include "kernels/ops/fork.hpp"
#include "kernels/ops/instantiate.hpp"
#include "shrink/context.hpp"

namespace shrink::lasso_detail {

namespace {

// Sweeps over the working set after each full sweep, between two gap checks.
constexpr int kActiveSweeps = 2;
// Epochs (each certified) without the gap halving, at the rounding floor, that end a solve.
constexpr int kStallEpochs = 200;

template <class V>
class GramSolver final : public Solver {
 public:
  GramSolver(const Context& ctx, const Problem<V>& prob, const UnpenalizedSolver& unpen,
             std::shared_ptr<const GramData> data)
      : ctx_(ctx), prob_(prob), unpen_(unpen), p_(prob.p), data_(std::move(data)) {
    const auto space = ctx.memory_space();
    const auto np = static_cast<std::size_t>(p_);
    grad_ = Array<double>(ctx, np, space);
    beta_ = Array<double>(ctx, np, space);
    l1_ = Array<double>(ctx, np, space);
    denom_ = Array<double>(ctx, np, space);
    active_ = Array<index_t>(ctx, np, space);
    active_work_ = Array<double>(ctx, 2 * np, space);
  }

  Solution certify(double lambda, const std::vector<double>& beta) override {
    set_beta(beta);
    Solution s;
    certificate(lambda, s);
    return s;
  }

  Solution solve(const SolveRequest& req, std::vector<double>& beta) override {
    const double lambda = req.lambda, a = prob_.alpha;
    set_beta(beta);
    std::vector<double> l1(static_cast<std::size_t>(p_)), denom(static_cast<std::size_t>(p_));
    for (index_t j = 0; j < p_; ++j) {
      l1[j] = lambda * a * prob_.factors[j];
      denom[j] = prob_.lipschitz[j] + lambda * (1 - a) * prob_.factors[j];
    }
    copy<double>(ctx_, VectorView<const double>(l1), l1_.view());
    copy<double>(ctx_, VectorView<const double>(denom), denom_.view());
    Solution out;
    std::vector<index_t> support, previous;
    std::int64_t since_newton = 0;
    StallWatch stall(kStallEpochs);
    for (std::int64_t epoch = 0;; ++epoch, ++since_newton) {
      certificate(lambda, out);
      out.iterations = epoch;
      if (out.gap <= req.tol * out.objective) break;
      if (epoch >= req.max_iter || stall.stalled(out.gap, out.objective)) {
        out.status = FitStatus::MaxIterations;
        break;
      }
      // On the host, the same non-zeros two epochs running and sweeps that have cost as much as a
      // Newton step on them (G_AA is a gather from G): take the step (newton.hpp).
      if (ctx_.backend() == Backend::Cpu) {
        const auto now = beta_.to_vector(ctx_);
        support.clear();
        for (index_t j = 0; j < p_; ++j)
          if (now[j] != 0) support.push_back(j);
        const auto k = static_cast<double>(support.size());
        if (!support.empty() && support == previous &&
            newton_pays(factor_.cost(support, lambda * (1 - prob_.alpha)), static_cast<double>(since_newton),
                        3 * k * static_cast<double>(p_)) &&
            newton(lambda, support, now, out)) {
          since_newton = 0;
          previous.clear();
          continue;
        }
        previous = support;
      }
      SHRINK_DISPATCH(ctx_, gram_cd, ctx_, p_, data_->gram.data(), p_, l1_.data(), denom_.data(),
                      data_->lipschitz.data(), prob_.positive, 1, kActiveSweeps, beta_.data(), grad_.data(),
                      active_.data(), active_work_.data());
    }
    beta = beta_.to_vector(ctx_);
    return out;
  }

 private:
  // The Newton step on `support` from beta (= beta_), kept when the objective falls below
  // `at.objective`. The system's factor is kept from step to step (SupportFactor). True when beta_
  // moved.
  bool newton(double lambda, const std::vector<index_t>& support, std::vector<double> beta, const Solution& at) {
    const auto k = static_cast<index_t>(support.size());
    const double* g = data_->gram.data();
    std::vector<double> gradient(support.size());
    const auto grad = grad_.to_vector(ctx_);
    for (index_t b = 0; b < k; ++b) gradient[b] = grad[support[b]];
    std::vector<double> delta, projected;
    const auto from_gram = [&](const std::vector<index_t>& order, index_t first, double* out, index_t ld) {
      for (std::size_t c = static_cast<std::size_t>(first); c < order.size(); ++c)
        for (std::size_t r = 0; r < order.size(); ++r) out[r + (c - first) * ld] = g[order[r] + order[c] * p_];
    };
    const double ridge = lambda * (1 - prob_.alpha);
    if (factor_.factor(support, from_gram, prob_.factors, ridge)) {
      auto direction = newton_rhs(prob_.factors, prob_.alpha, lambda, support, beta, gradient);
      factor_.solve(direction, ridge);
      newton_step(prob_.factors, support, beta, direction, delta, &projected);
    } else {
      // Not positive definite: newton_move's fresh factor, with its fallback.
      std::vector<double> block(static_cast<std::size_t>(k * k));
      from_gram(support, 0, block.data(), k);
      if (!newton_move(prob_.factors, prob_.alpha, lambda, support, beta, gradient, std::move(block), delta,
                       &projected))
        return false;
    }
    for (const auto* step : {&projected, &delta}) {
      if (step->empty()) continue;
      auto moved_beta = beta;
      for (index_t t = 0; t < k; ++t) moved_beta[support[t]] += (*step)[t];
      set_beta(moved_beta);
      Solution moved;
      certificate(lambda, moved);
      if (moved.objective <= at.objective) return true;
    }
    set_beta(beta);  // neither lowered the objective (rounding on a near-singular block): undo
    return false;
  }

  // beta_ = beta and grad = q - G beta. On the host, from G's columns on the support only: along a
  // path most of beta is zero, and G is read once per lambda (p^2 entries: 32 MB at p = 2000).
  void set_beta(const std::vector<double>& beta) {
    copy<double>(ctx_, VectorView<const double>(beta), beta_.view());
    copy<double>(ctx_, VectorView<const double>(data_->q.view()), grad_.view());
    if (ctx_.memory_space() != MemorySpace::Host) {
      dispatch::gemv<double>(ctx_, Op::NoTranspose, -1.0, data_->gram.view(), beta_.view(), 1.0, grad_.view());
      return;
    }
    double* grad = grad_.data();
    const double* g = data_->gram.data();
    for (index_t j = 0; j < p_; ++j) {
      if (beta[j] == 0) continue;
      const double b = beta[j];
      const double* col = g + j * p_;
#pragma omp simd
      for (index_t k = 0; k < p_; ++k) grad[k] -= b * col[k];
    }
  }

  // Objective and gap at beta_ (gram_fit: no pass over X).
  void certificate(double lambda, Solution& out) {
    const GramFit at = gram_fit(ctx_, p_, prob_.y_norm2, data_->q.data(), beta_.data(), grad_.data());
    double a1 = at.a1, a2 = at.fit;  // moved by the unpenalized projection below
    const auto args = dual_args(lambda, prob_.alpha, prob_.positive);
    kernels::LassoDualTerms terms;
    if (unpen_.size() == 0) {
      terms = SHRINK_DISPATCH(ctx_, lasso_dual_terms, ctx_, p_, grad_.data(), beta_.data(), data_->factors.data(),
                              args);
    } else {
      // Project the unpenalized columns out: r' = r - Z_U t (UnpenalizedSolver::step).
      auto c = grad_.to_vector(ctx_);
      const auto beta = beta_.to_vector(ctx_);
      std::vector<double> cu(unpen_.size());
      for (std::size_t u = 0; u < cu.size(); ++u) cu[u] = c[prob_.unpenalized[u]];
      std::vector<double> current(cu.size());
      for (std::size_t u = 0; u < cu.size(); ++u) current[u] = beta[prob_.unpenalized[u]];
      const auto t = unpen_.step(cu, current, prob_.positive);
      double tgt = 0;
      for (std::size_t u = 0; u < t.size(); ++u) {
        a1 -= data_->unpen_q[u] * t[u];
        a2 -= 2 * t[u] * cu[u];
        for (std::size_t v = 0; v < t.size(); ++v) tgt += t[u] * unpen_.gram(u, v) * t[v];
        const double* g = data_->unpen_columns.data() + u * p_;
        for (index_t k = 0; k < p_; ++k) c[k] -= t[u] * g[k];
      }
      a2 = std::max(a2 + tgt, 0.0);
      for (index_t j = 0; j < p_; ++j)
        if (prob_.usable(j)) kernels::accumulate_dual_terms(terms, c[j], beta[j], prob_.factors[j], args);
    }
    // The primal at beta itself; the projection only moves the dual point.
    set_certificate(out, lambda, prob_.alpha, at.fit, terms, a1, a2, prob_.kkt_scale);
  }

  const Context& ctx_;
  const Problem<V>& prob_;
  const UnpenalizedSolver& unpen_;
  index_t p_;
  std::shared_ptr<const GramData> data_;
  Array<double> grad_, beta_, l1_, denom_, active_work_;
  Array<index_t> active_;
  SupportFactor factor_;  // G_AA's factor from the last Newton step (host only)
};
}  // namespace

namespace {

// A loop of the build forks from kForkEntries: on diabetes (442 x 10) one fork for its 100
// entries of G left the worker spinning beside the path.
using kernels::kForkEntries;

// Rows per block of Zs: at most ~32 MiB of doubles, so n >> p never needs an n x p copy.
index_t block_rows(index_t n, index_t p) {
  return std::clamp<index_t>((index_t{1} << 22) / std::max<index_t>(p, 1), 1, std::max<index_t>(n, 1));
}

// Whether a usable column's mean is far above its spread (far_from_zero, design.hpp): G built from
// X's raw products and centered after would cancel there.
template <class V>
bool any_far_from_zero(const Problem<V>& prob) {
  for (index_t j = 0; j < prob.p; ++j)
    if (prob.usable(j) && far_from_zero(prob.mu[j], prob.lipschitz[j] * prob.scale[j] * prob.scale[j])) return true;
  return false;
}

// G and q from one SYRK and one GEMV on a dense double X as it lies, centered and scaled after:
// G_jk = (X^T X / n - mu_j mu_k) / (s_j s_k), q_j = (X^T yc / n - mu_j sum(yc) / n) / s_j. No
// centered copy of X is made (the copy and its first touch were a tenth of a's Gram build). Taken
// without weights or split rows, and only when no usable column is far_from_zero (design.hpp): a
// large offset cancels in the subtraction, and the centered blocks keep it exact. False when not
// taken.
template <class V>
bool gram_direct(const Context& ctx, const Problem<V>& prob, GramData& data) {
  if constexpr (!std::is_same_v<V, double>) {
    return false;
  } else {
    const Design<V>& x = *prob.x;
    const index_t n = prob.n, p = prob.p;
    if (x.sparse || prob.weights() || prob.split || x.dense.layout != Layout::ColMajor) return false;
    if (any_far_from_zero(prob)) return false;
    const double inv_n = 1.0 / static_cast<double>(n);
    const DenseView<const double> xv(x.dense.data, n, p, x.dense.ld, Layout::ColMajor);
    dispatch::gram<double>(ctx, inv_n, xv, 0.0, data.gram.view());
    dispatch::gemv<double>(ctx, Op::Transpose, inv_n, xv, VectorView<const double>(prob.yc), 0.0, data.q.view());
    double ysum = 0;
    for (index_t i = 0; i < n; ++i) ysum += prob.yc[i];
    const double ybar = ysum * inv_n;
    double* g = data.gram.data();
    double* q = data.q.data();
    std::vector<double> inv_s(static_cast<std::size_t>(p));
    for (index_t j = 0; j < p; ++j) inv_s[j] = prob.usable(j) ? 1.0 / prob.scale[j] : 0.0;
#pragma omp parallel for schedule(static) if (p * p >= kForkEntries)
    for (index_t k = 0; k < p; ++k) {
      double* col = g + k * p;
      const double mk = prob.mu[k], sk = inv_s[k];
      for (index_t j = 0; j < p; ++j) col[j] = (col[j] - prob.mu[j] * mk) * inv_s[j] * sk;
    }
    for (index_t j = 0; j < p; ++j) q[j] = (q[j] - prob.mu[j] * ybar) * inv_s[j];
    return true;
  }
}

// G and q for a sparse host X from its products, without densifying a row: column j's entries, each
// times the rest of its row (X's rows: a transposed copy) at columns k >= j, summed into a dense
// p-vector, give S_kj = sum_i w_i x_ij x_ik; then G_kj = (S_kj - mu_k T_j - mu_j T_k + mu_j mu_k W) /
// (n s_j s_k) with T_j = sum_i w_i x_ij and W = sum_i w_i, exact for any mu (a block of split rows
// sums its own). sum_i nnz_i^2 / 2 multiply-adds, against n p^2 / 2 for the blocked build on
// densified rows: 1.1e7 against 4e11 on a 200000 x 2000 X with ten entries a row. As gram_direct,
// only when no usable column is far_from_zero, and only where the copy of the rows fits the memory
// budget. False when not taken.
template <class V>
bool gram_sparse(const Context& ctx, const Problem<V>& prob, GramData& data) {
  const Design<V>& x = *prob.x;
  const index_t n = prob.n, p = prob.p;
  if (!x.sparse || x.space != MemorySpace::Host) return false;
  if (any_far_from_zero(prob)) return false;
  return x.with_transposed([&](const auto& xt) {
    using I = std::remove_cv_t<std::remove_pointer_t<decltype(xt.row_ptr)>>;
    const double row_bytes = static_cast<double>(xt.nnz) * (sizeof(V) + sizeof(I)) + sizeof(I) * (n + 1.0);
    if (!fits_memory(row_bytes + 8.0 * static_cast<double>(p) * ctx.cpu_threads())) return false;
    if (sparse_gram_build_cost(static_cast<double>(xt.nnz), row_pairs(xt, n)) >
        dense_gram_build_cost(static_cast<double>(n), static_cast<double>(p)))
      return false;  // dense blocks of rows are cheaper (gram_from_host)
    const auto rows = dispatch::transpose(host_context(ctx), xt);  // n x p CSR
    const I* row_ptr = rows.row_ptr().data();
    const I* col = rows.col_idx().data();
    const V* val = rows.values().data();
    const double* w = prob.weights();
    const double* yc = prob.yc.data();
    const auto np = static_cast<std::size_t>(p);
    std::vector<double> total(np), inv_s(np);  // T_j, 1 / s_j (0: unusable)
    for (index_t j = 0; j < p; ++j) inv_s[j] = prob.usable(j) ? 1.0 / prob.scale[j] : 0.0;
    double weight = 0, ysum = 0;  // W, sum_i w_i yc_i
    for (index_t i = 0; i < n; ++i) {
      weight += w ? w[i] : 1.0;
      ysum += (w ? w[i] : 1.0) * yc[i];
    }
    double* g = data.gram.data();
    double* q = data.q.data();
    constexpr int kPrefetch = 16;
#pragma omp parallel if (static_cast<double>(xt.nnz) >= kForkEntries)
    {
      std::vector<double> acc(np, 0.0);
#pragma omp for schedule(dynamic, 8)
      for (index_t j = 0; j < p; ++j) {
        double t = 0, u = 0;
        const auto end = xt.row_ptr[j + 1];
        for (auto e = xt.row_ptr[j]; e < end; ++e) {
          // Each entry reads a row far from the last (a cache miss each on a tall X): ask for the
          // row kPrefetch entries ahead, its start kPrefetch entries before that.
          if (e + 2 * kPrefetch < end) __builtin_prefetch(row_ptr + xt.col_idx[e + 2 * kPrefetch]);
          if (e + kPrefetch < end) {
            const auto ahead = row_ptr[xt.col_idx[e + kPrefetch]];
            __builtin_prefetch(col + ahead);
            __builtin_prefetch(val + ahead);
          }
          const auto i = xt.col_idx[e];
          const double wx = (w ? w[i] : 1.0) * static_cast<double>(xt.values[e]);
          t += wx;
          u += wx * yc[i];
          // Row i's columns ascend: from its end down to j.
          for (auto k = row_ptr[i + 1] - 1; k >= row_ptr[i] && col[k] >= j; --k)
            acc[col[k]] += wx * static_cast<double>(val[k]);
        }
        total[j] = t;
        q[j] = u;
        double* gj = g + j * p;
        for (index_t k = j; k < p; ++k) {
          gj[k] = acc[k];
          acc[k] = 0;
        }
      }
    }
    const double inv_n = 1.0 / prob.total_rows();
    const auto& mu = prob.mu;
    // Centered and scaled on the lower triangle and mirrored, in tiles (see the SYRK's mirror).
    constexpr index_t kTile = 64;
#pragma omp parallel for schedule(dynamic, 1) if (p * p >= kForkEntries)
    for (index_t j0 = 0; j0 < p; j0 += kTile)
      for (index_t k0 = j0; k0 < p; k0 += kTile)
        for (index_t j = j0; j < std::min(j0 + kTile, p); ++j)
          for (index_t k = std::max(k0, j); k < std::min(k0 + kTile, p); ++k) {
            const double s = g[k + j * p];
            const double v = (s - mu[k] * total[j] - mu[j] * total[k] + mu[j] * mu[k] * weight) * inv_n * inv_s[j] * inv_s[k];
            g[k + j * p] = v;
            g[j + k * p] = v;
          }
    for (index_t j = 0; j < p; ++j) q[j] = (q[j] - mu[j] * ysum) * inv_n * inv_s[j];
    return true;
  });
}

// The host build: each block of Zs filled from a host X (a sparse column from a cursor into its
// sorted rows).
template <class V>
void gram_from_host(const Context& ctx, const Problem<V>& prob, GramData& data) {
  if (gram_direct(ctx, prob, data) || gram_sparse(ctx, prob, data)) return;
  const index_t n = prob.n, p = prob.p;
  const Design<V>& x = *prob.x;
  const double* w = prob.weights();
  const index_t block = block_rows(n, p);
  std::unique_ptr<double[]> zs_data(new double[static_cast<std::size_t>(block * p)]);
  std::vector<double> yw(static_cast<std::size_t>(block));
  const double inv_n = 1.0 / prob.total_rows();
  x.with_transposed_or_dense([&](const auto* xt) {
    using I = std::remove_cv_t<std::remove_pointer_t<decltype(xt->row_ptr)>>;
    std::vector<I> cursor;  // sparse X: column j's next entry
    if (xt) cursor.assign(xt->row_ptr, xt->row_ptr + p);
    for (index_t first = 0; first < n; first += block) {
      const index_t rows = std::min(block, n - first);
      for (index_t i = 0; i < rows; ++i) yw[i] = (w ? std::sqrt(w[first + i]) : 1.0) * prob.yc[first + i];
#pragma omp parallel for schedule(static) if (rows * p >= kForkEntries)
      for (index_t j = 0; j < p; ++j) {
        double* col = zs_data.get() + j * rows;
        if (!prob.usable(j)) {
          std::fill(col, col + rows, 0.0);
          continue;
        }
        const double sj = prob.scale[j], mj = prob.mu[j];
        auto at = [&](index_t i, double v) { return (w ? std::sqrt(w[first + i]) : 1.0) * (v - mj) / sj; };
        if (!xt) {
          const V* xc = x.dense.data + j * x.dense.ld + first;
          for (index_t i = 0; i < rows; ++i) col[i] = at(i, static_cast<double>(xc[i]));
        } else {
          for (index_t i = 0; i < rows; ++i) col[i] = at(i, 0.0);
          auto& k = cursor[j];
          for (; k < xt->row_ptr[j + 1] && xt->col_idx[k] < first + rows; ++k)
            col[xt->col_idx[k] - first] = at(xt->col_idx[k] - first, static_cast<double>(xt->values[k]));
        }
      }
      const DenseView<const double> zs(zs_data.get(), rows, p, rows, Layout::ColMajor);
      const VectorView<const double> y(yw.data(), rows);
      const double beta = first == 0 ? 0.0 : 1.0;
      dispatch::gram<double>(ctx, inv_n, zs, beta, data.gram.view());
      dispatch::gemv<double>(ctx, Op::Transpose, inv_n, zs, y, beta, data.q.view());
    }
  });
}

// The operator's build (a CUDA context): each block of X's rows gathered where `op` placed X, widened
// to double, then centered and scaled there (kernels::center_scale_columns), so nothing n x p crosses.
template <class V>
void gram_through_operator(const Context& ctx, const Problem<V>& prob, const DesignOperator<V>& op, GramData& data) {
  const index_t n = prob.n, p = prob.p;
  const auto space = ctx.memory_space();
  const auto np = static_cast<std::size_t>(p);
  const index_t block = block_rows(n, p);
  const double* w = prob.weights();
  std::vector<double> sqw(static_cast<std::size_t>(n)), yw(static_cast<std::size_t>(n)), inv_s(np);
  for (index_t i = 0; i < n; ++i) {
    sqw[i] = w ? std::sqrt(w[i]) : 1.0;
    yw[i] = sqw[i] * prob.yc[i];
  }
  for (index_t j = 0; j < p; ++j) inv_s[j] = prob.usable(j) ? 1.0 / prob.scale[j] : 0.0;
  std::vector<index_t> all(np);
  for (index_t j = 0; j < p; ++j) all[j] = j;
  const auto cols = upload(ctx, all);
  const auto sqw_d = upload(ctx, sqw), yw_d = upload(ctx, yw), mu_d = upload(ctx, prob.mu), inv_s_d = upload(ctx, inv_s);
  Array<double> zs(ctx, static_cast<std::size_t>(block) * np, space);
  Array<V> raw;
  if constexpr (!std::is_same_v<V, double>) raw = Array<V>(ctx, static_cast<std::size_t>(block) * np, space);
  const double inv_n = 1.0 / prob.total_rows();
  for (index_t first = 0; first < n; first += block) {
    const index_t rows = std::min(block, n - first);
    const DenseView<double> z(zs.data(), rows, p, rows, Layout::ColMajor, space);
    if constexpr (std::is_same_v<V, double>) {
      op.gather_columns(cols.data(), first, z);
    } else {
      op.gather_columns(cols.data(), first, DenseView<V>(raw.data(), rows, p, rows, Layout::ColMajor, space));
      SHRINK_DISPATCH(ctx, widen, ctx, rows * p, static_cast<const V*>(raw.data()), zs.data());
    }
    SHRINK_DISPATCH(ctx, center_scale_columns, ctx, z, static_cast<const double*>(sqw_d.data()) + first,
                    mu_d.data(), inv_s_d.data());
    const double beta = first == 0 ? 0.0 : 1.0;
    dispatch::gram<double>(ctx, inv_n, DenseView<const double>(z), beta, data.gram.view());
    dispatch::gemv<double>(ctx, Op::Transpose, inv_n, DenseView<const double>(z),
                           VectorView<const double>(yw_d.data() + first, rows, space), beta, data.q.view());
  }
}

}  // namespace

// G and q from Zs = sqrt(w) (X - mu) / s in double, one block of rows at a time; centering before
// the product keeps large column offsets from cancelling in G.
template <class V>
std::shared_ptr<const GramData> build_gram(const Context& ctx, const Problem<V>& prob, const UnpenalizedSolver& unpen,
                                           const DesignOperator<V>* op) {
  const index_t p = prob.p;
  const auto np = static_cast<std::size_t>(p);
  const auto space = ctx.memory_space();
  auto data = std::make_shared<GramData>();
  data->gram = DenseMatrix<double>(ctx, p, p, Layout::ColMajor, space);
  data->q = Array<double>(ctx, np, space);
  std::vector<double> lip(np), factors(np);
  for (index_t j = 0; j < p; ++j) {
    lip[j] = prob.usable(j) ? prob.lipschitz[j] : 0.0;
    factors[j] = prob.usable(j) ? prob.factors[j] : 0.0;
  }
  data->lipschitz = upload(ctx, lip);
  data->factors = upload(ctx, factors);
  if (prob.n == 0) {  // an empty block of rows (a process with none) adds zero
    copy<double>(ctx, VectorView<const double>(std::vector<double>(np * np)), VectorView<double>(data->gram.data(), p * p, space));
    copy<double>(ctx, VectorView<const double>(std::vector<double>(np)), data->q.view());
  } else if (op) {
    gram_through_operator(ctx, prob, *op, *data);
  } else {
    gram_from_host(ctx, prob, *data);
  }
  if (prob.split) {  // split rows: G and q summed over the blocks, once per path (p^2 + p numbers)
    auto g = data->gram.copy_to(ctx, MemorySpace::Host);
    std::vector<double> all(g.data(), g.data() + np * np);
    const auto q = data->q.to_vector(ctx);
    all.insert(all.end(), q.begin(), q.end());
    prob.sum_rows(all.data(), all.size());
    copy<double>(ctx, VectorView<const double>(all.data(), p * p), VectorView<double>(data->gram.data(), p * p, space));
    copy<double>(ctx, VectorView<const double>(all.data() + np * np, p), data->q.view());
  }
  if (unpen.size() > 0) {  // the unpenalized columns of G and entries of q, for the host-side projection
    const auto g = data->gram.copy_to(ctx, MemorySpace::Host);
    const auto q = data->q.to_vector(ctx);
    data->unpen_columns.resize(unpen.size() * np);
    data->unpen_q.resize(unpen.size());
    for (std::size_t u = 0; u < unpen.size(); ++u) {
      std::copy_n(g.data() + prob.unpenalized[u] * p, p, data->unpen_columns.data() + u * p);
      data->unpen_q[u] = q[prob.unpenalized[u]];
    }
  }
  return data;
}

template <class V>
std::vector<std::unique_ptr<Solver>> make_gram_solvers(const Context& ctx, const Problem<V>& prob,
                                                       const UnpenalizedSolver& unpenalized, int count,
                                                       const DesignOperator<V>* op) {
  const auto data = build_gram(ctx, prob, unpenalized, op);
  std::vector<std::unique_ptr<Solver>> solvers;
  for (int k = 0; k < count; ++k) solvers.push_back(std::make_unique<GramSolver<V>>(ctx, prob, unpenalized, data));
  return solvers;
}

#define SHRINK_INSTANTIATE_GRAM(V)                                                                \
  template std::shared_ptr<const GramData> build_gram<V>(const Context&, const Problem<V>&,          \
                                                         const UnpenalizedSolver&, const DesignOperator<V>*); \
  template std::vector<std::unique_ptr<Solver>> make_gram_solvers<V>(const Context&, const Problem<V>&, \
                                                                      const UnpenalizedSolver&, int,   \
                                                                      const DesignOperator<V>*);
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_GRAM)

}  // namespace shrink::lasso_detail
