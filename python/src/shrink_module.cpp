// shrink._core: the library's Lasso / Elastic-Net path for Python. NumPy arrays and SciPy's CSR/CSC
// arrays are read in place (no copy of X here; the solver makes only the copies its layout needs),
// and the fit runs with the GIL released. The estimators in shrink/__init__.py call this.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "shrink/shrink.hpp"

namespace nb = nanobind;
using namespace shrink;

namespace {

using AnyMatrix = nb::ndarray<nb::ndim<2>, nb::device::cpu, nb::ro>;
using AnyVector = nb::ndarray<nb::ndim<1>, nb::device::cpu, nb::ro>;
using Doubles = nb::ndarray<double, nb::numpy, nb::ndim<1>>;
// Arrays on a CUDA device, through DLPack (CuPy, torch): read in place on a CUDA context.
using DeviceMatrix = nb::ndarray<nb::ndim<2>, nb::device::cuda, nb::ro>;
using DeviceVector = nb::ndarray<nb::ndim<1>, nb::device::cuda, nb::ro>;

template <class T>
bool is(const auto& a) {
  return a.dtype() == nb::dtype<T>();
}

std::vector<double> doubles(nb::handle h, const char* name) {
  std::vector<double> out;
  if (h.is_none()) return out;
  for (nb::handle v : h) out.push_back(nb::cast<double>(v));
  (void)name;
  return out;
}

LassoOptions options_from(const nb::dict& o) {
  LassoOptions opt;
  auto get = [&](const char* key) { return o.contains(key) ? nb::handle(o[key]) : nb::handle(); };
  if (auto v = get("l1_ratio")) opt.l1_ratio = nb::cast<double>(v);
  if (auto v = get("fit_intercept")) opt.fit_intercept = nb::cast<bool>(v);
  if (auto v = get("positive")) opt.positive = nb::cast<bool>(v);
  if (auto v = get("standardize")) opt.standardize = nb::cast<bool>(v);
  if (auto v = get("tol")) opt.tol = nb::cast<double>(v);
  if (auto v = get("max_iter")) opt.max_iter = nb::cast<std::int64_t>(v);
  if (auto v = get("n_lambdas")) opt.n_lambdas = nb::cast<int>(v);
  if (auto v = get("lambda_min_ratio")) opt.lambda_min_ratio = nb::cast<double>(v);
  if (auto v = get("solver")) opt.solver = parse_lasso_solver(nb::cast<std::string>(v));
  if (auto v = get("lambdas")) opt.lambdas = doubles(v, "lambdas");
  if (auto v = get("sample_weight")) opt.sample_weights = doubles(v, "sample_weight");
  if (auto v = get("penalty_factor")) opt.penalty_factors = doubles(v, "penalty_factor");
  return opt;
}

// The options' context. "device" (a CUDA ordinal, set for arrays that live on a GPU) makes it a CUDA
// context on that device, and "stream" (a cudaStream_t as an integer, 0: the context's own) the
// stream its work goes on, the caller's current one.
Context context_from(const nb::dict& o) {
  ContextOptions c{Backend::Cpu};
  if (o.contains("threads")) c.cpu_threads = nb::cast<int>(o["threads"]);
  if (o.contains("backend")) c.backend = parse_backend(nb::cast<std::string>(o["backend"]));
  if (o.contains("device")) {
    c.backend = Backend::Cuda;
    c.device = nb::cast<int>(o["device"]);
  }
  c.honour_environment = false;
  Context ctx(c);
  if (o.contains("stream")) {
    if (const auto stream = nb::cast<std::uintptr_t>(o["stream"])) ctx.set_stream(reinterpret_cast<void*>(stream));
  }
  return ctx;
}

// A CPU context with `threads` threads (0: OpenMP's default), for the products and layers.
Context cpu_context(int threads) {
  ContextOptions co{Backend::Cpu};
  co.cpu_threads = threads;
  co.honour_environment = false;
  return Context(co);
}

template <class T>
nb::ndarray<T, nb::numpy, nb::ndim<1>> vector_out(const std::vector<T>& v) {
  auto* owned = new std::vector<T>(v);
  nb::capsule free(owned, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  return {owned->data(), {owned->size()}, free};
}

// The path as a dict of NumPy arrays; coef is p x L, column-major.
nb::dict path_dict(const LassoPath& path) {
  nb::dict d;
  const auto p = static_cast<std::size_t>(path.n_features), L = path.size();
  auto* coef = new std::vector<double>(p * L, 0.0);
  const auto c = path.coefficients.view();
  for (std::size_t l = 0; l < L; ++l)
    for (auto k = c.col_ptr[l]; k < c.col_ptr[l + 1]; ++k) (*coef)[l * p + c.row_idx[k]] = c.values[k];
  nb::capsule free(coef, [](void* q) noexcept { delete static_cast<std::vector<double>*>(q); });
  const std::size_t shape[2] = {p, L};
  const std::int64_t strides[2] = {1, static_cast<std::int64_t>(p)};
  d["coef"] = nb::ndarray<double, nb::numpy, nb::ndim<2>>(coef->data(), 2, shape, free, strides);
  d["lambdas"] = vector_out(path.lambdas);
  d["lambda_max"] = vector_out(path.lambda_max);
  d["intercepts"] = vector_out(path.intercepts);
  d["objective"] = vector_out(path.objective);
  d["duality_gap"] = vector_out(path.duality_gap);
  d["iterations"] = vector_out(path.iterations);
  d["nnz"] = vector_out(path.nnz);
  std::vector<std::uint8_t> converged;
  for (const auto s : path.status) converged.push_back(s == FitStatus::Converged);
  d["converged"] = vector_out(converged);
  d["solver"] = std::string(to_string(path.solver));
  d["tol"] = path.tol;
  d["seconds"] = path.seconds;
  return d;
}

// A cross-validation: its refit path plus each fold's error (L x K) and the two choices.
nb::dict cv_dict(const LassoCv& cv, int folds) {
  nb::dict d = path_dict(cv.path);
  auto* errors = new std::vector<double>(cv.cv_folds);
  nb::capsule free(errors, [](void* q) noexcept { delete static_cast<std::vector<double>*>(q); });
  const std::size_t shape[2] = {cv.path.size(), static_cast<std::size_t>(folds)};
  d["mse_path"] = nb::ndarray<double, nb::numpy, nb::ndim<2>>(errors->data(), 2, shape, free);
  d["cv_mean"] = vector_out(cv.cv_mean);
  d["cv_se"] = vector_out(cv.cv_se);
  d["index_min"] = cv.index_min;
  d["index_1se"] = cv.index_1se;
  d["fold_fits_not_converged"] = cv.fold_fits_not_converged;
  return d;
}

// A path, or with folds (the fold of each sample) a cross-validation over the path's grid.
template <class X, class V>
nb::dict run(const X& x, VectorView<const V> y, const nb::dict& o, const std::vector<int>& folds) {
  const LassoOptions opt = options_from(o);
  const Context ctx = context_from(o);
  auto with_transfers = [&](nb::dict d) {  // how often X was copied (relaid out) on the host or device
    d["input_host_copies"] = ctx.transfers().input_host_copies;
    d["input_device_copies"] = ctx.transfers().input_device_copies;
    d["device_to_host_bytes"] = ctx.transfers().device_to_host_bytes;
    return d;
  };
  if (folds.empty()) {
    LassoPath path;
    {
      nb::gil_scoped_release release;
      path = lasso_path(ctx, x, y, opt);
      ctx.synchronize();
    }
    return with_transfers(path_dict(path));
  }
  CrossValidationOptions cv;
  cv.folds = *std::max_element(folds.begin(), folds.end()) + 1;
  cv.fold_of_sample = folds;
  LassoCv result;
  {
    nb::gil_scoped_release release;
    result = lasso_cv(ctx, x, y, opt, cv);
    ctx.synchronize();
  }
  return with_transfers(cv_dict(result, cv.folds));
}

template <class V, class A = AnyVector>
VectorView<const V> vector_of(const A& y, const char* name, MemorySpace space = MemorySpace::Host) {
  if (!is<V>(y)) throw nb::type_error((std::string(name) + ": its dtype must match X's").c_str());
  if (y.shape(0) > 1 && y.stride(0) != 1) throw nb::value_error((std::string(name) + " must be contiguous").c_str());
  return {static_cast<const V*>(y.data()), static_cast<index_t>(y.shape(0)), space};
}

// k problems, one per column of Y, through the batched solver (batch_lasso.hpp): the options' one
// lambda for every problem. The result has the path's keys, with one entry per problem.
template <class X, class V>
nb::dict run_batch(const X& x, DenseView<const V> y, const nb::dict& o) {
  const LassoOptions path_options = options_from(o);
  if (path_options.lambdas.size() != 1) throw nb::value_error("a batch takes exactly one lambda");
  BatchLassoOptions opt;
  static_cast<LassoCoreOptions&>(opt) = path_options;
  opt.lambda = path_options.lambdas[0];
  const Context ctx = context_from(o);
  BatchLassoResult fit;
  {
    nb::gil_scoped_release release;
    fit = lasso_batch(ctx, x, y, opt);
  }
  return path_dict(fit);
}

// A dense matrix: C order is row-major, F order column-major, each used in place.
template <class V, class A = AnyMatrix>
DenseView<const V> dense_view(const A& x, const char* name, MemorySpace space = MemorySpace::Host) {
  const auto rows = static_cast<index_t>(x.shape(0)), cols = static_cast<index_t>(x.shape(1));
  if (!is<V>(x)) throw nb::type_error((std::string(name) + ": its dtype must match X's").c_str());
  if (x.stride(1) == 1 || cols <= 1)
    return {static_cast<const V*>(x.data()), rows, cols, std::max<index_t>(x.stride(0), cols), Layout::RowMajor, space};
  if (x.stride(0) == 1 || rows <= 1)
    return {static_cast<const V*>(x.data()), rows, cols, std::max<index_t>(x.stride(1), rows), Layout::ColMajor, space};
  throw nb::value_error((std::string(name) + " must be C- or Fortran-contiguous along one axis").c_str());
}

template <class V>
nb::dict fit_dense(const AnyMatrix& x, const AnyVector& y, const nb::dict& o, const std::vector<int>& folds) {
  return run(dense_view<V>(x, "X"), vector_of<V>(y, "y"), o, folds);
}

// Calls f with SciPy's CSR or CSC arrays as the library's view (float64/32 values, int32/64 indices),
// read in place.
template <class A, class F>
nb::dict visit_sparse(const std::string& format, const A& data, const A& indices, const A& indptr, index_t rows,
                      index_t cols, F&& f, MemorySpace space = MemorySpace::Host) {
  auto with = [&]<class V, class I>() {
    if (!is<I>(indptr)) throw nb::type_error("indices and indptr must have the same integer dtype");
    const auto values = vector_of<V>(data, "data", space);
    const auto nnz = static_cast<index_t>(data.shape(0));
    const auto* idx = static_cast<const I*>(indices.data());
    const auto* ptr = static_cast<const I*>(indptr.data());
    if (format == "csr") return f(CsrView<V, I>{rows, cols, nnz, ptr, idx, values.data, space});
    return f(CscView<V, I>{rows, cols, nnz, ptr, idx, values.data, space});
  };
  const bool i64 = is<std::int64_t>(indices);
  if (!i64 && !is<std::int32_t>(indices)) throw nb::type_error("indices must be int32 or int64");
  if (is<double>(data)) return i64 ? with.template operator()<double, std::int64_t>() : with.template operator()<double, std::int32_t>();
  if (is<float>(data)) return i64 ? with.template operator()<float, std::int64_t>() : with.template operator()<float, std::int32_t>();
  throw nb::type_error("X's data must be float64 or float32");
}

// A sparse autoencoder (float32, as `shrink sae train` makes by default) with its training state.
// The model keeps a pointer to the context it was made with, so the context lives on the heap, owned
// here, and moves with the model.
class Sae {
 public:
  Sae(std::unique_ptr<Context> ctx, SparseAutoencoder<float> model, SaeTrainState state)
      : ctx_(std::move(ctx)), model_(std::move(model)), state_(state) {}

  // Trained on raw samples with the settings resolved from `chosen` (None: chosen from the data).
  static Sae fit(const AnyMatrix& x, const nb::dict& o, nb::dict& report) {
    const DenseView<const float> xv = host_rows<float>(x);
    SaeAutoOptions chosen;
    auto opt = [&](const char* key) { return o.contains(key) && !o[key].is_none() ? nb::handle(o[key]) : nb::handle(); };
    if (auto v = opt("activation")) chosen.activation = parse_sae_activation(nb::cast<std::string>(v));
    if (auto v = opt("latents")) chosen.latents = nb::cast<index_t>(v);
    if (auto v = opt("k")) chosen.k = nb::cast<index_t>(v);
    if (auto v = opt("aux_k")) chosen.aux_k = nb::cast<index_t>(v);
    if (auto v = opt("normalize")) chosen.normalize = parse_normalization(nb::cast<std::string>(v));
    if (auto v = opt("steps")) chosen.steps = nb::cast<std::int64_t>(v);
    if (auto v = opt("epochs")) chosen.epochs = nb::cast<std::int64_t>(v);
    if (auto v = opt("batch_size")) chosen.batch_size = nb::cast<index_t>(v);
    if (auto v = opt("learning_rate")) chosen.learning_rate = nb::cast<double>(v);
    if (auto v = opt("validation_fraction")) chosen.validation_fraction = nb::cast<double>(v);
    if (auto v = opt("patience")) chosen.patience = nb::cast<std::int64_t>(v);
    if (auto v = opt("score")) chosen.score = parse_sae_score(nb::cast<std::string>(v));
    if (auto v = opt("neighbors")) chosen.neighbors = nb::cast<index_t>(v);
    SaeSettings base;
    if (auto v = opt("seed")) base.train.seed = nb::cast<std::uint64_t>(v);
    if (auto v = opt("noise")) base.train.corruption = {CorruptionKind::Gaussian, nb::cast<double>(v)};
    if (auto v = opt("mask")) base.train.corruption = {CorruptionKind::Mask, nb::cast<double>(v)};
    base.train.epoch_metrics = false;
    const SaeSettings settings = resolve_sae_settings(chosen, base, xv.rows, xv.cols);
    auto ctx = std::make_unique<Context>(ContextOptions{Backend::Cpu});
    std::optional<SaeFit<float>> fit;
    {
      nb::gil_scoped_release release;
      fit.emplace(sae_fit<float>(*ctx, settings, xv));
    }
    const SaeConfig& c = settings.config;
    report["activation"] = std::string(to_string(c.activation));
    report["latents"] = c.latents;
    report["k"] = c.k;
    report["aux_k"] = c.aux_k;
    report["unit_norm_decoder"] = c.unit_norm_decoder;
    report["normalize"] = std::string(to_string(settings.normalize));
    report["steps"] = fit->result.steps;
    report["batch_size"] = settings.train.batch_size;
    report["learning_rate"] = settings.train.adam.learning_rate;
    report["validation_fraction"] = settings.train.validation_fraction;
    report["patience"] = settings.train.patience;
    report["score"] = std::string(to_string(settings.score));
    report["neighbors"] = settings.neighbors;
    report["stopped_early"] = fit->result.stopped_early;
    report["validation_mse"] = fit->result.validation_mse;
    report["fvu"] = fit->result.metrics.fvu;
    report["dead_fraction"] = fit->result.metrics.dead_fraction;
    report["l0"] = fit->result.metrics.l0;
    return Sae(std::move(ctx), std::move(fit->model), fit->state);
  }
  static Sae load(const std::string& path) {
    auto ctx = std::make_unique<Context>(ContextOptions{Backend::Cpu});
    if (sae_checkpoint_info(path).value_bytes != 4)
      throw nb::value_error((path + ": a float64 model; the Python package reads float32 models").c_str());
    auto loaded = load_sae<float>(*ctx, path);
    return Sae(std::move(ctx), std::move(loaded.model), loaded.state);
  }
  void save(const std::string& path) const { save_sae(path, model_, state_); }
  index_t inputs() const { return model_.config().inputs; }
  index_t latents() const { return model_.config().latents; }

  // Codes (samples x latents, dense; the caller makes them sparse) of raw samples.
  nb::ndarray<float, nb::numpy, nb::ndim<2>> encode(const AnyMatrix& x) {
    auto xn = normalized(x);
    auto* codes = new std::vector<float>(static_cast<std::size_t>(xn.rows() * latents()));
    nb::capsule free(codes, [](void* q) noexcept { delete static_cast<std::vector<float>*>(q); });
    {
      nb::gil_scoped_release release;
      model_.encode(DenseView<const float>(xn.view()), DenseView<float>(codes->data(), xn.rows(), latents(), latents(),
                                                                          Layout::RowMajor));
    }
    return {codes->data(), {static_cast<std::size_t>(xn.rows()), static_cast<std::size_t>(latents())}, free};
  }
  // Per-sample mean squared reconstruction error of raw samples, on the normalized scale.
  nb::ndarray<float, nb::numpy, nb::ndim<1>> errors(const AnyMatrix& x) {
    return per_sample(x, &SparseAutoencoder<float>::reconstruction_errors);
  }
  // Anomaly scores of raw samples by the model's scorer (`shrink sae score`; higher is more anomalous).
  nb::ndarray<float, nb::numpy, nb::ndim<1>> scores(const AnyMatrix& x) {
    return per_sample(x, &SparseAutoencoder<float>::anomaly_scores);
  }
  // The decoder and the normalization, for reconstructions from codes: x = (W_d h + b_d) * scale + offset.
  nb::dict decoder() const {
    nb::dict d;
    const auto w = model_.decoder_weights();  // inputs x latents
    d["weight"] = vector_out(std::vector<float>(w.data(), w.data() + w.rows() * w.cols()));
    d["bias"] = vector_out(model_.decoder_bias());
    const Normalizer& n = model_.normalizer();
    d["offset"] = vector_out(n.offset);
    d["scale"] = vector_out(n.scale);
    return d;
  }

 private:
  // One value per raw sample from a model method on the normalized samples, without the GIL.
  template <class Method>
  nb::ndarray<float, nb::numpy, nb::ndim<1>> per_sample(const AnyMatrix& x, Method method) {
    auto xn = normalized(x);
    std::vector<float> e(static_cast<std::size_t>(xn.rows()));
    {
      nb::gil_scoped_release release;
      (model_.*method)(DenseView<const float>(xn.view()), VectorView<float>(e));
    }
    return vector_out(e);
  }
  template <class V>
  static DenseView<const V> host_rows(const AnyMatrix& x) {
    if (!is<V>(x)) throw nb::type_error("X must be float32 here (the model's precision)");
    if (x.shape(0) > 1 && x.stride(1) != 1) throw nb::value_error("X must be C-contiguous");
    const auto cols = static_cast<index_t>(x.shape(1));
    return {static_cast<const V*>(x.data()), static_cast<index_t>(x.shape(0)), cols,
            std::max<index_t>(static_cast<index_t>(x.stride(0)), cols), Layout::RowMajor};
  }
  DenseMatrix<float> normalized(const AnyMatrix& x) const {
    const auto v = host_rows<float>(x);
    if (v.cols != inputs())
      throw DimensionMismatch("X has " + std::to_string(v.cols) + " features but the model has " +
                              std::to_string(inputs()) + " inputs");
    DenseMatrix<float> out(v.rows, v.cols);
    for (index_t i = 0; i < v.rows; ++i)
      for (index_t j = 0; j < v.cols; ++j) {
        if (!std::isfinite(v(i, j)))
          throw NonFinite("X[" + std::to_string(i) + ", " + std::to_string(j) + "] is " + std::to_string(v(i, j)) +
                          "; only finite values are accepted");
        out(i, j) = v(i, j);
      }
    model_.normalizer().apply(out.view());
    return out;
  }
  std::unique_ptr<Context> ctx_;
  mutable SparseAutoencoder<float> model_;
  SaeTrainState state_;
};

// y = op(A) x for CSR (op as asked) or CSC (the CSR of A^T, so op flips).
template <class V, class I>
nb::ndarray<V, nb::numpy, nb::ndim<1>> spmv_sparse(const std::string& format, const AnyVector& data,
                                                  const AnyVector& indices, const AnyVector& indptr, index_t rows,
                                                  index_t cols, const AnyVector& x, bool transpose, int threads) {
  if (!is<I>(indices) || !is<I>(indptr)) throw nb::type_error("indices and indptr must have the same integer dtype");
  const auto values = vector_of<V>(data, "data");
  const auto xv = vector_of<V>(x, "x");
  const bool csc = format == "csc";
  const CsrView<V, I> a{csc ? cols : rows, csc ? rows : cols, static_cast<index_t>(data.shape(0)),
                        static_cast<const I*>(indptr.data()), static_cast<const I*>(indices.data()), values.data};
  const bool t = transpose != csc;
  const index_t want_x = t ? a.rows : a.cols, out = t ? a.cols : a.rows;
  if (xv.size != want_x)
    throw DimensionMismatch("x has " + std::to_string(xv.size) + " entries but op(A) has " + std::to_string(want_x) +
                            " columns");
  const Context ctx = cpu_context(threads);
  std::vector<V> y(static_cast<std::size_t>(out));
  {
    nb::gil_scoped_release release;
    spmv<V, I>(ctx, t ? Op::Transpose : Op::NoTranspose, V(1), a, xv, V(0), VectorView<V>(y));
  }
  return vector_out(y);
}

// A row-major matrix of V, owned by NumPy.
template <class V>
nb::ndarray<V, nb::numpy, nb::ndim<2>> matrix_out(std::vector<V>&& v, index_t rows, index_t cols) {
  auto* owned = new std::vector<V>(std::move(v));
  nb::capsule free(owned, [](void* q) noexcept { delete static_cast<std::vector<V>*>(q); });
  return {owned->data(), {static_cast<std::size_t>(rows), static_cast<std::size_t>(cols)}, free};
}

// Block magnitude pruning (nn.hpp's prune_blocks) with the GIL released.
template <class V>
PrunedMatrix<V, std::int32_t> prune_view(DenseView<const V> w, index_t block_rows, index_t block_cols,
                                         double sparsity, const std::string& norm, int bins) {
  PruneOptions o;
  o.block = {block_rows, block_cols};
  o.sparsity = sparsity;
  o.norm = parse_block_norm(norm);
  o.histogram_bins = bins;
  nb::gil_scoped_release release;
  return prune_blocks<V, std::int32_t>(w, o);
}

// The CLI's pruning report as a dict.
nb::dict report_dict(const PruneReport& r) {
  nb::dict d;
  d["blocks_total"] = r.blocks_total;
  d["blocks_kept"] = r.blocks_kept;
  d["block_sparsity"] = r.block_sparsity;
  d["element_sparsity"] = r.element_sparsity;
  d["relative_frobenius_error"] = r.relative_frobenius_error;
  d["histogram_edges"] = vector_out(r.block_norm_histogram.edges);
  d["histogram_counts"] = vector_out(r.block_norm_histogram.counts);
  return d;
}

// Block magnitude pruning of a dense W: the pruned W (dense, row-major) and the report.
template <class V>
nb::dict prune(const AnyMatrix& w, index_t block_rows, index_t block_cols, double sparsity, const std::string& norm,
               int bins) {
  if (!is<V>(w)) throw nb::type_error("W must be float64 or float32");
  if (w.shape(0) > 1 && w.stride(1) != 1) throw nb::value_error("W must be C-contiguous");
  const auto rows = static_cast<index_t>(w.shape(0)), cols = static_cast<index_t>(w.shape(1));
  const DenseView<const V> wv(static_cast<const V*>(w.data()), rows, cols,
                              std::max<index_t>(static_cast<index_t>(w.stride(0)), cols), Layout::RowMajor);
  const auto p = prune_view(wv, block_rows, block_cols, sparsity, norm, bins);
  const auto dense = bsr_to_dense(p.weights);
  nb::dict d = report_dict(p.report);
  d["weights"] = matrix_out(std::vector<V>(dense.data(), dense.data() + rows * cols), rows, cols);
  return d;
}

// NonFinite naming the first NaN/Inf of a row-major matrix.
template <class V>
void refuse_non_finite(DenseView<const V> m, const std::string& name) {
  for (index_t i = 0; i < m.rows; ++i)
    for (index_t j = 0; j < m.cols; ++j)
      if (!std::isfinite(m.data[i * m.ld + j]))
        throw NonFinite(name + "[" + std::to_string(i) + ", " + std::to_string(j) + "] is " +
                        (std::isnan(m.data[i * m.ld + j]) ? "NaN" : "infinite"));
}

// A block-sparse linear layer, y = x W^T + b, on nn.hpp's BSR kernels (the CPU twins here): W pruned
// from a dense matrix or given as BSR arrays, kept on the host with its block-column index for dX.
template <class V>
class BsrLinear {
 public:
  BsrLinear(BsrMatrix<V, std::int32_t> w, std::vector<V> bias, int threads)
      : ctx_(cpu_context(threads)), w_(std::move(w)), columns_(bsr_column_index(ctx_, w_)), bias_(std::move(bias)) {}

  static nb::tuple from_dense(const AnyMatrix& w, const AnyVector* bias, index_t block_rows, index_t block_cols,
                              double sparsity, const std::string& norm, int bins, int threads) {
    if (!is<V>(w)) throw nb::type_error("W's dtype must be float64 or float32");
    const DenseView<const V> wv = dense_view<V>(w, "W");
    auto p = prune_view(wv, block_rows, block_cols, sparsity, norm, bins);
    nb::dict report = report_dict(p.report);
    return nb::make_tuple(BsrLinear(std::move(p.weights), bias_of(bias, wv.rows), threads), report);
  }
  static BsrLinear from_bsr(index_t rows, index_t cols, index_t block_rows, index_t block_cols,
                            std::vector<std::int32_t> block_row_ptr, std::vector<std::int32_t> block_col_idx,
                            const AnyVector& values, const AnyVector* bias, int threads) {
    const auto v = vector_of<V>(values, "values");
    auto w = BsrMatrix<V, std::int32_t>::from_arrays(rows, cols, block_rows, block_cols, std::move(block_row_ptr),
                                                     std::move(block_col_idx), std::vector<V>(v.data, v.data + v.size));
    return BsrLinear(std::move(w), bias_of(bias, rows), threads);
  }

  // y (batch x out) = x (batch x in) W^T + b.
  nb::ndarray<V, nb::numpy, nb::ndim<2>> forward(const AnyMatrix& x) const {
    const auto xv = rows_of(x, w_.cols(), "x");
    std::vector<V> y(static_cast<std::size_t>(xv.rows * w_.rows()));
    {
      nb::gil_scoped_release release;
      bsr_linear_forward<V, std::int32_t>(ctx_, xv, w_.view(), VectorView<const V>(bias_.data(), static_cast<index_t>(bias_.size())),
                                          DenseView<V>(y.data(), xv.rows, w_.rows(), w_.rows(), Layout::RowMajor));
    }
    return matrix_out(std::move(y), xv.rows, w_.rows());
  }
  // dX (batch x in) = dY W.
  nb::ndarray<V, nb::numpy, nb::ndim<2>> backward_input(const AnyMatrix& dy) const {
    const auto g = rows_of(dy, w_.rows(), "grad_output");
    std::vector<V> dx(static_cast<std::size_t>(g.rows * w_.cols()));
    {
      nb::gil_scoped_release release;
      bsr_linear_backward_input<V, std::int32_t>(ctx_, g, w_.view(), columns_,
                                                 DenseView<V>(dx.data(), g.rows, w_.cols(), w_.cols(), Layout::RowMajor));
    }
    return matrix_out(std::move(dx), g.rows, w_.cols());
  }
  // dW on W's pattern: nnzb * R * C values laid out like W's.
  nb::ndarray<V, nb::numpy, nb::ndim<1>> weight_grad(const AnyMatrix& dy, const AnyMatrix& x) const {
    const auto g = rows_of(dy, w_.rows(), "grad_output"), xv = rows_of(x, w_.cols(), "x");
    if (g.rows != xv.rows)
      throw DimensionMismatch("grad_output has " + std::to_string(g.rows) + " rows but x has " + std::to_string(xv.rows));
    std::vector<V> grad(static_cast<std::size_t>(w_.nnzb() * w_.block_height() * w_.block_width()));
    {
      nb::gil_scoped_release release;
      bsr_linear_weight_grad<V, std::int32_t>(ctx_, g, xv, w_.view(), VectorView<V>(grad));
    }
    return vector_out(grad);
  }

  std::vector<std::int32_t> block_row_ptr() const { return w_.block_row_ptr().to_vector(ctx_); }
  std::vector<std::int32_t> block_col_idx() const { return w_.block_col_idx().to_vector(ctx_); }
  nb::ndarray<V, nb::numpy, nb::ndim<1>> values() const { return vector_out(w_.values().to_vector(ctx_)); }
  nb::ndarray<V, nb::numpy, nb::ndim<1>> bias() const { return vector_out(bias_); }
  void set_values(const AnyVector& values) {
    const auto v = vector_of<V>(values, "values");
    if (v.size != static_cast<index_t>(w_.values().size()))
      throw DimensionMismatch("values has " + std::to_string(v.size) + " entries, W stores " +
                              std::to_string(w_.values().size()));
    refuse_non_finite(DenseView<const V>(v.data, 1, v.size, v.size, Layout::RowMajor), "values");
    std::copy(v.data, v.data + v.size, w_.values().data());
  }
  void set_bias(const AnyVector& bias) { bias_ = bias_of(&bias, w_.rows()); }
  std::vector<index_t> shape() const { return {w_.rows(), w_.cols()}; }
  std::vector<index_t> block() const { return {w_.block_height(), w_.block_width()}; }

 private:
  static std::vector<V> bias_of(const AnyVector* b, index_t out) {
    if (!b) return {};
    const auto v = vector_of<V>(*b, "bias");
    if (v.size != out) throw DimensionMismatch("bias has " + std::to_string(v.size) + " entries, W has " + std::to_string(out) + " rows");
    refuse_non_finite(DenseView<const V>(v.data, 1, v.size, v.size, Layout::RowMajor), "bias");
    return std::vector<V>(v.data, v.data + v.size);
  }
  // A C-contiguous batch x width matrix of V.
  static DenseView<const V> rows_of(const AnyMatrix& a, index_t width, const char* name) {
    if (!is<V>(a)) throw nb::type_error((std::string(name) + ": its dtype must match W's").c_str());
    const auto rows = static_cast<index_t>(a.shape(0)), cols = static_cast<index_t>(a.shape(1));
    if (cols != width)
      throw DimensionMismatch(std::string(name) + " has " + std::to_string(cols) + " columns, expected " + std::to_string(width));
    if (rows > 0 && cols > 1 && a.stride(1) != 1) throw nb::value_error((std::string(name) + " must be C-contiguous").c_str());
    const DenseView<const V> v(static_cast<const V*>(a.data()), rows, cols, std::max<index_t>(static_cast<index_t>(a.stride(0)), cols),
                               Layout::RowMajor);
    refuse_non_finite(v, name);
    return v;
  }

  Context ctx_;
  BsrMatrix<V, std::int32_t> w_;
  BsrColumnIndex<std::int32_t> columns_;
  std::vector<V> bias_;
};

template <class V>
void bind_bsr_linear(nb::module_& m, const char* name) {
  using L = BsrLinear<V>;
  nb::class_<L>(m, name)
      .def_static(
          "from_dense",
          [](const AnyMatrix& w, std::optional<AnyVector> bias, index_t r, index_t c, double sparsity,
             const std::string& norm, int bins, int threads) {
            return L::from_dense(w, bias ? &*bias : nullptr, r, c, sparsity, norm, bins, threads);
          },
          nb::arg("w"), nb::arg("bias").none(), nb::arg("block_rows"), nb::arg("block_cols"), nb::arg("sparsity"),
          nb::arg("norm"), nb::arg("bins"), nb::arg("threads"))
      .def_static(
          "from_bsr",
          [](index_t rows, index_t cols, index_t r, index_t c, std::vector<std::int32_t> ptr, std::vector<std::int32_t> idx,
             const AnyVector& values, std::optional<AnyVector> bias, int threads) {
            return L::from_bsr(rows, cols, r, c, std::move(ptr), std::move(idx), values, bias ? &*bias : nullptr, threads);
          },
          nb::arg("rows"), nb::arg("cols"), nb::arg("block_rows"), nb::arg("block_cols"), nb::arg("block_row_ptr"),
          nb::arg("block_col_idx"), nb::arg("values"), nb::arg("bias").none(), nb::arg("threads"))
      .def("forward", &L::forward, nb::arg("x"))
      .def("backward_input", &L::backward_input, nb::arg("grad_output"))
      .def("weight_grad", &L::weight_grad, nb::arg("grad_output"), nb::arg("x"))
      .def("block_row_ptr", &L::block_row_ptr)
      .def("block_col_idx", &L::block_col_idx)
      .def("values", &L::values)
      .def("bias", &L::bias)
      .def("set_values", &L::set_values, nb::arg("values"))
      .def("set_bias", &L::set_bias, nb::arg("bias"))
      .def_prop_ro("shape", &L::shape)
      .def_prop_ro("block", &L::block);
}

}  // namespace

NB_MODULE(_core, m) {
  m.doc() = "Shrink's engine: Lasso / Elastic-Net paths with duality-gap certificates";
  m.def("version", [] { return std::string(version()); });
  m.def("cuda_compiled", [] { return cuda_compiled(); });
  m.def("blas_info", [] {
    const auto b = blas_info();
    nb::dict d;
    d["library"] = b.library;
    d["kernels"] = b.kernels;
    return d;
  });
  m.def(
      "lasso_path_dense",
      [](const AnyMatrix& x, const AnyVector& y, const nb::dict& options, const std::vector<int>& folds) {
        if (is<double>(x)) return fit_dense<double>(x, y, options, folds);
        if (is<float>(x)) return fit_dense<float>(x, y, options, folds);
        throw nb::type_error("X must be float64 or float32");
      },
      nb::arg("x"), nb::arg("y"), nb::arg("options"), nb::arg("folds") = std::vector<int>{});
  m.def(
      "lasso_batch_dense",
      [](const AnyMatrix& x, const AnyMatrix& y, const nb::dict& options) {
        if (is<double>(x)) return run_batch(dense_view<double>(x, "X"), dense_view<double>(y, "Y"), options);
        if (is<float>(x)) return run_batch(dense_view<float>(x, "X"), dense_view<float>(y, "Y"), options);
        throw nb::type_error("X must be float64 or float32");
      },
      nb::arg("x"), nb::arg("y"), nb::arg("options"));
  m.def(
      "lasso_batch_sparse",
      [](const std::string& format, const AnyVector& data, const AnyVector& indices, const AnyVector& indptr,
         index_t rows, index_t cols, const AnyMatrix& y, const nb::dict& options) {
        if (format != "csr" && format != "csc") throw nb::value_error("format must be 'csr' or 'csc'");
        return visit_sparse(format, data, indices, indptr, rows, cols, [&](const auto& x) {
          using V = std::remove_cvref_t<decltype(*x.values)>;
          return run_batch(x, dense_view<V>(y, "Y"), options);
        });
      },
      nb::arg("format"), nb::arg("data"), nb::arg("indices"), nb::arg("indptr"), nb::arg("rows"), nb::arg("cols"),
      nb::arg("y"), nb::arg("options"));
  m.def(
      "lasso_path_sparse",
      [](const std::string& format, const AnyVector& data, const AnyVector& indices, const AnyVector& indptr,
         index_t rows, index_t cols, const AnyVector& y, const nb::dict& options, const std::vector<int>& folds) {
        if (format != "csr" && format != "csc") throw nb::value_error("format must be 'csr' or 'csc'");
        return visit_sparse(format, data, indices, indptr, rows, cols, [&](const auto& x) {
          using V = std::remove_cvref_t<decltype(*x.values)>;
          return run(x, vector_of<V>(y, "y"), options, folds);
        });
      },
      nb::arg("format"), nb::arg("data"), nb::arg("indices"), nb::arg("indptr"), nb::arg("rows"), nb::arg("cols"),
      nb::arg("y"), nb::arg("options"), nb::arg("folds") = std::vector<int>{});
  // X on a GPU (DLPack): the fit runs on a CUDA context on X's device and the options' stream, with
  // X read in place there; y (n values) comes from the host.
  m.def(
      "lasso_path_dense_cuda",
      [](const DeviceMatrix& x, const AnyVector& y, nb::dict options, const std::vector<int>& folds) {
        options["device"] = x.device_id();
        auto fit = [&]<class V>() {
          return run(dense_view<V>(x, "X", MemorySpace::Device), vector_of<V>(y, "y"), options, folds);
        };
        if (is<double>(x)) return fit.template operator()<double>();
        if (is<float>(x)) return fit.template operator()<float>();
        throw nb::type_error("X must be float64 or float32");
      },
      nb::arg("x"), nb::arg("y"), nb::arg("options"), nb::arg("folds") = std::vector<int>{});
  m.def(
      "lasso_path_sparse_cuda",
      [](const std::string& format, const DeviceVector& data, const DeviceVector& indices, const DeviceVector& indptr,
         index_t rows, index_t cols, const AnyVector& y, nb::dict options, const std::vector<int>& folds) {
        if (format != "csr" && format != "csc") throw nb::value_error("format must be 'csr' or 'csc'");
        if (indices.device_id() != data.device_id() || indptr.device_id() != data.device_id())
          throw nb::value_error("data, indices and indptr must be on the same device");
        options["device"] = data.device_id();
        return visit_sparse(
            format, data, indices, indptr, rows, cols,
            [&](const auto& x) {
              using V = std::remove_cvref_t<decltype(*x.values)>;
              return run(x, vector_of<V>(y, "y"), options, folds);
            },
            MemorySpace::Device);
      },
      nb::arg("format"), nb::arg("data"), nb::arg("indices"), nb::arg("indptr"), nb::arg("rows"), nb::arg("cols"),
      nb::arg("y"), nb::arg("options"), nb::arg("folds") = std::vector<int>{});
  m.def(
      "spmv",
      [](const std::string& format, const AnyVector& data, const AnyVector& indices, const AnyVector& indptr,
         index_t rows, index_t cols, const AnyVector& x, bool transpose, int threads) {
        if (format != "csr" && format != "csc") throw nb::value_error("format must be 'csr' or 'csc'");
        const bool i64 = is<std::int64_t>(indices);
        if (!i64 && !is<std::int32_t>(indices)) throw nb::type_error("indices must be int32 or int64");
        if (is<double>(data))
          return nb::object(i64 ? nb::cast(spmv_sparse<double, std::int64_t>(format, data, indices, indptr, rows, cols, x, transpose, threads))
                                : nb::cast(spmv_sparse<double, std::int32_t>(format, data, indices, indptr, rows, cols, x, transpose, threads)));
        if (is<float>(data))
          return nb::object(i64 ? nb::cast(spmv_sparse<float, std::int64_t>(format, data, indices, indptr, rows, cols, x, transpose, threads))
                                : nb::cast(spmv_sparse<float, std::int32_t>(format, data, indices, indptr, rows, cols, x, transpose, threads)));
        throw nb::type_error("A's data must be float64 or float32");
      },
      nb::arg("format"), nb::arg("data"), nb::arg("indices"), nb::arg("indptr"), nb::arg("rows"), nb::arg("cols"),
      nb::arg("x"), nb::arg("transpose") = false, nb::arg("threads") = 0);
  m.def(
      "prune_blocks",
      [](const AnyMatrix& w, index_t block_rows, index_t block_cols, double sparsity, const std::string& norm, int bins) {
        if (is<double>(w)) return prune<double>(w, block_rows, block_cols, sparsity, norm, bins);
        return prune<float>(w, block_rows, block_cols, sparsity, norm, bins);
      },
      nb::arg("w"), nb::arg("block_rows"), nb::arg("block_cols"), nb::arg("sparsity"), nb::arg("norm") = "l2",
      nb::arg("bins") = 10);
  m.def(
      "magnitude_histogram",
      [](const std::vector<double>& values, int bins) {
        const auto h = magnitude_histogram(values, bins);
        nb::dict d;
        d["edges"] = vector_out(h.edges);
        d["counts"] = vector_out(h.counts);
        return d;
      },
      nb::arg("values"), nb::arg("bins") = 10);
  bind_bsr_linear<double>(m, "BsrLinear64");
  bind_bsr_linear<float>(m, "BsrLinear32");
  nb::class_<Sae>(m, "Sae")
      .def_static(
          "fit",
          [](const AnyMatrix& x, const nb::dict& options) {
            nb::dict report;
            Sae model = Sae::fit(x, options, report);
            return nb::make_tuple(std::move(model), report);
          },
          nb::arg("x"), nb::arg("options"))
      .def_static("load", &Sae::load, nb::arg("path"))
      .def("save", &Sae::save, nb::arg("path"))
      .def("encode", &Sae::encode, nb::arg("x"))
      .def("errors", &Sae::errors, nb::arg("x"))
      .def("scores", &Sae::scores, nb::arg("x"))
      .def("decoder", &Sae::decoder)
      .def_prop_ro("inputs", &Sae::inputs)
      .def_prop_ro("latents", &Sae::latents);
  // The library's errors become Python exceptions with the library's message.
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const DimensionMismatch& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const NonFinite& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const InvalidArgument& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const OutOfMemory& e) {
      PyErr_SetString(PyExc_MemoryError, e.what());
    }
  });
}
