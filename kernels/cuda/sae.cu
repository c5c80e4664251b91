// CUDA twins of the sparse-autoencoder kernels. Row kernels run a block per row (sample or latent)
// and reduce in cub's fixed tree order; column statistics run a thread per column over the rows.
// No floating-point atomics: results are bit-identical run to run.
//
// TopK selection is a radix select per row: 8-bit digit histograms (integer shared-memory atomics,
// so counts are exact) find the k-th largest key, then a block scan in column order collects the
// entries above it and the lowest-column ties, so the output is sorted by column.
#include <cub/block/block_reduce.cuh>
#include <cub/block/block_scan.cuh>
#include <cub/device/device_radix_sort.cuh>

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "kernels/cuda/launch.cuh"
#include "kernels/ops/counter_rng.hpp"
#include "kernels/ops/sae_kernels.hpp"
#include "kernels/ops/topk_math.hpp"

namespace shrink::kernels::cuda {

namespace {
using cuda_detail::align_up;
using cuda_detail::stream_of;
constexpr int kBlock = 256;

template <class V>
__device__ __forceinline__ V activate(V z, Activation f) {
  if (f == Activation::Relu) return z > V(0) ? z : V(0);
  if (f == Activation::Sigmoid) return V(1) / (V(1) + exp(-z));
  return z;
}

template <class V>
__device__ __forceinline__ V derivative_from_output(V h, Activation f) {
  if (f == Activation::Relu) return h > V(0) ? V(1) : V(0);
  if (f == Activation::Sigmoid) return h * (V(1) - h);
  return V(1);
}

// A block-wide sum in cub's fixed order, broadcast to every thread.
template <class V>
__device__ V block_sum(V x) {
  using Reduce = cub::BlockReduce<V, kBlock>;
  __shared__ typename Reduce::TempStorage temp;
  __shared__ V total;
  const V s = Reduce(temp).Sum(x);
  if (threadIdx.x == 0) total = s;
  __syncthreads();
  const V out = total;
  __syncthreads();
  return out;
}

template <class V>
__global__ void kl_finish_kernel(const V* sums, index_t rows, index_t m, V rho, V beta, V scale, V* term,
                                 double* kl_out) {
  const V eps = std::is_same_v<V, float> ? V(1.1920929e-07f) : V(2.220446049250313e-16);
  double kl = 0;
  for (index_t j = threadIdx.x; j < m; j += blockDim.x) {
    V r = sums[j] / V(rows > 0 ? rows : 1);
    r = r < eps ? eps : (r > V(1) - eps ? V(1) - eps : r);
    kl += double(rho) * log(double(rho) / double(r)) + (1 - double(rho)) * log((1 - double(rho)) / (1 - double(r)));
    term[j] = scale * beta * (-rho / r + (V(1) - rho) / (V(1) - r));
  }
  const double total = block_sum(kl);
  if (threadIdx.x == 0) *kl_out = double(beta) * total;
}


template <class V>
__global__ void topk_rows_kernel(DenseView<const V> z, index_t k, const std::uint8_t* allowed, std::int32_t* idx,
                                 V* val) {
  using Key = TopKKey<V>;
  constexpr int kBits = 8 * sizeof(Key);
  using Scan = cub::BlockScan<int, kBlock>;
  __shared__ typename Scan::TempStorage scan_temp;
  __shared__ int histogram[256];
  __shared__ Key prefix_s, mask_s;
  __shared__ index_t need_s;  // entries still to take at or below the current prefix

  const std::int64_t i = blockIdx.x;
  const V* zr = z.data + i * z.ld;
  const index_t m = z.cols;
  std::int32_t* out_idx = idx + i * k;
  V* out_val = val + i * k;

  index_t allowed_count = m;
  if (allowed) {
    index_t c = 0;
    for (index_t j = threadIdx.x; j < m; j += blockDim.x) c += allowed[j] != 0;
    allowed_count = block_sum(c);
  }
  const index_t k_eff = k < allowed_count ? k : allowed_count;

  if (threadIdx.x == 0) {
    prefix_s = 0;
    mask_s = 0;
    need_s = k_eff;
  }
  __syncthreads();
  if (k_eff > 0) {
    for (int shift = kBits - 8; shift >= 0; shift -= 8) {
      for (int b = threadIdx.x; b < 256; b += blockDim.x) histogram[b] = 0;
      __syncthreads();
      const Key prefix = prefix_s, mask = mask_s;
      for (index_t j = threadIdx.x; j < m; j += blockDim.x) {
        if (allowed && !allowed[j]) continue;
        const Key key = topk_order_key(zr[j]);
        if ((key & mask) == prefix) atomicAdd(&histogram[(key >> shift) & 0xFF], 1);
      }
      __syncthreads();
      if (threadIdx.x == 0) {
        index_t need = need_s;
        int d = 255;
        for (; d > 0 && histogram[d] < need; --d) need -= histogram[d];
        prefix_s = prefix | (Key(d) << shift);
        mask_s = mask | (Key(0xFF) << shift);
        need_s = need;  // ties at the final key still to take
      }
      __syncthreads();
    }
  }
  const Key threshold = prefix_s;
  const index_t ties_wanted = need_s;
  // Collect in column order: every key above the threshold, and the first ties_wanted ties.
  index_t taken = 0, ties_seen = 0;
  for (index_t base = 0; base < m && k_eff > 0; base += blockDim.x) {
    const index_t j = base + threadIdx.x;
    bool candidate = j < m && (!allowed || allowed[j]);
    const Key key = candidate ? topk_order_key(zr[j]) : Key(0);
    const int tie = candidate && key == threshold;
    int tie_rank, tie_total;
    Scan(scan_temp).ExclusiveSum(tie, tie_rank, tie_total);
    __syncthreads();
    const int take = candidate && (key > threshold || (tie && ties_seen + tie_rank < ties_wanted));
    int pos, take_total;
    Scan(scan_temp).ExclusiveSum(take, pos, take_total);
    __syncthreads();
    if (take) {
      out_idx[taken + pos] = static_cast<std::int32_t>(j);
      const V v = zr[j];
      out_val[taken + pos] = v > V(0) ? v : V(0);
    }
    taken += take_total;
    ties_seen += tie_total;
  }
  for (index_t t = k_eff + threadIdx.x; t < k; t += blockDim.x) {
    out_idx[t] = 0;
    out_val[t] = V(0);
  }
}

template <class V>
__global__ void topk_decode_kernel(index_t k, const std::int32_t* idx, const V* val, DenseView<const V> d,
                                   const V* bias, DenseView<V> x_hat) {
  const std::int64_t i = blockIdx.x;
  const std::int32_t* ir = idx + i * k;
  const V* vr = val + i * k;
  for (index_t j = threadIdx.x; j < x_hat.cols; j += blockDim.x) {
    V acc = bias ? bias[j] : V(0);
    for (index_t t = 0; t < k; ++t) {
      const V a = vr[t];
      if (a != V(0)) acc += a * d.data[static_cast<std::int64_t>(ir[t]) * d.ld + j];
    }
    x_hat.data[i * x_hat.ld + j] = acc;
  }
}

// A warp per (sample, slot): lanes stride the features, then a shuffle tree (fixed order).
template <class V>
__global__ void gather_dot_kernel(index_t entries, index_t k, const std::int32_t* idx, DenseView<const V> g,
                                  DenseView<const V> d, V* out) {
  const std::int64_t warp = (blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (warp >= entries) return;
  const V* gr = g.data + (warp / k) * g.ld;
  const V* atom = d.data + static_cast<std::int64_t>(idx[warp]) * d.ld;
  V s = 0;
  for (index_t q = lane; q < g.cols; q += 32) s += gr[q] * atom[q];
  for (int off = 16; off > 0; off /= 2) s += __shfl_down_sync(0xffffffffu, s, off);
  if (lane == 0) out[warp] = s;
}

template <class V>
__global__ void topk_weight_grad_kernel(index_t k, const std::int32_t* ptr, const std::int32_t* order,
                                        const V* coef, DenseView<const V> rows, V beta, DenseView<V> grad,
                                        V* sums) {
  const std::int64_t j = blockIdx.x;
  const std::int32_t begin = ptr[j], end = ptr[j + 1];
  V* out = grad.data + j * grad.ld;
  for (index_t q = threadIdx.x; q < grad.cols; q += blockDim.x) {
    V acc = beta == V(0) ? V(0) : beta * out[q];
    for (std::int32_t p = begin; p < end; ++p) {
      const std::int32_t e = order[p];
      const V c = coef[e];
      if (c != V(0)) acc += c * rows.data[(e / k) * rows.ld + q];
    }
    out[q] = acc;
  }
  if (sums && threadIdx.x == 0) {
    V s = 0;
    for (std::int32_t p = begin; p < end; ++p) s += coef[order[p]];
    sums[j] = (beta == V(0) ? V(0) : beta * sums[j]) + s;
  }
}

template <class V>
__device__ V row_dot(const V* a, const V* b, index_t n) {
  V s = 0;
  for (index_t q = threadIdx.x; q < n; q += blockDim.x) s += a[q] * b[q];
  return block_sum(s);
}

template <class V>
__global__ void row_norms_kernel(DenseView<const V> d, V* out) {
  const V* r = d.data + blockIdx.x * d.ld;
  const V s = row_dot(r, r, d.cols);
  if (threadIdx.x == 0) out[blockIdx.x] = sqrt(s);
}

template <class V>
__global__ void normalize_rows_kernel(DenseView<V> d) {
  V* r = d.data + blockIdx.x * d.ld;
  const V s = row_dot<V>(r, r, d.cols);
  if (s > V(0)) {
    const V inv = V(1) / sqrt(s);
    for (index_t q = threadIdx.x; q < d.cols; q += blockDim.x) r[q] *= inv;
  }
}

template <class V>
__global__ void remove_parallel_rows_kernel(DenseView<const V> d, DenseView<V> g) {
  const V* dr = d.data + blockIdx.x * d.ld;
  V* gr = g.data + blockIdx.x * g.ld;
  const V dd = row_dot(dr, dr, d.cols);
  const V gd = row_dot<V>(gr, dr, d.cols);
  if (dd > V(0)) {
    const V c = gd / dd;
    for (index_t q = threadIdx.x; q < d.cols; q += blockDim.x) gr[q] -= c * dr[q];
  }
}

template <class V>
__global__ void add_scaled_unit_rows_kernel(DenseView<const V> d, const V* s, V alpha, DenseView<V> g) {
  const V* dr = d.data + blockIdx.x * d.ld;
  V* gr = g.data + blockIdx.x * g.ld;
  const V dd = row_dot(dr, dr, d.cols);
  if (dd > V(0)) {
    const V c = alpha * s[blockIdx.x] / sqrt(dd);
    for (index_t q = threadIdx.x; q < d.cols; q += blockDim.x) gr[q] += c * dr[q];
  }
}

template <class V>
__global__ void row_sq_dist_kernel(DenseView<const V> a, DenseView<const V> b, V* out) {
  const V* ar = a.data + blockIdx.x * a.ld;
  const V* br = b.data + blockIdx.x * b.ld;
  V s = 0;
  for (index_t q = threadIdx.x; q < a.cols; q += blockDim.x) s += (ar[q] - br[q]) * (ar[q] - br[q]);
  s = block_sum(s);
  if (threadIdx.x == 0) out[blockIdx.x] = s;
}

__global__ void update_dead_kernel(index_t latents, index_t samples, std::int64_t dead_after,
                                   const std::uint8_t* fired, std::int64_t* since, std::uint8_t* dead,
                                   index_t* count) {
  index_t c = 0;
  for (index_t j = threadIdx.x; j < latents; j += blockDim.x) {
    since[j] = fired[j] ? 0 : since[j] + samples;
    dead[j] = since[j] >= dead_after ? 1 : 0;
    c += dead[j];
  }
  c = block_sum(c);
  if (threadIdx.x == 0) *count = c;
}

template <class T>
T read_scalar(const Context& ctx, const T* device_value) {
  T host{};
  SHRINK_CUDA_CHECK(cudaMemcpyAsync(&host, device_value, sizeof(T), cudaMemcpyDeviceToHost, stream_of(ctx)));
  SHRINK_CUDA_CHECK(cudaStreamSynchronize(stream_of(ctx)));
  return host;
}

unsigned rows_grid(index_t rows) { return static_cast<unsigned>(rows); }

}  // namespace

template <class V>
void broadcast_add(const Context& ctx, DenseView<const V> a, V alpha, const V* v, DenseView<V> out) {
  const index_t cols = a.cols;
  for_each(ctx, a.rows * cols, [=] __device__(index_t e) {
    const index_t i = e / cols, j = e % cols;
    out.data[i * out.ld + j] = a.data[i * a.ld + j] + alpha * v[j];
  });
}

template <class V>
void bias_activation(const Context& ctx, DenseView<V> z, const V* bias, Activation f) {
  const index_t cols = z.cols;
  for_each(ctx, z.rows * cols, [=] __device__(index_t e) {
    const index_t i = e / cols, j = e % cols;
    V& x = z.data[i * z.ld + j];
    x = activate(bias ? x + bias[j] : x, f);
  });
}

template <class V>
void activation_backward(const Context& ctx, DenseView<const V> h, const V* term, Activation f, DenseView<V> g) {
  const index_t cols = h.cols;
  for_each(ctx, h.rows * cols, [=] __device__(index_t e) {
    const index_t i = e / cols, j = e % cols;
    V& x = g.data[i * g.ld + j];
    x = (term ? x + term[j] : x) * derivative_from_output(h.data[i * h.ld + j], f);
  });
}

template <class V>
V kl_penalty(const Context& ctx, index_t latents, const V* sums, index_t rows, V rho, V beta, V scale, V* term) {
  auto* kl = static_cast<double*>(ctx.workspace(sizeof(double)));
  kl_finish_kernel<V><<<1, kBlock, 0, stream_of(ctx)>>>(sums, rows, latents, rho, beta, scale, term, kl);
  SHRINK_CUDA_CHECK_LAUNCH();
  return V(read_scalar(ctx, kl));
}

template <class V>
void topk_rows(const Context& ctx, DenseView<const V> z, index_t k, const std::uint8_t* allowed, std::int32_t* idx,
               V* val) {
  if (z.rows == 0 || k == 0) return;
  topk_rows_kernel<V><<<rows_grid(z.rows), kBlock, 0, stream_of(ctx)>>>(z, k, allowed, idx, val);
  SHRINK_CUDA_CHECK_LAUNCH();
}

template <class V>
void topk_scatter(const Context& ctx, index_t k, const std::int32_t* idx, const V* val, DenseView<V> h) {
  if (h.rows * h.cols == 0) return;
  const index_t cols = h.cols;
  for_each(ctx, h.rows * cols, [=] __device__(index_t e) { h.data[(e / cols) * h.ld + e % cols] = V(0); });
  for_each(ctx, h.rows * k, [=] __device__(index_t e) {
    const V v = val[e];
    if (v != V(0)) h.data[(e / k) * h.ld + idx[e]] = v;  // indices are distinct in a row; padding is 0
  });
}

template <class V>
void topk_decode(const Context& ctx, index_t k, const std::int32_t* idx, const V* val, DenseView<const V> d,
                 const V* bias, DenseView<V> x_hat) {
  if (x_hat.rows == 0) return;
  topk_decode_kernel<V><<<rows_grid(x_hat.rows), kBlock, 0, stream_of(ctx)>>>(k, idx, val, d, bias, x_hat);
  SHRINK_CUDA_CHECK_LAUNCH();
}

template <class V>
void gather_dot(const Context& ctx, index_t k, const std::int32_t* idx, DenseView<const V> g, DenseView<const V> d,
                V* out) {
  const index_t entries = g.rows * k;
  if (entries == 0) return;
  const auto blocks = static_cast<unsigned>((entries * 32 + kBlock - 1) / kBlock);
  gather_dot_kernel<V><<<blocks, kBlock, 0, stream_of(ctx)>>>(entries, k, idx, g, d, out);
  SHRINK_CUDA_CHECK_LAUNCH();
}

namespace {
int key_bits(index_t latents) {
  int bits = 1;
  while ((index_t(1) << bits) <= latents) ++bits;
  return bits;
}
std::size_t radix_temp_bytes(index_t entries, index_t latents) {
  std::size_t bytes = 0;
  SHRINK_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, bytes, static_cast<const std::int32_t*>(nullptr),
                                                    static_cast<std::int32_t*>(nullptr),
                                                    static_cast<const std::int32_t*>(nullptr),
                                                    static_cast<std::int32_t*>(nullptr), entries, 0,
                                                    key_bits(latents)));
  return bytes;
}
}  // namespace

std::size_t topk_group_workspace(const Context&, index_t entries, index_t latents) {
  return 2 * align_up(sizeof(std::int32_t) * static_cast<std::size_t>(entries)) + radix_temp_bytes(entries, latents);
}

void topk_group(const Context& ctx, index_t entries, const std::int32_t* idx, index_t latents, std::int32_t* ptr,
                std::int32_t* order, void* workspace) {
  auto* base = static_cast<unsigned char*>(workspace);
  auto* sorted = reinterpret_cast<std::int32_t*>(base);
  auto* positions = reinterpret_cast<std::int32_t*>(base + align_up(sizeof(std::int32_t) * entries));
  void* temp = base + 2 * align_up(sizeof(std::int32_t) * entries);
  std::size_t temp_bytes = radix_temp_bytes(entries, latents);
  if (entries > 0) {
    for_each(ctx, entries, [=] __device__(index_t e) { positions[e] = static_cast<std::int32_t>(e); });
    // LSD radix sort is stable: each group keeps its entries in ascending order.
    SHRINK_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp, temp_bytes, idx, sorted, positions, order, entries, 0,
                                                      key_bits(latents), stream_of(ctx)));
  }
  for_each(ctx, latents + 1, [=] __device__(index_t j) {
    index_t lo = 0, hi = entries;  // first position with sorted[pos] >= j
    while (lo < hi) {
      const index_t mid = (lo + hi) / 2;
      if (sorted[mid] < j) lo = mid + 1;
      else hi = mid;
    }
    ptr[j] = static_cast<std::int32_t>(lo);
  });
}

template <class V>
void topk_weight_grad(const Context& ctx, index_t k, const std::int32_t* ptr, const std::int32_t* order,
                      const V* coef, DenseView<const V> rows, V beta, DenseView<V> grad, V* sums) {
  if (grad.rows == 0) return;
  topk_weight_grad_kernel<V><<<rows_grid(grad.rows), kBlock, 0, stream_of(ctx)>>>(k, ptr, order, coef, rows, beta,
                                                                                  grad, sums);
  SHRINK_CUDA_CHECK_LAUNCH();
}

template <class V>
void row_norms(const Context& ctx, DenseView<const V> d, V* out) {
  if (d.rows == 0) return;
  row_norms_kernel<V><<<rows_grid(d.rows), kBlock, 0, stream_of(ctx)>>>(d, out);
  SHRINK_CUDA_CHECK_LAUNCH();
}

template <class V>
void normalize_rows(const Context& ctx, DenseView<V> d) {
  if (d.rows == 0) return;
  normalize_rows_kernel<V><<<rows_grid(d.rows), kBlock, 0, stream_of(ctx)>>>(d);
  SHRINK_CUDA_CHECK_LAUNCH();
}

template <class V>
void remove_parallel_rows(const Context& ctx, DenseView<const V> d, DenseView<V> g) {
  if (d.rows == 0) return;
  remove_parallel_rows_kernel<V><<<rows_grid(d.rows), kBlock, 0, stream_of(ctx)>>>(d, g);
  SHRINK_CUDA_CHECK_LAUNCH();
}

template <class V>
void add_scaled_unit_rows(const Context& ctx, DenseView<const V> d, const V* s, V alpha, DenseView<V> g) {
  if (d.rows == 0) return;
  add_scaled_unit_rows_kernel<V><<<rows_grid(d.rows), kBlock, 0, stream_of(ctx)>>>(d, s, alpha, g);
  SHRINK_CUDA_CHECK_LAUNCH();
}

template <class V>
void row_sq_dist(const Context& ctx, DenseView<const V> a, DenseView<const V> b, V* out) {
  if (a.rows == 0) return;
  row_sq_dist_kernel<V><<<rows_grid(a.rows), kBlock, 0, stream_of(ctx)>>>(a, b, out);
  SHRINK_CUDA_CHECK_LAUNCH();
}

template <class V>
void corrupt(const Context& ctx, DenseView<const V> x, Noise kind, V level, std::uint64_t seed, DenseView<V> out) {
  const index_t cols = x.cols;
  for_each(ctx, x.rows * cols, [=] __device__(index_t e) {
    const index_t i = e / cols, q = e % cols;
    const V v = x.data[i * x.ld + q];
    V o = v;
    const auto c = static_cast<std::uint64_t>(e);
    if (kind == Noise::Gaussian) {
      const double u1 = counter_uniform(seed, 2 * c), u2 = counter_uniform(seed, 2 * c + 1);
      o = v + V(double(level) * sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2));
    } else if (kind == Noise::Mask) {
      o = counter_uniform(seed, c) < double(level) ? V(0) : v;
    }
    out.data[i * out.ld + q] = o;
  });
}

template <class V>
index_t update_dead_latents(const Context& ctx, index_t k, index_t samples, const std::int32_t* idx, const V* val,
                            std::int64_t dead_after, index_t latents, std::int64_t* since, std::uint8_t* dead) {
  auto* base = static_cast<unsigned char*>(ctx.workspace(align_up(static_cast<std::size_t>(latents)) + sizeof(index_t)));
  auto* fired = base;
  auto* count = reinterpret_cast<index_t*>(base + align_up(static_cast<std::size_t>(latents)));
  SHRINK_CUDA_CHECK(cudaMemsetAsync(fired, 0, static_cast<std::size_t>(latents), stream_of(ctx)));
  // Every writer of a latent stores 1: no race on the value.
  for_each(ctx, samples * k, [=] __device__(index_t e) { if (val[e] > V(0)) fired[idx[e]] = 1; });
  update_dead_kernel<<<1, kBlock, 0, stream_of(ctx)>>>(latents, samples, dead_after, fired, since, dead, count);
  SHRINK_CUDA_CHECK_LAUNCH();
  return read_scalar(ctx, count);
}

template <class V>
void latent_activity(const Context& ctx, DenseView<const V> h, V* sums, index_t* counts) {
  // A thread per column: sums_j = sum_i h_ij (rows in order) and counts_j = #{h_ij > 0}.
  for_each(ctx, h.cols, [=] __device__(index_t j) {
    V s = 0;
    index_t c = 0;
    for (index_t i = 0; i < h.rows; ++i) {
      const V x = h.data[i * h.ld + j];
      s += x;
      c += x > V(0);
    }
    sums[j] = s;
    counts[j] = c;
  });
}

SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_SAE)

}  // namespace shrink::kernels::cuda
