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

// This rank's rows, validated and agreed on, with the facts every rank needs (the total rows).
template <class V>
struct Rows {
  lasso_detail::Design<V> design;
  std::vector<double> y;
  index_t total = 0;
};

template <class V, class MakeDesign>
Rows<V> agreed_rows(const detail::Comm& c, index_t local_rows, VectorView<const V> y, const LassoOptions& options,
                    MakeDesign&& make) {
  Rows<V> rows;
  index_t p = 0;
  c.agree([&] {
    rows.design = make();
    p = rows.design.p;
    shrink::detail::check_vector_size(y.size, local_rows, "y", "this rank's X has " + std::to_string(local_rows) + " rows");
    if (y.space != MemorySpace::Host) throw InvalidArgument("y must be in host memory for shrink::dist");
    rows.y.assign(y.data, y.data + y.size);
    shrink::detail::check_finite(rows.y.data(), y.size, "y");
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
  rows.total = static_cast<index_t>(totals[0]);
  if (rows.total < 1) throw InvalidArgument("X has no rows on any rank; at least one sample is needed");
  if (totals[2] > 0 && totals[3] > 0)
    throw InvalidArgument("sample_weights are given on " + std::to_string(static_cast<int>(totals[2])) +
                          " ranks holding rows and not on " + std::to_string(static_cast<int>(totals[3])) +
                          "; give them on every rank or on none");
  if (!(totals[1] > 0)) throw InvalidArgument("sample_weights are all zero on every rank; at least one sample must carry weight");
  return rows;
}

template <class V, class MakeDesign>
LassoPath split_path(const Context& ctx, MPI_Comm comm, index_t local_rows, VectorView<const V> y,
                     const LassoOptions& options, CommCounts* counts, MakeDesign&& make) {
  const detail::Comm c(comm, counts);
  const Rows<V> rows = agreed_rows<V>(c, local_rows, y, options, make);
  const auto device = detail::DeviceCollectives::open(c, ctx);
  const detail::MpiRowSplit split(c, rows.total, device.get());
  return c.guarded([&] { return lasso_detail::lasso_path_split(ctx, rows.design, rows.y, options, split); });
}

// K-fold cross-validation on split rows: every rank knows the fold of each of its rows from its
// global index (the serial lasso_cv's assignment), a fold's test rows get weight 0 (the same problem
// as the training rows alone), and the test errors are summed over the ranks (L + 1 numbers a fold).
template <class V, class MakeDesign>
LassoCv split_cv(const Context& ctx, MPI_Comm comm, index_t local_rows, VectorView<const V> y, const LassoOptions& o,
                 const CrossValidationOptions& cv, MakeDesign&& make) {
  const detail::Comm c(comm, nullptr);
  const Rows<V> rows = agreed_rows<V>(c, local_rows, y, o, make);
  const auto ranges = row_ranges(comm, local_rows);
  const index_t first = ranges[c.rank()].begin, p = rows.design.p;
  const auto fold = lasso_detail::cv_folds(cv, rows.total);  // replicated options: the same verdict everywhere
  const auto device = detail::DeviceCollectives::open(c, ctx);
  const detail::MpiRowSplit split(c, rows.total, device.get());
  return c.guarded([&] {
    LassoCv out;
    LassoOptions full = o;
    full.progress = nullptr;
    const auto steps = static_cast<std::size_t>(cv.folds + 1);
    out.path = lasso_detail::lasso_path_split(ctx, rows.design, rows.y, full, split);
    if (o.progress) o.progress(1, steps);
    const std::size_t count = out.path.size();
    LassoOptions sub = full;
    sub.lambdas = out.path.lambdas;
    auto weight = [&](index_t i) { return o.sample_weights.empty() ? 1.0 : o.sample_weights[i]; };
    const auto space = rows.design.space;
    Array<V> b(ctx, static_cast<std::size_t>(p), space), xb(ctx, static_cast<std::size_t>(local_rows), space);
    std::vector<std::vector<double>> errors(static_cast<std::size_t>(cv.folds));
    for (int k = 0; k < cv.folds; ++k) {
      sub.sample_weights.assign(static_cast<std::size_t>(local_rows), 0.0);
      double train = 0;
      for (index_t i = 0; i < local_rows; ++i)
        if (fold[first + i] != k) train += (sub.sample_weights[i] = weight(i));
      c.sum(&train, 1);
      if (!(train > 0)) throw InvalidArgument("cv fold " + std::to_string(k) + " has zero total training weight");
      const LassoPath fp = lasso_detail::lasso_path_split(ctx, rows.design, rows.y, sub, split);
      out.fold_fits_not_converged += fp.n_not_converged();
      std::vector<double> sums(count + 1, 0.0);  // per lambda the weighted squared error, then the weight
      for (std::size_t l = 0; l < count; ++l) {
        const auto coef = fp.coefficients_at(l);
        copy<V>(ctx, VectorView<const V>(std::vector<V>(coef.begin(), coef.end())), b.view());
        lasso_detail::multiply(ctx, rows.design, b.data(), xb.data());
        const auto pred = xb.to_vector(ctx);
        for (index_t i = 0; i < local_rows; ++i) {
          if (fold[first + i] != k) continue;
          const double d = rows.y[i] - fp.intercepts[l] - static_cast<double>(pred[i]);
          sums[l] += weight(i) * d * d;
        }
      }
      for (index_t i = 0; i < local_rows; ++i)
        if (fold[first + i] == k) sums[count] += weight(i);
      c.sum(sums.data(), sums.size());
      auto& err = errors[static_cast<std::size_t>(k)];
      err.resize(count);
      for (std::size_t l = 0; l < count; ++l) err[l] = sums[count] > 0 ? sums[l] / sums[count] : 0.0;
      if (o.progress) o.progress(static_cast<std::size_t>(k) + 2, steps);
    }
    lasso_detail::summarize_folds(out, errors);
    return out;
  });
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

template <class V>
LassoCv lasso_cv(const Context& ctx, MPI_Comm comm, DenseView<const V> x, VectorView<const V> y,
                 const LassoOptions& options, const CrossValidationOptions& cv) {
  return split_cv<V>(ctx, comm, x.rows, y, options, cv, [&] { return lasso_detail::make_design(ctx, x); });
}
template <class V, class I>
LassoCv lasso_cv(const Context& ctx, MPI_Comm comm, const CsrView<V, I>& x, VectorView<const V> y,
                 const LassoOptions& options, const CrossValidationOptions& cv) {
  return split_cv<V>(ctx, comm, x.rows, y, options, cv, [&] { return lasso_detail::make_design(ctx, x); });
}

#define SHRINK_INSTANTIATE_DIST_LASSO_V(V)                                                                   \
  template LassoPath lasso_path<V>(const Context&, MPI_Comm, DenseView<const V>, VectorView<const V>, \
                                   const LassoOptions&, CommCounts*);                                  \
  template LassoCv lasso_cv<V>(const Context&, MPI_Comm, DenseView<const V>, VectorView<const V>,     \
                               const LassoOptions&, const CrossValidationOptions&);
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_DIST_LASSO_V)
#define SHRINK_INSTANTIATE_DIST_LASSO_VI(V, I)                                                                   \
  template LassoPath lasso_path<V, I>(const Context&, MPI_Comm, const CsrView<V, I>&, VectorView<const V>, \
                                      const LassoOptions&, CommCounts*);                                    \
  template LassoPath lasso_path<V, I>(const Context&, MPI_Comm, const CscView<V, I>&, VectorView<const V>, \
                                      const LassoOptions&, CommCounts*);                                    \
  template LassoCv lasso_cv<V, I>(const Context&, MPI_Comm, const CsrView<V, I>&, VectorView<const V>,     \
                                  const LassoOptions&, const CrossValidationOptions&);
SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE_DIST_LASSO_VI)

}  // namespace shrink::dist
