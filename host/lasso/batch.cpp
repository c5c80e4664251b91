// Batched Lasso / Elastic Net (batch_lasso.hpp), written once for both backends: G once (build_gram),
// then per chunk of problems: stage Y, center it (center_columns), C = Z^T Yc / n by GEMM (dense X) or
// SpMM (sparse X), coordinate descent on G for every problem at once (batch_gram_cd), and the
// non-zero coefficients compressed where they were computed (compress_columns), so only the sparse
// answer and per-problem scalars cross back.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <string>

#include "host/core/dispatch.hpp"
#include "kernels/ops/instantiate.hpp"
#include "host/core/validate.hpp"
#include "host/lasso/solvers.hpp"
#include "shrink/batch_lasso.hpp"
#include "shrink/error.hpp"

namespace shrink {

namespace lasso_detail {
namespace {

// The working set of one chunk (Y, C, the iterates): on a GPU as large as is comfortable, so that each
// launch has enough problems; on the CPU small enough to stay in cache, since BLAS is as fast on a
// few thousand columns as on all of them and the buffers are reused chunk after chunk.
std::size_t chunk_bytes(const Context& ctx) {
  return ctx.backend() == Backend::Cpu ? std::size_t{4} << 20 : std::size_t{1} << 30;
}

// The lambda rule, and the options every batch shares with a path; k problems, p features.
void validate_options(const BatchLassoOptions& o, index_t k, index_t p) {
  validate_common(o, p);
  const int given = (o.lambda != 0) + !o.lambdas.empty() + (o.lambda_ratio != 0);
  if (given != 1)
    throw InvalidArgument("give exactly one of lambda, lambdas (one per problem) and lambda_ratio; got " +
                          std::to_string(given) + (given == 0 ? " (a lambda or ratio of 0 counts as not given)" : ""));
  if (o.lambda != 0 && !(std::isfinite(o.lambda) && o.lambda > 0))
    throw InvalidArgument("lambda must be finite and > 0, got " + std::to_string(o.lambda));
  if (o.lambda_ratio != 0 && !(std::isfinite(o.lambda_ratio) && o.lambda_ratio > 0))
    throw InvalidArgument("lambda_ratio must be finite and > 0, got " + std::to_string(o.lambda_ratio));
  if (o.lambda_ratio != 0 && o.l1_ratio == 0)
    throw InvalidArgument("lambda_ratio needs l1_ratio > 0: with l1_ratio = 0 (ridge) lambda_max is infinite");
  if (!o.lambdas.empty()) {
    detail::check_vector_size(static_cast<index_t>(o.lambdas.size()), k, "lambdas",
                              "there are " + std::to_string(k) + " problems");
    for (std::size_t b = 0; b < o.lambdas.size(); ++b)
      if (!(std::isfinite(o.lambdas[b]) && o.lambdas[b] > 0))
        throw InvalidArgument("lambdas[" + std::to_string(b) + "] = " + std::to_string(o.lambdas[b]) +
                              "; each lambda must be finite and > 0");
  }
  if (o.chunk < 0) throw InvalidArgument("chunk must be >= 0 (0: automatic), got " + std::to_string(o.chunk));
}

// Problems per chunk: o.chunk, or as many as fit chunk_bytes at `bytes_per_problem`.
index_t chunk_size(const Context& ctx, const BatchLassoOptions& o, index_t k, std::size_t bytes_per_problem) {
  const index_t by_memory = static_cast<index_t>(std::max<std::size_t>(1, chunk_bytes(ctx) / bytes_per_problem));
  return std::max<index_t>(1, std::min(k, o.chunk > 0 ? o.chunk : by_memory));
}

// The per-chunk device state shared by both kinds of batch, and the collection of its answers.
template <class V>
class BatchRun {
 public:
  BatchRun(const Context& ctx, index_t p, index_t k, const BatchLassoOptions& o)
      : ctx_(ctx), p_(p), k_(k), o_(o) {
    out_.n_features = p;
    out_.solver = LassoSolver::Gram;
    out_.tol = o.tol > 0 ? o.tol : default_tol(std::is_same_v<V, float>);
    row_ptr_.assign(1, 0);
    if (o.dense_output) out_.dense_coefficients.assign(static_cast<std::size_t>(p * k), 0.0);
    if (!o.penalty_factors.empty()) factors_ = upload(ctx, std::vector<V>(o.penalty_factors.begin(), o.penalty_factors.end()));
  }

  // Arguments for problems [first, first + m) whose q (p x m) is in `q`.
  kernels::BatchGramArgs<V> args(index_t first, index_t m) {
    const auto space = ctx_.memory_space();
    const auto mp = static_cast<std::size_t>(m * p_);
    if (beta_.size() < mp) {
      beta_ = Array<V>(ctx_, mp, space);
      grad_ = Array<V>(ctx_, mp, space);
      active_grad_ = Array<V>(ctx_, mp, space);
      active_moves_ = Array<V>(ctx_, mp, space);
      active_ = Array<std::int64_t>(ctx_, mp, space);
    }
    if (results_.size() < static_cast<std::size_t>(m))
      results_ = Array<kernels::BatchProblemResult>(ctx_, static_cast<std::size_t>(m), space);
    kernels::BatchGramArgs<V> a;
    a.p = p_;
    a.m = m;
    a.factors = factors_.size() ? factors_.data() : nullptr;
    a.ldq = p_;
    if (!o_.lambdas.empty() || o_.lambda != 0) {
      std::vector<double> l(static_cast<std::size_t>(m), o_.lambda);
      if (!o_.lambdas.empty()) std::copy_n(o_.lambdas.begin() + first, m, l.begin());
      lambdas_ = upload(ctx_, l);
      a.lambdas = lambdas_.data();
    }
    a.lambda_ratio = o_.lambda_ratio;
    a.alpha = o_.l1_ratio;
    a.positive = o_.positive;
    a.tol = out_.tol;
    a.max_iter = o_.max_iter;
    kernels::attach_work(a, beta_.data(), grad_.data(), active_.data(), active_grad_.data(), active_moves_.data(),
                         results_.data());
    return a;
  }

  // Runs the solver on a chunk and appends its answers.
  void solve(const kernels::BatchGramArgs<V>& a, index_t first) {
    SHRINK_DISPATCH(ctx_, batch_gram_cd, ctx_, a);
    const index_t m = a.m;
    std::vector<kernels::BatchProblemResult> res(static_cast<std::size_t>(m));
    detail::copy_bytes(&ctx_, res.data(), MemorySpace::Host, results_.data(), ctx_.memory_space(),
                       res.size() * sizeof(kernels::BatchProblemResult));
    std::vector<std::int64_t> offsets(static_cast<std::size_t>(m) + 1, 0);
    for (index_t b = 0; b < m; ++b) {
      const auto& r = res[b];
      offsets[b + 1] = offsets[b] + r.nnz;
      out_.lambdas.push_back(r.lambda);
      out_.lambda_max.push_back(r.lambda_max);
      out_.intercepts.push_back(r.intercept);
      out_.objective.push_back(r.objective);
      out_.duality_gap.push_back(r.gap);
      out_.iterations.push_back(r.iterations);
      out_.nnz.push_back(r.nnz);
      out_.status.push_back(r.converged ? FitStatus::Converged : FitStatus::MaxIterations);
    }
    const auto nnz = static_cast<std::size_t>(offsets.back());
    const auto space = ctx_.memory_space();
    const DenseView<const V> beta(beta_.data(), p_, m, p_, Layout::ColMajor, space);
    if (nnz > 0) {
      const auto device_offsets = upload(ctx_, offsets);
      Array<std::int64_t> rows(ctx_, nnz, space);
      Array<double> values(ctx_, nnz, space);
      SHRINK_DISPATCH(ctx_, compress_columns, ctx_, beta, device_offsets.data(), rows.data(), values.data());
      const auto base = cols_.size();
      cols_.resize(base + nnz);
      vals_.resize(base + nnz);
      detail::copy_bytes(&ctx_, cols_.data() + base, MemorySpace::Host, rows.data(), space, nnz * sizeof(std::int64_t));
      detail::copy_bytes(&ctx_, vals_.data() + base, MemorySpace::Host, values.data(), space, nnz * sizeof(double));
    }
    const std::int64_t at = row_ptr_.back();
    for (index_t b = 0; b < m; ++b) row_ptr_.push_back(at + offsets[b + 1]);
    if (o_.dense_output) {
      std::vector<V> host(static_cast<std::size_t>(m * p_));
      detail::copy_bytes(&ctx_, host.data(), MemorySpace::Host, beta_.data(), space, host.size() * sizeof(V));
      std::copy(host.begin(), host.end(), out_.dense_coefficients.begin() + first * p_);
    }
    if (o_.progress) o_.progress(static_cast<std::size_t>(first + m), static_cast<std::size_t>(k_));
  }

  BatchLassoResult finish(index_t n, std::chrono::steady_clock::time_point start) {
    out_.n_samples = n;
    out_.coefficients = CscMatrix<double, std::int64_t>(CsrMatrix<double, std::int64_t>::adopt(
        k_, p_, Array<std::int64_t>::from_vector(row_ptr_), Array<std::int64_t>::from_vector(cols_),
        Array<double>::from_vector(vals_)));
    out_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return std::move(out_);
  }

 private:
  const Context& ctx_;
  index_t p_, k_;
  const BatchLassoOptions& o_;
  BatchLassoResult out_;
  Array<V> factors_, beta_, grad_, active_grad_, active_moves_;
  Array<std::int64_t> active_;
  Array<double> lambdas_;
  Array<kernels::BatchProblemResult> results_;
  std::vector<std::int64_t> row_ptr_, cols_;
  std::vector<double> vals_;
};

// Columns [first, first + m) of Y into `dst` (column-major n x m in the context's memory), refusing
// a non-finite entry (with its place when Y is on the host).
template <class V>
void stage_columns(const Context& ctx, DenseView<const V> y, index_t first, index_t m, V* dst) {
  const index_t n = y.rows;
  const auto count = static_cast<std::size_t>(n * m);
  const auto space = ctx.memory_space();
  const bool packed_columns = y.layout == Layout::ColMajor && (y.ld == n || m == 1);
  const V* src = y.data + (y.layout == Layout::ColMajor ? first * y.ld : first);
  if (y.space != MemorySpace::Host) {  // on the device already: a relayout there at most
    const DenseView<const V> part(src, n, m, y.ld, y.layout, y.space);
    if (packed_columns) detail::copy_bytes(&ctx, dst, space, src, y.space, count * sizeof(V));
    else SHRINK_DISPATCH(ctx, copy_dense, ctx, part, DenseView<V>(dst, n, m, n, Layout::ColMajor, space));
    const index_t bad = dispatch::count_nonfinite<V>(ctx, VectorView<const V>(dst, static_cast<index_t>(count), space));
    if (bad > 0)
      throw NonFinite("Y columns " + std::to_string(first) + " to " + std::to_string(first + m - 1) + " hold " +
                      std::to_string(bad) + " NaN/Inf values; only finite values are accepted");
    return;
  }
  std::vector<V> packed;
  if (!packed_columns) {
    packed.resize(count);
#pragma omp parallel for schedule(static)
    for (index_t b = 0; b < m; ++b)
      for (index_t i = 0; i < n; ++i) packed[b * n + i] = y(i, first + b);
    src = packed.data();
  }
  detail::copy_bytes(&ctx, dst, space, src, MemorySpace::Host, count * sizeof(V));
  const VectorView<const V> staged(dst, static_cast<index_t>(count), space);
  if (dispatch::count_nonfinite<V>(ctx, staged) > 0)
    for (index_t b = 0; b < m; ++b)
      for (index_t i = 0; i < n; ++i)
        if (!std::isfinite(static_cast<double>(y(i, first + b))))
          throw NonFinite("Y entry (" + std::to_string(i) + ", " + std::to_string(first + b) + ") is " +
                          (std::isnan(static_cast<double>(y(i, first + b))) ? "NaN" : "Inf") +
                          "; only finite values are accepted");
}

template <class V>
BatchLassoResult fit_shared(const Context& ctx, const Design<V>& x, DenseView<const V> y,
                            const BatchLassoOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  const index_t n = x.n, p = x.p, k = y.cols;
  if (y.space != MemorySpace::Host) detail::check_space(y.space, ctx, "Y");
  if (n < 1) throw InvalidArgument("X has no rows (n_samples = 0); at least one sample is needed");
  if (y.rows != n)
    throw DimensionMismatch("Y is " + detail::shape(y.rows, y.cols) + " but X has " + std::to_string(n) +
                            " rows; Y needs one row per sample and one column per problem");
  if (k < 1) throw InvalidArgument("Y has no columns: there is no problem to fit");
  if (p > kBatchMaxFeatures)
    throw InvalidArgument("X has " + std::to_string(p) + " columns; the batched solver keeps the p x p Gram and " +
                          "takes at most " + std::to_string(kBatchMaxFeatures));
  validate_options(o, k, p);

  LassoOptions single;
  static_cast<LassoCoreOptions&>(single) = o;
  const auto prob = make_problem(ctx, x, std::vector<double>(static_cast<std::size_t>(n), 0.0), single);
  if (o.positive && !prob.unpenalized.empty())
    throw InvalidArgument("penalty_factors: feature " + std::to_string(prob.unpenalized.front()) +
                          " is unpenalized (factor 0) and positive is set; the batched solver does not "
                          "support that pair (use lasso_path per problem)");
  const auto space = ctx.memory_space();
  // On a CUDA context X is read on the device (a host X copied over once); on the CPU in place.
  std::unique_ptr<DesignOperator<V>> op;
  if (space != MemorySpace::Host) op = std::make_unique<DesignOperator<V>>(ctx, prob);
  const UnpenalizedSolver unpen =
      x.space == MemorySpace::Host ? UnpenalizedSolver(prob) : UnpenalizedSolver(op->unpenalized_gram());
  const Design<V>& xc = op ? op->placed() : x;

  // G in V, its diagonal as the lipschitz constants (0 for unusable features), the means.
  const auto gram = build_gram(ctx, prob, unpen, op.get())->gram.copy_to(ctx, MemorySpace::Host);
  std::vector<V> g(static_cast<std::size_t>(p * p)), lip(static_cast<std::size_t>(p)), mu(static_cast<std::size_t>(p));
  for (index_t i = 0; i < p * p; ++i) g[i] = static_cast<V>(gram.data()[i]);
  for (index_t j = 0; j < p; ++j) {
    lip[j] = prob.usable(j) ? g[j * p + j] : V(0);
    mu[j] = static_cast<V>(prob.mu[j]);
  }
  const auto g_dev = upload(ctx, g), lip_dev = upload(ctx, lip), mu_dev = upload(ctx, mu);

  // The unpenalized block's pseudo-inverse, row-major.
  const auto nu = static_cast<index_t>(unpen.size());
  std::vector<V> inverse(static_cast<std::size_t>(nu * nu));
  std::vector<std::int64_t> unpen_idx(prob.unpenalized.begin(), prob.unpenalized.end());
  for (index_t u = 0; u < nu; ++u) {
    std::vector<double> e(static_cast<std::size_t>(nu), 0.0);
    e[u] = 1;
    const auto col = unpen.solve(e);
    for (index_t v = 0; v < nu; ++v) inverse[v * nu + u] = static_cast<V>(col[v]);
  }
  Array<V> inverse_dev;
  Array<std::int64_t> unpen_dev;
  if (nu > 0) {
    inverse_dev = upload(ctx, inverse);
    unpen_dev = upload(ctx, unpen_idx);
  }

  BatchRun<V> run(ctx, p, k, o);
  const std::size_t per_problem = sizeof(V) * static_cast<std::size_t>(n + 5 * p + nu) + 8 * static_cast<std::size_t>(p) + 96;
  const index_t chunk = chunk_size(ctx, o, k, per_problem);
  DenseMatrix<V> ybuf(ctx, n, chunk, Layout::ColMajor, space);
  DenseMatrix<V> q(ctx, p, chunk, Layout::ColMajor, space);
  Array<double> ybar(ctx, static_cast<std::size_t>(chunk), space), yy(ctx, static_cast<std::size_t>(chunk), space);
  Array<V> scratch(ctx, static_cast<std::size_t>(nu * chunk), space), ysum(ctx, static_cast<std::size_t>(chunk), space);
  const V inv_n = static_cast<V>(1.0 / static_cast<double>(n));
  for (index_t first = 0; first < k; first += chunk) {
    const index_t m = std::min(chunk, k - first);
    stage_columns(ctx, y, first, m, ybuf.data());
    const DenseView<V> yc(ybuf.data(), n, m, n, Layout::ColMajor, space);
    SHRINK_DISPATCH(ctx, center_columns, ctx, yc, o.fit_intercept, ybar.data(), yy.data());
    // C = Z^T Yc / n = (X^T Yc - mu (1^T Yc)) / n, with X as it is stored: the rank-one term takes
    // out what rounding left in the centered columns' sums.
    const DenseView<V> qv(q.data(), p, m, p, Layout::ColMajor, space);
    if (!xc.sparse)
      dispatch::gemm<V>(ctx, Op::Transpose, Op::NoTranspose, inv_n, xc.dense, DenseView<const V>(yc), V(0), qv);
    else
      xc.with_transposed([&](const auto& xt) { SHRINK_DISPATCH(ctx, csr_spmm, ctx, inv_n, xt, DenseView<const V>(yc), V(0), qv); });
    if (o.fit_intercept) {
      dispatch::column_sums<V>(ctx, DenseView<const V>(yc), VectorView<V>(ysum.data(), m, space));
      dispatch::gemm<V>(ctx, Op::NoTranspose, Op::NoTranspose, -inv_n,
                        DenseView<const V>(mu_dev.data(), p, 1, p, Layout::ColMajor, space),
                        DenseView<const V>(ysum.data(), 1, m, 1, Layout::ColMajor, space), V(1), qv);
    }
    auto a = run.args(first, m);
    a.gram = g_dev.data();
    a.ld_gram = p;
    a.lipschitz = lip_dev.data();
    a.mu = o.fit_intercept ? mu_dev.data() : nullptr;
    a.q = q.data();
    a.yy = yy.data();
    a.ybar = ybar.data();
    a.n_unpenalized = nu;
    a.unpenalized = nu > 0 ? unpen_dev.data() : nullptr;
    a.unpenalized_inverse = nu > 0 ? inverse_dev.data() : nullptr;
    a.scratch = nu > 0 ? scratch.data() : nullptr;
    run.solve(a, first);
  }
  return run.finish(n, start);
}

template <class V>
BatchLassoResult fit_distinct(const Context& ctx, const StridedBatch<V>& s, const BatchLassoOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  const index_t n = s.n, p = s.p, k = s.count;
  if (n < 1 || p < 1) throw InvalidArgument("each problem needs n >= 1 and p >= 1, got n = " + std::to_string(n) +
                                            ", p = " + std::to_string(p));
  if (k < 1) throw InvalidArgument("count must be >= 1, got " + std::to_string(k));
  if (!s.x || !s.y) throw InvalidArgument("x and y must not be null");
  if (s.ldx < n) throw InvalidArgument("ldx = " + std::to_string(s.ldx) + " is below n = " + std::to_string(n));
  const index_t x_span = detail::checked_product(s.ldx, p, "X_b (ldx x p)");
  if (k > 1 && s.x_stride < x_span)
    throw InvalidArgument("x_stride = " + std::to_string(s.x_stride) + " is below ldx * p = " +
                          std::to_string(x_span) + ": the problems would overlap");
  if (k > 1 && s.y_stride < n)
    throw InvalidArgument("y_stride = " + std::to_string(s.y_stride) + " is below n = " + std::to_string(n));
  if (p > 1024)
    throw InvalidArgument("p = " + std::to_string(p) + " is too large for a distinct batch (at most 1024: each "
                          "problem keeps its own p x p Gram)");
  validate_options(o, k, p);
  for (std::size_t j = 0; j < o.penalty_factors.size(); ++j)
    if (!(o.penalty_factors[j] > 0))
      throw InvalidArgument("penalty_factors[" + std::to_string(j) + "] = 0; a distinct batch needs every factor > 0");
  for (index_t b = 0; b < k; ++b) {
    for (index_t j = 0; j < p; ++j)
      for (index_t i = 0; i < n; ++i)
        if (!std::isfinite(static_cast<double>(s.x[b * s.x_stride + j * s.ldx + i])))
          throw NonFinite("X_" + std::to_string(b) + " entry (" + std::to_string(i) + ", " + std::to_string(j) +
                          ") is not finite; only finite values are accepted");
    for (index_t i = 0; i < n; ++i)
      if (!std::isfinite(static_cast<double>(s.y[b * s.y_stride + i])))
        throw NonFinite("y_" + std::to_string(b) + " entry " + std::to_string(i) +
                        " is not finite; only finite values are accepted");
  }

  const auto space = ctx.memory_space();
  BatchRun<V> run(ctx, p, k, o);
  const std::size_t per_problem = sizeof(V) * static_cast<std::size_t>(n * p + n + p * p + 8 * p) + 8 * static_cast<std::size_t>(p) + 96;
  const index_t chunk = chunk_size(ctx, o, k, per_problem);
  // Each chunk is packed: X_b at b * n * p (ldx = n), y_b at b * n.
  Array<V> xs(ctx, static_cast<std::size_t>(chunk * n * p), space), ys(ctx, static_cast<std::size_t>(chunk * n), space);
  Array<V> gram(ctx, static_cast<std::size_t>(chunk * p * p), space), lip(ctx, static_cast<std::size_t>(chunk * p), space),
      mu(ctx, static_cast<std::size_t>(chunk * p), space), q(ctx, static_cast<std::size_t>(chunk * p), space);
  Array<double> yy(ctx, static_cast<std::size_t>(chunk), space), ybar(ctx, static_cast<std::size_t>(chunk), space);
  std::vector<V> xh(static_cast<std::size_t>(chunk * n * p)), yh(static_cast<std::size_t>(chunk * n));
  for (index_t first = 0; first < k; first += chunk) {
    const index_t m = std::min(chunk, k - first);
#pragma omp parallel for schedule(static)
    for (index_t b = 0; b < m; ++b) {
      const V* xb = s.x + (first + b) * s.x_stride;
      for (index_t j = 0; j < p; ++j) std::copy_n(xb + j * s.ldx, n, xh.data() + (b * p + j) * n);
      std::copy_n(s.y + (first + b) * s.y_stride, n, yh.data() + b * n);
    }
    detail::copy_bytes(&ctx, xs.data(), space, xh.data(), MemorySpace::Host, static_cast<std::size_t>(m * n * p) * sizeof(V));
    detail::copy_bytes(&ctx, ys.data(), space, yh.data(), MemorySpace::Host, static_cast<std::size_t>(m * n) * sizeof(V));
    const auto build = kernels::packed_batch<V>(n, p, m, xs.data(), ys.data(), o.fit_intercept, gram.data(), lip.data(),
                                                mu.data(), q.data(), yy.data(), ybar.data());
    SHRINK_DISPATCH(ctx, batch_gram_build, ctx, build);
    auto a = run.args(first, m);
    kernels::attach_built(a, build);
    run.solve(a, first);
  }
  return run.finish(n, start);
}

}  // namespace
}  // namespace lasso_detail

template <class V>
BatchLassoResult lasso_batch(const Context& ctx, DenseView<const V> x, DenseView<const V> y,
                             const BatchLassoOptions& o) {
  return lasso_detail::with_threads(ctx, [&] { return lasso_detail::fit_shared(ctx, lasso_detail::make_design(ctx, x), y, o); });
}
template <class V, class I>
BatchLassoResult lasso_batch(const Context& ctx, const CsrView<V, I>& x, DenseView<const V> y,
                             const BatchLassoOptions& o) {
  return lasso_detail::with_threads(ctx, [&] { return lasso_detail::fit_shared(ctx, lasso_detail::make_design(ctx, x), y, o); });
}
template <class V, class I>
BatchLassoResult lasso_batch(const Context& ctx, const CscView<V, I>& x, DenseView<const V> y,
                             const BatchLassoOptions& o) {
  return lasso_detail::with_threads(ctx, [&] { return lasso_detail::fit_shared(ctx, lasso_detail::make_design(ctx, x), y, o); });
}
template <class V>
BatchLassoResult lasso_batch(const Context& ctx, const StridedBatch<V>& batch, const BatchLassoOptions& o) {
  return lasso_detail::with_threads(ctx, [&] { return lasso_detail::fit_distinct(ctx, batch, o); });
}

#define SHRINK_INSTANTIATE_BATCH_V(V)                                                                  \
  template BatchLassoResult lasso_batch<V>(const Context&, DenseView<const V>, DenseView<const V>,      \
                                           const BatchLassoOptions&);                                   \
  template BatchLassoResult lasso_batch<V>(const Context&, const StridedBatch<V>&, const BatchLassoOptions&);
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_BATCH_V)

#define SHRINK_INSTANTIATE_BATCH_VI(V, I)                                                              \
  template BatchLassoResult lasso_batch<V, I>(const Context&, const CsrView<V, I>&, DenseView<const V>,   \
                                              const BatchLassoOptions&);                                 \
  template BatchLassoResult lasso_batch<V, I>(const Context&, const CscView<V, I>&, DenseView<const V>,   \
                                              const BatchLassoOptions&);
SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE_BATCH_VI)

}  // namespace shrink
