// The per-tile steps of the CUDA merge-path SpMV, written once as host+device functions. The CUDA
// kernel (kernels/cuda/spmv.cu) runs them with __syncthreads() between the phases; the tests run
// the very same functions thread by thread on the CPU (tests/test_merge_tile.cpp), so the tile
// logic (staging, the path walk, carries between threads and tiles) is checked without a GPU.
#pragma once
#include <cstdint>

#include "kernels/ops/blend.hpp"
#include "kernels/ops/merge_path.hpp"

#include "kernels/ops/host_device.hpp"

namespace shrink::kernels::merge_tile {

constexpr int kThreads = 128;                   // threads per tile (CUDA block)
constexpr int kItems = 7;                       // path items per thread
constexpr int kTileItems = kThreads * kItems;   // path items per tile

inline std::int64_t tiles_for(std::int64_t rows, std::int64_t nnz) {
  return (rows + nnz + kTileItems - 1) / kTileItems;
}

// Row coordinate where tile t starts (t = tiles gives the end of the path).
template <class I>
SHRINK_HD std::int64_t tile_start_row(std::int64_t t, const I* row_end, std::int64_t rows,
                                           std::int64_t nnz) {
  const std::int64_t total = rows + nnz;
  const std::int64_t d = t * kTileItems < total ? t * kTileItems : total;
  return merge_path_row(d, row_end, rows, nnz);
}

struct Tile {
  std::int64_t i0, j0;  // path coordinates where the tile starts
  std::int64_t i1;      // row coordinate where it ends (the row still open there)
  int rows, nnz, items; // rows finished, nonzeros consumed and path items in this tile
};

SHRINK_HD Tile make_tile(std::int64_t tile, std::int64_t rows, std::int64_t nnz,
                              const std::int64_t* tile_row) {
  const std::int64_t total = rows + nnz;
  const std::int64_t d0 = tile * kTileItems;
  const std::int64_t d1 = d0 + kTileItems < total ? d0 + kTileItems : total;
  Tile t;
  t.i0 = tile_row[tile];
  t.j0 = d0 - t.i0;
  t.i1 = tile_row[tile + 1];
  t.rows = static_cast<int>(t.i1 - t.i0);
  t.nnz = static_cast<int>((d1 - t.i1) - t.j0);
  t.items = static_cast<int>(d1 - d0);
  return t;
}

template <class T>
SHRINK_HD T load_cached(const T* p) {
#if defined(__CUDA_ARCH__)
  return __ldg(p);
#else
  return *p;
#endif
}

// Phase 1, thread `tid` of `threads`: stage the tile's row ends (one past the last finished row
// too) and the products val * x[col], with unit-stride (coalesced) loads.
template <class V, class I>
SHRINK_HD void stage(int tid, int threads, const Tile& t, std::int64_t rows, std::int64_t nnz,
                          const I* row_ptr, const I* col_idx, const V* values, const V* x,
                          std::int64_t* s_row_end, V* s_prod) {
  for (int k = tid; k <= t.rows; k += threads)
    s_row_end[k] = t.i0 + k < rows ? static_cast<std::int64_t>(row_ptr[t.i0 + k + 1]) : nnz;
  for (int k = tid; k < t.nnz; k += threads)
    s_prod[k] = values[t.j0 + k] * load_cached(x + col_idx[t.j0 + k]);
}

template <class V>
SHRINK_HD void store_row(V* y, std::int64_t r, V alpha, V acc, V beta) {
  y[r] = blend(alpha, acc, beta, y[r]);
}

// What phase 2 leaves for phase 3 in the thread's registers.
template <class V>
struct Walk {
  int first_row;  // local row the thread finished first (valid when emitted)
  V first_part;   // this thread's part of that row
  bool emitted;
};

// Phase 2: walk this thread's kItems path items. Rows begun and finished here are stored; the
// first finished row waits for phase 3; the part of the row still open goes to s_carry.
template <class V>
SHRINK_HD Walk<V> walk(int tid, const Tile& t, const std::int64_t* s_row_end, const V* s_prod,
                            V alpha, V beta, V* y, V* s_carry, bool* s_emitted) {
  const int diag = tid * kItems < t.items ? tid * kItems : t.items;
  int lo = diag > t.nnz ? diag - t.nnz : 0;
  int hi = diag < t.rows ? diag : t.rows;
  while (lo < hi) {
    const int mid = (lo + hi) >> 1;
    if (s_row_end[mid] <= t.j0 + (diag - mid - 1)) lo = mid + 1;
    else hi = mid;
  }
  int r = lo, k = diag - lo;
  const int stop = diag + kItems < t.items ? diag + kItems : t.items;
  Walk<V> w{lo, V(0), false};
  V running = 0;
  for (int item = diag; item < stop; ++item) {
    if (t.j0 + k < s_row_end[r]) {
      running += s_prod[k];
      ++k;
    } else {
      if (!w.emitted) {
        w.first_part = running;
        w.emitted = true;
      } else {
        store_row(y, t.i0 + r, alpha, running, beta);
      }
      running = 0;
      ++r;
    }
  }
  s_carry[tid] = running;
  s_emitted[tid] = w.emitted;
  return w;
}

// Sum of the carries of threads last, last-1, ... down to and including the nearest one that
// finished a row of its own: the part of the row open at `last`'s end that this tile holds.
template <class V>
SHRINK_HD V carries_before(int last, const V* s_carry, const bool* s_emitted) {
  V acc = 0;
  for (int u = last; u >= 0; --u) {
    acc += s_carry[u];
    if (s_emitted[u]) break;
  }
  return acc;
}

// Phase 3: the thread's first finished row began in earlier threads; add their carries.
template <class V>
SHRINK_HD void finish_first_row(int tid, const Tile& t, const Walk<V>& w, const V* s_carry,
                                     const bool* s_emitted, V alpha, V beta, V* y) {
  if (!w.emitted) return;
  const V acc = w.first_part + carries_before(tid - 1, s_carry, s_emitted);
  store_row(y, t.i0 + w.first_row, alpha, acc, beta);
}

// Phase 3, last thread only: the row open at the tile's end, for the fix-up pass.
template <class V>
SHRINK_HD void tile_carry(std::int64_t tile, const Tile& t, const V* s_carry,
                               const bool* s_emitted, std::int64_t* carry_row, V* carry_val) {
  carry_row[tile] = t.i1;
  carry_val[tile] = carries_before(kThreads - 1, s_carry, s_emitted);
}

// Fix-up, one call per tile: the first tile of each run of equal carry rows adds the run's sum.
template <class V>
SHRINK_HD void fixup(std::int64_t tile, std::int64_t tiles, std::int64_t rows,
                          const std::int64_t* carry_row, const V* carry_val, V alpha, V* y) {
  const std::int64_t r = carry_row[tile];
  if (r >= rows || (tile > 0 && carry_row[tile - 1] == r)) return;
  V acc = 0;
  for (std::int64_t u = tile; u < tiles && carry_row[u] == r; ++u) acc += carry_val[u];
  y[r] += alpha * acc;
}

}  // namespace shrink::kernels::merge_tile
