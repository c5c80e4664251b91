// Public kernels. Each call validates its arguments, then runs on the context's backend. All data
// must already live in the context's memory space (transfers are explicit: Array::copy_to).
// Results are deterministic run to run: no floating-point atomics anywhere on these paths.
#pragma once
#include <memory>
#include <type_traits>

#include "shrink/matrix.hpp"

namespace shrink {

// Input views are not used for template deduction (V comes from alpha, A or the output), so a
// VectorView<double> or DenseView<double> can be passed where a const view is read.
template <class T>
using In = std::type_identity_t<T>;


enum class SpmvAlgorithm {
  Auto,       // our kernel (CPU: nnz-balanced rows; CUDA: merge-path)
  MergePath,  // CUDA merge-path kernel (same as Auto on the CPU)
  Cusparse,      // cuSPARSE generic SpMV, CUSPARSE_SPMV_CSR_ALG1 (CUDA only; a baseline)
  CusparseAlg2,  // cuSPARSE generic SpMV, CUSPARSE_SPMV_CSR_ALG2 (deterministic; a baseline;
                 // transposed, it runs forward on A^T built each call)
};
const char* to_string(SpmvAlgorithm algorithm) noexcept;

// ---- sparse products ------------------------------------------------------------------------------
// y = alpha * op(A) * x + beta * y. beta == 0 overwrites y (NaN in y does not propagate); alpha == 0
// reads neither A nor x (BLAS convention: y = beta * y, so an Inf in x does not make a NaN).
// op = Transpose on a plain CSR runs a deterministic transpose kernel (CUDA builds A^T in the
// workspace each call); for repeated transposed products keep a SparseOperator, which builds A^T once.
template <class V, class I>
void spmv(const Context& ctx, Op op, V alpha, const CsrView<V, I>& a, In<VectorView<const V>> x, V beta,
          VectorView<V> y, SpmvAlgorithm algorithm = SpmvAlgorithm::Auto);
// y = alpha * A * x + beta * y for A in CSC form.
template <class V, class I>
void spmv(const Context& ctx, V alpha, const CscMatrix<V, I>& a, In<VectorView<const V>> x, V beta,
          VectorView<V> y, SpmvAlgorithm algorithm = SpmvAlgorithm::Auto);

// C = alpha * A * B + beta * C with B, C dense (either layout).
template <class V, class I>
void spmm(const Context& ctx, V alpha, const CsrView<V, I>& a, In<DenseView<const V>> b, V beta,
          DenseView<V> c);

// A CSR matrix in the context's memory space with its transpose built once on first use, so that
// A*x and A^T*x both run the forward kernel.
template <class V, class I>
class SparseOperator {
 public:
  SparseOperator(const Context& ctx, const CsrMatrix<V, I>& a);  // copies A into ctx's space
  index_t rows() const noexcept { return a_.rows(); }
  index_t cols() const noexcept { return a_.cols(); }
  void apply(Op op, V alpha, VectorView<const V> x, V beta, VectorView<V> y,
             SpmvAlgorithm algorithm = SpmvAlgorithm::Auto) const;
  const CsrMatrix<V, I>& matrix() const noexcept { return a_; }
  const CsrMatrix<V, I>& transposed() const;  // builds A^T on first call

 private:
  const Context* ctx_;
  CsrMatrix<V, I> a_;
  mutable std::unique_ptr<CsrMatrix<V, I>> at_;
};

// Builds A^T on the context's backend (CUDA: a stable device sort; the result is deterministic).
template <class V, class I>
CsrMatrix<V, I> transpose(const Context& ctx, const CsrMatrix<V, I>& a);

// ---- dense products (BLAS / cuBLAS) ---------------------------------------------------------------
template <class V>
void gemv(const Context& ctx, Op op, V alpha, In<DenseView<const V>> a, In<VectorView<const V>> x, V beta,
          VectorView<V> y);
template <class V>
void gemm(const Context& ctx, Op op_a, Op op_b, V alpha, In<DenseView<const V>> a,
          In<DenseView<const V>> b, V beta, DenseView<V> c);

// C = alpha * A^T A + beta * C (SYRK, half the work of gemm). beta reads C's lower triangle (i >= j,
// in C's own order, on every backend), as if C were that symmetric matrix; both triangles of the
// result are written.
template <class V>
void gram(const Context& ctx, V alpha, In<DenseView<const V>> a, V beta, DenseView<V> c);

// ---- proximal steps (one pass over memory each) ------------------------------------------------------
// The penalty r(x) = sum_j w_j * (l1 * |x_j| + l2/2 * x_j^2) with optional x >= 0.
template <class V>
struct Penalty {
  V l1 = 0;                          // l1 weight (lambda * alpha)
  V l2 = 0;                          // l2 weight (lambda * (1 - alpha))
  VectorView<const V> factors = {};  // per-coordinate w_j >= 0; empty means all ones
  bool positive = false;
};

// x = prox_{r}(v): x_j = S(v_j, l1*w_j) / (1 + l2*w_j), clipped at 0 when positive. With l2 = 0 this
// is the soft-threshold S(v, t) = sign(v) * max(|v| - t, 0). x may alias v.
template <class V>
void prox(const Context& ctx, In<VectorView<const V>> v, const Penalty<V>& penalty, VectorView<V> x);
template <class V>
void soft_threshold(const Context& ctx, In<VectorView<const V>> v, V threshold,
                    In<VectorView<const V>> factors, bool positive, VectorView<V> x);
// Proximal-gradient step x = prox_{step*r}(v - step * g). x may alias v.
template <class V>
void prox_grad_step(const Context& ctx, In<VectorView<const V>> v, In<VectorView<const V>> g, V step,
                    const Penalty<V>& penalty, VectorView<V> x);
// Fused FISTA step: x_new = prox_{step*r}(y - step*g); y = x_new + momentum*(x_new - x); x = x_new.
template <class V>
void fista_step(const Context& ctx, VectorView<V> y, In<VectorView<const V>> g, VectorView<V> x, V step,
                const Penalty<V>& penalty, V momentum);
// FISTA extrapolation alone: y = x_new + momentum * (x_new - x_old).
template <class V>
void extrapolate(const Context& ctx, In<VectorView<const V>> x_new, In<VectorView<const V>> x_old,
                 V momentum, VectorView<V> y);

// y = alpha * x + beta * y; beta == 0 overwrites y.
template <class V>
void axpby(const Context& ctx, V alpha, In<VectorView<const V>> x, V beta, VectorView<V> y);

// ---- reductions (deterministic; results returned to the host) ----------------------------------------
template <class V> V dot(const Context& ctx, VectorView<const V> x, VectorView<const V> y);
template <class V> V nrm2(const Context& ctx, VectorView<const V> x);  // no overflow/underflow
template <class V> V amax(const Context& ctx, VectorView<const V> x);  // max |x_i|, 0 when empty
template <class V> V sum(const Context& ctx, VectorView<const V> x);
// Number of NaN/Inf entries (used to validate device-resident inputs).
template <class V> index_t count_nonfinite(const Context& ctx, VectorView<const V> x);
// The same on mutable views.
template <class V> requires(!std::is_const_v<V>)
V dot(const Context& ctx, VectorView<V> x, VectorView<V> y) {
  return dot<V>(ctx, VectorView<const V>(x), VectorView<const V>(y));
}
template <class V> requires(!std::is_const_v<V>)
V nrm2(const Context& ctx, VectorView<V> x) { return nrm2<V>(ctx, VectorView<const V>(x)); }
template <class V> requires(!std::is_const_v<V>)
V amax(const Context& ctx, VectorView<V> x) { return amax<V>(ctx, VectorView<const V>(x)); }
template <class V> requires(!std::is_const_v<V>)
V sum(const Context& ctx, VectorView<V> x) { return sum<V>(ctx, VectorView<const V>(x)); }
template <class V> requires(!std::is_const_v<V>)
index_t count_nonfinite(const Context& ctx, VectorView<V> x) {
  return count_nonfinite<V>(ctx, VectorView<const V>(x));
}

}  // namespace shrink
