// Batched fits split by problem (dist.hpp): each rank fits its share with lasso_batch, then every
// rank gathers every answer in problem order.
#include <chrono>
#include <cstdint>

#include "host/dist/comm.hpp"
#include "kernels/ops/instantiate.hpp"
#include "shrink/error.hpp"

namespace shrink::dist {
namespace {

// One rank's fits as doubles (indices are exact below 2^53): [count, has_dense]; per problem its
// lambda, lambda_max, intercept, objective, gap, iterations, nnz and status; per problem its stored
// coefficients as [length, (row, value)...]; then the dense coefficients (p per problem) if any.
std::vector<double> pack(const LassoFit& fit) {
  const std::size_t k = fit.size();
  std::vector<double> out{static_cast<double>(k), fit.dense_coefficients.empty() ? 0.0 : 1.0};
  for (std::size_t b = 0; b < k; ++b)
    out.insert(out.end(), {fit.lambdas[b], fit.lambda_max[b], fit.intercepts[b], fit.objective[b], fit.duality_gap[b],
                           static_cast<double>(fit.iterations[b]), static_cast<double>(fit.nnz[b]),
                           fit.status[b] == FitStatus::Converged ? 0.0 : 1.0});
  if (k > 0) {
    const auto& t = fit.coefficients.transposed();  // k x p: row b is problem b's coefficients
    for (std::size_t b = 0; b < k; ++b) {
      out.push_back(static_cast<double>(t.row_ptr()[b + 1] - t.row_ptr()[b]));
      for (auto e = t.row_ptr()[b]; e < t.row_ptr()[b + 1]; ++e) {
        out.push_back(static_cast<double>(t.col_idx()[e]));
        out.push_back(t.values()[e]);
      }
    }
  }
  out.insert(out.end(), fit.dense_coefficients.begin(), fit.dense_coefficients.end());
  return out;
}

// Every rank's packed fits, in rank order, into one result.
void unpack(const std::vector<double>& all, int ranks, index_t p, LassoFit& out) {
  std::vector<std::int64_t> row_ptr{0}, cols;
  std::vector<double> vals;
  std::size_t at = 0;
  for (int r = 0; r < ranks; ++r) {
    const auto k = static_cast<std::size_t>(all.at(at));
    const bool dense = all.at(at + 1) != 0;
    at += 2;
    for (std::size_t b = 0; b < k; ++b, at += 8) {
      out.lambdas.push_back(all[at]);
      out.lambda_max.push_back(all[at + 1]);
      out.intercepts.push_back(all[at + 2]);
      out.objective.push_back(all[at + 3]);
      out.duality_gap.push_back(all[at + 4]);
      out.iterations.push_back(static_cast<std::int64_t>(all[at + 5]));
      out.nnz.push_back(static_cast<std::int64_t>(all[at + 6]));
      out.status.push_back(all[at + 7] == 0 ? FitStatus::Converged : FitStatus::MaxIterations);
    }
    for (std::size_t b = 0; b < k; ++b) {
      const auto length = static_cast<std::size_t>(all.at(at++));
      for (std::size_t e = 0; e < length; ++e, at += 2) {
        cols.push_back(static_cast<std::int64_t>(all[at]));
        vals.push_back(all[at + 1]);
      }
      row_ptr.push_back(static_cast<std::int64_t>(cols.size()));
    }
    if (dense) {
      const std::size_t count = k * static_cast<std::size_t>(p);
      out.dense_coefficients.insert(out.dense_coefficients.end(), all.begin() + static_cast<std::ptrdiff_t>(at),
                                    all.begin() + static_cast<std::ptrdiff_t>(at + count));
      at += count;
    }
  }
  out.coefficients = CscMatrix<double, std::int64_t>(CsrMatrix<double, std::int64_t>::adopt(
      static_cast<index_t>(out.lambdas.size()), p, Array<std::int64_t>::from_vector(row_ptr),
      Array<std::int64_t>::from_vector(cols), Array<double>::from_vector(vals)));
}

// `fit_share(first, count)` fits problems [first, first + count) on this rank.
template <class FitShare>
BatchLassoResult split_batch(MPI_Comm comm, index_t problems, index_t n, index_t p, double tol, FitShare&& fit_share) {
  const auto start = std::chrono::steady_clock::now();
  const detail::Comm c(comm, nullptr);
  const RowRange share = even_ranges(problems, c.size())[c.rank()];
  LassoFit mine;
  c.agree([&] {
    if (problems < 1) throw InvalidArgument("the batch has no problems (k = 0)");
    if (share.size() > 0) mine = fit_share(share.begin, share.size());
  });
  LassoFit out;
  out.n_samples = n;
  out.n_features = p;
  out.solver = LassoSolver::Gram;
  out.tol = share.size() > 0 ? mine.tol : tol;
  unpack(c.allgather(pack(mine)), c.size(), p, out);
  double tols[1] = {out.tol};
  c.max(tols, 1);  // a rank without problems learns the tolerance used
  out.tol = tols[0];
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

// The options of problems [first, first + count): per-problem lambdas sliced.
BatchLassoOptions share_options(const BatchLassoOptions& o, index_t first, index_t count) {
  BatchLassoOptions s = o;
  if (!o.lambdas.empty() && static_cast<index_t>(o.lambdas.size()) >= first + count)
    s.lambdas.assign(o.lambdas.begin() + first, o.lambdas.begin() + first + count);
  s.progress = nullptr;
  return s;
}

// Columns [first, first + count) of Y.
template <class V>
DenseView<const V> columns(DenseView<const V> y, index_t first, index_t count) {
  const V* at = y.layout == Layout::ColMajor ? y.data + first * y.ld : y.data + first;
  return DenseView<const V>(at, y.rows, count, y.ld, y.layout, y.space);
}

void check_lambdas(const BatchLassoOptions& o, index_t problems) {
  if (!o.lambdas.empty() && static_cast<index_t>(o.lambdas.size()) != problems)
    throw DimensionMismatch("lambdas has " + std::to_string(o.lambdas.size()) + " entries for " +
                            std::to_string(problems) + " problems");
}

}  // namespace

template <class V>
BatchLassoResult lasso_batch(const Context& ctx, MPI_Comm comm, DenseView<const V> x, DenseView<const V> y,
                             const BatchLassoOptions& o) {
  return split_batch(comm, y.cols, x.rows, x.cols, o.tol, [&](index_t first, index_t count) {
    check_lambdas(o, y.cols);
    return shrink::lasso_batch(ctx, x, columns(y, first, count), share_options(o, first, count));
  });
}
template <class V, class I>
BatchLassoResult lasso_batch(const Context& ctx, MPI_Comm comm, const CsrView<V, I>& x, DenseView<const V> y,
                             const BatchLassoOptions& o) {
  return split_batch(comm, y.cols, x.rows, x.cols, o.tol, [&](index_t first, index_t count) {
    check_lambdas(o, y.cols);
    return shrink::lasso_batch(ctx, x, columns(y, first, count), share_options(o, first, count));
  });
}
template <class V>
BatchLassoResult lasso_batch(const Context& ctx, MPI_Comm comm, const StridedBatch<V>& batch,
                             const BatchLassoOptions& o) {
  return split_batch(comm, batch.count, batch.n, batch.p, o.tol, [&](index_t first, index_t count) {
    check_lambdas(o, batch.count);
    StridedBatch<V> share = batch;
    share.x = batch.x + first * batch.x_stride;
    share.y = batch.y + first * batch.y_stride;
    share.count = count;
    return shrink::lasso_batch(ctx, share, share_options(o, first, count));
  });
}

#define SHRINK_INSTANTIATE_DIST_BATCH_V(V)                                                                          \
  template BatchLassoResult lasso_batch<V>(const Context&, MPI_Comm, DenseView<const V>, DenseView<const V>, \
                                           const BatchLassoOptions&);                                       \
  template BatchLassoResult lasso_batch<V>(const Context&, MPI_Comm, const StridedBatch<V>&, const BatchLassoOptions&);
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_DIST_BATCH_V)
#define SHRINK_INSTANTIATE_DIST_BATCH_VI(V, I)                                                                \
  template BatchLassoResult lasso_batch<V, I>(const Context&, MPI_Comm, const CsrView<V, I>&, DenseView<const V>, \
                                              const BatchLassoOptions&);
SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE_DIST_BATCH_VI)

}  // namespace shrink::dist
