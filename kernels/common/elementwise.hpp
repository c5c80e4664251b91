// The elementwise maps of the prox and optim families as host+device functors, written once: each
// twin runs them through its own for_each launcher (kernels/common/elementwise.inl).
#pragma once
#include "kernels/ops/blend.hpp"
#include "kernels/ops/optim_kernels.hpp"
#include "kernels/ops/prox_kernels.hpp"
#include "kernels/ops/prox_math.hpp"

namespace shrink::kernels {

// Coordinate i's threshold t = l1 w_i and ridge scale inv = 1 / (1 + l2 w_i). Positivity and
// whether there are factors are compile-time: without factors t and inv are hoisted, and the
// loops are branch-free (they vectorize on the CPU).
template <class V, bool Positive, bool Factors>
struct ProxScale {
  static constexpr bool positive = Positive;
  V l1, l2, t0, inv0;
  const V* w;
  SHRINK_HD void operator()(index_t i, V& t, V& inv) const {
    if constexpr (Factors) {
      t = l1 * w[i];
      inv = V(1) / (V(1) + l2 * w[i]);
    } else {
      t = t0;
      inv = inv0;
    }
  }
};

// Calls f(scale) with the ProxScale variant that matches p.
template <class V, class F>
void with_prox_scale(const ProxArgs<V>& p, F&& f) {
  const V t0 = p.l1, inv0 = V(1) / (V(1) + p.l2);
  if (p.factors) {
    if (p.positive) f(ProxScale<V, true, true>{p.l1, p.l2, t0, inv0, p.factors});
    else f(ProxScale<V, false, true>{p.l1, p.l2, t0, inv0, p.factors});
  } else {
    if (p.positive) f(ProxScale<V, true, false>{p.l1, p.l2, t0, inv0, nullptr});
    else f(ProxScale<V, false, false>{p.l1, p.l2, t0, inv0, nullptr});
  }
}

template <class V, class Scale, bool Gradient>
struct ProxMap {  // x = prox(v - step g), or x = prox(v) without the gradient step
  const V* v;
  const V* g;
  V step;
  V* x;
  Scale scale;
  SHRINK_HD void operator()(index_t i) const {
    V t, inv;
    scale(i, t, inv);
    if constexpr (Gradient) x[i] = prox_scalar<Scale::positive>(v[i] - step * g[i], t, inv);
    else x[i] = prox_scalar<Scale::positive>(v[i], t, inv);
  }
};

template <class V, class Scale>
struct FistaMap {
  V* y;
  const V* g;
  V* x;
  V step, momentum;
  Scale scale;
  SHRINK_HD void operator()(index_t i) const {
    V t, inv;
    scale(i, t, inv);
    const V x_new = prox_scalar<Scale::positive>(y[i] - step * g[i], t, inv);
    y[i] = x_new + momentum * (x_new - x[i]);
    x[i] = x_new;
  }
};

template <class V>
struct ExtrapolateMap {
  const V* x_new;
  const V* x_old;
  V momentum;
  V* y;
  SHRINK_HD void operator()(index_t i) const { y[i] = x_new[i] + momentum * (x_new[i] - x_old[i]); }
};

template <class V>
struct AxpbyMap {
  V alpha;
  const V* x;
  V beta;
  V* y;
  SHRINK_HD void operator()(index_t i) const { y[i] = blend(alpha, x[i], beta, y[i]); }
};

template <class V>
struct AdamMap {
  V* w;
  const V* g;
  V* m;
  V* v;
  AdamArgs<V> a;
  SHRINK_HD void operator()(index_t i) const { adam_update(w[i], g[i], m[i], v[i], a); }
};

template <class V>
struct SgdMap {
  V* w;
  const V* g;
  V* velocity;
  SgdArgs<V> a;
  SHRINK_HD void operator()(index_t i) const { sgd_update(w[i], g[i], velocity ? velocity + i : nullptr, a); }
};

template <class V>
struct ReluMaskMap {
  const V* a;
  V* g;
  SHRINK_HD void operator()(index_t i) const { g[i] = a[i] > V(0) ? g[i] : V(0); }
};

}  // namespace shrink::kernels

namespace shrink::kernels {

template <class V>
struct ScaleEntriesMap {  // y = s x, entry by entry (y may alias x)
  const V* s;
  const V* x;
  V* y;
  SHRINK_HD void operator()(index_t i) const { y[i] = s[i] * x[i]; }
};

// Column j's moments in double, rows in order: the weighted mean (when centering), the weighted sum
// of squared deviations from it, and the largest magnitude. Dense X in either layout.
template <class V>
struct DenseMomentsMap {
  DenseView<const V> x;
  const double* w;  // n weights, or null for ones
  bool center;
  double *mean, *dev, *biggest;
  SHRINK_HD double at(index_t i, index_t j) const {
    return static_cast<double>(x.layout == Layout::RowMajor ? x.data[i * x.ld + j] : x.data[j * x.ld + i]);
  }
  SHRINK_HD void operator()(index_t j) const {
    const index_t n = x.rows;
    double m = 0, d = 0, big = 0;
    if (center) {
      for (index_t i = 0; i < n; ++i) m += (w ? w[i] : 1.0) * at(i, j);
      m /= static_cast<double>(n);
    }
    for (index_t i = 0; i < n; ++i) {
      const double v = at(i, j), e = v - m;
      d += (w ? w[i] : 1.0) * e * e;
      big = magnitude(v) > big ? magnitude(v) : big;
    }
    mean[j] = m;
    dev[j] = d;
    biggest[j] = big;
  }
};

// The same for X in CSC (the CSR of X^T: column j is row j of xt); the implicit zeros enter the
// deviation through the weight the column's entries do not cover.
template <class V, class I>
struct CscMomentsMap {
  CsrView<V, I> xt;
  const double* w;
  bool center;
  double *mean, *dev, *biggest;
  SHRINK_HD void operator()(index_t j) const {
    const double dn = static_cast<double>(xt.cols);
    double m = 0, covered = 0, d = 0, big = 0;
    for (index_t k = xt.row_ptr[j]; k < xt.row_ptr[j + 1]; ++k) {
      const double wi = w ? w[xt.col_idx[k]] : 1.0, v = static_cast<double>(xt.values[k]);
      m += wi * v;
      covered += wi;
      big = magnitude(v) > big ? magnitude(v) : big;
    }
    m = center ? m / dn : 0.0;
    for (index_t k = xt.row_ptr[j]; k < xt.row_ptr[j + 1]; ++k) {
      const double e = static_cast<double>(xt.values[k]) - m;
      d += (w ? w[xt.col_idx[k]] : 1.0) * e * e;
    }
    // The implicit zeros, with the weight the column's entries leave uncovered. Weights sum to n
    // only up to rounding: an uncovered weight at that level is none (else a constant column would
    // pick up a spurious variance of rounding noise times m^2).
    const double uncovered = dn - covered;
    d += (uncovered > 1e-10 * dn ? uncovered : 0.0) * m * m;
    mean[j] = m;
    dev[j] = d;
    biggest[j] = big;
  }
};

// b(i, t) = row_scale_i (b(i, t) - shift_t) col_scale_t on a column-major block (null: 1 or 0).
template <class V>
struct CenterScaleMap {
  DenseView<V> b;
  const V* row_scale;
  const V* shift;
  const V* col_scale;
  SHRINK_HD void operator()(index_t e) const {
    const index_t i = e % b.rows, t = e / b.rows;
    V& v = b.data[t * b.ld + i];
    const V centered = shift ? v - shift[t] : v;
    v = (row_scale ? row_scale[i] : V(1)) * centered * (col_scale ? col_scale[t] : V(1));
  }
};

template <class V>
struct WidenMap {  // y = double(x)
  const V* x;
  double* y;
  SHRINK_HD void operator()(index_t i) const { y[i] = static_cast<double>(x[i]); }
};

template <class V>
struct CopyDenseMap {  // dst(i, j) = src(i, j), any layouts
  DenseView<const V> src;
  DenseView<V> dst;
  SHRINK_HD void operator()(index_t e) const {
    const index_t i = e / src.cols, j = e % src.cols;
    const V v = src.layout == Layout::RowMajor ? src.data[i * src.ld + j] : src.data[j * src.ld + i];
    (dst.layout == Layout::RowMajor ? dst.data[i * dst.ld + j] : dst.data[j * dst.ld + i]) = v;
  }
};

}  // namespace shrink::kernels
