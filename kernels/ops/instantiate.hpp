// The value and index types every templated entry point is built for, in one place.
#pragma once
#include <cstdint>

#define SHRINK_FOR_EACH_VALUE(M) M(float) M(double)
#define SHRINK_FOR_EACH_VALUE_INDEX(M) \
  M(float, std::int32_t) M(float, std::int64_t) M(double, std::int32_t) M(double, std::int64_t)
