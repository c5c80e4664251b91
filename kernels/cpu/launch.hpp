// The CPU twin's launchers: how many OpenMP threads a kernel forks, and for_each for elementwise
// maps (the bodies written once in kernels/common run through it).
#pragma once
#include <algorithm>

#include "kernels/ops/fork.hpp"
#include "shrink/context.hpp"
#include "shrink/matrix.hpp"

namespace shrink::kernels::cpu {

// Below `grain` items per thread the fork/join costs more than it saves.
inline int threads_for(const Context& ctx, index_t work, index_t grain = 32768) {
  const index_t by_work = std::max<index_t>(1, work / grain);
  return static_cast<int>(std::min<index_t>(ctx.cpu_threads(), by_work));
}

// f(i) for i in [0, n), static slices over the context's threads. firstprivate: each thread works
// on its own copy of f, so the pointers it holds are loop invariants and the loop vectorizes.
template <class F>
void for_each(const Context& ctx, index_t n, F f) {
#pragma omp parallel for simd schedule(static) num_threads(ctx.cpu_threads()) if (n > kForkEntries) firstprivate(f)
  for (index_t i = 0; i < n; ++i) f(i);
}

// f(j) for j in [0, n) where each j is a long loop of its own (a column's statistics): dynamic
// slices, threaded from two items on when the loops' `entries` together are worth a fork
// (threads_for): a 442 x 10 X's moments on two threads left the worker spinning beside the path,
// whose whole run then took 8 ms on a 2-core VM where one thread took 1.5 ms.
template <class F>
void for_each_heavy(const Context& ctx, index_t n, index_t entries, F f) {
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads_for(ctx, entries)) if (n > 1)
  for (index_t i = 0; i < n; ++i) f(i);
}

}  // namespace shrink::kernels::cpu
