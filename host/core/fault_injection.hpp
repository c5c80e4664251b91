// Test hooks for recoverable allocation failure: fail the k-th allocation from now (host or device,
// through the library's allocator) with OutOfMemory, and count allocations. Not for production use.
#pragma once
#include <cstdint>

namespace shrink::detail {

// The k-th allocation from now throws OutOfMemory (k >= 1); 0 turns the hook off.
void fail_allocation(std::int64_t k) noexcept;
// Allocations made through the library's allocator since the process started.
std::int64_t allocations_made() noexcept;

}  // namespace shrink::detail
