// Public Lasso entry points: boundary validation, the lambda grid, the warm-started path, the choice
// of solver, cross-validation and result assembly.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <limits>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>

#include "kernels/ops/fork.hpp"
#include "kernels/ops/instantiate.hpp"
#include "host/core/validate.hpp"
#include "host/lasso/solvers.hpp"
#include "shrink/error.hpp"
#include "shrink/lasso.hpp"

namespace shrink {

const char* to_string(LassoSolver solver) noexcept {
  switch (solver) {
    case LassoSolver::Auto: return "auto";
    case LassoSolver::CoordinateDescent: return "cd";
    case LassoSolver::Gram: return "gram";
    case LassoSolver::ProximalGradient: return "fista";
    case LassoSolver::WorkingSetGram: return "ws-gram";
  }
  return "?";
}

LassoSolver parse_lasso_solver(std::string_view text) {
  if (text == "auto") return LassoSolver::Auto;
  if (text == "cd") return LassoSolver::CoordinateDescent;
  if (text == "gram") return LassoSolver::Gram;
  if (text == "fista") return LassoSolver::ProximalGradient;
  if (text == "ws-gram") return LassoSolver::WorkingSetGram;
  throw InvalidArgument("solver must be auto, cd, gram, fista or ws-gram, got '" + std::string(text) + "'");
}

const char* to_string(FitStatus status) noexcept {
  return status == FitStatus::Converged ? "converged" : "max_iterations";
}

bool LassoFit::all_converged() const noexcept { return n_not_converged() == 0; }
std::size_t LassoFit::n_not_converged() const noexcept {
  return static_cast<std::size_t>(std::count(status.begin(), status.end(), FitStatus::MaxIterations));
}

std::vector<double> LassoFit::coefficients_at(std::size_t l) const {
  return lasso_detail::dense_column(coefficients, l, "solution index");
}

double LassoFit::sparsity_ratio(std::size_t l) const {
  if (n_features == 0) return 1.0;
  return 1.0 - static_cast<double>(nnz.at(l)) / static_cast<double>(n_features);
}

MagnitudeHistogram coefficient_histogram(const LassoPath& path, std::size_t l, int bins) {
  const auto coef = path.coefficients_at(l);
  return magnitude_histogram(coef, bins);
}

namespace lasso_detail {
namespace {

constexpr int kLanes = 2;  // lambdas solved at once on a CPU path with threads to spare

// Split rows (a RowSplit): a block may hold no rows, and whether any row carries weight is the
// caller's check over every block.
void validate(index_t n, index_t p, const std::vector<double>& y, const LassoOptions& o, bool split = false) {
  if (n < 1 && !split) throw InvalidArgument("X has no rows (n_samples = 0); at least one sample is needed");
  detail::check_vector_size(static_cast<index_t>(y.size()), n, "y", "X has " + std::to_string(n) + " rows");
  detail::check_finite(y.data(), n, "y");
  validate_common(o, p);
  check_vector(o.sample_weights, n, "sample_weights", "X has " + std::to_string(n) + " rows");
  if (!o.sample_weights.empty() && !split &&
      std::all_of(o.sample_weights.begin(), o.sample_weights.end(), [](double w) { return w == 0; }))
    throw InvalidArgument("sample_weights are all zero; at least one sample must carry weight");
  for (std::size_t l = 0; l < o.lambdas.size(); ++l)
    if (!std::isfinite(o.lambdas[l]) || o.lambdas[l] < 0)
      throw InvalidArgument("lambdas[" + std::to_string(l) + "] = " + std::to_string(o.lambdas[l]) +
                            "; each lambda must be finite and >= 0");
  if (o.n_lambdas < 1) throw InvalidArgument("n_lambdas must be >= 1, got " + std::to_string(o.n_lambdas));
  if (!(o.lambda_min_ratio >= 0 && o.lambda_min_ratio < 1))
    throw InvalidArgument("lambda_min_ratio must be in (0, 1) (0 for the default), got " +
                          std::to_string(o.lambda_min_ratio));
  if (o.max_working_set < 1)
    throw InvalidArgument("max_working_set must be >= 1, got " + std::to_string(o.max_working_set));
}


struct Grid {
  double lambda_max = 0;        // exact threshold (infinite for ridge)
  std::vector<double> lambdas;
};

template <class V>
Grid make_grid(const Problem<V>& prob, const std::vector<double>& c0, const LassoOptions& o) {
  kernels::LassoDualTerms reach;  // max over penalized features of |c_j| / v_j (c_j when positive)
  for (index_t j = 0; j < prob.p; ++j)
    if (prob.usable(j)) kernels::accumulate_dual_terms(reach, c0[j], 0.0, prob.factors[j], dual_args(0, 1, prob.positive));
  const double top = reach.max_ratio;
  Grid g;
  g.lambda_max = prob.alpha > 0 ? top / prob.alpha : std::numeric_limits<double>::infinity();
  if (!o.lambdas.empty()) {
    g.lambdas = o.lambdas;
    return g;
  }
  // Ridge has no finite lambda_max: the grid starts where alpha = 1e-3 would (as glmnet does).
  const double start = top / std::max(prob.alpha, 1e-3);
  const double ratio = o.lambda_min_ratio > 0 ? o.lambda_min_ratio : (prob.total_rows() > static_cast<double>(prob.p) ? 1e-3 : 1e-2);
  const int count = o.n_lambdas;
  g.lambdas.resize(static_cast<std::size_t>(count));
  for (int l = 0; l < count; ++l)
    g.lambdas[l] = count == 1 ? start : start * std::pow(ratio, static_cast<double>(l) / (count - 1));
  if (count > 1) g.lambdas.back() = start * ratio;
  g.lambdas.front() = start;
  return g;
}

// A warm start for lambdas[target] from the solutions at lambdas[from] (`beta` on entry) and
// lambdas[before] (`earlier`): while the support is fixed, a Lasso solution is affine in lambda, so
// continue the line through the two. A coefficient that was zero at `earlier` entered in between
// and is growing from zero, so it is continued too; one the line takes across zero, or that is zero
// now, stays at zero. Only a starting point: the solver still certifies its answer.
void predict_along_path(const std::vector<double>& lambdas, std::size_t target, std::size_t from,
                        std::size_t before, const std::vector<double>& earlier, std::vector<double>& beta) {
  if (before >= from || target <= from || earlier.size() != beta.size()) return;
  const double a = lambdas[target], b = lambdas[from], c = lambdas[before];
  if (!(a > 0 && b > a && c > b)) return;
  const double step = (b - a) / (c - b);
  for (std::size_t j = 0; j < beta.size(); ++j) {
    if (beta[j] == 0) continue;
    const double next = beta[j] + step * (beta[j] - earlier[j]);
    beta[j] = (next > 0) == (beta[j] > 0) ? next : 0.0;
  }
}

// The warm start of lambda k on a path run `step` lanes wide, from the solution at k - step (`beta`
// on entry): the line through it and the solution at k - step - 1 (`cross`, another lane's when
// step > 1; predict_along_path). Where the Lasso's solution is not unique (duplicated columns), two
// lanes may land on different solutions, and that line would carry their difference on, growing,
// at every lambda (dup_columns, two threads: 793 epochs, not 208). So with lanes the line through
// the lane's own last two solutions (k - step and k - 2 step: `own`) is drawn too, and taken when
// the two predictions lie further apart than it moves. The same, whichever lane runs first.
void lane_warm_start(const std::vector<double>& lambdas, std::size_t k, std::size_t step,
                     const std::vector<double>& cross, const std::vector<double>& own, std::vector<double>& beta) {
  if (step == 1 || k < 2 * step) {
    predict_along_path(lambdas, k, k - step, k - step - 1, cross, beta);
    return;
  }
  auto across = beta;
  predict_along_path(lambdas, k, k - step, k - step - 1, cross, across);
  auto mine = beta;
  predict_along_path(lambdas, k, k - step, k - 2 * step, own, mine);
  double apart = 0, moved = 0;
  for (std::size_t j = 0; j < beta.size(); ++j) {
    apart += std::abs(across[j] - mine[j]);
    moved += std::abs(mine[j] - beta[j]);
  }
  beta = apart > moved ? std::move(mine) : std::move(across);
}

// Solves the path's lambdas on `lanes` solvers at once (`threads` threads; lanes = 1: in turn).
// Lambda k goes to lane k % lanes, from a warm start predicted from the solutions at k - lanes,
// k - lanes - 1 and k - 2 lanes (lane_warm_start; `start` before there are any). What each lambda
// starts from, and which solver, with what it kept from its last lambda, solves it, do not depend on
// how fast the lanes run, so neither do the answers. A lane waits only for the solutions its next lambda reads:
// one that finishes early goes on (blocks of `lanes` lambdas with a barrier after each idled 8% of
// the lanes' time on b). `solve(lane, k, beta)` solves lambda k from beta in place and returns its
// Solution; `record(k, solution, beta)` runs on the calling thread, in order of k, and may change
// beta (split rows agree on one answer); with `wait_for_records` the warm starts read it only then.
template <class Solve, class Record>
void run_lanes(const std::vector<double>& lambdas, int lanes, int threads, bool wait_for_records,
               const std::vector<double>& start, Solve&& solve, Record&& record) {
  const std::size_t count = lambdas.size(), step = static_cast<std::size_t>(lanes);
  std::mutex m;
  std::condition_variable changed;
  std::vector<std::vector<double>> betas(count);  // each dropped once recorded and read by its readers
  std::vector<Solution> solutions(count);
  std::vector<char> done(count, 0), started(count, 0);
  std::size_t recorded = 0;
  std::exception_ptr error;
  // Under the lock: whether solution j may be read (`wait_for_records`: after record changed it),
  // whether lambda k's warm start can be read, and dropping solutions no one reads any more.
  const auto readable = [&](std::size_t j) { return wait_for_records ? j < recorded : done[j] != 0; };
  const auto inputs_ready = [&](std::size_t k) {
    return k < step || (readable(k - step) && (k == step || readable(k - step - 1)) &&
                        (k < 2 * step || readable(k - 2 * step)));
  };
  const auto release = [&](std::size_t j) {
    const auto read = [&](std::size_t k) { return k >= count || started[k]; };
    if (j < recorded && read(j + step) && read(j + step + 1) && read(j + 2 * step))
      std::vector<double>().swap(betas[j]);
  };
  const auto record_done = [&] {
    for (;;) {
      std::size_t k;
      std::vector<double> beta;
      {
        std::lock_guard<std::mutex> lock(m);
        if (recorded == count || !done[recorded]) return;
        k = recorded;
        beta = betas[k];
      }
      record(k, solutions[k], beta);
      {
        std::lock_guard<std::mutex> lock(m);
        betas[k] = std::move(beta);
        recorded = k + 1;
        release(k);
      }
      changed.notify_all();
    }
  };
  // Runs f; an exception it throws stops every lane (none may leave the parallel region).
  const auto guarded = [&](auto&& f) {
    try {
      f();
      return true;
    } catch (...) {
      std::lock_guard<std::mutex> lock(m);
      if (!error) error = std::current_exception();
    }
    changed.notify_all();
    return false;
  };
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    // This thread's lambdas, in order: those of the lanes that fall to it (all of them when the
    // runtime gives fewer threads than lanes). Every dependency points to a smaller k, so none waits
    // on itself. Thread 0 is the calling thread: it records (split rows broadcast there).
    const int team = omp_get_num_threads(), me = omp_get_thread_num();
    for (std::size_t k = 0; k < count; ++k) {
      if (static_cast<int>(k % step) % team != me) continue;
      std::vector<double> beta, earlier, own;
      bool stop = false;
      for (;;) {
        if (me == 0 && !guarded(record_done)) {
          stop = true;
          break;
        }
        std::unique_lock<std::mutex> lock(m);
        if (error) {
          stop = true;
          break;
        }
        if (inputs_ready(k)) {
          beta = k < step ? start : betas[k - step];
          if (k > step) earlier = betas[k - step - 1];
          if (step > 1 && k >= 2 * step) own = betas[k - 2 * step];
          started[k] = 1;
          if (k >= step) release(k - step);
          if (k > step) release(k - step - 1);
          if (k >= 2 * step) release(k - 2 * step);
          break;
        }
        if (me == 0 && recorded < count && done[recorded]) continue;  // more to record first
        changed.wait(lock);
      }
      if (stop) break;
      if (k >= step) lane_warm_start(lambdas, k, step, earlier, own, beta);
      if (!guarded([&] { solutions[k] = solve(static_cast<int>(k % step), k, beta); })) break;
      {
        std::lock_guard<std::mutex> lock(m);
        betas[k] = std::move(beta);
        done[k] = 1;
      }
      changed.notify_all();
    }
    // Thread 0 records the rest as the other lanes finish (with wait_for_records they wait on it).
    while (me == 0 && guarded(record_done)) {
      std::unique_lock<std::mutex> lock(m);
      if (error || recorded == count) break;
      if (!done[recorded]) changed.wait(lock);
    }
  }
  if (error) std::rethrow_exception(error);
}

// How many lambdas of the path are solved at once (run_lanes). Coordinate descent is sequential, so
// with threads to spare its path on the CPU runs kLanes lanes, each lambda on its own thread from a
// warm start predicted from lambdas before it; every solution is still certified on its own. The
// lanes do not depend on the thread count past one, so neither do the results. One thread solves the
// lambdas in turn, each from the last two solutions: a lambda two steps from its data took 5% (b) to
// 20% (wide_ar095) more epochs. `threads` is the most any block of rows has (a split agrees on one
// answer). `cd` always runs on the host; the Gram path on a GPU stays one lambda at a time (one
// stream).
// Below kForkEntries of X's stored entries a path runs one lane whatever the threads: a lambda of
// a small problem takes microseconds, and handing lambdas between two threads cost more
// (diabetes, 442 x 10: 2.6 to 8 ms on two lanes, 1.4 ms on one, on a 2-core VM).
int path_lanes(LassoSolver solver, Backend backend, int threads, double entries) {
  if (threads < 2 || entries < static_cast<double>(kernels::kForkEntries)) return 1;
  if (solver == LassoSolver::CoordinateDescent) return kLanes;
  return solver == LassoSolver::Gram && backend == Backend::Cpu ? kLanes : 1;
}

// The cost model behind `auto`, in multiply-adds over a path of `lambdas` solutions. Each lambda
// takes about kEpochsPerLambda sweeps over a support of kSupportFraction * min(n, p) coordinates,
// and coordinate descent adds kFullPassesPerLambda passes over X (its gap checks):
//   gram: build + lambdas * E * k * p             (an update moves p gradient entries)
//   cd:   lambdas * (F * e p + E * k * e)         (an update reads e entries of its column)
// The build is n p^2 / 2 on a dense X (a sparse one's, by pairs, may cost less: design.hpp).
// e = kDenseEntryCost n (an update reads its column twice, a dot and an axpy, where a Gram update
// reads one column of G), or for a sparse X or one that cd runs on its sparse copy
// (mostly_zero_columns) kSparseEntryCost times the non-zeros per column, kGroupedEntryCost for those
// of columns in ColumnGroups: a sparse entry is an indexed read, a dense one a vector lane. The
// constants come from scripts/calibrate_lasso_auto.py (docs/PERF.md).
constexpr double kEpochsPerLambda = 200;
constexpr double kSupportFraction = 0.25;
constexpr double kFullPassesPerLambda = 5;
constexpr double kDenseEntryCost = 3;
constexpr double kSparseEntryCost = 4;
constexpr double kGroupedEntryCost = 1;  // an entry of a column in ColumnGroups (no value read)
constexpr index_t kGramMaxFeatures = 8192;  // G in double: 512 MiB

// `build`: the Gram build's cost (n p^2 / 2 on a dense X).
bool gram_is_cheaper(double build, index_t rows, index_t cols, std::size_t lambdas, double column_entries) {
  const double n = static_cast<double>(rows), p = static_cast<double>(cols), l = static_cast<double>(lambdas);
  const double updates = l * kEpochsPerLambda * kSupportFraction * std::min(n, p);
  return build + updates * p < l * kFullPassesPerLambda * column_entries * p + updates * column_entries;
}

// sum_i nnz_i^2 / 2 over a host sparse X's rows (row_pairs). Negative when gram_sparse may not take X
// (a column far from zero: sparse_column_far_from_zero; a copy of X's rows beyond the memory budget),
// which leaves the build by dense blocks of rows.
template <class V>
double sparse_gram_pairs(const Design<V>& x) {
  return x.with_transposed([&](const auto& xt) {
    const auto n = static_cast<double>(x.n);
    for (index_t j = 0; j < x.p; ++j) {
      double mean;
      if (sparse_column_far_from_zero(xt, j, x.n, mean)) return -1.0;
    }
    // X's rows (values, columns, starts), G, and the row counts below.
    if (!fits_memory(static_cast<double>(xt.nnz) * (sizeof(V) + sizeof(xt.col_idx[0])) + 12.0 * (n + 1) +
                     8.0 * static_cast<double>(x.p) * static_cast<double>(x.p)))
      return -1.0;
    return row_pairs(xt, x.n);
  });
}

// Whether auto weighs the Gram solver against cd: on the CPU, for a whole host X whose G fits (the
// kGramMaxFeatures cap, and the memory budget).
template <class V>
bool auto_may_take_gram(const Context& ctx, const Design<V>& x, const RowSplit* split) {
  return x.p <= kGramMaxFeatures && ctx.backend() == Backend::Cpu && !split && x.space == MemorySpace::Host &&
         fits_memory(8.0 * static_cast<double>(x.p) * static_cast<double>(x.p));
}

// Split rows: coordinate descent moves a residual at every coordinate, so it does not run there;
// gram sums G once, ws-gram one block per outer iteration, FISTA one gradient per step.
// Whether auto's model reads X's non-zeros (a host dense X it may give the Gram solver on the CPU).
template <class V>
bool auto_counts_nonzeros(const Context& ctx, const Design<V>& x, LassoSolver asked, const RowSplit* split) {
  return asked == LassoSolver::Auto && !x.sparse && auto_may_take_gram(ctx, x, split);
}

// `counted`: X's mostly_zero_columns where auto_counts_nonzeros.
template <class V>
LassoSolver choose(const Context& ctx, const Design<V>& x, LassoSolver asked, std::size_t lambdas,
                   const std::optional<std::vector<std::int64_t>>& counted, const RowSplit* split = nullptr) {
  if (split && asked == LassoSolver::CoordinateDescent)
    throw InvalidArgument("solver 'cd' does not run on rows split over processes (it moves the residual at every "
                          "coordinate); use auto, gram, ws-gram or fista");
  if (asked != LassoSolver::Auto) return asked;
  const index_t rows = split ? split->total_rows() : x.n;
  const double n = static_cast<double>(rows), p = static_cast<double>(x.p);
  if (!x.sparse && x.p <= kGramMaxFeatures) {
    double column_entries = kDenseEntryCost * n;
    if (counted && !counted->empty())
      column_entries = kSparseEntryCost * static_cast<double>(counted->back()) / std::max(p, 1.0);
    if (gram_is_cheaper(dense_gram_build_cost(n, p), rows, x.p, lambdas, column_entries)) return LassoSolver::Gram;
  } else if (x.sparse && auto_may_take_gram(ctx, x, split)) {
    const double pairs = sparse_gram_pairs(x);
    const double grouped = x.groups ? static_cast<double>(x.groups->entries) : 0.0;
    const double column_entries =
        (kSparseEntryCost * (static_cast<double>(x.nnz()) - grouped) + kGroupedEntryCost * grouped) / std::max(p, 1.0);
    // The build by pairs where gram_sparse takes X and that is cheaper, else by dense blocks of rows.
    const double dense = dense_gram_build_cost(n, p);
    const double build = pairs >= 0 ? std::min(sparse_gram_build_cost(static_cast<double>(x.nnz()), pairs), dense) : dense;
    if (gram_is_cheaper(build, rows, x.p, lambdas, column_entries))
      return LassoSolver::Gram;
  }
  if (ctx.backend() == Backend::Cuda || split) return LassoSolver::WorkingSetGram;
  return LassoSolver::CoordinateDescent;
}

// Split rows: every block records the first block's solution and certificate (one broadcast of
// p + 3 numbers per lambda), so the replicas are bit-identical whatever the reductions gave.
inline void agree(const RowSplit& split, Solution& sol, std::vector<double>& beta) {
  std::vector<double> all(beta);
  all.push_back(sol.objective);
  all.push_back(sol.gap);
  all.push_back(static_cast<double>(sol.iterations));
  split.broadcast(all.data(), all.size());
  std::copy_n(all.begin(), beta.size(), beta.begin());
  sol.objective = all[beta.size()];
  sol.gap = all[beta.size() + 1];
  sol.iterations = static_cast<std::int64_t>(all[beta.size() + 2]);
}

// Everything a path needs about X, built once: the problem, the operator when a solver multiplies by
// Z (FISTA, working-set Gram, the Gram build on a device, a device X's null model), the unpenalized
// block and the null model.
template <class V>
struct Setup {
  // cd's X has its columns by count (columns_by_count): order[k] is the given column at position k
  // of x, prob and the solvers' coefficients; empty: the given order.
  std::vector<index_t> order;
  Design<V> x;  // where the solver reads it (a device X comes to the host for cd)
  Problem<V> prob;
  std::unique_ptr<DesignOperator<V>> op;
  UnpenalizedSolver unpen;
  std::vector<double> beta_u, c0;

  // Split rows: the operator always (it completes the null model's and G_UU's sums over the blocks).
  // `counted`: given's mostly_zero_columns when auto already read them.
  Setup(const Context& ctx, const Design<V>& given, LassoSolver solver, const std::vector<double>& y,
        const LassoOptions& o, const RowSplit* split, const std::optional<std::vector<std::int64_t>>& counted)
      : x(solver == LassoSolver::CoordinateDescent ? cd_design(ctx, given, counted, o.fit_intercept, order) : given),
        prob(make_problem(ctx, x, y, in_order(o, order), split)) {
    const bool multiplies = solver == LassoSolver::ProximalGradient || solver == LassoSolver::WorkingSetGram ||
                            (solver == LassoSolver::Gram && ctx.backend() == Backend::Cuda);
    const bool whole_here = x.space == MemorySpace::Host && !split;
    if (multiplies || !whole_here) op = std::make_unique<DesignOperator<V>>(ctx, prob);
    unpen = whole_here ? UnpenalizedSolver(prob) : UnpenalizedSolver(op->unpenalized_gram());
    c0 = null_model_gradient(prob, unpen, beta_u, op.get());
    kernels::LassoDualTerms reach;
    for (index_t j = 0; j < prob.p; ++j)
      if (prob.usable(j)) kernels::accumulate_dual_terms(reach, c0[j], 0.0, prob.factors[j], dual_args(0, 1, prob.positive));
    prob.kkt_scale = reach.max_ratio;
  }
  Setup(const Setup&) = delete;

 private:
  // X on the host for cd: through its sparse copy when mostly zeros (counted once, here or by auto),
  // and centered in a copy when a column's mean is far above its spread and the intercept is fitted
  // (centered_if_offset; without an intercept nothing is centered, so nothing cancels).
  static Design<V> cd_design(const Context& ctx, const Design<V>& given,
                             const std::optional<std::vector<std::int64_t>>& counted, bool intercept,
                             std::vector<index_t>& order) {
    Design<V> host = host_copy(ctx, given);
    Design<V> x = host.sparse ? host : sparse_copy(ctx, host, counted ? *counted : mostly_zero_columns(host));
    x = columns_by_count(ctx, x, intercept, order);
    return intercept ? centered_if_offset(ctx, x) : x;
  }
  // o with its per-feature options (the penalty factors) in x's column order.
  static LassoOptions in_order(const LassoOptions& o, const std::vector<index_t>& order) {
    if (order.empty() || o.penalty_factors.empty()) return o;
    LassoOptions out = o;
    for (std::size_t k = 0; k < order.size(); ++k) out.penalty_factors[k] = o.penalty_factors[static_cast<std::size_t>(order[k])];
    return out;
  }
};

// The entries from `first` on of a coefficient row recorded in a permuted column order (Setup::order),
// renamed to the given columns and sorted by them.
void in_given_order(const std::vector<index_t>& order, std::size_t first, std::vector<std::int64_t>& cols,
                    std::vector<double>& vals) {
  std::vector<std::pair<std::int64_t, double>> row;
  row.reserve(cols.size() - first);
  for (std::size_t e = first; e < cols.size(); ++e) row.emplace_back(order[static_cast<std::size_t>(cols[e])], vals[e]);
  std::sort(row.begin(), row.end());
  for (std::size_t e = first; e < cols.size(); ++e) {
    cols[e] = row[e - first].first;
    vals[e] = row[e - first].second;
  }
}

template <class V>
LassoPath fit(const Context& ctx, const Design<V>& design, const std::vector<double>& y,
              const LassoOptions& o, const RowSplit* split = nullptr) {
  const auto start = std::chrono::steady_clock::now();
  validate(design.n, design.p, y, o, split != nullptr);
  // Below kForkEntries of X's entries the whole fit runs on one thread: its reads and BLAS calls as
  // well as its one lane (path_lanes). A fork there wakes a worker that then spins, and the spinning
  // slowed the caller: probe_tiny_wide (50 x 1000) took 3x its one-thread time on two threads.
  // A split weighs the whole X, so that every block runs the same threads and lanes.
  const auto entries = [&](const Design<V>& d) {
    double e = static_cast<double>(d.nnz());
    if (split) split->sum(&e, 1);
    return e;
  };
  const int fit_threads = entries(design) < static_cast<double>(kernels::kForkEntries) ? 1 : ctx.cpu_threads();
  return with_threads(fit_threads, [&] {
    std::optional<std::vector<std::int64_t>> counted;
    if (auto_counts_nonzeros(ctx, design, o.solver, split)) counted = mostly_zero_columns(design);
    // A mostly-zero dense X is weighed, and solved, as its sparse copy (cd would read that copy
    // anyway): the Gram solver then builds G from the pairs in a row, as for the same X given sparse
    // (a one-hot X from a .npy file took cd, 2x slower than gram on the same X from a .mtx file).
    const Design<V> weighed = counted && !counted->empty() ? sparse_copy(ctx, design, *counted) : design;
    if (weighed.sparse != design.sparse) counted.reset();
    const LassoSolver solver = choose(ctx, weighed, o.solver, o.lambdas.empty() ? static_cast<std::size_t>(o.n_lambdas) : o.lambdas.size(), counted, split);
    const Setup<V> setup(ctx, weighed, solver, y, o, split, counted);
    const Problem<V>& prob = setup.prob;
    const UnpenalizedSolver& unpen = setup.unpen;
    const std::vector<double>& beta_u = setup.beta_u;
    const Design<V>& x = setup.x;
    const Grid grid = make_grid(prob, setup.c0, o);

    LassoPath path;
    path.n_samples = static_cast<index_t>(prob.total_rows());
    path.n_features = x.p;
    path.solver = solver;
    path.tol = o.tol > 0 ? o.tol : default_tol(std::is_same_v<V, float>);
    path.lambdas = grid.lambdas;

    double threads = ctx.cpu_threads();
    if (split) split->max(&threads, 1);
    const int lanes = path_lanes(path.solver, ctx.backend(), static_cast<int>(threads), entries(x));
    std::vector<std::unique_ptr<Solver>> solvers;
    if (path.solver == LassoSolver::Gram) solvers = make_gram_solvers(ctx, prob, unpen, lanes, setup.op.get());
    for (int k = static_cast<int>(solvers.size()); k < lanes; ++k) {
      if (path.solver == LassoSolver::ProximalGradient) solvers.push_back(make_fista_solver(ctx, prob, unpen, *setup.op));
      else if (path.solver == LassoSolver::WorkingSetGram)
        solvers.push_back(make_working_set_gram_solver(ctx, prob, unpen, *setup.op, o.max_working_set));
      else solvers.push_back(make_cd_solver(ctx, prob, unpen));
    }
    const int lane_threads = std::max(1, fit_threads / lanes);
    const int team_threads = std::min(lanes, fit_threads);

    std::vector<double> null_beta(static_cast<std::size_t>(x.p), 0.0);
    for (std::size_t u = 0; u < beta_u.size(); ++u) null_beta[prob.unpenalized[u]] = beta_u[u];
    const std::size_t count = path.lambdas.size();
    std::vector<std::int64_t> row_ptr{0}, cols;
    std::vector<double> vals;
    auto record = [&](std::size_t, Solution sol, std::vector<double>& beta) {
      if (split) agree(*split, sol, beta);
      path.lambda_max.push_back(prob.alpha > 0 ? grid.lambda_max : 0.0);  // ridge: none
      path.objective.push_back(sol.objective);
      path.duality_gap.push_back(sol.gap);
      path.iterations.push_back(sol.iterations);
      path.status.push_back(sol.gap <= path.tol * sol.objective ? FitStatus::Converged
                                                                 : FitStatus::MaxIterations);
      double intercept = prob.ybar;
      std::int64_t nz = 0;
      const auto first = cols.size();
      for (index_t j = 0; j < x.p; ++j) {
        if (beta[j] == 0 || !prob.usable(j)) continue;
        const double b = beta[j] / prob.scale[j];
        intercept -= (prob.mu[j] + (x.shift.empty() ? 0.0 : x.shift[j])) * b;  // a centered copy's means
        cols.push_back(j);
        vals.push_back(b);
        ++nz;
      }
      if (!setup.order.empty()) in_given_order(setup.order, first, cols, vals);
      row_ptr.push_back(static_cast<std::int64_t>(cols.size()));
      path.intercepts.push_back(o.fit_intercept ? intercept : 0.0);
      path.nnz.push_back(nz);
      if (o.progress) o.progress(path.nnz.size(), count);
    };
    auto solve = [&](int lane, std::size_t k, std::vector<double>& beta) {
      omp_set_num_threads(lane_threads);
      const SolveRequest request{path.lambdas[k], path.tol, o.max_iter, o.screening};
      if (path.lambdas[k] < grid.lambda_max) return solvers[lane]->solve(request, beta);
      // The null model is the exact answer: every penalized coefficient is exactly zero.
      beta = null_beta;
      Solution sol = solvers[lane]->certify(path.lambdas[k], beta);
      return sol.gap <= path.tol * sol.objective ? sol : solvers[lane]->solve(request, beta);
    };
    run_lanes(path.lambdas, lanes, team_threads, split != nullptr, null_beta, solve, record);
    path.coefficients = CscMatrix<double, std::int64_t>(CsrMatrix<double, std::int64_t>::adopt(
        static_cast<index_t>(count), x.p, Array<std::int64_t>::from_vector(row_ptr),
        Array<std::int64_t>::from_vector(cols), Array<double>::from_vector(vals)));
    path.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return path;
  });
}

// Deterministic fold assignment: a Fisher-Yates shuffle driven by SplitMix64.
std::vector<int> folds_for(index_t n, int k, std::uint64_t seed) {
  std::vector<index_t> perm(static_cast<std::size_t>(n));
  std::iota(perm.begin(), perm.end(), index_t{0});
  std::uint64_t state = seed + 0x9E3779B97F4A7C15ull;
  auto next = [&] {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  for (index_t i = n - 1; i > 0; --i) std::swap(perm[i], perm[next() % static_cast<std::uint64_t>(i + 1)]);
  std::vector<int> fold(static_cast<std::size_t>(n));
  for (index_t t = 0; t < n; ++t) fold[perm[t]] = static_cast<int>(t % k);
  return fold;
}

template <class V>
LassoCv cross_validate(const Context& ctx, const Design<V>& x, const std::vector<double>& y,
                       const LassoOptions& o, const CrossValidationOptions& cv) {
  validate(x.n, x.p, y, o);
  const auto fold = cv_folds(cv, x.n);  // checked before the first fit
  LassoCv out;
  LassoOptions full = o;
  const auto total_steps = static_cast<std::size_t>(cv.folds + 1);
  full.progress = nullptr;
  out.path = fit(ctx, x, y, full);
  if (o.progress) o.progress(1, total_steps);
  const std::size_t count = out.path.size();
  std::vector<std::vector<double>> errors(static_cast<std::size_t>(cv.folds));
  LassoOptions sub = full;
  sub.lambdas = out.path.lambdas;
  for (int k = 0; k < cv.folds; ++k) {
    std::vector<index_t> train, test;
    for (index_t i = 0; i < x.n; ++i) (fold[i] == k ? test : train).push_back(i);
    std::vector<double> w_test;
    for (index_t i : test) w_test.push_back(o.sample_weights.empty() ? 1.0 : o.sample_weights[i]);
    double w_total = std::accumulate(w_test.begin(), w_test.end(), 0.0);
    auto weight = [&](index_t i) { return o.sample_weights.empty() ? 1.0 : o.sample_weights[i]; };
    if (std::all_of(train.begin(), train.end(), [&](index_t i) { return weight(i) == 0; }))
      throw InvalidArgument("cv fold " + std::to_string(k) + " has zero total training weight");
    // The fold's predictions on its test rows, per lambda.
    std::vector<std::vector<double>> pred(count, std::vector<double>(test.size()));
    LassoPath fp;
    if (x.space == MemorySpace::Host) {
      std::vector<double> y_train;
      for (index_t i : train) y_train.push_back(y[i]);
      sub.sample_weights.clear();
      if (!o.sample_weights.empty())
        for (index_t i : train) sub.sample_weights.push_back(o.sample_weights[i]);
      const Design<V> x_train = x.row_subset(train), x_test = x.row_subset(test);
      fp = fit(ctx, x_train, y_train, sub);
      const auto& t = fp.coefficients.transposed();
      for (std::size_t l = 0; l < count; ++l) {
        std::fill(pred[l].begin(), pred[l].end(), fp.intercepts[l]);
        for (auto e = t.row_ptr()[l]; e < t.row_ptr()[l + 1]; ++e)
          column_axpy(x_test, t.col_idx()[e], t.values()[e], pred[l].data());
      }
    } else {
      // A device X stays where it is: the test rows get weight 0, which is the same problem as the
      // training rows alone (weights are normalized to sum n, so the loss is the training rows'
      // mean), and the predictions come from X b on the device.
      sub.sample_weights.assign(static_cast<std::size_t>(x.n), 0.0);
      for (index_t i : train) sub.sample_weights[i] = weight(i);
      fp = fit(ctx, x, y, sub);
      Array<V> b(ctx, static_cast<std::size_t>(x.p), x.space), xb(ctx, static_cast<std::size_t>(x.n), x.space);
      for (std::size_t l = 0; l < count; ++l) {
        const auto coef = fp.coefficients_at(l);
        copy<V>(ctx, VectorView<const V>(std::vector<V>(coef.begin(), coef.end())), b.view());
        multiply(ctx, x, b.data(), xb.data());
        const auto all = xb.to_vector(ctx);
        for (std::size_t i = 0; i < test.size(); ++i) pred[l][i] = fp.intercepts[l] + static_cast<double>(all[test[i]]);
      }
    }
    out.fold_fits_not_converged += fp.n_not_converged();
    auto& err = errors[static_cast<std::size_t>(k)];
    err.resize(count);
    for (std::size_t l = 0; l < count; ++l) {
      double s = 0;
      for (std::size_t i = 0; i < test.size(); ++i) {
        const double d = y[test[i]] - pred[l][i];
        s += w_test[i] * d * d;
      }
      err[l] = w_total > 0 ? s / w_total : 0.0;
    }
    if (o.progress) o.progress(static_cast<std::size_t>(k) + 2, total_steps);
  }
  summarize_folds(out, errors);
  return out;
}

// y on the host in double: a device y comes over once (n values).
template <class V>
std::vector<double> as_double(const Context& ctx, VectorView<const V> y) {
  if (y.space == MemorySpace::Host) return std::vector<double>(y.data, y.data + y.size);
  detail::check_space(y.space, ctx, "y");
  std::vector<V> host(static_cast<std::size_t>(y.size));
  detail::copy_bytes(&ctx, host.data(), MemorySpace::Host, y.data, y.space, host.size() * sizeof(V));
  return std::vector<double>(host.begin(), host.end());
}

}  // namespace

std::vector<int> cv_folds(const CrossValidationOptions& cv, index_t n) {
  if (cv.folds < 2 || cv.folds > n)
    throw InvalidArgument("cv folds must be in [2, n_samples = " + std::to_string(n) + "], got " +
                          std::to_string(cv.folds));
  if (!cv.fold_of_sample.empty()) {
    if (static_cast<index_t>(cv.fold_of_sample.size()) != n)
      throw DimensionMismatch("cv fold_of_sample has " + std::to_string(cv.fold_of_sample.size()) +
                              " entries but X has " + std::to_string(n) + " rows");
    std::vector<int> used(static_cast<std::size_t>(cv.folds), 0);
    for (const int f : cv.fold_of_sample) {
      if (f < 0 || f >= cv.folds)
        throw InvalidArgument("cv fold_of_sample holds " + std::to_string(f) + ", outside [0, folds = " +
                              std::to_string(cv.folds) + ")");
      used[static_cast<std::size_t>(f)] = 1;
    }
    for (int k = 0; k < cv.folds; ++k)
      if (!used[static_cast<std::size_t>(k)]) throw InvalidArgument("cv fold " + std::to_string(k) + " has no samples");
  }
  return cv.fold_of_sample.empty() ? folds_for(n, cv.folds, cv.seed) : cv.fold_of_sample;
}

void summarize_folds(LassoCv& out, const std::vector<std::vector<double>>& errors) {
  const std::size_t count = out.path.size();
  const int folds = static_cast<int>(errors.size());
  out.cv_mean.assign(count, 0.0);
  out.cv_se.assign(count, 0.0);
  out.cv_folds.assign(count * static_cast<std::size_t>(folds), 0.0);
  for (std::size_t l = 0; l < count; ++l)
    for (int k = 0; k < folds; ++k)
      out.cv_folds[l * static_cast<std::size_t>(folds) + static_cast<std::size_t>(k)] = errors[static_cast<std::size_t>(k)][l];
  const double kf = folds;
  for (std::size_t l = 0; l < count; ++l) {
    double mean = 0;
    for (const auto& e : errors) mean += e[l];
    mean /= kf;
    double var = 0;
    for (const auto& e : errors) var += (e[l] - mean) * (e[l] - mean);
    out.cv_mean[l] = mean;
    out.cv_se[l] = std::sqrt(var / (kf - 1) / kf);
  }
  std::size_t best = 0;
  for (std::size_t l = 1; l < count; ++l)
    if (out.cv_mean[l] < out.cv_mean[best]) best = l;
  out.index_min = best;
  const double limit = out.cv_mean[best] + out.cv_se[best];
  std::size_t one_se = best;
  for (std::size_t l = 0; l < count; ++l)
    if (out.cv_mean[l] <= limit && out.path.lambdas[l] > out.path.lambdas[one_se]) one_se = l;
  out.index_1se = one_se;
  out.lambda_min = out.path.lambdas[best];
  out.lambda_1se = out.path.lambdas[one_se];
}

template <class V>
LassoPath lasso_path_split(const Context& ctx, const Design<V>& x, const std::vector<double>& y, const LassoOptions& o,
                           const RowSplit& split) {
  const auto start = std::chrono::steady_clock::now();
  LassoPath path = fit(ctx, x, y, o, &split);
  path.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return path;
}
#define SHRINK_INSTANTIATE_LASSO_SPLIT(V)                                                                    \
  template LassoPath lasso_path_split<V>(const Context&, const Design<V>&, const std::vector<double>&, \
                                         const LassoOptions&, const RowSplit&);
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_LASSO_SPLIT)

}  // namespace lasso_detail

namespace {
// The whole call is timed, the design's set-up (a relayout of a row-major X) included.
template <class Make>
LassoPath timed_fit(Make&& run) {
  const auto start = std::chrono::steady_clock::now();
  LassoPath path = run();
  path.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return path;
}
}  // namespace

template <class V>
LassoPath lasso_path(const Context& ctx, DenseView<const V> x, VectorView<const V> y, const LassoOptions& o) {
  return timed_fit([&] {
    return lasso_detail::fit(ctx, lasso_detail::make_design(ctx, x), lasso_detail::as_double(ctx, y), o);
  });
}
template <class V, class I>
LassoPath lasso_path(const Context& ctx, const CsrView<V, I>& x, VectorView<const V> y, const LassoOptions& o) {
  return timed_fit([&] {
    return lasso_detail::fit(ctx, lasso_detail::make_design(ctx, x), lasso_detail::as_double(ctx, y), o);
  });
}
template <class V, class I>
LassoPath lasso_path(const Context& ctx, const CscView<V, I>& x, VectorView<const V> y, const LassoOptions& o) {
  return timed_fit([&] {
    return lasso_detail::fit(ctx, lasso_detail::make_design(ctx, x), lasso_detail::as_double(ctx, y), o);
  });
}

template <class V>
std::vector<double> lasso_lambda_grid(DenseView<const V> x, VectorView<const V> y, const LassoOptions& o) {
  const Context cpu(ContextOptions{Backend::Cpu});
  const auto design = lasso_detail::make_design(cpu, x);
  const auto yd = lasso_detail::as_double(cpu, y);
  lasso_detail::validate(design.n, design.p, yd, o);
  const auto prob = lasso_detail::make_problem(cpu, design, yd, o);
  const lasso_detail::UnpenalizedSolver unpen(prob);
  std::vector<double> beta_u;
  return lasso_detail::make_grid(prob, lasso_detail::null_model_gradient(prob, unpen, beta_u,
                                                                         static_cast<const lasso_detail::DesignOperator<V>*>(nullptr)),
                                 o)
      .lambdas;
}

template <class V>
LassoCv lasso_cv(const Context& ctx, DenseView<const V> x, VectorView<const V> y, const LassoOptions& o,
                 const CrossValidationOptions& cv) {
  return lasso_detail::cross_validate(ctx, lasso_detail::make_design(ctx, x), lasso_detail::as_double(ctx, y), o, cv);
}
template <class V, class I>
LassoCv lasso_cv(const Context& ctx, const CsrView<V, I>& x, VectorView<const V> y, const LassoOptions& o,
                 const CrossValidationOptions& cv) {
  return lasso_detail::cross_validate(ctx, lasso_detail::make_design(ctx, x), lasso_detail::as_double(ctx, y), o, cv);
}
template <class V, class I>
LassoCv lasso_cv(const Context& ctx, const CscView<V, I>& x, VectorView<const V> y, const LassoOptions& o,
                 const CrossValidationOptions& cv) {
  return lasso_detail::cross_validate(ctx, lasso_detail::make_design(ctx, x), lasso_detail::as_double(ctx, y), o, cv);
}

#define SHRINK_INSTANTIATE_LASSO_V(V)                                                                 \
  template LassoPath lasso_path<V>(const Context&, DenseView<const V>, VectorView<const V>,            \
                                   const LassoOptions&);                                               \
  template std::vector<double> lasso_lambda_grid<V>(DenseView<const V>, VectorView<const V>,          \
                                                    const LassoOptions&);                              \
  template LassoCv lasso_cv<V>(const Context&, DenseView<const V>, VectorView<const V>,                \
                               const LassoOptions&, const CrossValidationOptions&);
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_LASSO_V)

#define SHRINK_INSTANTIATE_LASSO_VI(V, I)                                                             \
  template LassoPath lasso_path<V, I>(const Context&, const CsrView<V, I>&, VectorView<const V>,       \
                                      const LassoOptions&);                                            \
  template LassoPath lasso_path<V, I>(const Context&, const CscView<V, I>&, VectorView<const V>,       \
                                      const LassoOptions&);                                            \
  template LassoCv lasso_cv<V, I>(const Context&, const CsrView<V, I>&, VectorView<const V>,           \
                                  const LassoOptions&, const CrossValidationOptions&);                 \
  template LassoCv lasso_cv<V, I>(const Context&, const CscView<V, I>&, VectorView<const V>,           \
                                  const LassoOptions&, const CrossValidationOptions&);
SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE_LASSO_VI)

}  // namespace shrink
