// How many OpenMP threads a CPU kernel forks for `work` items: below `grain` items per thread the
// fork/join costs more than it saves.
#pragma once
#include <algorithm>

#include "shrink/array.hpp"
#include "shrink/context.hpp"

namespace shrink::kernels::cpu {

inline int threads_for(const Context& ctx, index_t work, index_t grain = 32768) {
  const index_t by_work = std::max<index_t>(1, work / grain);
  return static_cast<int>(std::min<index_t>(ctx.cpu_threads(), by_work));
}

}  // namespace shrink::kernels::cpu
