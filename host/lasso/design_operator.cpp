// The operator solvers' Z with X read in place (see design_operator.hpp).
#include "host/lasso/design_operator.hpp"

#include <cmath>

#include "host/core/dispatch.hpp"
#include "host/core/validate.hpp"
#include "host/lasso/solvers.hpp"
#include "kernels/ops/instantiate.hpp"

namespace shrink::lasso_detail {

template <class V>
DesignOperator<V>::DesignOperator(const Context& ctx, const Problem<V>& prob)
    : ctx_(ctx), prob_(prob), n_(prob.n), p_(prob.p) {
  const auto space = ctx.memory_space();
  const Design<V>& d = *prob.x;
  if (d.space == space) x_ = d;                                       // in place
  else if (space == MemorySpace::Device) x_ = device_copy(ctx, d);    // a host X on a CUDA context: once
  else throw InvalidArgument("X is in device memory but the context runs on the CPU; use a CUDA context");
  const double* w = prob.weights();
  std::vector<V> sqw(static_cast<std::size_t>(n_)), yh(static_cast<std::size_t>(n_));
  for (index_t i = 0; i < n_; ++i) {
    sqw[i] = static_cast<V>(w ? std::sqrt(w[i]) : 1.0);
    yh[i] = static_cast<V>((w ? std::sqrt(w[i]) : 1.0) * prob.yc[i]);
  }
  std::vector<V> mu(static_cast<std::size_t>(p_)), inv_s(mu.size()), v(mu.size()), dv(mu.size());
  for (index_t j = 0; j < p_; ++j) {
    mu[j] = static_cast<V>(prob.mu[j]);
    inv_s[j] = prob.usable(j) ? static_cast<V>(1.0 / prob.scale[j]) : V(0);
    v[j] = static_cast<V>(prob.factors[j]);
    dv[j] = prob.usable(j) ? v[j] : V(0);  // unusable features have no dual constraint
  }
  sqw_ = upload(ctx, sqw);
  yh_ = upload(ctx, yh);
  mu_ = upload(ctx, mu);
  inv_s_ = upload(ctx, inv_s);
  factors_ = upload(ctx, v);
  dual_factors_ = upload(ctx, dv);
  tmp_p_ = Array<V>(ctx, static_cast<std::size_t>(p_), space);
  tmp_n_ = Array<V>(ctx, static_cast<std::size_t>(n_), space);
  if (!prob.unpenalized.empty()) unpenalized_columns();
}

template <class V>
void DesignOperator<V>::apply(VectorView<const V> v, VectorView<V> u) const {
  const auto space = ctx_.memory_space();
  if (x_.sparse && space == MemorySpace::Device && !forward32_.rows() && !forward64_.rows() && n_ > 0) {
    // Z v needs X itself: the transposed product would rebuild it on every call on a device. Built
    // on first use (the batch and the Gram build never multiply by Z).
    if (x_.wide_index) forward64_ = dispatch::transpose(ctx_, x_.xt64);
    else forward32_ = dispatch::transpose(ctx_, x_.xt32);
    ++ctx_.count_transfers().input_device_copies;
  }
  V* t = tmp_p_.data();
  SHRINK_DISPATCH(ctx_, scale_entries, ctx_, p_, inv_s_.data(), v.data, t);  // t = v / s
  if (!x_.sparse) dispatch::gemv<V>(ctx_, Op::NoTranspose, V(1), x_.dense, VectorView<const V>(t, p_, space), V(0), u);
  else if (space == MemorySpace::Device && x_.wide_index) dispatch::spmv(ctx_, Op::NoTranspose, V(1), forward64_.view(), t, V(0), u.data);
  else if (space == MemorySpace::Device) dispatch::spmv(ctx_, Op::NoTranspose, V(1), forward32_.view(), t, V(0), u.data);
  else x_.with_transposed([&](const auto& xt) { dispatch::spmv(ctx_, Op::Transpose, V(1), xt, t, V(0), u.data); });
  SHRINK_DISPATCH(ctx_, scale_entries, ctx_, n_, sqw_.data(), u.data, u.data);
  if (prob_.intercept)
    dispatch::axpby<V>(ctx_, -dispatch::dot<V>(ctx_, mu_.view(), VectorView<const V>(t, p_, space)), sqw_.view(),
                       V(1), u);
}

template <class V>
void DesignOperator<V>::apply_transpose(VectorView<const V> r, V alpha, VectorView<V> g) const {
  const auto space = ctx_.memory_space();
  V* t = tmp_n_.data();
  SHRINK_DISPATCH(ctx_, scale_entries, ctx_, n_, sqw_.data(), r.data, t);  // t = sqrt(w) r
  if (!x_.sparse) dispatch::gemv<V>(ctx_, Op::Transpose, alpha, x_.dense, VectorView<const V>(t, n_, space), V(0), g);
  else x_.with_transposed([&](const auto& xt) { dispatch::spmv(ctx_, Op::NoTranspose, alpha, xt, t, V(0), g.data); });
  if (prob_.intercept)
    dispatch::axpby<V>(ctx_, -alpha * dispatch::sum<V>(ctx_, VectorView<const V>(t, n_, space)), mu_.view(), V(1), g);
  SHRINK_DISPATCH(ctx_, scale_entries, ctx_, p_, inv_s_.data(), g.data, g.data);
}

template <class V>
void DesignOperator<V>::sum_rows(Array<V>& g) const {
  if (!prob_.split) return;
  if (g.space() == MemorySpace::Device && prob_.split->sum_on_device({device_values(g.data(), g.size())})) return;
  auto all = g.to_vector(ctx_);
  split_sum(prob_.split, all);
  copy<V>(ctx_, VectorView<const V>(all), g.view());
}

// Split rows: the correlations and both scalars in one sum (p + 2 numbers), between devices where
// the split can (the correlations stay put), else through the host.
template <class V>
void DesignOperator<V>::sum_certificate(Array<V>& g, double& a2, double& a1) const {
  if (g.space() == MemorySpace::Device) {
    if (split_scalars_.size() != 2) split_scalars_ = Array<double>(ctx_, 2, MemorySpace::Device);
    const double scalars[2] = {a2, a1};
    copy<double>(ctx_, VectorView<const double>(scalars, 2), split_scalars_.view());
    if (prob_.split->sum_on_device({device_values(g.data(), g.size()), device_values(split_scalars_.data(), 2)})) {
      const auto sums = split_scalars_.to_vector(ctx_);
      a2 = sums[0];
      a1 = sums[1];
      return;
    }
  }
  auto all = g.to_vector(ctx_);
  std::vector<double> sums(all.begin(), all.end());
  sums.push_back(a2);
  sums.push_back(a1);
  prob_.sum_rows(sums.data(), sums.size());
  for (index_t j = 0; j < p_; ++j) all[j] = static_cast<V>(sums[j]);
  copy<V>(ctx_, VectorView<const V>(all), g.view());
  a2 = sums[p_];
  a1 = sums[p_ + 1];
}

template <class V>
double DesignOperator<V>::certify(double lambda, const UnpenalizedSolver& unpen, const Array<V>& beta, Array<V>& u,
                                  Array<V>& g, Solution& out) const {
  apply(beta.view(), u.view());
  dispatch::axpby<V>(ctx_, V(1), yh_.view(), V(-1), u.view());
  const double dn = prob_.total_rows();
  apply_transpose(u.view(), static_cast<V>(1.0 / dn), g.view());
  double a2 = static_cast<double>(dispatch::dot<V>(ctx_, u.view(), u.view())) / dn;
  double a1 = static_cast<double>(dispatch::dot<V>(ctx_, yh_.view(), u.view())) / dn;
  if (prob_.split) sum_certificate(g, a2, a1);
  const auto args = dual_args(lambda, prob_.alpha, prob_.positive);
  if (unpen.size() == 0) {  // on the device: one reduction for the penalty and the dual's terms
    const auto terms = SHRINK_DISPATCH(ctx_, lasso_dual_terms, ctx_, p_, g.data(), beta.data(), dual_factors_.data(), args);
    set_certificate(out, lambda, prob_.alpha, a2, terms, a1, a2, prob_.kkt_scale);
    return a2;
  }
  // Project the unpenalized columns out of the residual, r' = r - Z_U t (UnpenalizedSolver::step),
  // from the correlations and G_{:,U}: the primal stays at beta, only the dual point moves.
  const auto gv = g.to_vector(ctx_), bv = beta.to_vector(ctx_);
  std::vector<double> c(gv.begin(), gv.end()), b(bv.begin(), bv.end());
  const std::size_t k = unpen.size();
  std::vector<double> cu(k), current(k);
  for (std::size_t a = 0; a < k; ++a) {
    cu[a] = c[prob_.unpenalized[a]];
    current[a] = b[prob_.unpenalized[a]];
  }
  const auto t = unpen.step(cu, current, prob_.positive);
  double a1p = a1, a2p = a2, tgt = 0;
  for (std::size_t a = 0; a < k; ++a) {
    a1p -= q_u_[a] * t[a];
    a2p -= 2 * t[a] * cu[a];
    for (std::size_t e = 0; e < k; ++e) tgt += t[a] * unpen.gram(a, e) * t[e];
    const double* col = gram_u_.data() + a * static_cast<std::size_t>(p_);
    for (index_t j = 0; j < p_; ++j) c[j] -= t[a] * col[j];
  }
  a2p = std::max(a2p + tgt, 0.0);
  kernels::LassoDualTerms terms;
  for (index_t j = 0; j < p_; ++j)
    if (prob_.usable(j)) kernels::accumulate_dual_terms(terms, c[j], b[j], prob_.factors[j], args);
  set_certificate(out, lambda, prob_.alpha, a2, terms, a1p, a2p, prob_.kkt_scale);
  return a2;
}

template <class V>
std::vector<double> DesignOperator<V>::null_gradient(const UnpenalizedSolver& unpen,
                                                     std::vector<double>& beta_unpenalized) const {
  Array<V> g(ctx_, static_cast<std::size_t>(p_), ctx_.memory_space());
  apply_transpose(yh_.view(), static_cast<V>(1.0 / prob_.total_rows()), g.view());
  const auto gv = g.to_vector(ctx_);
  std::vector<double> c(gv.begin(), gv.end());
  prob_.sum_rows(c.data(), c.size());
  beta_unpenalized.clear();
  const std::size_t k = unpen.size();
  if (k == 0) return c;
  std::vector<double> cu(k);
  for (std::size_t a = 0; a < k; ++a) cu[a] = c[prob_.unpenalized[a]];
  beta_unpenalized = unpen.step(cu, std::vector<double>(k, 0.0), prob_.positive);
  for (std::size_t a = 0; a < k; ++a) {
    const double* col = gram_u_.data() + a * static_cast<std::size_t>(p_);
    for (index_t j = 0; j < p_; ++j) c[j] -= beta_unpenalized[a] * col[j];
  }
  return c;
}

template <class V>
std::vector<double> DesignOperator<V>::unpenalized_gram() const {
  const std::size_t k = prob_.unpenalized.size();
  std::vector<double> g(k * k);
  for (std::size_t a = 0; a < k; ++a)
    for (std::size_t b = 0; b < k; ++b) g[a * k + b] = gram_u_[a * static_cast<std::size_t>(p_) + prob_.unpenalized[b]];
  return g;
}

template <class V>
void DesignOperator<V>::gather_columns(const index_t* cols, index_t first, DenseView<V> dst) const {
  // dst column-major (rows x k) is the row-major k x rows block the row gathers write.
  const DenseView<V> out(dst.data, dst.cols, dst.rows, dst.ld, Layout::RowMajor, dst.space);
  if (x_.sparse) {
    x_.with_transposed([&](const auto& xt) { SHRINK_DISPATCH(ctx_, csr_gather_rows_dense, ctx_, xt, cols, first, out); });
  } else {
    // X column-major n x p is X^T row-major p x n; its rows are the columns.
    const DenseView<const V> rows(x_.dense.data + first, p_, dst.rows, x_.dense.ld, Layout::RowMajor, dst.space);
    SHRINK_DISPATCH(ctx_, gather_rows, ctx_, rows, cols, out);
  }
}

template <class V>
void DesignOperator<V>::unpenalized_columns() {
  const auto space = ctx_.memory_space();
  const std::size_t k = prob_.unpenalized.size(), np = static_cast<std::size_t>(p_);
  gram_u_.assign(k * np, 0.0);
  q_u_.assign(k, 0.0);
  Array<V> z(ctx_, static_cast<std::size_t>(n_), space), column(ctx_, np, space);
  const double dn = prob_.total_rows();
  for (std::size_t a = 0; a < k; ++a) {
    const index_t j = prob_.unpenalized[a];
    const auto index = upload(ctx_, std::vector<index_t>{j});
    const DenseView<V> zj(z.data(), n_, 1, std::max<index_t>(n_, 1), Layout::ColMajor, space);
    gather_columns(index.data(), 0, zj);
    SHRINK_DISPATCH(ctx_, center_scale_columns, ctx_, zj, sqw_.data(), mu_.data() + j, inv_s_.data() + j);
    apply_transpose(z.view(), static_cast<V>(1.0 / dn), column.view());  // Z^T z_j / n
    const auto c = column.to_vector(ctx_);
    std::copy(c.begin(), c.end(), gram_u_.begin() + static_cast<std::ptrdiff_t>(a * np));
    q_u_[a] = static_cast<double>(dispatch::dot<V>(ctx_, z.view(), yh_.view())) / dn;
  }
  prob_.sum_rows(gram_u_.data(), gram_u_.size());
  prob_.sum_rows(q_u_.data(), q_u_.size());
}

#define SHRINK_INSTANTIATE_DESIGN_OPERATOR(V) template class DesignOperator<V>;
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_DESIGN_OPERATOR)

}  // namespace shrink::lasso_detail
