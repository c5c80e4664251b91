// Public kernels: validate at the boundary, then dispatch to the CPU or CUDA twin.
#include "shrink/ops.hpp"

#include <climits>
#include <cstdint>

#include "host/core/dispatch.hpp"
#include "host/core/validate.hpp"

namespace shrink {

const char* to_string(SpmvAlgorithm algorithm) noexcept {
  switch (algorithm) {
    case SpmvAlgorithm::Auto: return "auto";
    case SpmvAlgorithm::MergePath: return "merge-path";
    case SpmvAlgorithm::Cusparse: return "cusparse";
    case SpmvAlgorithm::CusparseAlg2: return "cusparse-alg2";
  }
  return "?";
}

namespace {

using detail::check_space;
using detail::check_vector_size;
using detail::check_vec;
using detail::check_dense;
using detail::check_scalar;

template <class V, class I>
void check_csr(const Context& ctx, const CsrView<V, I>& a, const char* name) {
  check_space(a.space, ctx, name);
  if (a.rows < 0 || a.cols < 0 || a.nnz < 0)
    throw InvalidArgument(std::string(name) + ": negative size " + detail::shape(a.rows, a.cols) +
                          " nnz " + std::to_string(a.nnz));
  detail::check_fits_index<I>(a.rows, std::string(name) + " rows");
  detail::check_fits_index<I>(a.cols, std::string(name) + " cols");
  detail::check_fits_index<I>(a.nnz, std::string(name) + " nnz");
}

void check_blas_dim(index_t n, const char* what) {
  if (n > INT_MAX)
    throw IndexOverflow(std::string(what) + " = " + std::to_string(n) +
                        " exceeds the 32-bit BLAS limit");
}

template <class V>
kernels::ProxArgs<V> prox_args(const Context& ctx, const Penalty<V>& p, V scale, index_t n) {
  if (!(p.l1 >= V(0)) || !(p.l2 >= V(0)) || !std::isfinite(p.l1) || !std::isfinite(p.l2))
    throw InvalidArgument("penalty weights must be finite and >= 0, got l1 = " +
                          std::to_string(p.l1) + ", l2 = " + std::to_string(p.l2));
  if (!p.factors.empty()) check_vec(ctx, p.factors, n, "penalty factors", "the coefficient vector");
  return {p.l1 * scale, p.l2 * scale, p.factors.empty() ? nullptr : p.factors.data, p.positive};
}


}  // namespace

// ---- sparse products ------------------------------------------------------------------------------
template <class V, class I>
void spmv(const Context& ctx, Op op, V alpha, const CsrView<V, I>& a, In<VectorView<const V>> x, V beta,
          VectorView<V> y, SpmvAlgorithm algorithm) {
  check_csr(ctx, a, "A");
  check_scalar(alpha, "alpha");
  check_scalar(beta, "beta");
  const bool t = op == Op::Transpose;
  const std::string shape = "a " + detail::shape(a.rows, a.cols) + (t ? " A^T*x" : " A*x");
  check_vec(ctx, x, t ? a.rows : a.cols, "x", shape);
  check_vec(ctx, y, t ? a.cols : a.rows, "y", shape);
  if (algorithm == SpmvAlgorithm::Cusparse || algorithm == SpmvAlgorithm::CusparseAlg2) {
    detail::cusparse_spmv(ctx, algorithm == SpmvAlgorithm::CusparseAlg2, op, alpha, a, x.data, beta, y.data);
    return;
  }
  void* ws = ctx.workspace(SHRINK_DISPATCH(ctx, csr_spmv_workspace, ctx, a, op));
  if (t) {
    SHRINK_DISPATCH(ctx, csr_spmv_transpose, ctx, alpha, a, x.data, beta, y.data, ws);
  } else {
    SHRINK_DISPATCH(ctx, csr_spmv, ctx, alpha, a, x.data, beta, y.data, ws);
  }
}

template <class V, class I>
void spmv(const Context& ctx, V alpha, const CscMatrix<V, I>& a, In<VectorView<const V>> x, V beta,
          VectorView<V> y, SpmvAlgorithm algorithm) {
  spmv(ctx, Op::Transpose, alpha, a.transposed().view(), x, beta, y, algorithm);
}

template <class V, class I>
void spmm(const Context& ctx, V alpha, const CsrView<V, I>& a, In<DenseView<const V>> b, V beta,
          DenseView<V> c) {
  check_csr(ctx, a, "A");
  check_dense(ctx, b, "B");
  check_dense(ctx, c, "C");
  check_scalar(alpha, "alpha");
  check_scalar(beta, "beta");
  if (b.rows != a.cols || c.rows != a.rows || c.cols != b.cols)
    throw DimensionMismatch("spmm: A is " + detail::shape(a.rows, a.cols) + ", B is " +
                            detail::shape(b.rows, b.cols) + ", C is " +
                            detail::shape(c.rows, c.cols));
  SHRINK_DISPATCH(ctx, csr_spmm, ctx, alpha, a, b, beta, c);
}

template <class V, class I>
CsrMatrix<V, I> transpose(const Context& ctx, const CsrMatrix<V, I>& a) {
  check_csr(ctx, a.view(), "A");
  Array<I> rp(ctx, static_cast<std::size_t>(a.cols()) + 1, ctx.memory_space());
  Array<I> ci(ctx, static_cast<std::size_t>(a.nnz()), ctx.memory_space());
  Array<V> vals(ctx, static_cast<std::size_t>(a.nnz()), ctx.memory_space());
  SHRINK_DISPATCH(ctx, csr_transpose, ctx, a.view(), rp.data(), ci.data(), vals.data());
  return CsrMatrix<V, I>::adopt(a.cols(), a.rows(), std::move(rp), std::move(ci), std::move(vals));
}

template <class V, class I>
SparseOperator<V, I>::SparseOperator(const Context& ctx, const CsrMatrix<V, I>& a)
    : ctx_(&ctx), a_(a.copy_to(ctx, ctx.memory_space())) {}

template <class V, class I>
const CsrMatrix<V, I>& SparseOperator<V, I>::transposed() const {
  if (!at_) at_ = std::make_unique<CsrMatrix<V, I>>(transpose(*ctx_, a_));
  return *at_;
}

template <class V, class I>
void SparseOperator<V, I>::apply(Op op, V alpha, VectorView<const V> x, V beta, VectorView<V> y,
                                 SpmvAlgorithm algorithm) const {
  const auto& m = op == Op::NoTranspose ? a_ : transposed();
  spmv(*ctx_, Op::NoTranspose, alpha, m.view(), x, beta, y, algorithm);
}

// ---- dense products --------------------------------------------------------------------------------
template <class V>
void gemv(const Context& ctx, Op op, V alpha, In<DenseView<const V>> a, In<VectorView<const V>> x, V beta,
          VectorView<V> y) {
  check_dense(ctx, a, "A");
  check_blas_dim(a.rows, "A rows");
  check_blas_dim(a.cols, "A cols");
  check_blas_dim(a.ld, "A leading dimension");
  const bool t = op == Op::Transpose;
  const std::string shape = "a " + detail::shape(a.rows, a.cols) + (t ? " A^T*x" : " A*x");
  check_vec(ctx, x, t ? a.rows : a.cols, "x", shape);
  check_vec(ctx, y, t ? a.cols : a.rows, "y", shape);
  SHRINK_DISPATCH(ctx, gemv, ctx, op, alpha, a, x.data, beta, y.data);
}

template <class V>
void gemm(const Context& ctx, Op op_a, Op op_b, V alpha, In<DenseView<const V>> a, In<DenseView<const V>> b,
          V beta, DenseView<V> c) {
  check_dense(ctx, a, "A");
  check_dense(ctx, b, "B");
  check_dense(ctx, c, "C");
  for (index_t d : {a.rows, a.cols, a.ld, b.rows, b.cols, b.ld, c.rows, c.cols, c.ld})
    check_blas_dim(d, "gemm dimension");
  const index_t ar = op_a == Op::NoTranspose ? a.rows : a.cols;
  const index_t ac = op_a == Op::NoTranspose ? a.cols : a.rows;
  const index_t br = op_b == Op::NoTranspose ? b.rows : b.cols;
  const index_t bc = op_b == Op::NoTranspose ? b.cols : b.rows;
  if (ac != br || c.rows != ar || c.cols != bc)
    throw DimensionMismatch("gemm: op(A) is " + detail::shape(ar, ac) + ", op(B) is " +
                            detail::shape(br, bc) + ", C is " + detail::shape(c.rows, c.cols));
  SHRINK_DISPATCH(ctx, gemm, ctx, op_a, op_b, alpha, a, b, beta, c);
}

template <class V>
void gram(const Context& ctx, V alpha, In<DenseView<const V>> a, V beta, DenseView<V> c) {
  check_dense(ctx, a, "A");
  check_dense(ctx, c, "C");
  for (index_t d : {a.rows, a.cols, a.ld, c.rows, c.cols, c.ld}) check_blas_dim(d, "gram dimension");
  if (c.rows != a.cols || c.cols != a.cols)
    throw DimensionMismatch("gram: A is " + detail::shape(a.rows, a.cols) + " so C = A^T A must be " +
                            detail::shape(a.cols, a.cols) + ", got " + detail::shape(c.rows, c.cols));
  check_scalar(alpha, "alpha");
  check_scalar(beta, "beta");
  SHRINK_DISPATCH(ctx, gram, ctx, alpha, a, beta, c);
}

// ---- proximal steps -------------------------------------------------------------------------------
template <class V>
void prox(const Context& ctx, In<VectorView<const V>> v, const Penalty<V>& penalty, VectorView<V> x) {
  check_vec(ctx, v, v.size, "v", "");
  check_vec(ctx, x, v.size, "x", "v");
  const auto p = prox_args(ctx, penalty, V(1), v.size);
  SHRINK_DISPATCH(ctx, prox, ctx, v.size, v.data, p, x.data);
}

template <class V>
void soft_threshold(const Context& ctx, In<VectorView<const V>> v, V threshold,
                    In<VectorView<const V>> factors, bool positive, VectorView<V> x) {
  prox(ctx, v, Penalty<V>{threshold, V(0), factors, positive}, x);
}

template <class V>
void prox_grad_step(const Context& ctx, In<VectorView<const V>> v, In<VectorView<const V>> g, V step,
                    const Penalty<V>& penalty, VectorView<V> x) {
  check_vec(ctx, v, v.size, "v", "");
  check_vec(ctx, g, v.size, "g", "v");
  check_vec(ctx, x, v.size, "x", "v");
  if (!(step > V(0)) || !std::isfinite(step))
    throw InvalidArgument("step must be finite and > 0, got " + std::to_string(step));
  const auto p = prox_args(ctx, penalty, step, v.size);
  SHRINK_DISPATCH(ctx, prox_grad_step, ctx, v.size, v.data, g.data, step, p, x.data);
}

template <class V>
void fista_step(const Context& ctx, VectorView<V> y, In<VectorView<const V>> g, VectorView<V> x, V step,
                const Penalty<V>& penalty, V momentum) {
  check_vec(ctx, y, y.size, "y", "");
  check_vec(ctx, g, y.size, "g", "y");
  check_vec(ctx, x, y.size, "x", "y");
  if (!(step > V(0)) || !std::isfinite(step))
    throw InvalidArgument("step must be finite and > 0, got " + std::to_string(step));
  check_scalar(momentum, "momentum");
  const auto p = prox_args(ctx, penalty, step, y.size);
  SHRINK_DISPATCH(ctx, fista_step, ctx, y.size, y.data, g.data, x.data, step, p, momentum);
}

template <class V>
void extrapolate(const Context& ctx, In<VectorView<const V>> x_new, In<VectorView<const V>> x_old,
                 V momentum, VectorView<V> y) {
  check_vec(ctx, x_new, x_new.size, "x_new", "");
  check_vec(ctx, x_old, x_new.size, "x_old", "x_new");
  check_vec(ctx, y, x_new.size, "y", "x_new");
  check_scalar(momentum, "momentum");
  SHRINK_DISPATCH(ctx, extrapolate, ctx, x_new.size, x_new.data, x_old.data, momentum, y.data);
}

template <class V>
void axpby(const Context& ctx, V alpha, In<VectorView<const V>> x, V beta, VectorView<V> y) {
  check_vec(ctx, x, x.size, "x", "");
  check_vec(ctx, y, x.size, "y", "x");
  check_scalar(alpha, "alpha");
  check_scalar(beta, "beta");
  SHRINK_DISPATCH(ctx, axpby, ctx, x.size, alpha, x.data, beta, y.data);
}

// ---- reductions -----------------------------------------------------------------------------------
template <class V>
V dot(const Context& ctx, VectorView<const V> x, VectorView<const V> y) {
  check_vec(ctx, x, x.size, "x", "");
  check_vec(ctx, y, x.size, "y", "x");
  return SHRINK_DISPATCH(ctx, dot, ctx, x.size, x.data, y.data);
}
template <class V>
V nrm2(const Context& ctx, VectorView<const V> x) {
  check_vec(ctx, x, x.size, "x", "");
  return SHRINK_DISPATCH(ctx, nrm2, ctx, x.size, x.data);
}
template <class V>
V amax(const Context& ctx, VectorView<const V> x) {
  check_vec(ctx, x, x.size, "x", "");
  return SHRINK_DISPATCH(ctx, amax, ctx, x.size, x.data);
}
template <class V>
V sum(const Context& ctx, VectorView<const V> x) {
  check_vec(ctx, x, x.size, "x", "");
  return SHRINK_DISPATCH(ctx, sum, ctx, x.size, x.data);
}
template <class V>
index_t count_nonfinite(const Context& ctx, VectorView<const V> x) {
  check_vec(ctx, x, x.size, "x", "");
  return SHRINK_DISPATCH(ctx, count_nonfinite, ctx, x.size, x.data);
}

#define SHRINK_INSTANTIATE_V(V)                                                                    \
  template void gemv<V>(const Context&, Op, V, DenseView<const V>, VectorView<const V>, V,         \
                        VectorView<V>);                                                            \
  template void gemm<V>(const Context&, Op, Op, V, DenseView<const V>, DenseView<const V>, V,      \
                        DenseView<V>);                                                             \
  template void gram<V>(const Context&, V, DenseView<const V>, V, DenseView<V>);                   \
  template void prox<V>(const Context&, VectorView<const V>, const Penalty<V>&, VectorView<V>);    \
  template void soft_threshold<V>(const Context&, VectorView<const V>, V, VectorView<const V>,     \
                                  bool, VectorView<V>);                                            \
  template void prox_grad_step<V>(const Context&, VectorView<const V>, VectorView<const V>, V,     \
                                  const Penalty<V>&, VectorView<V>);                               \
  template void fista_step<V>(const Context&, VectorView<V>, VectorView<const V>, VectorView<V>,   \
                              V, const Penalty<V>&, V);                                            \
  template void extrapolate<V>(const Context&, VectorView<const V>, VectorView<const V>, V,        \
                               VectorView<V>);                                                     \
  template void axpby<V>(const Context&, V, VectorView<const V>, V, VectorView<V>);                \
  template V dot<V>(const Context&, VectorView<const V>, VectorView<const V>);                     \
  template V nrm2<V>(const Context&, VectorView<const V>);                                         \
  template V amax<V>(const Context&, VectorView<const V>);                                         \
  template V sum<V>(const Context&, VectorView<const V>);                                          \
  template index_t count_nonfinite<V>(const Context&, VectorView<const V>);
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_V)
#undef SHRINK_INSTANTIATE_V

#define SHRINK_INSTANTIATE_VI(V, I)                                                                \
  template void spmv<V, I>(const Context&, Op, V, const CsrView<V, I>&, VectorView<const V>, V,    \
                           VectorView<V>, SpmvAlgorithm);                                          \
  template void spmv<V, I>(const Context&, V, const CscMatrix<V, I>&, VectorView<const V>, V,      \
                           VectorView<V>, SpmvAlgorithm);                                          \
  template void spmm<V, I>(const Context&, V, const CsrView<V, I>&, DenseView<const V>, V,         \
                           DenseView<V>);                                                          \
  template CsrMatrix<V, I> transpose<V, I>(const Context&, const CsrMatrix<V, I>&);                \
  template class SparseOperator<V, I>;
SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE_VI)
#undef SHRINK_INSTANTIATE_VI

}  // namespace shrink
