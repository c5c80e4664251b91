// A counter-based generator shared by the CPU and CUDA twins: draw i of stream `seed` is a hash of
// (seed, i), so any element can be drawn independently and in any order (splitmix64's finalizer).
#pragma once
#include <cstdint>

#include "kernels/ops/host_device.hpp"

namespace shrink::kernels {

SHRINK_HD std::uint64_t counter_hash(std::uint64_t seed, std::uint64_t i) {
  std::uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Uniform in (0, 1): 53 random bits, offset by half a step so that 0 never comes out.
SHRINK_HD double counter_uniform(std::uint64_t seed, std::uint64_t i) {
  return (static_cast<double>(counter_hash(seed, i) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

}  // namespace shrink::kernels
