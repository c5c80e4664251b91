// The folded design of the device solvers (see device_design.hpp).
#include "host/lasso/device_design.hpp"

#include <cmath>

#include "host/core/dispatch.hpp"
#include "kernels/ops/instantiate.hpp"
#include "host/core/validate.hpp"

namespace shrink::lasso_detail {

template <class V>
DeviceDesign<V>::DeviceDesign(const Context& ctx, const Problem<V>& prob, const UnpenalizedSolver& unpen)
    : ctx_(ctx), prob_(prob), unpen_(unpen), n_(prob.n), p_(prob.p) {
  const auto& d = *prob.x;
  const double* w = prob.weights();
  auto row_scale = [&](index_t i) { return w ? std::sqrt(w[i]) : 1.0; };
  auto col_scale = [&](index_t j) { return prob.usable(j) ? 1.0 / prob.scale[j] : 0.0; };
  if (d.sparse) {
    detail::check_fits_index<std::int32_t>(d.nnz(), "X non-zeros (the device solvers index them with 32 bits)");
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
    dense_ = xh.copy_to(ctx, ctx.memory_space());
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
}

template <class V>
void DeviceDesign<V>::apply(VectorView<const V> v, VectorView<V> u) const {
  if (sparse_) sparse_->apply(Op::NoTranspose, V(1), v, V(0), u);
  else dispatch::gemv<V>(ctx_, Op::NoTranspose, V(1), dense_.view(), v, V(0), u);
  if (prob_.intercept) dispatch::axpby<V>(ctx_, -dispatch::dot<V>(ctx_, mu_.view(), v), sqw_.view(), V(1), u);
}

template <class V>
void DeviceDesign<V>::apply_transpose(VectorView<const V> r, V alpha, VectorView<V> g) const {
  if (sparse_) sparse_->apply(Op::Transpose, alpha, r, V(0), g);
  else dispatch::gemv<V>(ctx_, Op::Transpose, alpha, dense_.view(), r, V(0), g);
  if (prob_.intercept) dispatch::axpby<V>(ctx_, -alpha * dispatch::dot<V>(ctx_, sqw_.view(), r), mu_.view(), V(1), g);
}

template <class V>
double DeviceDesign<V>::certify(double lambda, const Array<V>& beta, Array<V>& u, Array<V>& g,
                                Solution& out) const {
  apply(beta.view(), u.view());
  dispatch::axpby<V>(ctx_, V(1), yh_.view(), V(-1), u.view());
  const double dn = static_cast<double>(n_);
  apply_transpose(u.view(), static_cast<V>(1.0 / dn), g.view());
  const double a2 = static_cast<double>(dispatch::dot<V>(ctx_, u.view(), u.view())) / dn;
  if (unpen_.size() > 0) {
    const auto v = beta.to_vector(ctx_);
    const std::vector<double> b(v.begin(), v.end());
    out.objective = 0.5 * a2 + prob_.penalty(lambda, b);
    const auto uh = u.to_vector(ctx_);
    std::vector<double> r(uh.begin(), uh.end());
    const double* w = prob_.weights();
    if (w)
      for (index_t i = 0; i < n_; ++i) r[i] = w[i] > 0 ? r[i] / std::sqrt(w[i]) : 0.0;
    out.gap = out.objective - residual_dual(prob_, unpen_, lambda, r, b).value;
    return a2;
  }
  // On the device: one reduction for the penalty and the dual's terms.
  const double a1 = static_cast<double>(dispatch::dot<V>(ctx_, yh_.view(), u.view())) / dn;
  const auto terms = SHRINK_DISPATCH(ctx_, lasso_dual_terms, ctx_, p_, g.data(), beta.data(), dual_factors_.data(),
                                     dual_args(lambda, prob_.alpha, prob_.positive));
  set_certificate(out, lambda, prob_.alpha, a2, terms, a1, a2);
  return a2;
}

template <class V>
void DeviceDesign<V>::gather_columns(const index_t* cols, const V* mu_cols, index_t first, DenseView<V> dst) const {
  // dst column-major (rows x k) is the row-major k x rows block the row gathers write.
  const DenseView<V> out(dst.data, dst.cols, dst.rows, dst.ld, Layout::RowMajor, dst.space);
  if (sparse_) {
    SHRINK_DISPATCH(ctx_, csr_gather_rows_dense, ctx_, sparse_->transposed().view(), cols, first, out);
  } else {
    // Xh column-major n x p is Xh^T row-major p x n; its rows are the columns.
    const DenseView<const V> rows(dense_.data() + first, p_, dst.rows, n_, Layout::RowMajor, dst.space);
    SHRINK_DISPATCH(ctx_, gather_rows, ctx_, rows, cols, out);
  }
  if (prob_.intercept) {  // dst -= sqrt(w)[first..] mu~_cols^T (a rank-one product)
    const DenseView<const V> sw(sqw_.data() + first, dst.rows, 1, dst.rows, Layout::ColMajor, dst.space);
    const DenseView<const V> m(mu_cols, 1, dst.cols, 1, Layout::ColMajor, dst.space);
    dispatch::gemm<V>(ctx_, Op::NoTranspose, Op::NoTranspose, V(-1), sw, m, V(1), dst);
  }
}

#define SHRINK_INSTANTIATE_DEVICE_DESIGN(V) template class DeviceDesign<V>;
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_DEVICE_DESIGN)

}  // namespace shrink::lasso_detail
