// Umbrella header for the Shrink library.
#pragma once
#include "shrink/build_config.hpp"
#include "shrink/array.hpp"
#include "shrink/batch_lasso.hpp"
#include "shrink/context.hpp"
#include "shrink/error.hpp"
#include "shrink/generate.hpp"
#include "shrink/io.hpp"
#include "shrink/lasso.hpp"
#include "shrink/matrix.hpp"
#include "shrink/nn.hpp"
#include "shrink/ops.hpp"
#include "shrink/sae.hpp"
#include "shrink/stats.hpp"

namespace shrink {
const char* version() noexcept;
}
