// The one "too small to fork" threshold of the CPU loops, for the kernels and the host solvers.
#pragma once
#include "shrink/matrix.hpp"

namespace shrink::kernels {

// Entries (elements, stored non-zeros, products) below which a CPU loop stays on one thread: under
// it an OpenMP fork costs more than it saves, and the woken worker then spins beside the caller
// (diabetes, 442 x 10, on a 2-core VM: 8 ms on two threads where one took 1.5 ms).
constexpr index_t kForkEntries = 65536;

}  // namespace shrink::kernels
