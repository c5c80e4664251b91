// `shrink lasso` (read X and y, fit the path, cross-validate, print, write the coefficients and the
// model) and `shrink predict` (a saved model on new X).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <memory>

#include "shrink/shrink.hpp"
#include "tools/cli_support.hpp"
#include "tools/commands.hpp"
#include "tools/launch.hpp"
#include "tools/output.hpp"
#if SHRINK_CLI_MPI
#include "shrink/dist.hpp"
#endif

using nlohmann::json;

namespace shrink::cli {

namespace {

// Without Y: the response must come from X itself.
constexpr const char* kResponseRequired =
    "Y is required unless X is an svmlight file (whose labels are y) or --y-column names its column in X";

// A vector option file: n x 1 (or 1 x n); `expected` < 0 accepts any length but not zero.
std::vector<double> read_vector_file(const std::string& path, const std::string& what, index_t expected) {
  const auto m = read_columns<double>(path);
  if (m.rows() > 1 && m.cols() > 1)
    throw DimensionMismatch(path + ": " + what + " must be one column, got " + std::to_string(m.rows()) +
                            " x " + std::to_string(m.cols()));
  const index_t len = m.rows() * m.cols();
  if (len == 0) throw InvalidArgument(path + ": " + what + " file is empty");
  if (expected >= 0 && len != expected)
    throw DimensionMismatch(path + ": " + what + " has " + std::to_string(len) + " values but X needs " +
                            std::to_string(expected));
  std::vector<double> out(static_cast<std::size_t>(len));
  for (index_t i = 0; i < len; ++i) out[i] = m.data()[i];
  return out;
}

struct Design {
  bool dense = false;
  MatrixFile<double, std::int64_t> file;
  std::vector<double> labels;  // svmlight only
};

Design read_design(const std::string& path, const std::string& delimiter) {
  Design d;
  if (format_from_path(path) == FileFormat::Svmlight) {
    auto s = read_svmlight<double, std::int64_t>(path);
    d.file.sparse = std::move(s.features);
    d.labels = std::move(s.labels);
  } else {
    d.file = read_input<double, std::int64_t>(path, delimiter, kNpzDesignNames, true);
  }
  d.dense = d.file.is_dense;
  return d;
}

// Y as columns: a known extension through the readers (the CSV rules, a note for a dropped index),
// anything else one value per line.
DenseMatrix<double> read_response(const std::string& path, const std::string& delimiter) {
  bool known = true;
  try {
    known = format_from_path(path) != FileFormat::Svmlight;
  } catch (const InvalidArgument&) {
    known = false;
  }
  if (!known) return read_columns<double>(path);
  return read_input<double, std::int64_t>(path, delimiter, kNpzResponseNames).take_dense();
}

template <class V>
std::vector<V> narrow(const std::vector<double>& v) {
  return std::vector<V>(v.begin(), v.end());
}

// Runs fit(x, y) with X in the precision asked for.
template <class V, class Fit>
auto with_precision(Design& d, const std::vector<double>& y, Fit fit) {
  const auto yv = narrow<V>(y);
  const VectorView<const V> yview(yv);
  if constexpr (std::is_same_v<V, double>) {  // already in this precision: no copy
    if (d.dense) return fit(DenseView<const double>(d.file.dense.view()), yview);
    return fit(d.file.sparse, yview);
  } else {
    if (d.dense) {
      const auto x = cast<V>(d.file.dense);
      return fit(DenseView<const V>(x.view()), yview);
    }
    const auto x = cast<V, std::int64_t>(d.file.sparse);
    return fit(x, yview);
  }
}

// A file with the model's named features and one more column (the response, as the file the model
// was fitted on holds it with --y-column): that column is dropped, with a note.
void drop_response_column(MatrixFile<double, std::int64_t>& x, const LassoModel& model, const std::string& path) {
  const auto& names = x.column_names;
  const auto& features = model.feature_names;
  if (features.empty() || x.cols() != model.n_features + 1 || names.size() != features.size() + 1) return;
  std::size_t extra = 0;
  while (extra < features.size() && names[extra] == features[extra]) ++extra;
  if (!std::equal(features.begin() + static_cast<std::ptrdiff_t>(extra), features.end(),
                  names.begin() + static_cast<std::ptrdiff_t>(extra) + 1))
    return;
  std::fprintf(stderr, "shrink: note: %s: dropped column %zu '%s', which is not one of the model's features\n",
               path.c_str(), extra, names[extra].c_str());
  x.take_column(static_cast<index_t>(extra));
}

struct PredictionFit {
  double r2 = 0, mse = 0;
};

// R^2 = 1 - RSS / TSS (scikit-learn's r2_score; 0 when y is constant and the fit is not exact) and MSE.
PredictionFit prediction_fit(const std::vector<double>& y, const std::vector<double>& pred) {
  const auto n = static_cast<double>(y.size());
  double mean = 0, rss = 0, tss = 0;
  for (double v : y) mean += v / n;
  for (std::size_t i = 0; i < y.size(); ++i) {
    rss += (y[i] - pred[i]) * (y[i] - pred[i]);
    tss += (y[i] - mean) * (y[i] - mean);
  }
  PredictionFit f;
  f.mse = rss / n;
  f.r2 = tss > 0 ? 1 - rss / tss : (rss == 0 ? 1.0 : 0.0);
  return f;
}

// The JSON `converged` array: one flag per fit.
std::vector<bool> converged_flags(const std::vector<FitStatus>& status) {
  std::vector<bool> out;
  for (const auto s : status) out.push_back(s == FitStatus::Converged);
  return out;
}

std::string feature_name(const std::vector<std::string>& names, index_t j) {
  return j < static_cast<index_t>(names.size()) && !names[j].empty() ? names[j] : "x" + std::to_string(j);
}

// The non-zero coefficients of solution l, largest magnitude first.
std::vector<std::pair<index_t, double>> selected_features(const LassoFit& fit, std::size_t l) {
  std::vector<std::pair<index_t, double>> out;
  const auto& t = fit.coefficients.transposed();
  for (auto k = t.row_ptr().data()[l]; k < t.row_ptr().data()[l + 1]; ++k)
    out.emplace_back(t.col_idx().data()[k], t.values().data()[k]);
  std::stable_sort(out.begin(), out.end(), [](auto& a, auto& b) { return std::fabs(a.second) > std::fabs(b.second); });
  return out;
}

// p x L (or the one selected column, p x 1) as CSR for the writer.
CsrMatrix<double, std::int64_t> coefficient_matrix(const LassoFit& fit, const std::vector<std::size_t>& keep) {
  const auto& t = fit.coefficients.transposed();  // L x p CSR
  std::vector<std::int64_t> ptr{0}, cols;
  std::vector<double> vals;
  for (const std::size_t l : keep) {
    for (auto k = t.row_ptr().data()[l]; k < t.row_ptr().data()[l + 1]; ++k) {
      cols.push_back(t.col_idx().data()[k]);
      vals.push_back(t.values().data()[k]);
    }
    ptr.push_back(static_cast<std::int64_t>(cols.size()));
  }
  const auto kept = CsrMatrix<double, std::int64_t>::adopt(static_cast<index_t>(keep.size()), fit.n_features,
                                                           Array<std::int64_t>::from_vector(ptr),
                                                           Array<std::int64_t>::from_vector(cols),
                                                           Array<double>::from_vector(vals));
  return transpose(kept);  // p x |keep|
}

// The path's options from the arguments: the lambda grid, the penalty factors (p features) and the
// sample weights of the rows [begin, end) of the `n` in the files.
LassoOptions path_options(const LassoArgs& args, index_t p, index_t n, index_t begin, index_t end) {
  LassoOptions o = args.options;
  if (args.lambda) o.lambdas = {*args.lambda};
  if (!args.lambdas_file.empty()) o.lambdas = read_vector_file(args.lambdas_file, "lambdas", -1);
  if (!args.penalty_factors.empty()) o.penalty_factors = read_vector_file(args.penalty_factors, "penalty factors", p);
  if (!args.sample_weights.empty()) {
    const auto all = read_vector_file(args.sample_weights, "sample weights", n);
    o.sample_weights.assign(all.begin() + begin, all.begin() + end);
  }
  return o;
}

// The progress bar over the path's lambdas, or over the folds and the refit with --cv, fed by o.
std::unique_ptr<Progress> path_progress(const LassoArgs& args, LassoOptions& o) {
  const long steps = args.cv > 0 ? args.cv + 1 : static_cast<long>(o.lambdas.empty() ? o.n_lambdas : o.lambdas.size());
  auto bar = std::make_unique<Progress>(args.cv > 0 ? "lasso cv" : "lasso path", steps);
  o.progress = [b = bar.get()](std::size_t done, std::size_t) { b->update(static_cast<long>(done)); };
  return bar;
}

CrossValidationOptions cv_options(const LassoArgs& args) {
  CrossValidationOptions cv = args.cv_options;
  cv.folds = args.cv;
  return cv;
}

// k independent problems on the columns of Y (batch_lasso.hpp): one line or JSON entry per problem.
int run_batch(const LassoArgs& args, const Output& out, Design& d, const DenseMatrix<double>& ymat) {
  const index_t n = d.file.rows(), p = d.file.cols(), k = ymat.cols();
  if (ymat.rows() != n)
    throw DimensionMismatch(args.y + ": Y has " + std::to_string(ymat.rows()) + " rows but X (" + args.x + ") has " +
                            std::to_string(n));
  auto refuse = [&](const std::string& what) {
    return report_failure(args.json, kUsage, "usage", what + " is not available for a batched fit (Y with several "
                          "columns or --lambda-ratio); fit those problems one at a time");
  };
  if (args.cv > 0) return refuse("--cv");
  if (args.options.standardize) return refuse("--standardize");
  if (!args.sample_weights.empty()) return refuse("--sample-weights");
  if (args.options.solver != LassoSolver::Auto) return refuse(std::string("--solver ") + to_string(args.options.solver));
  if (args.histogram) return refuse("--histogram");
  if (!args.select.empty()) return refuse("--select");
  if (!args.save_model.empty()) return refuse("--save-model");
  BatchLassoOptions o;
  static_cast<LassoCoreOptions&>(o) = args.options;
  if (args.lambda) o.lambda = *args.lambda;
  else if (args.lambda_ratio) o.lambda_ratio = *args.lambda_ratio;
  else if (!args.lambdas_file.empty()) o.lambdas = read_vector_file(args.lambdas_file, "lambdas (one per problem)", k);
  else {
    return report_failure(args.json, kUsage, "usage", "a batched fit needs --lambda L, --lambda-ratio R or "
                          "--lambdas-file F (one lambda per column of Y)");
  }
  if (args.lambda && *args.lambda == 0)
    throw UsageError("--lambda 0 for a batch: the batched solver fits lambda > 0 (fit least squares with one Y column)");
  if (!args.penalty_factors.empty()) o.penalty_factors = read_vector_file(args.penalty_factors, "penalty factors", p);

  const Context ctx = make_context(args.backend, args.threads);
  Progress bar("lasso batch", static_cast<long>(k));
  o.progress = [&](std::size_t done, std::size_t) { bar.update(static_cast<long>(done)); };
  Timer timer(ctx);
  timer.start();
  // Under an MPI launcher every rank reads the whole batch and fits its share of the problems.
  auto batch = [&]<class V>(const auto& x, const DenseView<const V>& y) {
#if SHRINK_CLI_MPI
    if (ranks().distributed()) return dist::lasso_batch(ctx, MPI_COMM_WORLD, x, y, o);
#endif
    return lasso_batch(ctx, x, y, o);
  };
  auto fit = [&]<class V>(const DenseView<const V>& y) {
    if constexpr (std::is_same_v<V, double>) {
      if (d.dense) return batch(DenseView<const double>(d.file.dense.view()), y);
      return batch(d.file.sparse.view(), y);
    } else {
      if (d.dense) {
        const auto x = cast<V>(d.file.dense);
        return batch(DenseView<const V>(x.view()), y);
      }
      const auto x = cast<V, std::int64_t>(d.file.sparse);
      return batch(x.view(), y);
    }
  };
  LassoFit r;
  if (args.precision == "f32") {
    const auto y32 = cast<float>(ymat);
    r = fit(DenseView<const float>(y32.view()));
  } else {
    r = fit(DenseView<const double>(ymat.view()));
  }
  const double seconds = timer.stop_seconds();

  std::vector<std::size_t> all(r.size());
  for (std::size_t b = 0; b < all.size(); ++b) all[b] = b;
  if (!ranks().first()) return r.n_not_converged() > 0 ? kNotConverged : kOk;  // rank 0 writes and reports
  // The CSV header names each column by its index (problem_3 is the batch's problem 3, lambda_12 the
  // path's lambda 12): without one, pandas' read_csv would take the first feature's coefficients for it.
  if (!out.empty()) out.write_sparse(coefficient_matrix(r, all), numbered_names("problem_", all));
  const double rate = seconds > 0 ? static_cast<double>(k) / seconds : 0.0;
  std::ostream& text = out.to_stdout() ? std::cerr : std::cout;
  if (args.json) {
    json j;
    j["n_samples"] = n;
    j["n_features"] = p;
    j["n_problems"] = k;
    j["lambdas"] = r.lambdas;
    j["lambda_max"] = r.lambda_max;
    j["intercepts"] = r.intercepts;
    j["objective"] = r.objective;
    j["duality_gap"] = r.duality_gap;
    j["iterations"] = r.iterations;
    j["nnz"] = r.nnz;
    j["converged"] = converged_flags(r.status);
    j["n_not_converged"] = r.n_not_converged();
    j["tol"] = r.tol;
    j["time_s"] = seconds;
    j["problems_per_s"] = rate;
    j["backend"] = to_string(ctx.backend());
    j["device"] = ctx.device_name();
    j["precision"] = args.precision;
    if (!out.empty()) j["out"] = out.path();
    j["ranks"] = ranks().size;
#if SHRINK_CLI_MPI
    if (ranks().distributed()) {  // each rank's problems [begin, end)
      json shares = json::array();
      for (const auto& r : dist::even_ranges(k, ranks().size)) shares.push_back({r.begin, r.end});
      j["problem_ranges"] = shares;
    }
#endif
    text << j.dump(2) << "\n";
  } else {
    text << "# lasso batch: n=" << n << " p=" << p << " problems=" << k << " backend=" << to_string(ctx.backend())
         << " precision=" << args.precision << " time_s=" << seconds << " problems_per_s=" << rate << "\n";
    text << "# problem lambda lambda_max nnz intercept objective duality_gap iterations status\n";
    text << std::setprecision(10);
    for (std::size_t b = 0; b < r.size(); ++b)
      text << b << " " << r.lambdas[b] << " " << r.lambda_max[b] << " " << r.nnz[b] << " " << r.intercepts[b] << " "
           << r.objective[b] << " " << r.duality_gap[b] << " " << r.iterations[b] << " " << to_string(r.status[b]) << "\n";
  }
  if (r.n_not_converged() > 0) {
    std::cerr << "shrink: warning: " << r.n_not_converged() << " of " << k << " problem(s) stopped at --max-iter "
              << o.max_iter << " before reaching the relative duality gap " << r.tol << "\n";
    return kNotConverged;
  }
  return kOk;
}

// The outputs of a path (or a cross-validation): the coefficients file, the model, and the report
// on stdout (text or --json, with `extra` merged into the JSON). Returns the exit code.
int report_path(const LassoArgs& args, const Output& out, const LassoOptions& o, const LassoCv& result,
                const std::vector<std::string>& names, index_t n, index_t p, double seconds, const Context& ctx,
                const json* extra = nullptr) {
  const LassoPath& path = result.path;

  // The solution the outputs are about: --select, else the CV minimum, else the last.
  LassoModel model = make_lasso_model(path, o, args.cv > 0 ? &result : nullptr, names);
  const std::size_t pick = args.select.empty() ? model.solution(args.cv > 0 ? "min" : "last") : model.solution(args.select);
  std::vector<std::size_t> keep;
  if (!args.select.empty()) keep = {pick};
  else
    for (std::size_t l = 0; l < path.size(); ++l) keep.push_back(l);
  if (!out.empty()) out.write_sparse(coefficient_matrix(path, keep), numbered_names("lambda_", keep));
  if (!args.save_model.empty()) {
    if (args.select.empty()) save_lasso_model(args.save_model, model);
    else save_lasso_model(args.save_model, make_lasso_model(path, o, args.cv > 0 ? &result : nullptr, names, keep));
  }
  const auto chosen = selected_features(path, pick);

  std::ostream& text = out.to_stdout() ? std::cerr : std::cout;
  if (args.json) {
    json j;
    j["n_samples"] = n;
    j["n_features"] = p;
    j["lambda_max"] = path.lambda_max.front();  // one value for a path
    j["lambdas"] = path.lambdas;
    j["intercepts"] = path.intercepts;
    j["objective"] = path.objective;
    j["duality_gap"] = path.duality_gap;
    j["nnz"] = path.nnz;
    j["iterations"] = path.iterations;
    std::vector<double> sparsity;
    for (std::size_t l = 0; l < path.size(); ++l) sparsity.push_back(path.sparsity_ratio(l));
    j["converged"] = converged_flags(path.status);
    j["sparsity_ratio"] = sparsity;
    j["n_not_converged"] = path.n_not_converged();
    j["tol"] = path.tol;
    j["time_s"] = seconds;
    j["backend"] = to_string(ctx.backend());
    j["device"] = ctx.device_name();
    j["solver"] = to_string(path.solver);
    j["precision"] = args.precision;
    if (!names.empty()) j["feature_names"] = names;
    json features = json::array();
    for (const auto& [jf, b] : chosen) features.push_back({{"index", jf}, {"name", feature_name(names, jf)}, {"coefficient", b}});
    j["selected"] = {{"index", pick}, {"lambda", path.lambdas[pick]}, {"intercept", path.intercepts[pick]}, {"features", features}};
    if (args.cv > 0) {
      j["cv_folds"] = args.cv;
      j["cv_mean"] = result.cv_mean;
      j["cv_se"] = result.cv_se;
      j["lambda_min"] = result.lambda_min;
      j["lambda_1se"] = result.lambda_1se;
      j["index_min"] = result.index_min;
      j["index_1se"] = result.index_1se;
      j["cv_fits_not_converged"] = result.fold_fits_not_converged;
    }
    if (args.histogram) {
      j["histogram"] = histogram_json(coefficient_histogram(path, pick));
      j["histogram"]["lambda_index"] = pick;
    }
    if (!out.empty()) j["out"] = out.path();
    if (!args.save_model.empty()) j["model"] = args.save_model;
    if (extra) j.update(*extra);
    text << j.dump(2) << "\n";
  } else {
    text << "# lasso: n=" << n << " p=" << p << " solver=" << to_string(path.solver) << " backend=" << to_string(ctx.backend())
         << " precision=" << args.precision << " time_s=" << seconds << "\n";
    text << "# index lambda nnz sparsity intercept objective duality_gap iterations status\n";
    text << std::setprecision(10);
    for (std::size_t l = 0; l < path.size(); ++l)
      text << l << " " << path.lambdas[l] << " " << path.nnz[l] << " " << path.sparsity_ratio(l) << " " << path.intercepts[l]
           << " " << path.objective[l] << " " << path.duality_gap[l] << " " << path.iterations[l] << " "
           << to_string(path.status[l]) << "\n";
    if (args.cv > 0)
      text << "# cv: lambda_min=" << result.lambda_min << " (index " << result.index_min << ", mse "
           << result.cv_mean[result.index_min] << ") lambda_1se=" << result.lambda_1se << " (index " << result.index_1se << ")\n";
    text << "# selected (index " << pick << ", lambda " << path.lambdas[pick] << ", intercept " << path.intercepts[pick]
         << "): " << chosen.size() << " feature(s)";
    const std::size_t shown = std::min<std::size_t>(chosen.size(), 30);
    for (std::size_t k = 0; k < shown; ++k)
      text << (k ? ", " : ": ") << feature_name(names, chosen[k].first) << " " << chosen[k].second;
    if (shown < chosen.size()) text << ", ... (" << chosen.size() - shown << " more in --json)";
    text << "\n";
    if (args.histogram) {
      const auto h = coefficient_histogram(path, pick);
      text << "# |coefficient| histogram at lambda index " << pick << "\n";
      for (std::size_t k = 0; k < h.counts.size(); ++k)
        text << "[" << h.edges[k] << ", " << h.edges[k + 1] << ") " << h.counts[k] << "\n";
    }
  }
  const std::size_t bad = path.n_not_converged() + result.fold_fits_not_converged;
  if (bad > 0) {
    std::cerr << "shrink: warning: " << bad << " fit(s) stopped before reaching the relative duality gap " << path.tol
              << ": at --max-iter " << o.max_iter
              << (path.tol < 1e-12 ? ", or where the gap stopped falling at double precision's rounding floor (about "
                                     "1e-14 relative; a larger --tol is reachable)"
                                   : "")
              << "\n";
    return kNotConverged;
  }
  return kOk;
}

#if SHRINK_CLI_MPI
// `mpirun -np N shrink lasso X Y ...`: each rank reads only its own rows of X (read_matrix_part), the
// ranks fit one path together (dist::lasso_path), and rank 0 writes the outputs and reports them,
// with `ranks` and `row_ranges` in --json; --cv cross-validates the same way (dist::lasso_cv). y,
// weights and grids are small: every rank reads them whole and keeps its rows. A batch (Y with
// several columns, --lambda-ratio) splits the problems.
int run_lasso_ranks(const LassoArgs& args, const Output& out) {
  const int rank = ranks().rank, size = ranks().size;
  DenseMatrix<double> ymat;
  bool have_y = !args.y.empty();
  dist::agree_on_errors(MPI_COMM_WORLD, [&] {
    if (have_y) ymat = read_response(args.y, args.delimiter);
  });
  if ((have_y && ymat.rows() > 1 && ymat.cols() > 1) || args.lambda_ratio) {
    Design whole;
    dist::agree_on_errors(MPI_COMM_WORLD, [&] { whole = read_design(args.x, args.delimiter); });
    if (!have_y) {
      std::vector<double> labels;
      dist::agree_on_errors(MPI_COMM_WORLD, [&] {
        labels = args.y_column.empty() ? whole.labels : take_y_column(whole.file, args.y_column, args.x);
      });
      ymat = DenseMatrix<double>(whole.file.rows(), 1, Layout::ColMajor);
      std::copy(labels.begin(), labels.end(), ymat.data());
    }
    return run_batch(args, out, whole, ymat);
  }

  // This rank's rows. A CSV's part 0 decides how every part reads the columns.
  MatrixPart part;
  PartOptions po;
  po.csv_delimiter = delimiter_of(args.delimiter);
  const bool csv = format_from_path(args.x) == FileFormat::Csv || format_from_path(args.x) == FileFormat::Text;
  if (csv) {
    dist::agree_on_errors(MPI_COMM_WORLD, [&] {
      if (rank == 0) part = read_matrix_part(args.x, 0, size, po);
    });
    long long info[4] = {part.csv.delimiter, part.csv.dropped_index ? 1 : 0, part.csv.fields, part.csv.decimal};
    MPI_Bcast(info, 4, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
    CsvInfo first;
    first.delimiter = static_cast<char>(info[0]);
    first.dropped_index = info[1] != 0;
    first.fields = static_cast<index_t>(info[2]);
    first.decimal = static_cast<char>(info[3]);
    po.csv_first_part = &first;
    dist::agree_on_errors(MPI_COMM_WORLD, [&] {
      if (rank > 0) part = read_matrix_part(args.x, rank, size, po);
    });
  } else {
    dist::agree_on_errors(MPI_COMM_WORLD, [&] { part = read_matrix_part(args.x, rank, size, po); });
  }
  const bool svmlight = format_from_path(args.x) == FileFormat::Svmlight;
  if (!have_y && !svmlight && args.y_column.empty())
    throw UsageError(kResponseRequired);
  if (svmlight) {  // one index base for every part: zero-based if any part holds index 0
    int zero = part.zero_based ? 1 : 0;
    MPI_Allreduce(MPI_IN_PLACE, &zero, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (zero && !part.zero_based && part.file.rows() > 0) {
      po.svmlight_base = IndexBase::Zero;
      dist::agree_on_errors(MPI_COMM_WORLD, [&] { part = read_matrix_part(args.x, rank, size, po); });
    }
  }
  // The columns every part agrees on: a part without rows takes the others'.
  long long cols[2] = {part.file.rows() > 0 ? part.file.cols() : 0, part.file.rows() > 0 ? -part.file.cols() : 0};
  MPI_Allreduce(MPI_IN_PLACE, cols, 2, MPI_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
  index_t p = cols[0];
  if (!svmlight && cols[0] != -cols[1] && cols[1] != 0)
    throw DimensionMismatch(args.x + ": the ranks' parts have " + std::to_string(-cols[1]) + " to " +
                            std::to_string(cols[0]) + " columns");
  if (part.file.is_dense && part.file.rows() == 0) part.file.dense = DenseMatrix<double>(0, p, Layout::ColMajor);
  if (!part.file.is_dense && part.file.sparse.cols() != p) {  // svmlight: the widest part's columns
    const auto& a = part.file.sparse;
    auto vec = [](const auto& arr) { return Array<std::remove_cvref_t<decltype(*arr.data())>>::from_vector({arr.data(), arr.data() + arr.size()}); };
    part.file.sparse = CsrMatrix<double, std::int64_t>::adopt(a.rows(), p, vec(a.row_ptr()), vec(a.col_idx()), vec(a.values()));
  }
  // --y-column: part 0 (which holds a CSV's header) finds the column; every part gives up its rows of it.
  std::vector<double> y_part;
  if (!args.y_column.empty()) {
    long long column = 0;
    dist::agree_on_errors(MPI_COMM_WORLD, [&] {
      if (rank == 0) column = part.file.find_column(args.y_column, args.x);
    });
    MPI_Bcast(&column, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
    if (rank == 0) {
      y_part = take_y_column(part.file, static_cast<index_t>(column), args.x);
    } else {
      y_part = part.file.take_column(static_cast<index_t>(column));
    }
    p -= 1;
  }
  const auto ranges = dist::row_ranges(MPI_COMM_WORLD, part.file.rows());
  const index_t n = ranges.back().end;
  const auto mine = ranges[rank];

  // y, weights and the grids: whole on every rank, this rank's rows kept.
  std::vector<double> y;
  LassoOptions o;
  dist::agree_on_errors(MPI_COMM_WORLD, [&] {
    if (have_y) {
      const index_t len = ymat.rows() * ymat.cols();
      if (len != n)
        throw DimensionMismatch(args.y + ": y has " + std::to_string(len) + " values but X (" + args.x + ") has " +
                                std::to_string(n) + " rows over " + std::to_string(size) + " ranks");
      y.assign(ymat.data() + mine.begin, ymat.data() + mine.end);
    } else if (!args.y_column.empty()) {
      y = std::move(y_part);
    } else {
      y = part.labels;
    }
    o = path_options(args, p, n, mine.begin, mine.end);
  });

  const Context ctx = make_context(args.backend, args.threads);
  const auto bar = path_progress(args, o);
  const CrossValidationOptions cv = cv_options(args);
  Timer timer(ctx);
  timer.start();
  auto run = [&]<class V>(const auto& x, const VectorView<const V>& yview) {
    if (args.cv > 0) return dist::lasso_cv(ctx, MPI_COMM_WORLD, x, yview, o, cv);
    LassoCv r;
    r.path = dist::lasso_path(ctx, MPI_COMM_WORLD, x, yview, o);
    return r;
  };
  auto fit = [&]<class V>() {
    const auto yv = narrow<V>(y);
    const VectorView<const V> yview(yv);
    if (part.file.is_dense) {
      const auto x = cast<V>(part.file.dense);
      return run(DenseView<const V>(x.view()), yview);
    }
    if constexpr (std::is_same_v<V, double>) return run(part.file.sparse.view(), yview);
    else return run(cast<V, std::int64_t>(part.file.sparse).view(), yview);
  };
  const LassoCv result = args.precision == "f32" ? fit.template operator()<float>() : fit.template operator()<double>();
  const double seconds = timer.stop_seconds();
  if (!ranks().first())
    return result.path.n_not_converged() + result.fold_fits_not_converged > 0 ? kNotConverged : kOk;
  json extra;
  extra["ranks"] = size;
  json row_ranges = json::array();
  for (const auto& r : ranges) row_ranges.push_back({r.begin, r.end});
  extra["row_ranges"] = row_ranges;
  return report_path(args, out, o, result, part.file.column_names, n, p, seconds, ctx, &extra);
}
#endif

}  // namespace

int run_lasso(const LassoArgs& args) {
  // The outputs first: a bad extension or folder is found before any work.
  const Output out(args.out, "--out");
  check_writable(args.save_model, "--save-model");
  if ((args.select == "min" || args.select == "1se") && args.cv == 0)
    throw UsageError("--select " + args.select + " needs --cv K (it picks a cross-validated lambda)");
  if (!args.select.empty() && args.select != "min" && args.select != "1se" && args.select != "last" &&
      args.select.front() != '#')
    throw UsageError("--select " + args.select + ": expected min, 1se, last or #INDEX");
#if SHRINK_CLI_MPI
  if (ranks().distributed()) return run_lasso_ranks(args, out);
#endif

  Design d = read_design(args.x, args.delimiter);
  std::vector<double> y;
  if (!args.y_column.empty()) {
    y = take_y_column(d.file, args.y_column, args.x);
  } else if (!args.y.empty()) {
    const auto m = read_response(args.y, args.delimiter);
    if ((m.rows() > 1 && m.cols() > 1) || args.lambda_ratio) return run_batch(args, out, d, m);
    y.assign(m.data(), m.data() + m.rows() * m.cols());
    const index_t rows = d.file.rows();
    if (static_cast<index_t>(y.size()) != rows)
      throw DimensionMismatch(args.y + ": y has " + std::to_string(y.size()) + " values but X (" + args.x + ") has " +
                              std::to_string(rows) + " rows" +
                              (static_cast<index_t>(y.size()) == rows + 1 ? " (is its first line a header?)" : ""));
  } else if (!d.labels.empty() || (format_from_path(args.x) == FileFormat::Svmlight)) {
    y = d.labels;
  } else {
    throw UsageError(kResponseRequired);
  }
  const index_t n = d.file.rows(), p = d.file.cols();

  if (args.lambda_ratio) {  // svmlight labels or --y-column's column as the one response
    DenseMatrix<double> m(n, 1, Layout::ColMajor);
    std::copy(y.begin(), y.end(), m.data());
    return run_batch(args, out, d, m);
  }

  LassoOptions o = path_options(args, p, n, 0, n);
  const Context ctx = make_context(args.backend, args.threads);
  const auto bar = path_progress(args, o);
  const CrossValidationOptions cv = cv_options(args);
  Timer timer(ctx);
  timer.start();
  LassoCv result;
  auto fit = [&](const auto& x, const auto& yv) {
    if (args.cv > 0) return lasso_cv(ctx, x, yv, o, cv);
    LassoCv r;
    r.path = lasso_path(ctx, x, yv, o);
    return r;
  };
  if (args.precision == "f32") result = with_precision<float>(d, y, fit);
  else result = with_precision<double>(d, y, fit);
  const double seconds = timer.stop_seconds();
  return report_path(args, out, o, result, d.file.column_names, n, p, seconds, ctx);
}

int run_predict(const PredictArgs& args) {
  const Output out(args.out, "--out", OutputKind::Vector);
  const LassoModel model = load_lasso_model(args.model);
  auto x = read_input<double, std::int64_t>(args.x, args.delimiter);
  std::vector<double> y;
  if (!args.y_column.empty()) y = take_y_column(x, args.y_column, args.x);
  else drop_response_column(x, model, args.x);
  if (x.cols() != model.n_features)
    throw DimensionMismatch(args.x + ": X has " + std::to_string(x.cols()) + " columns but the model (" + args.model + ") has " +
                            std::to_string(model.n_features) + " features");
  if (!x.column_names.empty() && !model.feature_names.empty() && x.column_names != model.feature_names)
    throw DimensionMismatch(args.x + ": its columns are not the model's features in the same order (first difference: " +
                            [&] {
                              for (std::size_t j = 0; j < x.column_names.size(); ++j)
                                if (x.column_names[j] != model.feature_names[j])
                                  return "'" + x.column_names[j] + "' where the model has '" + model.feature_names[j] + "'";
                              return std::string();
                            }() + ")");
  // The solution: a name or an index, else a lambda value.
  std::string which = args.lambda.empty() ? (model.index_min >= 0 ? "min" : "last") : args.lambda;
  std::vector<double> coef;
  double intercept = 0, lambda = 0;
  if (which == "min" || which == "1se" || which == "last" || which.front() == '#') {
    std::size_t l = 0;
    try {
      l = model.solution(which);
    } catch (const InvalidArgument& e) {
      throw UsageError(std::string("--lambda: ") + e.what());
    }
    lambda = model.lambdas[l];
    coef = model.coefficients_at_lambda(lambda, intercept);
  } else {
    double value = 0;
    const auto [ptr, ec] = std::from_chars(which.data(), which.data() + which.size(), value);
    if (ec != std::errc() || ptr != which.data() + which.size() || !(value >= 0) || !std::isfinite(value))
      throw UsageError("--lambda " + which + ": expected min, 1se, last, #INDEX or a lambda value >= 0");
    lambda = value;
    coef = model.coefficients_at_lambda(lambda, intercept);
  }
  const auto pred = x.is_dense ? lasso_predict<double>(x.dense.view(), coef, intercept)
                               : lasso_predict(x.sparse.view(), coef, intercept);
  if (out.empty()) {
    if (!args.json) print_values(pred);
  } else {
    out.write_vector(pred, "prediction");
  }
  const auto fit = y.empty() ? PredictionFit{} : prediction_fit(y, pred);
  if (!y.empty())
    std::fprintf(stderr, "shrink: R^2 %.6g, MSE %.6g over %lld samples (y: --y-column %s)\n", fit.r2, fit.mse,
                 static_cast<long long>(y.size()), args.y_column.c_str());
  if (args.json) {
    json j = {{"model", args.model}, {"samples", x.rows()}, {"lambda", lambda}, {"intercept", intercept}};
    if (!y.empty()) {
      j["r2"] = fit.r2;
      j["mse"] = fit.mse;
    }
    if (out.empty()) j["predictions"] = pred;
    else j["out"] = out.path();
    (out.to_stdout() ? std::cerr : std::cout) << j.dump(2) << "\n";
  }
  return kOk;
}

}  // namespace shrink::cli
