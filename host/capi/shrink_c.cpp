// The C face (include/shrink/shrink.h) over the C++ API: every call converts its views, runs the C++
// call inside guard(), which turns any exception into a status and this thread's message, and never
// lets one cross. No numerics here: a face adds none of its own.
#include "shrink/shrink.h"

#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "shrink/shrink.hpp"

struct shrink_context {
  shrink::Context ctx;
};

struct shrink_operator {
  shrink_context_t owner;
  std::variant<shrink::SparseOperator<float, std::int32_t>, shrink::SparseOperator<float, std::int64_t>,
               shrink::SparseOperator<double, std::int32_t>, shrink::SparseOperator<double, std::int64_t>>
      op;
};

struct shrink_lasso_fit {
  shrink::LassoFit fit;
  bool cross_validated = false;
  std::vector<double> cv_mean, cv_se;
  std::size_t index_min = 0, index_1se = 0;
  std::size_t cv_not_converged = 0;
};

struct shrink_matrix_file {
  std::variant<shrink::MatrixFile<float, std::int32_t>, shrink::MatrixFile<float, std::int64_t>,
               shrink::MatrixFile<double, std::int32_t>, shrink::MatrixFile<double, std::int64_t>>
      file;
};

struct shrink_pruned {
  shrink::PrunedMatrix<double, std::int64_t> pruned;
};

struct shrink_sae {
  shrink_context_t owner;
  std::variant<std::monostate, shrink::SparseAutoencoder<float>, shrink::SparseAutoencoder<double>> model;
  shrink::SaeTrainState state;
};

namespace {

using namespace shrink;

thread_local std::string last_error;

shrink_status_t status_of(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::InvalidArgument: return SHRINK_STATUS_INVALID_ARGUMENT;
    case ErrorKind::DimensionMismatch: return SHRINK_STATUS_DIMENSION_MISMATCH;
    case ErrorKind::IndexOutOfRange: return SHRINK_STATUS_INDEX_OUT_OF_RANGE;
    case ErrorKind::InvalidStructure: return SHRINK_STATUS_INVALID_STRUCTURE;
    case ErrorKind::NonFinite: return SHRINK_STATUS_NON_FINITE;
    case ErrorKind::IndexOverflow: return SHRINK_STATUS_INDEX_OVERFLOW;
    case ErrorKind::ParseError: return SHRINK_STATUS_PARSE_ERROR;
    case ErrorKind::IoError: return SHRINK_STATUS_IO_ERROR;
    case ErrorKind::OutOfMemory: return SHRINK_STATUS_OUT_OF_MEMORY;
    case ErrorKind::CudaError: return SHRINK_STATUS_CUDA_ERROR;
    case ErrorKind::NotCompiled: return SHRINK_STATUS_NOT_COMPILED;
    case ErrorKind::NoDevice: return SHRINK_STATUS_NO_DEVICE;
    case ErrorKind::StorageError: return SHRINK_STATUS_STORAGE_ERROR;
  }
  return SHRINK_STATUS_INTERNAL_ERROR;
}

// Runs f; any exception becomes a status and this thread's message, prefixed with the C function.
template <class F>
shrink_status_t guard(const char* function, F&& f) noexcept {
  try {
    f();
    last_error.clear();  // a success clears the message, as cuVS's C API does
    return SHRINK_STATUS_SUCCESS;
  } catch (const Error& e) {
    try {
      last_error = std::string(function) + ": " + e.what();
    } catch (...) {
    }
    return status_of(e.kind());
  } catch (const std::bad_alloc&) {
    try {
      last_error = std::string(function) + ": out of memory (host allocation failed)";
    } catch (...) {
    }
    return SHRINK_STATUS_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    try {
      last_error = std::string(function) + ": internal error: " + e.what();
    } catch (...) {
    }
    return SHRINK_STATUS_INTERNAL_ERROR;
  } catch (...) {
    try {
      last_error = std::string(function) + ": internal error (unknown exception)";
    } catch (...) {
    }
    return SHRINK_STATUS_INTERNAL_ERROR;
  }
}

template <class T>
T* require(T* p, const char* name) {
  if (!p) throw InvalidArgument(std::string(name) + " is NULL");
  return p;
}

// A size-versioned options struct: at least as large as its first version, at most what this
// library knows (a caller built against an older header passes a smaller size).
template <class S>
void check_struct_size(std::size_t given, std::size_t first_version, const char* name) {
  if (given < first_version || given > sizeof(S))
    throw InvalidArgument(std::string(name) + ": struct_size " + std::to_string(given) + " is not a size this library knows (" +
                          std::to_string(first_version) + " to " + std::to_string(sizeof(S)) + ")");
}
// The fields a caller's struct holds: the library's defaults, then the caller's bytes over them.
template <class S>
S read_struct(const S* given, const char* name) {
  S out{};
  if (!given) return out;
  check_struct_size<S>(given->struct_size, sizeof(S), name);
  std::memcpy(&out, given, given->struct_size);
  return out;
}

MemorySpace space_of(shrink_memory_t m, const char* name) {
  if (m == SHRINK_MEMORY_HOST) return MemorySpace::Host;
  if (m == SHRINK_MEMORY_DEVICE) return MemorySpace::Device;
  throw InvalidArgument(std::string(name) + ": memory is " + std::to_string(static_cast<int>(m)) +
                        ", not SHRINK_MEMORY_HOST or SHRINK_MEMORY_DEVICE");
}
Layout layout_of(shrink_layout_t l, const char* name) {
  if (l == SHRINK_ROW_MAJOR) return Layout::RowMajor;
  if (l == SHRINK_COL_MAJOR) return Layout::ColMajor;
  throw InvalidArgument(std::string(name) + ": layout is " + std::to_string(static_cast<int>(l)) +
                        ", not SHRINK_ROW_MAJOR or SHRINK_COL_MAJOR");
}
Op op_of(shrink_op_t o, const char* name) {
  if (o == SHRINK_OP_N) return Op::NoTranspose;
  if (o == SHRINK_OP_T) return Op::Transpose;
  throw InvalidArgument(std::string(name) + " is " + std::to_string(static_cast<int>(o)) + ", not SHRINK_OP_N or SHRINK_OP_T");
}

template <class V>
constexpr shrink_dtype_t dtype_of() {
  return std::is_same_v<V, float> ? SHRINK_F32 : SHRINK_F64;
}
template <class I>
constexpr shrink_itype_t itype_of() {
  return std::is_same_v<I, std::int32_t> ? SHRINK_I32 : SHRINK_I64;
}

// f.template operator()<V>() for the value type named by dtype.
template <class F>
decltype(auto) with_value(shrink_dtype_t dtype, const char* name, F&& f) {
  if (dtype == SHRINK_F32) return f.template operator()<float>();
  if (dtype == SHRINK_F64) return f.template operator()<double>();
  throw InvalidArgument(std::string(name) + ": dtype is " + std::to_string(static_cast<int>(dtype)) +
                        ", not SHRINK_F32 or SHRINK_F64");
}
template <class F>
decltype(auto) with_types(shrink_dtype_t dtype, shrink_itype_t itype, const char* name, F&& f) {
  if (itype != SHRINK_I32 && itype != SHRINK_I64)
    throw InvalidArgument(std::string(name) + ": itype is " + std::to_string(static_cast<int>(itype)) +
                          ", not SHRINK_I32 or SHRINK_I64");
  return with_value(dtype, name, [&]<class V>() -> decltype(auto) {
    if (itype == SHRINK_I32) return f.template operator()<V, std::int32_t>();
    return f.template operator()<V, std::int64_t>();
  });
}

template <class V>
VectorView<V> vector_view(const shrink_vector_t* v, const char* name) {
  require(v, name);
  if (v->dtype != dtype_of<V>())
    throw InvalidArgument(std::string(name) + " holds " + (v->dtype == SHRINK_F32 ? "f32" : "f64") + " values, the call " +
                          (std::is_same_v<V, float> ? "f32" : "f64"));
  if (v->size < 0) throw InvalidArgument(std::string(name) + ": size " + std::to_string(v->size) + " is negative");
  if (v->size > 0 && !v->data) throw InvalidArgument(std::string(name) + ": data is NULL");
  return {static_cast<V*>(v->data), v->size, space_of(v->memory, name)};
}

template <class V>
DenseView<V> dense_view(const shrink_dense_t* d, const char* name) {
  require(d, name);
  if (d->dtype != dtype_of<V>())
    throw InvalidArgument(std::string(name) + " holds " + (d->dtype == SHRINK_F32 ? "f32" : "f64") + " values, the call " +
                          (std::is_same_v<V, float> ? "f32" : "f64"));
  if (d->rows < 0 || d->cols < 0)
    throw InvalidArgument(std::string(name) + ": negative shape " + std::to_string(d->rows) + " x " + std::to_string(d->cols));
  if (d->rows > 0 && d->cols > 0 && !d->data) throw InvalidArgument(std::string(name) + ": data is NULL");
  return {static_cast<V*>(d->data), d->rows, d->cols, d->ld, layout_of(d->layout, name), space_of(d->memory, name)};
}

// X^T's CSR view for a CSC matrix, A's for a CSR one (format tells which).
template <class V, class I>
CsrView<V, I> csr_view(const shrink_sparse_t* s, const char* name) {
  require(s, name);
  if (s->rows < 0 || s->cols < 0 || s->nnz < 0)
    throw InvalidArgument(std::string(name) + ": negative size " + std::to_string(s->rows) + " x " + std::to_string(s->cols) +
                          ", nnz " + std::to_string(s->nnz));
  if (!s->ptr || (s->nnz > 0 && (!s->idx || !s->values)))
    throw InvalidArgument(std::string(name) + ": ptr, idx or values is NULL");
  const auto space = space_of(s->memory, name);
  const auto* ptr = static_cast<const I*>(s->ptr);
  const auto* idx = static_cast<const I*>(s->idx);
  const auto* values = static_cast<const V*>(s->values);
  if (s->format == SHRINK_CSR) return {s->rows, s->cols, s->nnz, ptr, idx, values, space};
  if (s->format == SHRINK_CSC) return {s->cols, s->rows, s->nnz, ptr, idx, values, space};
  throw InvalidArgument(std::string(name) + ": format is " + std::to_string(static_cast<int>(s->format)) +
                        ", not SHRINK_CSR or SHRINK_CSC");
}

const Context& context_of(shrink_context_t c) { return require(c, "context")->ctx; }

// ---- Lasso ----------------------------------------------------------------------------------------------
std::vector<double> array_of(const double* p, std::int64_t n, const char* name) {
  if (n < 0) throw InvalidArgument(std::string(name) + ": count " + std::to_string(n) + " is negative");
  if (n > 0 && !p) throw InvalidArgument(std::string(name) + " is NULL with a count of " + std::to_string(n));
  return n > 0 ? std::vector<double>(p, p + n) : std::vector<double>();
}

LassoSolver solver_of(shrink_lasso_solver_t s) {
  switch (s) {
    case SHRINK_SOLVER_AUTO: return LassoSolver::Auto;
    case SHRINK_SOLVER_CD: return LassoSolver::CoordinateDescent;
    case SHRINK_SOLVER_GRAM: return LassoSolver::Gram;
    case SHRINK_SOLVER_FISTA: return LassoSolver::ProximalGradient;
    case SHRINK_SOLVER_WS_GRAM: return LassoSolver::WorkingSetGram;
  }
  throw InvalidArgument("options->solver is " + std::to_string(static_cast<int>(s)) + ", not a shrink_lasso_solver_t");
}

shrink_lasso_options_t default_lasso_options() {
  const LassoOptions d;
  const CrossValidationOptions cv;
  shrink_lasso_options_t o{};
  o.struct_size = sizeof(o);
  o.l1_ratio = d.l1_ratio;
  o.fit_intercept = d.fit_intercept;
  o.standardize = d.standardize;
  o.positive = d.positive;
  o.n_lambdas = d.n_lambdas;
  o.lambda_min_ratio = d.lambda_min_ratio;
  o.tol = d.tol;
  o.max_iter = d.max_iter;
  o.solver = SHRINK_SOLVER_AUTO;
  o.screening = d.screening;
  o.max_working_set = d.max_working_set;
  o.cv_folds = cv.folds;
  o.cv_seed = cv.seed;
  return o;
}

LassoOptions lasso_options(const shrink_lasso_options_t* given) {
  shrink_lasso_options_t o = default_lasso_options();
  if (given) {
    check_struct_size<shrink_lasso_options_t>(given->struct_size, sizeof(shrink_lasso_options_t), "options");
    std::memcpy(&o, given, given->struct_size);
  }
  LassoOptions out;
  out.l1_ratio = o.l1_ratio;
  out.fit_intercept = o.fit_intercept != 0;
  out.standardize = o.standardize != 0;
  out.positive = o.positive != 0;
  out.penalty_factors = array_of(o.penalty_factors, o.n_penalty_factors, "options->penalty_factors");
  out.sample_weights = array_of(o.sample_weights, o.n_sample_weights, "options->sample_weights");
  out.lambdas = array_of(o.lambdas, o.n_given_lambdas, "options->lambdas");
  out.n_lambdas = o.n_lambdas;
  out.lambda_min_ratio = o.lambda_min_ratio;
  out.tol = o.tol;
  out.max_iter = o.max_iter;
  out.solver = solver_of(o.solver);
  out.screening = o.screening != 0;
  out.max_working_set = o.max_working_set;
  return out;
}

CrossValidationOptions cv_options(const shrink_lasso_options_t* given) {
  shrink_lasso_options_t o = default_lasso_options();
  if (given) std::memcpy(&o, given, given->struct_size);
  CrossValidationOptions cv;
  cv.folds = o.cv_folds;
  cv.seed = o.cv_seed;
  return cv;
}

shrink_batch_options_t default_batch_options() {
  const BatchLassoOptions d;
  shrink_batch_options_t o{};
  o.struct_size = sizeof(o);
  o.l1_ratio = d.l1_ratio;
  o.fit_intercept = d.fit_intercept;
  o.positive = d.positive;
  o.tol = d.tol;
  o.max_iter = d.max_iter;
  o.lambda = d.lambda;
  o.lambda_ratio = d.lambda_ratio;
  o.chunk = d.chunk;
  return o;
}

BatchLassoOptions batch_options(const shrink_batch_options_t* given) {
  shrink_batch_options_t o = default_batch_options();
  require(given, "options");  // a batch needs its lambda rule
  check_struct_size<shrink_batch_options_t>(given->struct_size, sizeof(shrink_batch_options_t), "options");
  std::memcpy(&o, given, given->struct_size);
  BatchLassoOptions out;
  out.l1_ratio = o.l1_ratio;
  out.fit_intercept = o.fit_intercept != 0;
  out.positive = o.positive != 0;
  out.penalty_factors = array_of(o.penalty_factors, o.n_penalty_factors, "options->penalty_factors");
  out.tol = o.tol;
  out.max_iter = o.max_iter;
  out.lambda = o.lambda;
  out.lambdas = array_of(o.lambdas, o.n_given_lambdas, "options->lambdas");
  out.lambda_ratio = o.lambda_ratio;
  out.chunk = o.chunk;
  return out;
}

// Runs fit(x, y_double_view...) for the dense X's value type.
template <class F>
void with_dense_x(const shrink_dense_t* x, F&& f) {
  with_value(require(x, "x")->dtype, "x", [&]<class V>() { f(DenseView<const V>(dense_view<V>(x, "x"))); });
}
template <class F>
void with_sparse_x(const shrink_sparse_t* x, F&& f) {
  require(x, "x");
  with_types(x->dtype, x->itype, "x", [&]<class V, class I>() {
    const CsrView<V, I> v = csr_view<V, I>(x, "x");
    if (x->format == SHRINK_CSR) f(v);
    else f(CscView<V, I>{v.cols, v.rows, v.nnz, v.row_ptr, v.col_idx, v.values, v.space});
  });
}

void store_cv(shrink_lasso_fit& out, LassoCv&& cv) {
  out.fit = std::move(cv.path);
  out.cross_validated = true;
  out.cv_mean = std::move(cv.cv_mean);
  out.cv_se = std::move(cv.cv_se);
  out.index_min = cv.index_min;
  out.index_1se = cv.index_1se;
  out.cv_not_converged = cv.fold_fits_not_converged;
}

// The value type of a view (DenseView<const V>, CsrView<V, I> or CscView<V, I>).
template <class X>
struct value_type_of;
template <class V>
struct value_type_of<DenseView<const V>> {
  using type = V;
};
template <class V, class I>
struct value_type_of<CsrView<V, I>> {
  using type = V;
};
template <class V, class I>
struct value_type_of<CscView<V, I>> {
  using type = V;
};

template <class Fit>
shrink_status_t fit_call(const char* function, shrink_lasso_fit_t* result, Fit&& body) {
  return guard(function, [&] {
    require(result, "fit");
    *result = nullptr;
    auto out = std::make_unique<shrink_lasso_fit>();
    body(*out);
    *result = out.release();
  });
}

template <class X>
void path_on(const Context& ctx, const X& x, const shrink_vector_t* y, const shrink_lasso_options_t* options,
             bool cv, shrink_lasso_fit& out) {
  using V = typename value_type_of<X>::type;
  const auto yv = vector_view<V>(y, "y");
  const LassoOptions o = lasso_options(options);
  if (cv) store_cv(out, lasso_cv(ctx, x, VectorView<const V>(yv), o, cv_options(options)));
  else out.fit = lasso_path(ctx, x, VectorView<const V>(yv), o);
}

template <class X>
void batch_on(const Context& ctx, const X& x, const shrink_dense_t* y, const shrink_batch_options_t* options,
              shrink_lasso_fit& out) {
  using V = typename value_type_of<X>::type;
  out.fit = lasso_batch(ctx, x, DenseView<const V>(dense_view<V>(y, "y")), batch_options(options));
}

}  // namespace

extern "C" {

const char* shrink_status_string(shrink_status_t status) {
  switch (status) {
    case SHRINK_STATUS_SUCCESS: return "success";
    case SHRINK_STATUS_INVALID_ARGUMENT: return "invalid argument";
    case SHRINK_STATUS_DIMENSION_MISMATCH: return "dimension mismatch";
    case SHRINK_STATUS_INDEX_OUT_OF_RANGE: return "index out of range";
    case SHRINK_STATUS_INVALID_STRUCTURE: return "invalid structure";
    case SHRINK_STATUS_NON_FINITE: return "non-finite value";
    case SHRINK_STATUS_INDEX_OVERFLOW: return "index overflow";
    case SHRINK_STATUS_PARSE_ERROR: return "parse error";
    case SHRINK_STATUS_IO_ERROR: return "i/o error";
    case SHRINK_STATUS_OUT_OF_MEMORY: return "out of memory";
    case SHRINK_STATUS_CUDA_ERROR: return "CUDA error";
    case SHRINK_STATUS_NOT_COMPILED: return "not compiled";
    case SHRINK_STATUS_NO_DEVICE: return "no device";
    case SHRINK_STATUS_INTERNAL_ERROR: return "internal error";
    case SHRINK_STATUS_STORAGE_ERROR: return "storage error";
  }
  return "unknown status";
}

const char* shrink_last_error_message(void) { return last_error.c_str(); }

void shrink_get_version(int* major, int* minor, int* patch) {
  if (major) *major = SHRINK_VERSION_MAJOR;
  if (minor) *minor = SHRINK_VERSION_MINOR;
  if (patch) *patch = SHRINK_VERSION_PATCH;
}
int shrink_cuda_compiled(void) { return shrink::cuda_compiled() ? 1 : 0; }
int shrink_cuda_device_count(void) { return shrink::cuda_device_count(); }

// ---- context ---------------------------------------------------------------------------------------------
shrink_status_t shrink_context_options_init(shrink_context_options_t* options, size_t struct_size) {
  return guard("shrink_context_options_init", [&] {
    require(options, "options");
    check_struct_size<shrink_context_options_t>(struct_size, sizeof(shrink_context_options_t), "options");
    const ContextOptions d;
    shrink_context_options_t o{};
    o.struct_size = struct_size;
    o.backend = SHRINK_BACKEND_AUTO;
    o.device = d.device;
    o.cpu_threads = d.cpu_threads;
    o.deterministic = d.deterministic;
    o.honour_environment = d.honour_environment;
    std::memcpy(options, &o, struct_size);
  });
}

shrink_status_t shrink_context_create(const shrink_context_options_t* options, shrink_context_t* context) {
  return guard("shrink_context_create", [&] {
    require(context, "context");
    *context = nullptr;
    shrink_context_options_t o{};
    shrink_context_options_init(&o, sizeof(o));
    if (options) {
      check_struct_size<shrink_context_options_t>(options->struct_size, sizeof(shrink_context_options_t), "options");
      std::memcpy(&o, options, options->struct_size);
    }
    ContextOptions c;
    switch (o.backend) {
      case SHRINK_BACKEND_AUTO: c.backend = Backend::Auto; break;
      case SHRINK_BACKEND_CPU: c.backend = Backend::Cpu; break;
      case SHRINK_BACKEND_CUDA: c.backend = Backend::Cuda; break;
      default: throw InvalidArgument("options->backend is " + std::to_string(static_cast<int>(o.backend)) + ", not a shrink_backend_t");
    }
    c.device = o.device;
    c.cpu_threads = o.cpu_threads;
    c.deterministic = o.deterministic != 0;
    c.honour_environment = o.honour_environment != 0;
    *context = new shrink_context{Context(c)};
  });
}

void shrink_context_destroy(shrink_context_t context) { delete context; }

shrink_status_t shrink_context_set_stream(shrink_context_t context, void* stream) {
  return guard("shrink_context_set_stream", [&] { require(context, "context")->ctx.set_stream(stream); });
}
shrink_status_t shrink_context_synchronize(shrink_context_t context) {
  return guard("shrink_context_synchronize", [&] { context_of(context).synchronize(); });
}
shrink_status_t shrink_context_backend(shrink_context_t context, shrink_backend_t* backend) {
  return guard("shrink_context_backend", [&] {
    *require(backend, "backend") = context_of(context).backend() == Backend::Cuda ? SHRINK_BACKEND_CUDA : SHRINK_BACKEND_CPU;
  });
}
shrink_status_t shrink_context_device(shrink_context_t context, int* device) {
  return guard("shrink_context_device", [&] { *require(device, "device") = context_of(context).device(); });
}

// ---- sparse products ----------------------------------------------------------------------------------------
shrink_status_t shrink_spmv(shrink_context_t context, shrink_op_t op, double alpha, const shrink_sparse_t* a,
                            const shrink_vector_t* x, double beta, shrink_vector_t* y) {
  return guard("shrink_spmv", [&] {
    const Context& ctx = context_of(context);
    require(a, "a");
    const Op o = op_of(op, "op");
    with_types(a->dtype, a->itype, "a", [&]<class V, class I>() {
      const auto view = csr_view<V, I>(a, "a");
      // A CSC A is the CSR of A^T: A x runs the transposed product on it.
      const Op run = a->format == SHRINK_CSR ? o : (o == Op::NoTranspose ? Op::Transpose : Op::NoTranspose);
      spmv(ctx, run, static_cast<V>(alpha), view, vector_view<V>(x, "x"), static_cast<V>(beta), vector_view<V>(y, "y"));
    });
  });
}

shrink_status_t shrink_spmm(shrink_context_t context, double alpha, const shrink_sparse_t* a, const shrink_dense_t* b,
                            double beta, shrink_dense_t* c) {
  return guard("shrink_spmm", [&] {
    const Context& ctx = context_of(context);
    require(a, "a");
    if (a->format != SHRINK_CSR) throw InvalidArgument("a: shrink_spmm takes A in CSR");
    with_types(a->dtype, a->itype, "a", [&]<class V, class I>() {
      spmm(ctx, static_cast<V>(alpha), csr_view<V, I>(a, "a"), DenseView<const V>(dense_view<V>(b, "b")),
           static_cast<V>(beta), dense_view<V>(c, "c"));
    });
  });
}

shrink_status_t shrink_operator_create(shrink_context_t context, const shrink_sparse_t* a, shrink_operator_t* op) {
  return guard("shrink_operator_create", [&] {
    require(op, "op");
    *op = nullptr;
    const Context& ctx = context_of(context);
    require(a, "a");
    if (a->format != SHRINK_CSR) throw InvalidArgument("a: shrink_operator_create takes A in CSR");
    with_types(a->dtype, a->itype, "a", [&]<class V, class I>() {
      const auto view = csr_view<V, I>(a, "a");
      CsrMatrix<V, I> host;
      if (view.space == MemorySpace::Host) {
        // Raw arrays: checked as CsrMatrix::from_arrays checks them, with the argument named.
        validate(view, "a");
        host = CsrMatrix<V, I>::adopt(view.rows, view.cols,
                                      Array<I>::from_vector(std::vector<I>(view.row_ptr, view.row_ptr + view.rows + 1)),
                                      Array<I>::from_vector(std::vector<I>(view.col_idx, view.col_idx + view.nnz)),
                                      Array<V>::from_vector(std::vector<V>(view.values, view.values + view.nnz)));
      } else {
        if (view.space != ctx.memory_space())
          throw InvalidArgument("a is in device memory but the context runs on the CPU");
        auto copy = [&](const auto* src, index_t count) {
          using T = std::remove_cv_t<std::remove_pointer_t<decltype(src)>>;
          Array<T> out(ctx, static_cast<std::size_t>(count), view.space);
          shrink::copy<T>(ctx, VectorView<const T>(src, count, view.space), out.view());
          return out;
        };
        host = CsrMatrix<V, I>::adopt(view.rows, view.cols, copy(view.row_ptr, view.rows + 1), copy(view.col_idx, view.nnz),
                                      copy(view.values, view.nnz));
      }
      *op = new shrink_operator{context, SparseOperator<V, I>(ctx, host)};
    });
  });
}

shrink_status_t shrink_operator_apply(shrink_operator_t op, shrink_op_t transpose, double alpha, const shrink_vector_t* x,
                                      double beta, shrink_vector_t* y) {
  return guard("shrink_operator_apply", [&] {
    require(op, "op");
    const Op o = op_of(transpose, "transpose");
    std::visit(
        [&](auto& s) {
          using V = typename std::remove_cvref_t<decltype(s.matrix())>::value_type;
          s.apply(o, static_cast<V>(alpha), vector_view<V>(x, "x"), static_cast<V>(beta), vector_view<V>(y, "y"));
        },
        op->op);
  });
}

void shrink_operator_destroy(shrink_operator_t op) { delete op; }

// ---- proximal steps --------------------------------------------------------------------------------------------
}  // extern "C"

namespace {
template <class V>
Penalty<V> penalty_of(const shrink_penalty_t* p) {
  require(p, "penalty");
  Penalty<V> out;
  out.l1 = static_cast<V>(p->l1);
  out.l2 = static_cast<V>(p->l2);
  if (p->factors) out.factors = VectorView<const V>(vector_view<V>(p->factors, "penalty->factors"));
  out.positive = p->positive != 0;
  return out;
}
}  // namespace

extern "C" {

shrink_status_t shrink_soft_threshold(shrink_context_t context, const shrink_vector_t* v, double threshold,
                                      const shrink_vector_t* factors, int positive, shrink_vector_t* x) {
  return guard("shrink_soft_threshold", [&] {
    const Context& ctx = context_of(context);
    with_value(require(v, "v")->dtype, "v", [&]<class V>() {
      const VectorView<const V> w = factors ? VectorView<const V>(vector_view<V>(factors, "factors")) : VectorView<const V>();
      soft_threshold<V>(ctx, vector_view<V>(v, "v"), static_cast<V>(threshold), w, positive != 0, vector_view<V>(x, "x"));
    });
  });
}

shrink_status_t shrink_prox(shrink_context_t context, const shrink_vector_t* v, const shrink_penalty_t* penalty,
                            shrink_vector_t* x) {
  return guard("shrink_prox", [&] {
    const Context& ctx = context_of(context);
    with_value(require(v, "v")->dtype, "v", [&]<class V>() {
      prox<V>(ctx, vector_view<V>(v, "v"), penalty_of<V>(penalty), vector_view<V>(x, "x"));
    });
  });
}

shrink_status_t shrink_prox_grad_step(shrink_context_t context, const shrink_vector_t* v, const shrink_vector_t* g,
                                      double step, const shrink_penalty_t* penalty, shrink_vector_t* x) {
  return guard("shrink_prox_grad_step", [&] {
    const Context& ctx = context_of(context);
    with_value(require(v, "v")->dtype, "v", [&]<class V>() {
      prox_grad_step<V>(ctx, vector_view<V>(v, "v"), vector_view<V>(g, "g"), static_cast<V>(step), penalty_of<V>(penalty),
                        vector_view<V>(x, "x"));
    });
  });
}

// ---- Lasso ---------------------------------------------------------------------------------------------------------
shrink_status_t shrink_lasso_options_init(shrink_lasso_options_t* options, size_t struct_size) {
  return guard("shrink_lasso_options_init", [&] {
    require(options, "options");
    check_struct_size<shrink_lasso_options_t>(struct_size, sizeof(shrink_lasso_options_t), "options");
    auto o = default_lasso_options();
    o.struct_size = struct_size;
    std::memcpy(options, &o, struct_size);
  });
}

shrink_status_t shrink_batch_options_init(shrink_batch_options_t* options, size_t struct_size) {
  return guard("shrink_batch_options_init", [&] {
    require(options, "options");
    check_struct_size<shrink_batch_options_t>(struct_size, sizeof(shrink_batch_options_t), "options");
    auto o = default_batch_options();
    o.struct_size = struct_size;
    std::memcpy(options, &o, struct_size);
  });
}

shrink_status_t shrink_lasso_path(shrink_context_t context, const shrink_dense_t* x, const shrink_vector_t* y,
                                  const shrink_lasso_options_t* options, shrink_lasso_fit_t* fit) {
  return fit_call("shrink_lasso_path", fit, [&](shrink_lasso_fit& out) {
    const Context& ctx = context_of(context);
    with_dense_x(x, [&](const auto& xv) { path_on(ctx, xv, y, options, false, out); });
  });
}
shrink_status_t shrink_lasso_path_sparse(shrink_context_t context, const shrink_sparse_t* x, const shrink_vector_t* y,
                                         const shrink_lasso_options_t* options, shrink_lasso_fit_t* fit) {
  return fit_call("shrink_lasso_path_sparse", fit, [&](shrink_lasso_fit& out) {
    const Context& ctx = context_of(context);
    with_sparse_x(x, [&](const auto& xv) { path_on(ctx, xv, y, options, false, out); });
  });
}
shrink_status_t shrink_lasso_cv(shrink_context_t context, const shrink_dense_t* x, const shrink_vector_t* y,
                                const shrink_lasso_options_t* options, shrink_lasso_fit_t* fit) {
  return fit_call("shrink_lasso_cv", fit, [&](shrink_lasso_fit& out) {
    const Context& ctx = context_of(context);
    with_dense_x(x, [&](const auto& xv) { path_on(ctx, xv, y, options, true, out); });
  });
}
shrink_status_t shrink_lasso_cv_sparse(shrink_context_t context, const shrink_sparse_t* x, const shrink_vector_t* y,
                                       const shrink_lasso_options_t* options, shrink_lasso_fit_t* fit) {
  return fit_call("shrink_lasso_cv_sparse", fit, [&](shrink_lasso_fit& out) {
    const Context& ctx = context_of(context);
    with_sparse_x(x, [&](const auto& xv) { path_on(ctx, xv, y, options, true, out); });
  });
}
shrink_status_t shrink_lasso_batch(shrink_context_t context, const shrink_dense_t* x, const shrink_dense_t* y,
                                   const shrink_batch_options_t* options, shrink_lasso_fit_t* fit) {
  return fit_call("shrink_lasso_batch", fit, [&](shrink_lasso_fit& out) {
    const Context& ctx = context_of(context);
    with_dense_x(x, [&](const auto& xv) { batch_on(ctx, xv, y, options, out); });
  });
}
shrink_status_t shrink_lasso_batch_sparse(shrink_context_t context, const shrink_sparse_t* x, const shrink_dense_t* y,
                                          const shrink_batch_options_t* options, shrink_lasso_fit_t* fit) {
  return fit_call("shrink_lasso_batch_sparse", fit, [&](shrink_lasso_fit& out) {
    const Context& ctx = context_of(context);
    with_sparse_x(x, [&](const auto& xv) { batch_on(ctx, xv, y, options, out); });
  });
}

shrink_status_t shrink_lasso_fit_size(shrink_lasso_fit_t fit, int64_t* solutions, int64_t* features) {
  return guard("shrink_lasso_fit_size", [&] {
    require(fit, "fit");
    if (solutions) *solutions = static_cast<int64_t>(fit->fit.size());
    if (features) *features = fit->fit.n_features;
  });
}

shrink_status_t shrink_lasso_fit_get(shrink_lasso_fit_t fit, shrink_fit_field_t field, double* out, int64_t capacity,
                                     int64_t* count) {
  return guard("shrink_lasso_fit_get", [&] {
    require(fit, "fit");
    const LassoFit& f = fit->fit;
    std::vector<double> values;
    auto widen = [](const auto& v) { return std::vector<double>(v.begin(), v.end()); };
    switch (field) {
      case SHRINK_FIT_LAMBDAS: values = f.lambdas; break;
      case SHRINK_FIT_LAMBDA_MAX: values = f.lambda_max; break;
      case SHRINK_FIT_INTERCEPTS: values = f.intercepts; break;
      case SHRINK_FIT_OBJECTIVE: values = f.objective; break;
      case SHRINK_FIT_DUALITY_GAP: values = f.duality_gap; break;
      case SHRINK_FIT_ITERATIONS: values = widen(f.iterations); break;
      case SHRINK_FIT_NNZ: values = widen(f.nnz); break;
      case SHRINK_FIT_CONVERGED:
        for (const auto s : f.status) values.push_back(s == FitStatus::Converged ? 1.0 : 0.0);
        break;
      case SHRINK_FIT_CV_MEAN:
      case SHRINK_FIT_CV_SE:
        if (!fit->cross_validated) throw InvalidArgument("field: the fit was not cross-validated (shrink_lasso_cv)");
        values = field == SHRINK_FIT_CV_MEAN ? fit->cv_mean : fit->cv_se;
        break;
      default: throw InvalidArgument("field is " + std::to_string(static_cast<int>(field)) + ", not a shrink_fit_field_t");
    }
    const auto n = static_cast<int64_t>(values.size());
    if (count) *count = n;
    if (!out) return;  // the size query
    if (capacity < n)
      throw DimensionMismatch("out holds " + std::to_string(capacity) + " values but the field has " + std::to_string(n));
    std::copy(values.begin(), values.end(), out);
  });
}

shrink_status_t shrink_lasso_fit_coefficients(shrink_lasso_fit_t fit, int64_t l, double* out, int64_t capacity) {
  return guard("shrink_lasso_fit_coefficients", [&] {
    require(fit, "fit");
    require(out, "out");
    if (l < 0 || static_cast<std::size_t>(l) >= fit->fit.size())
      throw InvalidArgument("l = " + std::to_string(l) + " is outside [0, " + std::to_string(fit->fit.size()) + ")");
    if (capacity < fit->fit.n_features)
      throw DimensionMismatch("out holds " + std::to_string(capacity) + " values but there are " +
                              std::to_string(fit->fit.n_features) + " features");
    const auto coef = fit->fit.coefficients_at(static_cast<std::size_t>(l));
    std::copy(coef.begin(), coef.end(), out);
  });
}

shrink_status_t shrink_lasso_fit_cv_choice(shrink_lasso_fit_t fit, int64_t* index_min, int64_t* index_1se) {
  return guard("shrink_lasso_fit_cv_choice", [&] {
    require(fit, "fit");
    if (!fit->cross_validated) throw InvalidArgument("fit: the fit was not cross-validated (shrink_lasso_cv)");
    if (index_min) *index_min = static_cast<int64_t>(fit->index_min);
    if (index_1se) *index_1se = static_cast<int64_t>(fit->index_1se);
  });
}

shrink_status_t shrink_lasso_fit_not_converged(shrink_lasso_fit_t fit, int64_t* count) {
  return guard("shrink_lasso_fit_not_converged", [&] {
    require(fit, "fit");
    *require(count, "count") = static_cast<int64_t>(fit->fit.n_not_converged() + fit->cv_not_converged);
  });
}

void shrink_lasso_fit_destroy(shrink_lasso_fit_t fit) { delete fit; }

// ---- files ------------------------------------------------------------------------------------------------------------
shrink_status_t shrink_read_matrix(const char* path, shrink_dtype_t dtype, shrink_itype_t itype,
                                   shrink_matrix_file_t* file) {
  return guard("shrink_read_matrix", [&] {
    require(file, "file");
    *file = nullptr;
    require(path, "path");
    with_types(dtype, itype, "matrix", [&]<class V, class I>() {
      *file = new shrink_matrix_file{read_matrix<V, I>(path)};
    });
  });
}

shrink_status_t shrink_matrix_file_is_dense(shrink_matrix_file_t file, int* dense) {
  return guard("shrink_matrix_file_is_dense", [&] {
    require(file, "file");
    *require(dense, "dense") = std::visit([](const auto& f) { return f.is_dense ? 1 : 0; }, file->file);
  });
}

shrink_status_t shrink_matrix_file_dense(shrink_matrix_file_t file, shrink_dense_t* view) {
  return guard("shrink_matrix_file_dense", [&] {
    require(file, "file");
    require(view, "view");
    std::visit(
        [&](auto& f) {
          using V = std::remove_cvref_t<decltype(*f.dense.data())>;
          if (!f.is_dense) throw InvalidArgument("file: the matrix is sparse (use shrink_matrix_file_sparse)");
          const auto d = f.dense.view();
          *view = {dtype_of<V>(), SHRINK_MEMORY_HOST, d.layout == Layout::RowMajor ? SHRINK_ROW_MAJOR : SHRINK_COL_MAJOR,
                   d.rows, d.cols, d.ld, d.data};
        },
        file->file);
  });
}

shrink_status_t shrink_matrix_file_sparse(shrink_matrix_file_t file, shrink_sparse_t* view) {
  return guard("shrink_matrix_file_sparse", [&] {
    require(file, "file");
    require(view, "view");
    std::visit(
        [&](const auto& f) {
          using M = std::remove_cvref_t<decltype(f.sparse)>;
          using V = typename M::value_type;
          using I = typename M::index_type;
          if (f.is_dense) throw InvalidArgument("file: the matrix is dense (use shrink_matrix_file_dense)");
          const auto s = f.sparse.view();
          *view = {SHRINK_CSR, dtype_of<V>(), itype_of<I>(), SHRINK_MEMORY_HOST, s.rows, s.cols, s.nnz,
                   s.row_ptr, s.col_idx, s.values};
        },
        file->file);
  });
}

void shrink_matrix_file_destroy(shrink_matrix_file_t file) { delete file; }

// ---- pruning ------------------------------------------------------------------------------------------------------------
shrink_status_t shrink_prune_blocks(const shrink_dense_t* w, int block_rows, int block_cols, double sparsity,
                                    shrink_block_norm_t norm, shrink_pruned_t* pruned) {
  return guard("shrink_prune_blocks", [&] {
    require(pruned, "pruned");
    *pruned = nullptr;
    PruneOptions o;
    o.block = BlockShape{block_rows, block_cols};
    o.sparsity = sparsity;
    switch (norm) {
      case SHRINK_NORM_L1: o.norm = BlockNorm::L1; break;
      case SHRINK_NORM_L2: o.norm = BlockNorm::L2; break;
      case SHRINK_NORM_MAX: o.norm = BlockNorm::Max; break;
      default: throw InvalidArgument("norm is " + std::to_string(static_cast<int>(norm)) + ", not a shrink_block_norm_t");
    }
    const auto view = dense_view<double>(w, "w");
    *pruned = new shrink_pruned{prune_blocks<double, std::int64_t>(DenseView<const double>(view), o)};
  });
}

shrink_status_t shrink_pruned_blocks(shrink_pruned_t pruned, int64_t* kept, int64_t* total) {
  return guard("shrink_pruned_blocks", [&] {
    require(pruned, "pruned");
    if (kept) *kept = pruned->pruned.report.blocks_kept;
    if (total) *total = pruned->pruned.report.blocks_total;
  });
}

shrink_status_t shrink_pruned_dense(shrink_pruned_t pruned, double* out, int64_t capacity) {
  return guard("shrink_pruned_dense", [&] {
    require(pruned, "pruned");
    require(out, "out");
    const auto d = bsr_to_dense(pruned->pruned.weights);
    const int64_t n = d.rows() * d.cols();
    if (capacity < n)
      throw DimensionMismatch("out holds " + std::to_string(capacity) + " values but W has " + std::to_string(n));
    std::copy(d.data(), d.data() + n, out);
  });
}

void shrink_pruned_destroy(shrink_pruned_t pruned) { delete pruned; }

}  // extern "C"

// ---- sparse autoencoders --------------------------------------------------------------------------------------------------
namespace {

template <class M>
struct sae_value;
template <class V>
struct sae_value<SparseAutoencoder<V>> {
  using type = V;
};
// The value type of a model reference, inside the lambdas with_model calls.
template <class M>
using sae_value_t = typename sae_value<std::remove_cvref_t<M>>::type;

// f(model) on the handle's model (float or double); a handle without a model is an error.
template <class F>
auto with_model(shrink_sae& s, F&& f) {
  using Result = decltype(f(std::declval<SparseAutoencoder<float>&>()));
  return std::visit(
      [&](auto& m) -> Result {
        if constexpr (std::is_same_v<std::remove_cvref_t<decltype(m)>, std::monostate>) {
          throw InvalidArgument("sae: no model");
        } else {
          return f(m);
        }
      },
      s.model);
}

shrink_sae_options_t default_sae_options() {
  const SaeConfig c;
  const SaeTrainOptions t;
  shrink_sae_options_t o{};
  o.struct_size = sizeof(o);
  o.inputs = c.inputs;
  o.latents = c.latents;
  o.activation = c.activation == SaeActivation::SigmoidKl ? SHRINK_SAE_SIGMOID_KL
                 : c.activation == SaeActivation::ReluL1  ? SHRINK_SAE_RELU_L1
                                                          : SHRINK_SAE_TOPK;
  o.rho = c.rho;
  o.beta = c.beta;
  o.l1 = c.l1;
  o.k = c.k;
  o.aux_k = c.aux_k;
  o.weight_decay = c.weight_decay;
  o.tied = c.tied;
  o.unit_norm_decoder = c.unit_norm_decoder;
  o.epochs = t.epochs;
  o.steps = t.steps;
  o.batch_size = t.batch_size;
  o.learning_rate = t.adam.learning_rate;
  o.seed = t.seed;
  return o;
}

shrink_sae_options_t read_sae_options(const shrink_sae_options_t* given) {
  shrink_sae_options_t o = default_sae_options();
  if (given) {
    check_struct_size<shrink_sae_options_t>(given->struct_size, sizeof(shrink_sae_options_t), "options");
    std::memcpy(&o, given, given->struct_size);
  }
  return o;
}

SaeConfig sae_config(const shrink_sae_options_t& o) {
  SaeConfig c;
  c.inputs = o.inputs;
  c.latents = o.latents;
  switch (o.activation) {
    case SHRINK_SAE_SIGMOID_KL: c.activation = SaeActivation::SigmoidKl; break;
    case SHRINK_SAE_RELU_L1: c.activation = SaeActivation::ReluL1; break;
    case SHRINK_SAE_TOPK: c.activation = SaeActivation::TopK; break;
    default: throw InvalidArgument("options->activation is " + std::to_string(static_cast<int>(o.activation)));
  }
  c.rho = o.rho;
  c.beta = o.beta;
  c.l1 = o.l1;
  c.k = o.k;
  c.aux_k = o.aux_k;
  c.weight_decay = o.weight_decay;
  c.tied = o.tied != 0;
  c.unit_norm_decoder = o.unit_norm_decoder != 0;
  c.validate();
  return c;
}

SaeMetrics train_model(shrink_sae& s, const shrink_dense_t* data, const shrink_sae_options_t& o) {
  const Context& ctx = context_of(s.owner);
  SaeTrainOptions t;
  t.epochs = o.epochs;
  t.steps = o.steps;
  t.batch_size = o.batch_size;
  t.adam.learning_rate = o.learning_rate;
  t.seed = o.seed;
  return with_model(s, [&](auto& m) {
    using V = sae_value_t<decltype(m)>;
    return sae_train<V>(ctx, m, DenseView<const V>(dense_view<V>(data, "data")), t, s.state).metrics;
  });
}

}  // namespace

extern "C" {

shrink_status_t shrink_sae_options_init(shrink_sae_options_t* options, size_t struct_size) {
  return guard("shrink_sae_options_init", [&] {
    require(options, "options");
    check_struct_size<shrink_sae_options_t>(struct_size, sizeof(shrink_sae_options_t), "options");
    auto o = default_sae_options();
    o.struct_size = struct_size;
    std::memcpy(options, &o, struct_size);
  });
}

shrink_status_t shrink_sae_create(shrink_context_t context, shrink_dtype_t dtype, const shrink_sae_options_t* options,
                                  shrink_sae_t* sae) {
  return guard("shrink_sae_create", [&] {
    require(sae, "sae");
    *sae = nullptr;
    const Context& ctx = context_of(context);
    const auto o = read_sae_options(require(options, "options"));
    const SaeConfig config = sae_config(o);
    auto out = std::make_unique<shrink_sae>();
    out->owner = context;
    out->state.seed = o.seed;
    with_value(dtype, "dtype", [&]<class V>() { out->model.template emplace<SparseAutoencoder<V>>(ctx, config, o.seed); });
    *sae = out.release();
  });
}

shrink_status_t shrink_sae_load(shrink_context_t context, const char* path, shrink_sae_t* sae) {
  return guard("shrink_sae_load", [&] {
    require(sae, "sae");
    *sae = nullptr;
    const Context& ctx = context_of(context);
    require(path, "path");
    auto out = std::make_unique<shrink_sae>();
    out->owner = context;
    const auto info = sae_checkpoint_info(path);
    auto load = [&]<class V>() {
      auto loaded = load_sae<V>(ctx, path);
      out->state = loaded.state;
      out->model.template emplace<SparseAutoencoder<V>>(std::move(loaded.model));
    };
    if (info.value_bytes == 4) load.template operator()<float>();
    else load.template operator()<double>();
    *sae = out.release();
  });
}

shrink_status_t shrink_sae_save(shrink_sae_t sae, const char* path) {
  return guard("shrink_sae_save", [&] {
    require(sae, "sae");
    require(path, "path");
    std::visit(
        [&](const auto& m) {
          if constexpr (!std::is_same_v<std::remove_cvref_t<decltype(m)>, std::monostate>) save_sae(path, m, sae->state);
        },
        sae->model);
  });
}

shrink_status_t shrink_sae_train(shrink_sae_t sae, const shrink_dense_t* data, const shrink_sae_options_t* options,
                                 shrink_sae_metrics_t* metrics) {
  return guard("shrink_sae_train", [&] {
    require(sae, "sae");
    const SaeMetrics m = train_model(*sae, data, read_sae_options(options));
    if (metrics) *metrics = {m.samples, m.mse, m.fvu, m.l0, m.mean_activation, m.dead_fraction, m.sparsity_ratio};
  });
}

shrink_status_t shrink_sae_fit(shrink_context_t context, shrink_dtype_t dtype, const shrink_dense_t* data,
                               uint64_t seed, shrink_sae_t* sae, shrink_sae_metrics_t* metrics) {
  return guard("shrink_sae_fit", [&] {
    require(sae, "sae");
    *sae = nullptr;
    const Context& ctx = context_of(context);
    auto out = std::make_unique<shrink_sae>();
    out->owner = context;
    SaeMetrics m;
    with_value(dtype, "dtype", [&]<class V>() {
      const DenseView<const V> x(dense_view<V>(data, "data"));
      SaeSettings base;
      base.train.seed = seed;
      auto fit = sae_fit<V>(ctx, resolve_sae_settings({}, base, x.rows, x.cols), x);
      out->state = fit.state;
      m = fit.result.metrics;
      out->model.template emplace<SparseAutoencoder<V>>(std::move(fit.model));
    });
    if (metrics) *metrics = {m.samples, m.mse, m.fvu, m.l0, m.mean_activation, m.dead_fraction, m.sparsity_ratio};
    *sae = out.release();
  });
}

shrink_status_t shrink_sae_normalize(shrink_sae_t sae, shrink_dense_t* x) {
  return guard("shrink_sae_normalize", [&] {
    require(sae, "sae");
    with_model(*sae, [&](auto& m) {
      using V = sae_value_t<decltype(m)>;
      const DenseView<V> v = dense_view<V>(x, "x");
      if (v.space != MemorySpace::Host) throw InvalidArgument("x: shrink_sae_normalize works on host memory");
      if (v.cols != m.config().inputs)
        throw DimensionMismatch("x has " + std::to_string(v.cols) + " columns but the model has " +
                                std::to_string(m.config().inputs) + " inputs");
      m.normalizer().apply(v);
    });
  });
}

shrink_status_t shrink_sae_encode(shrink_sae_t sae, const shrink_dense_t* x, shrink_dense_t* codes) {
  return guard("shrink_sae_encode", [&] {
    require(sae, "sae");
    with_model(*sae, [&](auto& m) {
      using V = sae_value_t<decltype(m)>;
      m.encode(DenseView<const V>(dense_view<V>(x, "x")), dense_view<V>(codes, "codes"));
    });
  });
}

shrink_status_t shrink_sae_score(shrink_sae_t sae, const shrink_dense_t* x, shrink_vector_t* errors) {
  return guard("shrink_sae_score", [&] {
    require(sae, "sae");
    with_model(*sae, [&](auto& m) {
      using V = sae_value_t<decltype(m)>;
      m.anomaly_scores(DenseView<const V>(dense_view<V>(x, "x")), vector_view<V>(errors, "scores"));
    });
  });
}

shrink_status_t shrink_sae_dims(shrink_sae_t sae, int64_t* inputs, int64_t* latents) {
  return guard("shrink_sae_dims", [&] {
    require(sae, "sae");
    std::visit(
        [&](const auto& m) {
          if constexpr (!std::is_same_v<std::remove_cvref_t<decltype(m)>, std::monostate>) {
            if (inputs) *inputs = m.config().inputs;
            if (latents) *latents = m.config().latents;
          }
        },
        sae->model);
  });
}

void shrink_sae_destroy(shrink_sae_t sae) { delete sae; }

}  // extern "C"
