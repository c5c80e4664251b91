// CPU twins of the sparse-autoencoder kernels: one pass each, OpenMP over rows (samples or
// latents), so every output has one writer and a fixed summation order (deterministic).
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <vector>

#include "kernels/ops/counter_rng.hpp"
#include "kernels/cpu/launch.hpp"
#include "kernels/ops/sae_kernels.hpp"

namespace shrink::kernels::cpu {

namespace {

constexpr index_t kGrain = 16384;  // elementwise work: cheaper per item than SpMV's

template <class V>
V* row(DenseView<V> m, index_t i) {
  return m.data + i * m.ld;
}

template <class V>
V sigmoid(V z) {
  return V(1) / (V(1) + std::exp(-z));
}

template <Activation F, class V>
inline V activate(V z) {
  if constexpr (F == Activation::Relu) return z > V(0) ? z : V(0);
  else if constexpr (F == Activation::Sigmoid) return sigmoid(z);
  else return z;
}

template <Activation F, class V>
inline V derivative_from_output(V h) {
  if constexpr (F == Activation::Relu) return h > V(0) ? V(1) : V(0);
  else if constexpr (F == Activation::Sigmoid) return h * (V(1) - h);
  else return V(1);
}

// Calls body.template operator()<F>() with the activation as a compile-time constant, so that the
// element loops vectorize.
template <class Body>
void with_activation(Activation f, Body&& body) {
  switch (f) {
    case Activation::Relu: body.template operator()<Activation::Relu>(); break;
    case Activation::Sigmoid: body.template operator()<Activation::Sigmoid>(); break;
    case Activation::Identity: body.template operator()<Activation::Identity>(); break;
  }
}

// Per-latent sums over rows in a fixed order: each thread owns a slice of the columns.
template <class V, class F>
void for_column_slices(const Context& ctx, index_t rows, index_t cols, F&& body) {
  const int t = threads_for(ctx, rows * cols, kGrain);
#pragma omp parallel num_threads(t)
  {
    const int n = omp_get_num_threads(), id = omp_get_thread_num();
    const index_t per = (cols + n - 1) / n;
    const index_t begin = std::min(cols, id * per), end = std::min(cols, begin + per);
    if (begin < end) body(begin, end);
  }
}

// Key order of the TopK selection: larger value first, then the lower column.
template <class V>
bool ranks_before(V a, std::int32_t ia, V b, std::int32_t ib) {
  return a > b || (a == b && ia < ib);
}

}  // namespace

template <class V>
void broadcast_add(const Context& ctx, DenseView<const V> a, V alpha, const V* v, DenseView<V> out) {
#pragma omp parallel for num_threads(threads_for(ctx, a.rows * a.cols, kGrain))
  for (index_t i = 0; i < a.rows; ++i) {
    const V* src = a.data + i * a.ld;
    V* dst = row(out, i);
#pragma omp simd
    for (index_t j = 0; j < a.cols; ++j) dst[j] = src[j] + alpha * v[j];
  }
}

template <class V>
void bias_activation(const Context& ctx, DenseView<V> z, const V* bias, Activation f) {
  const std::vector<V> zeros(bias ? 0 : static_cast<std::size_t>(z.cols), V(0));
  const V* b = bias ? bias : zeros.data();
  with_activation(f, [&]<Activation F>() {
#pragma omp parallel for num_threads(threads_for(ctx, z.rows * z.cols, kGrain))
    for (index_t i = 0; i < z.rows; ++i) {
      V* r = row(z, i);
#pragma omp simd
      for (index_t j = 0; j < z.cols; ++j) r[j] = activate<F>(r[j] + b[j]);
    }
  });
}

template <class V>
void activation_backward(const Context& ctx, DenseView<const V> h, const V* term, Activation f, DenseView<V> g) {
  const std::vector<V> zeros(term ? 0 : static_cast<std::size_t>(h.cols), V(0));
  const V* t = term ? term : zeros.data();
  with_activation(f, [&]<Activation F>() {
#pragma omp parallel for num_threads(threads_for(ctx, h.rows * h.cols, kGrain))
    for (index_t i = 0; i < h.rows; ++i) {
      const V* hr = h.data + i * h.ld;
      V* gr = row(g, i);
#pragma omp simd
      for (index_t j = 0; j < h.cols; ++j) gr[j] = (gr[j] + t[j]) * derivative_from_output<F>(hr[j]);
    }
  });
}

template <class V>
V kl_penalty(const Context&, index_t latents, const V* sums, index_t rows, V rho, V beta, V scale, V* term) {
  // rho_hat is kept inside (eps, 1 - eps) so that a saturated latent gives a large, finite penalty.
  const V eps = std::numeric_limits<V>::epsilon();
  double kl = 0;
  for (index_t j = 0; j < latents; ++j) {
    const V r = std::clamp(sums[j] / V(std::max<index_t>(rows, 1)), eps, V(1) - eps);
    kl += double(rho) * std::log(double(rho) / r) + (1 - double(rho)) * std::log((1 - double(rho)) / (1 - double(r)));
    term[j] = scale * beta * (-rho / r + (V(1) - rho) / (V(1) - r));
  }
  return V(double(beta) * kl);
}

template <class V>
void topk_rows(const Context& ctx, DenseView<const V> z, index_t k, const std::uint8_t* allowed, std::int32_t* idx,
               V* val) {
  const index_t m = z.cols;
#pragma omp parallel num_threads(threads_for(ctx, z.rows * m, kGrain))
  {
    std::vector<std::int32_t> heap;  // the k best so far, worst on top
    heap.reserve(static_cast<std::size_t>(k));
#pragma omp for schedule(static)
    for (index_t i = 0; i < z.rows; ++i) {
      const V* zr = z.data + i * z.ld;
      auto worse = [zr](std::int32_t a, std::int32_t b) { return ranks_before(zr[a], a, zr[b], b); };
      heap.clear();
      for (index_t j = 0; j < m; ++j) {
        if (allowed && !allowed[j]) continue;
        const auto c = static_cast<std::int32_t>(j);
        if (static_cast<index_t>(heap.size()) < k) {
          heap.push_back(c);
          std::push_heap(heap.begin(), heap.end(), worse);
        } else if (ranks_before(zr[c], c, zr[heap.front()], heap.front())) {
          std::pop_heap(heap.begin(), heap.end(), worse);
          heap.back() = c;
          std::push_heap(heap.begin(), heap.end(), worse);
        }
      }
      std::sort(heap.begin(), heap.end());
      std::int32_t* ir = idx + i * k;
      V* vr = val + i * k;
      for (index_t t = 0; t < k; ++t) {
        const bool real = t < static_cast<index_t>(heap.size());
        ir[t] = real ? heap[t] : 0;
        vr[t] = real ? std::max(zr[heap[t]], V(0)) : V(0);
      }
    }
  }
}

template <class V>
void topk_scatter(const Context& ctx, index_t k, const std::int32_t* idx, const V* val, DenseView<V> h) {
#pragma omp parallel for num_threads(threads_for(ctx, h.rows * h.cols, kGrain))
  for (index_t i = 0; i < h.rows; ++i) {
    V* hr = row(h, i);
    std::fill(hr, hr + h.cols, V(0));
    for (index_t t = 0; t < k; ++t)
      if (val[i * k + t] != V(0)) hr[idx[i * k + t]] = val[i * k + t];  // distinct in a row; padding is 0
  }
}

template <class V>
void topk_decode(const Context& ctx, index_t k, const std::int32_t* idx, const V* val, DenseView<const V> d,
                 const V* bias, DenseView<V> x_hat) {
  const index_t n = x_hat.cols;
#pragma omp parallel for num_threads(threads_for(ctx, x_hat.rows * n * k / 8, kGrain))
  for (index_t i = 0; i < x_hat.rows; ++i) {
    V* out = row(x_hat, i);
    if (bias) std::copy(bias, bias + n, out);
    else std::fill(out, out + n, V(0));
    for (index_t t = 0; t < k; ++t) {
      const V a = val[i * k + t];
      if (a == V(0)) continue;
      const V* atom = d.data + idx[i * k + t] * d.ld;
#pragma omp simd
      for (index_t j = 0; j < n; ++j) out[j] += a * atom[j];
    }
  }
}

template <class V>
void gather_dot(const Context& ctx, index_t k, const std::int32_t* idx, DenseView<const V> g, DenseView<const V> d,
                V* out) {
  const index_t n = g.cols;
#pragma omp parallel for num_threads(threads_for(ctx, g.rows * n * k / 8, kGrain))
  for (index_t i = 0; i < g.rows; ++i) {
    const V* gr = g.data + i * g.ld;
    for (index_t t = 0; t < k; ++t) {
      const V* atom = d.data + idx[i * k + t] * d.ld;
      V s = 0;
#pragma omp simd reduction(+ : s)
      for (index_t j = 0; j < n; ++j) s += gr[j] * atom[j];
      out[i * k + t] = s;
    }
  }
}

std::size_t topk_group_workspace(const Context&, index_t, index_t) { return 0; }

void topk_group(const Context&, index_t entries, const std::int32_t* idx, index_t latents, std::int32_t* ptr,
                std::int32_t* order, void*) {
  // Counting sort by latent; scanning entries in order keeps each group ascending.
  std::fill(ptr, ptr + latents + 1, 0);
  for (index_t e = 0; e < entries; ++e) ++ptr[idx[e] + 1];
  for (index_t j = 0; j < latents; ++j) ptr[j + 1] += ptr[j];
  std::vector<std::int32_t> next(ptr, ptr + latents);
  for (index_t e = 0; e < entries; ++e) order[next[idx[e]]++] = static_cast<std::int32_t>(e);
}

template <class V>
void topk_weight_grad(const Context& ctx, index_t k, const std::int32_t* ptr, const std::int32_t* order,
                      const V* coef, DenseView<const V> rows, V beta, DenseView<V> grad, V* sums) {
  const index_t n = grad.cols;
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads_for(ctx, grad.rows * n, kGrain))
  for (index_t j = 0; j < grad.rows; ++j) {
    V* out = row(grad, j);
    if (beta == V(0)) std::fill(out, out + n, V(0));
    else if (beta != V(1)) for (index_t q = 0; q < n; ++q) out[q] *= beta;
    V s = 0;
    for (std::int32_t p = ptr[j]; p < ptr[j + 1]; ++p) {
      const std::int32_t e = order[p];
      const V c = coef[e];
      s += c;
      if (c == V(0)) continue;
      const V* r = rows.data + (e / k) * rows.ld;
#pragma omp simd
      for (index_t q = 0; q < n; ++q) out[q] += c * r[q];
    }
    if (sums) sums[j] = (beta == V(0) ? V(0) : beta * sums[j]) + s;
  }
}

template <class V>
void row_norms(const Context& ctx, DenseView<const V> d, V* out) {
#pragma omp parallel for num_threads(threads_for(ctx, d.rows * d.cols, kGrain))
  for (index_t j = 0; j < d.rows; ++j) {
    const V* r = d.data + j * d.ld;
    V s = 0;
    for (index_t q = 0; q < d.cols; ++q) s += r[q] * r[q];
    out[j] = std::sqrt(s);
  }
}

template <class V>
void normalize_rows(const Context& ctx, DenseView<V> d) {
#pragma omp parallel for num_threads(threads_for(ctx, d.rows * d.cols, kGrain))
  for (index_t j = 0; j < d.rows; ++j) {
    V* r = row(d, j);
    V s = 0;
    for (index_t q = 0; q < d.cols; ++q) s += r[q] * r[q];
    if (s > V(0)) {
      const V inv = V(1) / std::sqrt(s);
      for (index_t q = 0; q < d.cols; ++q) r[q] *= inv;
    }
  }
}

template <class V>
void remove_parallel_rows(const Context& ctx, DenseView<const V> d, DenseView<V> g) {
#pragma omp parallel for num_threads(threads_for(ctx, d.rows * d.cols, kGrain))
  for (index_t j = 0; j < d.rows; ++j) {
    const V* dr = d.data + j * d.ld;
    V* gr = row(g, j);
    V dd = 0, gd = 0;
    for (index_t q = 0; q < d.cols; ++q) {
      dd += dr[q] * dr[q];
      gd += gr[q] * dr[q];
    }
    if (dd > V(0)) {
      const V c = gd / dd;
      for (index_t q = 0; q < d.cols; ++q) gr[q] -= c * dr[q];
    }
  }
}

template <class V>
void add_scaled_unit_rows(const Context& ctx, DenseView<const V> d, const V* s, V alpha, DenseView<V> g) {
#pragma omp parallel for num_threads(threads_for(ctx, d.rows * d.cols, kGrain))
  for (index_t j = 0; j < d.rows; ++j) {
    const V* dr = d.data + j * d.ld;
    V* gr = row(g, j);
    V dd = 0;
    for (index_t q = 0; q < d.cols; ++q) dd += dr[q] * dr[q];
    if (dd > V(0)) {
      const V c = alpha * s[j] / std::sqrt(dd);
      for (index_t q = 0; q < d.cols; ++q) gr[q] += c * dr[q];
    }
  }
}

template <class V>
void row_sq_dist(const Context& ctx, DenseView<const V> a, DenseView<const V> b, V* out) {
#pragma omp parallel for num_threads(threads_for(ctx, a.rows * a.cols, kGrain))
  for (index_t i = 0; i < a.rows; ++i) {
    const V* ar = a.data + i * a.ld;
    const V* br = b.data + i * b.ld;
    V s = 0;
    for (index_t q = 0; q < a.cols; ++q) s += (ar[q] - br[q]) * (ar[q] - br[q]);
    out[i] = s;
  }
}

template <class V>
void corrupt(const Context& ctx, DenseView<const V> x, Noise kind, V level, std::uint64_t seed,
             DenseView<V> out) {
  const index_t n = x.cols;
#pragma omp parallel for num_threads(threads_for(ctx, x.rows * n, kGrain))
  for (index_t i = 0; i < x.rows; ++i) {
    const V* xr = x.data + i * x.ld;
    V* o = row(out, i);
    for (index_t q = 0; q < n; ++q) {
      const auto e = static_cast<std::uint64_t>(i * n + q);
      if (kind == Noise::Gaussian) {
        const double u1 = counter_uniform(seed, 2 * e), u2 = counter_uniform(seed, 2 * e + 1);
        const double normal = std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
        o[q] = xr[q] + V(double(level) * normal);
      } else if (kind == Noise::Mask) {
        o[q] = counter_uniform(seed, e) < double(level) ? V(0) : xr[q];
      } else {
        o[q] = xr[q];
      }
    }
  }
}

template <class V>
index_t update_dead_latents(const Context&, index_t k, index_t samples, const std::int32_t* idx, const V* val,
                            std::int64_t dead_after, index_t latents, std::int64_t* since, std::uint8_t* dead) {
  std::vector<std::uint8_t> fired(static_cast<std::size_t>(latents), 0);
  for (index_t e = 0; e < samples * k; ++e)
    if (val[e] > V(0)) fired[idx[e]] = 1;
  index_t count = 0;
  for (index_t j = 0; j < latents; ++j) {
    since[j] = fired[j] ? 0 : since[j] + samples;
    dead[j] = since[j] >= dead_after ? 1 : 0;
    count += dead[j];
  }
  return count;
}

template <class V>
void latent_activity(const Context& ctx, DenseView<const V> h, V* sums, index_t* counts) {
  std::fill(sums, sums + h.cols, V(0));
  std::fill(counts, counts + h.cols, index_t(0));
  for_column_slices<V>(ctx, h.rows, h.cols, [&](index_t begin, index_t end) {
    for (index_t i = 0; i < h.rows; ++i) {
      const V* hr = h.data + i * h.ld;
      for (index_t j = begin; j < end; ++j) {
        sums[j] += hr[j];
        counts[j] += hr[j] > V(0);
      }
    }
  });
}

SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_SAE)

}  // namespace shrink::kernels::cpu
