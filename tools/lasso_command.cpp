// `shrink lasso`: read X and y, fit the path (and cross-validate), print or write the results.
#include <nlohmann/json.hpp>

#include <chrono>
#include <iomanip>
#include <iostream>

#include "shrink/shrink.hpp"
#include "tools/cli_support.hpp"
#include "tools/commands.hpp"

using nlohmann::json;

namespace shrink::cli {

namespace {

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

Design read_design(const std::string& path) {
  Design d;
  if (format_from_path(path) == FileFormat::Svmlight) {
    auto s = read_svmlight<double, std::int64_t>(path);
    d.file.sparse = std::move(s.features);
    d.labels = std::move(s.labels);
  } else {
    d.file = read_matrix<double, std::int64_t>(path);
  }
  d.dense = d.file.is_dense;
  return d;
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

// The JSON `converged` array: one flag per fit.
std::vector<bool> converged_flags(const std::vector<FitStatus>& status) {
  std::vector<bool> out;
  for (const auto s : status) out.push_back(s == FitStatus::Converged);
  return out;
}

// k independent problems on the columns of Y (batch_lasso.hpp): one line or JSON entry per problem.
int run_batch(const LassoArgs& args, Design& d, const DenseMatrix<double>& ymat) {
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
  BatchLassoOptions o;
  static_cast<LassoCoreOptions&>(o) = args.options;
  if (args.lambda) o.lambda = *args.lambda;
  else if (args.lambda_ratio) o.lambda_ratio = *args.lambda_ratio;
  else if (!args.lambdas_file.empty()) o.lambdas = read_vector_file(args.lambdas_file, "lambdas (one per problem)", k);
  else {
    return report_failure(args.json, kUsage, "usage", "a batched fit needs --lambda L, --lambda-ratio R or "
                          "--lambdas-file F (one lambda per column of Y)");
  }
  if (!args.penalty_factors.empty()) o.penalty_factors = read_vector_file(args.penalty_factors, "penalty factors", p);

  const Context ctx = make_context(args.backend, args.threads);
  Progress bar("lasso batch", static_cast<long>(k));
  o.progress = [&](std::size_t done, std::size_t) { bar.update(static_cast<long>(done)); };
  Timer timer(ctx);
  timer.start();
  auto fit = [&]<class V>(const DenseView<const V>& y) {
    if constexpr (std::is_same_v<V, double>) {
      if (d.dense) return lasso_batch<double>(ctx, d.file.dense.view(), y, o);
      return lasso_batch(ctx, d.file.sparse, y, o);
    } else {
      if (d.dense) {
        const auto x = cast<V>(d.file.dense);
        return lasso_batch<V>(ctx, x.view(), y, o);
      }
      return lasso_batch(ctx, cast<V, std::int64_t>(d.file.sparse), y, o);
    }
  };
  BatchLassoResult r;
  if (args.precision == "f32") {
    const auto y32 = cast<float>(ymat);
    r = fit(DenseView<const float>(y32.view()));
  } else {
    r = fit(DenseView<const double>(ymat.view()));
  }
  const double seconds = timer.stop_seconds();

  if (!args.out.empty()) write_matrix_market(args.out, csc_to_csr(r.coefficients));
  const double rate = seconds > 0 ? static_cast<double>(k) / seconds : 0.0;
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
    if (!args.out.empty()) j["out"] = args.out;
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "# lasso batch: n=" << n << " p=" << p << " problems=" << k << " backend=" << to_string(ctx.backend())
              << " precision=" << args.precision << " time_s=" << seconds << " problems_per_s=" << rate << "\n";
    std::cout << "# problem lambda lambda_max nnz intercept objective duality_gap iterations status\n";
    std::cout << std::setprecision(10);
    for (std::size_t b = 0; b < r.size(); ++b)
      std::cout << b << " " << r.lambdas[b] << " " << r.lambda_max[b] << " " << r.nnz[b] << " " << r.intercepts[b]
                << " " << r.objective[b] << " " << r.duality_gap[b] << " " << r.iterations[b] << " "
                << to_string(r.status[b]) << "\n";
  }
  if (r.n_not_converged() > 0) {
    std::cerr << "shrink: warning: " << r.n_not_converged() << " of " << k << " problem(s) stopped at --max-iter "
              << o.max_iter << " before reaching the relative duality gap " << r.tol << "\n";
    return kNotConverged;
  }
  return kOk;
}

}  // namespace

int run_lasso(const LassoArgs& args) {
  Design d = read_design(args.x);
  const index_t n = d.file.rows(), p = d.file.cols();
  std::vector<double> y;
  if (!args.y.empty()) {
    const auto m = read_columns<double>(args.y);
    if ((m.rows() > 1 && m.cols() > 1) || args.lambda_ratio) return run_batch(args, d, m);
    y.assign(m.data(), m.data() + m.rows() * m.cols());
    if (static_cast<index_t>(y.size()) != n)
      throw DimensionMismatch(args.y + ": y has " + std::to_string(y.size()) + " values but X (" +
                              args.x + ") has " + std::to_string(n) + " rows");
  } else if (!d.labels.empty() || (format_from_path(args.x) == FileFormat::Svmlight)) {
    y = d.labels;
  } else {
    return report_failure(args.json, kUsage, "usage", "Y is required unless X is an svmlight file (whose labels are y)");
  }

  if (args.lambda_ratio) {  // svmlight labels as the one response
    DenseMatrix<double> m(n, 1, Layout::ColMajor);
    std::copy(y.begin(), y.end(), m.data());
    return run_batch(args, d, m);
  }

  LassoOptions o = args.options;
  if (args.lambda) o.lambdas = {*args.lambda};
  if (!args.lambdas_file.empty()) o.lambdas = read_vector_file(args.lambdas_file, "lambdas", -1);
  if (!args.penalty_factors.empty())
    o.penalty_factors = read_vector_file(args.penalty_factors, "penalty factors", p);
  if (!args.sample_weights.empty())
    o.sample_weights = read_vector_file(args.sample_weights, "sample weights", n);

  const Context ctx = make_context(args.backend, args.threads);

  const long steps = args.cv > 0 ? args.cv + 1 : static_cast<long>(o.lambdas.empty() ? o.n_lambdas : o.lambdas.size());
  Progress bar(args.cv > 0 ? "lasso cv" : "lasso path", steps);
  o.progress = [&](std::size_t done, std::size_t) { bar.update(static_cast<long>(done)); };

  CrossValidationOptions cv = args.cv_options;
  cv.folds = args.cv;
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
  const LassoPath& path = result.path;

  if (!args.out.empty()) {
    // p x L coordinate file: column l holds the coefficients for lambda l.
    const auto csr = csc_to_csr(path.coefficients);
    write_matrix_market(args.out, csr);
  }

  const std::size_t pick = args.cv > 0 ? result.index_min : path.size() - 1;
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
    if (!args.out.empty()) j["out"] = args.out;
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "# lasso: n=" << n << " p=" << p << " solver=" << to_string(path.solver)
              << " backend=" << to_string(ctx.backend()) << " precision=" << args.precision
              << " time_s=" << seconds << "\n";
    std::cout << "# index lambda nnz sparsity objective duality_gap iterations status\n";
    std::cout << std::setprecision(10);
    for (std::size_t l = 0; l < path.size(); ++l)
      std::cout << l << " " << path.lambdas[l] << " " << path.nnz[l] << " " << path.sparsity_ratio(l) << " "
                << path.objective[l] << " " << path.duality_gap[l] << " " << path.iterations[l] << " "
                << to_string(path.status[l]) << "\n";
    if (args.cv > 0)
      std::cout << "# cv: lambda_min=" << result.lambda_min << " (index " << result.index_min
                << ", mse " << result.cv_mean[result.index_min] << ") lambda_1se=" << result.lambda_1se
                << " (index " << result.index_1se << ")\n";
    if (args.histogram) {
      const auto h = coefficient_histogram(path, pick);
      std::cout << "# |coefficient| histogram at lambda index " << pick << "\n";
      for (std::size_t k = 0; k < h.counts.size(); ++k)
        std::cout << "[" << h.edges[k] << ", " << h.edges[k + 1] << ") " << h.counts[k] << "\n";
    }
  }
  const std::size_t bad = path.n_not_converged() + result.fold_fits_not_converged;
  if (bad > 0) {
    std::cerr << "shrink: warning: " << bad << " fit(s) stopped at --max-iter " << o.max_iter
              << " before reaching the relative duality gap " << path.tol << "\n";
    return kNotConverged;
  }
  return kOk;
}

}  // namespace shrink::cli
