// What every kernel family header needs: the public views (Api), a forward-declared Context (the
// kernel layer includes nothing from host/), and two macros.
//
//   SHRINK_TWINS(declarations)  declares the same signatures in kernels::cpu and kernels::cuda, so
//                               each signature is typed once for both twins;
//   SHRINK_KERNEL_INSTANCE(name, V...)  instantiates one kernel by name, the signature taken from its
//                               declaration (template decltype(f<V>) f<V>;): instantiation lists
//                               name kernels and never retype them.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/ops/instantiate.hpp"
#include "shrink/matrix.hpp"

namespace shrink {
class Context;
}

#define SHRINK_TWINS(...)    \
  namespace cpu {            \
  __VA_ARGS__                \
  }                          \
  namespace cuda {           \
  __VA_ARGS__                \
  }

#define SHRINK_KERNEL_INSTANCE(name, ...) template decltype(name<__VA_ARGS__>) name<__VA_ARGS__>;
