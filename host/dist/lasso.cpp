// The distributed Lasso path: local validation, one agreement, then the path of lasso.hpp with its
// sums over rows completed across the ranks (lasso_detail::lasso_path_split).
#include <cmath>
#include <numeric>

#include "host/core/validate.hpp"
#include "host/dist/comm.hpp"
#include "host/lasso/solvers.hpp"
#include "kernels/ops/instantiate.hpp"
#include "shrink/error.hpp"

namespace shrink::dist {
namespace {

template <class V, class MakeDesign>
LassoPath split_path(const Context& ctx, MPI_Comm comm, index_t local_rows, VectorView<const V> y,
                     const LassoOptions& options, CommCounts* counts, MakeDesign&& make) {
  const detail::Comm c(comm, counts);
  lasso_detail::Design<V> design;
  std::vector<double> yd;
  index_t p = 0;
  c.agree([&] {
    design = make();
    p = design.p;
    shrink::detail::check_vector_size(y.size, local_rows, "y", "this rank's X has " + std::to_string(local_rows) + " rows");
    if (y.space != MemorySpace::Host) throw InvalidArgument("y must be in host memory for shrink::dist");
    yd.assign(y.data, y.data + y.size);
    shrink::detail::check_finite(yd.data(), y.size, "y");
    lasso_detail::check_vector(options.sample_weights, local_rows, "sample_weights",
                               "this rank's X has " + std::to_string(local_rows) + " rows");
    lasso_detail::validate_common(options, p);
  });
  // Agreed so far; what needs every rank's data is decided from collective values, the same
  // everywhere: the column counts, the rows, the total weight.
  double facts[2] = {static_cast<double>(p), -static_cast<double>(p)};
  c.max(facts, 2);
  if (facts[0] != -facts[1])
    throw DimensionMismatch("X has " + std::to_string(static_cast<index_t>(-facts[1])) + " to " +
                            std::to_string(static_cast<index_t>(facts[0])) +
                            " columns across the ranks; every rank must hold all the columns");
  const bool weighted = !options.sample_weights.empty();
  double totals[4] = {static_cast<double>(local_rows),
                      weighted ? std::accumulate(options.sample_weights.begin(), options.sample_weights.end(), 0.0)
                               : static_cast<double>(local_rows),
                      local_rows > 0 && weighted ? 1.0 : 0.0, local_rows > 0 && !weighted ? 1.0 : 0.0};
  c.sum(totals, 4);
  const auto total = static_cast<index_t>(totals[0]);
  if (total < 1) throw InvalidArgument("X has no rows on any rank; at least one sample is needed");
  if (totals[2] > 0 && totals[3] > 0)
    throw InvalidArgument("sample_weights are given on " + std::to_string(static_cast<int>(totals[2])) +
                          " ranks holding rows and not on " + std::to_string(static_cast<int>(totals[3])) +
                          "; give them on every rank or on none");
  if (!(totals[1] > 0)) throw InvalidArgument("sample_weights are all zero on every rank; at least one sample must carry weight");
  const detail::MpiRowSplit split(c, total);
  return lasso_detail::lasso_path_split(ctx, design, yd, options, split);
}

}  // namespace

template <class V>
LassoPath lasso_path(const Context& ctx, MPI_Comm comm, DenseView<const V> x, VectorView<const V> y,
                     const LassoOptions& options, CommCounts* counts) {
  return split_path<V>(ctx, comm, x.rows, y, options, counts, [&] { return lasso_detail::make_design(ctx, x); });
}
template <class V, class I>
LassoPath lasso_path(const Context& ctx, MPI_Comm comm, const CsrView<V, I>& x, VectorView<const V> y,
                     const LassoOptions& options, CommCounts* counts) {
  return split_path<V>(ctx, comm, x.rows, y, options, counts, [&] { return lasso_detail::make_design(ctx, x); });
}
template <class V, class I>
LassoPath lasso_path(const Context& ctx, MPI_Comm comm, const CscView<V, I>& x, VectorView<const V> y,
                     const LassoOptions& options, CommCounts* counts) {
  return split_path<V>(ctx, comm, x.rows, y, options, counts, [&] { return lasso_detail::make_design(ctx, x); });
}

#define SHRINK_INSTANTIATE_DIST_LASSO_V(V)                                                                   \
  template LassoPath lasso_path<V>(const Context&, MPI_Comm, DenseView<const V>, VectorView<const V>, \
                                   const LassoOptions&, CommCounts*);
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_DIST_LASSO_V)
#define SHRINK_INSTANTIATE_DIST_LASSO_VI(V, I)                                                                   \
  template LassoPath lasso_path<V, I>(const Context&, MPI_Comm, const CsrView<V, I>&, VectorView<const V>, \
                                      const LassoOptions&, CommCounts*);                                    \
  template LassoPath lasso_path<V, I>(const Context&, MPI_Comm, const CscView<V, I>&, VectorView<const V>, \
                                      const LassoOptions&, CommCounts*);
SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE_DIST_LASSO_VI)

}  // namespace shrink::dist
