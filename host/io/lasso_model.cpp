// Saved Lasso models (lasso.hpp): what a fit keeps for prediction, its file and predict. In the
// readers and writers: it is a file format, and it needs nothing of the solvers.
//   "SHRKLASO", u32 version
//   n_features, l1_ratio, fit_intercept, standardize, positive, index_min, index_1se
//   feature names (u64 count, then each as a counted string), lambdas, intercepts
//   the coefficients as CSR of the p x L matrix's transpose (row pointers, columns, values)
//   u64 FNV-1a of every byte before it
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "host/io/binary_file.hpp"
#include "host/io/mapped_file.hpp"
#include "kernels/ops/instantiate.hpp"
#include "shrink/context.hpp"
#include "shrink/error.hpp"
#include "shrink/io.hpp"
#include "shrink/lasso.hpp"

namespace shrink {

namespace {
constexpr char kMagic[8] = {'S', 'H', 'R', 'K', 'L', 'A', 'S', 'O'};
constexpr std::uint32_t kVersion = 1;
}  // namespace

std::size_t LassoModel::solution(std::string_view which) const {
  if (size() == 0) throw InvalidArgument("the model holds no solution");
  if (which == "last") return size() - 1;
  if (which == "min" || which == "1se") {
    const auto index = which == "min" ? index_min : index_1se;
    if (index < 0) throw InvalidArgument(std::string(which) + ": the model was not cross-validated (fit it with --cv)");
    return static_cast<std::size_t>(index);
  }
  if (!which.empty() && which.front() == '#') {
    std::size_t l = 0;
    const auto [p, ec] = std::from_chars(which.data() + 1, which.data() + which.size(), l);
    if (ec == std::errc() && p == which.data() + which.size() && l < size()) return l;
  }
  throw InvalidArgument("solution '" + std::string(which) + "': expected min, 1se, last or #INDEX below " +
                        std::to_string(size()));
}

std::vector<double> LassoModel::coefficients_at_lambda(double lambda, double& intercept) const {
  if (size() == 0) throw InvalidArgument("the model holds no solution");
  if (!(std::isfinite(lambda) && lambda >= 0))
    throw InvalidArgument("lambda = " + std::to_string(lambda) + " must be finite and >= 0");
  const auto column = [&](std::size_t l) {
    std::vector<double> out(static_cast<std::size_t>(n_features), 0.0);
    const auto& t = coefficients.transposed();
    for (auto k = t.row_ptr().data()[l]; k < t.row_ptr().data()[l + 1]; ++k) out[t.col_idx().data()[k]] = t.values().data()[k];
    return out;
  };
  // The two solutions around lambda, whatever the grid's order.
  std::size_t above = size(), below = size();
  for (std::size_t l = 0; l < size(); ++l) {
    if (lambdas[l] == lambda) {
      intercept = intercepts[l];
      return column(l);
    }
    if (lambdas[l] > lambda && (above == size() || lambdas[l] < lambdas[above])) above = l;
    if (lambdas[l] < lambda && (below == size() || lambdas[l] > lambdas[below])) below = l;
  }
  if (above == size() || below == size()) {  // outside the path: its nearest end
    const std::size_t l = above == size() ? below : above;
    intercept = intercepts[l];
    return column(l);
  }
  const double t = (lambdas[above] - lambda) / (lambdas[above] - lambdas[below]);
  auto a = column(above);
  const auto b = column(below);
  for (std::size_t j = 0; j < a.size(); ++j) a[j] = (1 - t) * a[j] + t * b[j];
  intercept = (1 - t) * intercepts[above] + t * intercepts[below];
  return a;
}

LassoModel make_lasso_model(const LassoFit& fit, const LassoOptions& options, const LassoCv* cv,
                            std::vector<std::string> feature_names, const std::vector<std::size_t>& keep) {
  if (!feature_names.empty() && static_cast<index_t>(feature_names.size()) != fit.n_features)
    throw DimensionMismatch(std::to_string(feature_names.size()) + " feature names for " + std::to_string(fit.n_features) +
                            " features");
  LassoModel m;
  m.n_features = fit.n_features;
  m.feature_names = std::move(feature_names);
  m.l1_ratio = options.l1_ratio;
  m.fit_intercept = options.fit_intercept;
  m.standardize = options.standardize;
  m.positive = options.positive;
  std::vector<std::size_t> chosen = keep;
  if (chosen.empty())
    for (std::size_t l = 0; l < fit.size(); ++l) chosen.push_back(l);
  std::vector<std::int64_t> row_ptr{0}, cols;
  std::vector<double> vals;
  for (const std::size_t l : chosen) {
    if (l >= fit.size()) throw InvalidArgument("solution " + std::to_string(l) + " is outside the fit's " + std::to_string(fit.size()));
    m.lambdas.push_back(fit.lambdas[l]);
    m.intercepts.push_back(fit.intercepts[l]);
    const auto& t = fit.coefficients.transposed();
    for (auto k = t.row_ptr().data()[l]; k < t.row_ptr().data()[l + 1]; ++k) {
      cols.push_back(t.col_idx().data()[k]);
      vals.push_back(t.values().data()[k]);
    }
    row_ptr.push_back(static_cast<std::int64_t>(cols.size()));
    if (cv) {
      if (l == cv->index_min) m.index_min = static_cast<std::int64_t>(m.lambdas.size() - 1);
      if (l == cv->index_1se) m.index_1se = static_cast<std::int64_t>(m.lambdas.size() - 1);
    }
  }
  m.coefficients = CscMatrix<double, std::int64_t>(CsrMatrix<double, std::int64_t>::adopt(
      static_cast<index_t>(chosen.size()), fit.n_features, Array<std::int64_t>::from_vector(row_ptr),
      Array<std::int64_t>::from_vector(cols), Array<double>::from_vector(vals)));
  return m;
}

void save_lasso_model(const std::string& path, const LassoModel& m) {
  io_detail::BinaryWriter w;
  w.bytes().append(kMagic, sizeof kMagic);
  w.put<std::uint32_t>(kVersion);
  w.put<std::int64_t>(m.n_features);
  w.put<double>(m.l1_ratio);
  w.put<std::uint8_t>(m.fit_intercept);
  w.put<std::uint8_t>(m.standardize);
  w.put<std::uint8_t>(m.positive);
  w.put<std::int64_t>(m.index_min);
  w.put<std::int64_t>(m.index_1se);
  w.put<std::uint64_t>(m.feature_names.size());
  for (const auto& name : m.feature_names) w.put_string(name);
  w.put_vector(m.lambdas);
  w.put_vector(m.intercepts);
  const auto& t = m.coefficients.transposed();
  const auto* rp = t.row_ptr().data();
  w.put_vector(std::vector<std::int64_t>(rp, rp + t.rows() + 1));
  w.put_vector(std::vector<std::int64_t>(t.col_idx().data(), t.col_idx().data() + t.nnz()));
  w.put_vector(std::vector<double>(t.values().data(), t.values().data() + t.nnz()));
  w.put<std::uint64_t>(io_detail::fnv1a(w.bytes()));
  write_file_atomic(path, w.bytes());
}

LassoModel load_lasso_model(const std::string& path) {
  const io_detail::MappedFile file(path);
  return parse_lasso_model(file.view(), path);
}

LassoModel parse_lasso_model(std::string_view bytes, const std::string& path) {
  if (bytes.size() < sizeof kMagic + 12 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    throw ParseError(path, 0, "not a Shrink Lasso model (bad magic)");
  std::uint64_t stored;
  std::memcpy(&stored, bytes.data() + bytes.size() - 8, 8);
  if (io_detail::fnv1a(bytes.substr(0, bytes.size() - 8)) != stored)
    throw ParseError(path, 0, "Lasso model: checksum mismatch (the file is corrupt or truncated)");
  io_detail::BinaryReader r(path, bytes.substr(sizeof kMagic, bytes.size() - 8 - sizeof kMagic), "Lasso model");
  const auto version = r.get<std::uint32_t>("version");
  if (version != kVersion)
    r.fail("version " + std::to_string(version) + " is not read by this build (it reads " + std::to_string(kVersion) + ")");
  LassoModel m;
  m.n_features = r.get<std::int64_t>("n_features");
  if (m.n_features < 0) r.fail("negative n_features");
  // Every use of a solution (predict, a lambda between two) builds a dense p-vector.
  check_memory(8.0 * static_cast<double>(m.n_features),
               path + ": n_features = " + std::to_string(m.n_features) + ", a dense coefficient vector");
  m.l1_ratio = r.get<double>("l1_ratio");
  m.fit_intercept = r.get_bool("fit_intercept");
  m.standardize = r.get_bool("standardize");
  m.positive = r.get_bool("positive");
  m.index_min = r.get<std::int64_t>("index_min");
  m.index_1se = r.get<std::int64_t>("index_1se");
  const auto names = r.get<std::uint64_t>("feature names");
  if (names != 0 && names != static_cast<std::uint64_t>(m.n_features)) r.fail("feature names do not match n_features");
  for (std::uint64_t k = 0; k < names; ++k) m.feature_names.push_back(r.get_string("feature name"));
  m.lambdas = r.get_vector<double>("lambdas");
  m.intercepts = r.get_vector<double>("intercepts");
  auto ptr = r.get_vector<std::int64_t>("row pointers");
  auto cols = r.get_vector<std::int64_t>("columns");
  auto vals = r.get_vector<double>("values");
  const auto count = static_cast<index_t>(m.lambdas.size());
  if (static_cast<index_t>(m.intercepts.size()) != count || static_cast<index_t>(ptr.size()) != count + 1)
    r.fail("lambdas, intercepts and solutions differ in number");
  if (m.index_min >= count || m.index_1se >= count || m.index_min < -1 || m.index_1se < -1) r.fail("CV choice out of range");
  // The coefficients go through the validating constructor (sorted, in range, finite).
  m.coefficients = CscMatrix<double, std::int64_t>(
      CsrMatrix<double, std::int64_t>::from_arrays(count, m.n_features, std::move(ptr), std::move(cols), std::move(vals)));
  return m;
}

template <class V>
std::vector<double> lasso_predict(DenseView<const V> x, const std::vector<double>& coef, double intercept) {
  if (x.space != MemorySpace::Host) throw InvalidArgument("lasso_predict: X must be in host memory");
  if (static_cast<index_t>(coef.size()) != x.cols)
    throw DimensionMismatch("X has " + std::to_string(x.cols) + " columns but the model has " + std::to_string(coef.size()) +
                            " features");
  std::vector<double> out(static_cast<std::size_t>(x.rows), intercept);
  for (index_t i = 0; i < x.rows; ++i) {
    double s = 0;
    for (index_t j = 0; j < x.cols; ++j)
      if (coef[j] != 0) s += static_cast<double>(x(i, j)) * coef[j];
    out[i] += s;
  }
  return out;
}

template <class V, class I>
std::vector<double> lasso_predict(const CsrView<V, I>& x, const std::vector<double>& coef, double intercept) {
  if (x.space != MemorySpace::Host) throw InvalidArgument("lasso_predict: X must be in host memory");
  if (static_cast<index_t>(coef.size()) != x.cols)
    throw DimensionMismatch("X has " + std::to_string(x.cols) + " columns but the model has " + std::to_string(coef.size()) +
                            " features");
  std::vector<double> out(static_cast<std::size_t>(x.rows), intercept);
  for (index_t i = 0; i < x.rows; ++i)
    for (auto k = x.row_ptr[i]; k < x.row_ptr[i + 1]; ++k) out[i] += static_cast<double>(x.values[k]) * coef[x.col_idx[k]];
  return out;
}

#define SHRINK_INSTANTIATE_PREDICT(V) \
  template std::vector<double> lasso_predict<V>(DenseView<const V>, const std::vector<double>&, double);
SHRINK_FOR_EACH_VALUE(SHRINK_INSTANTIATE_PREDICT)
#define SHRINK_INSTANTIATE_PREDICT_SPARSE(V, I) \
  template std::vector<double> lasso_predict<V, I>(const CsrView<V, I>&, const std::vector<double>&, double);
SHRINK_FOR_EACH_VALUE_INDEX(SHRINK_INSTANTIATE_PREDICT_SPARSE)

}  // namespace shrink
