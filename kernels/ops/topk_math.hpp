// The TopK selection's order, shared by the CUDA radix select and its tests on the CPU: a larger
// value has a larger unsigned key, and the key of -0.0 equals that of +0.0 so that, as in the CPU
// twin's comparisons, the two zeros tie (and the tie goes to the lower column).
#pragma once
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/ops/host_device.hpp"

namespace shrink::kernels {

template <class V>
using TopKKey = std::conditional_t<std::is_same_v<V, float>, std::uint32_t, std::uint64_t>;

template <class V>
SHRINK_HD TopKKey<V> topk_order_key(V x) {
  using Key = TopKKey<V>;
  constexpr Key sign = Key(1) << (8 * sizeof(Key) - 1);
  const V canonical = x == V(0) ? V(0) : x;  // -0.0 == 0.0, so both become +0.0
  Key bits;
  std::memcpy(&bits, &canonical, sizeof(Key));
  return (bits & sign) ? ~bits : (bits | sign);
}

}  // namespace shrink::kernels
