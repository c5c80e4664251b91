/* The C face of Shrink: an opaque context, one status type returned by every call that can fail, a
 * static string per status and a thread-local message naming the argument, the sizes and, for files,
 * the file and line. Nothing is thrown across this boundary. Pure C11; C++ includes it as well.
 *
 *   shrink_context_t ctx;
 *   if (shrink_context_create(NULL, &ctx) != SHRINK_STATUS_SUCCESS)
 *     fprintf(stderr, "%s\n", shrink_last_error_message());
 *
 * Views (shrink_vector_t, shrink_dense_t, shrink_sparse_t) do not own their data: they describe the
 * caller's arrays, in host memory or, on a CUDA context, in device memory. They are validated at the
 * boundary exactly as the C++ types are (sizes, leading dimensions, sparse structure on the host,
 * finite values where the C++ call checks them). Handles (a context, a fit, an operator, a matrix
 * file, a pruned matrix, an SAE) own what the library made; each has a NULL-safe destroy.
 *
 * Non-convergence is not an error: a fit reports it per solution (shrink_lasso_fit_get with
 * SHRINK_FIT_CONVERGED), as the C++ API does. */
#ifndef SHRINK_SHRINK_H
#define SHRINK_SHRINK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library exports these and nothing else unmangled (it is built with hidden visibility). */
#if defined(__GNUC__) || defined(__clang__)
#define SHRINK_C_API __attribute__((visibility("default")))
#else
#define SHRINK_C_API
#endif

#define SHRINK_VERSION_MAJOR 0
#define SHRINK_VERSION_MINOR 1
#define SHRINK_VERSION_PATCH 0

/* ---- status ------------------------------------------------------------------------------------ */
typedef enum shrink_status {
  SHRINK_STATUS_SUCCESS = 0,
  SHRINK_STATUS_INVALID_ARGUMENT = 1,   /* a value out of its range, a NULL handle or pointer */
  SHRINK_STATUS_DIMENSION_MISMATCH = 2, /* shapes that must agree do not */
  SHRINK_STATUS_INDEX_OUT_OF_RANGE = 3, /* a sparse index outside the matrix */
  SHRINK_STATUS_INVALID_STRUCTURE = 4,  /* row pointers not monotone, indices unsorted or repeated */
  SHRINK_STATUS_NON_FINITE = 5,         /* NaN or Inf in an input */
  SHRINK_STATUS_INDEX_OVERFLOW = 6,     /* a size does not fit the index type */
  SHRINK_STATUS_PARSE_ERROR = 7,        /* a malformed file (the message has file and line) */
  SHRINK_STATUS_IO_ERROR = 8,           /* a file cannot be opened, read, written or renamed */
  SHRINK_STATUS_OUT_OF_MEMORY = 9,      /* a host or device allocation failed */
  SHRINK_STATUS_CUDA_ERROR = 10,        /* a CUDA runtime or library call failed */
  SHRINK_STATUS_NOT_COMPILED = 11,      /* CUDA asked for in a build without it */
  SHRINK_STATUS_NO_DEVICE = 12,         /* CUDA asked for, no usable device */
  SHRINK_STATUS_INTERNAL_ERROR = 13,    /* anything else: a bug to report */
  SHRINK_STATUS_STORAGE_ERROR = 14      /* a write failed part-way: disk full, quota, failing device */
} shrink_status_t;

/* A static string naming the status ("success", "invalid argument", ...); never NULL. */
SHRINK_C_API const char* shrink_status_string(shrink_status_t status);
/* The message of this thread's last call when it failed ("" after a success); valid until the
 * thread's next call. */
SHRINK_C_API const char* shrink_last_error_message(void);

SHRINK_C_API void shrink_get_version(int* major, int* minor, int* patch);
SHRINK_C_API int shrink_cuda_compiled(void);      /* 1 when the CUDA backend is built */
SHRINK_C_API int shrink_cuda_device_count(void);  /* usable devices; 0 without CUDA, a driver or a device */

/* ---- enums shared by the views and the calls --------------------------------------------------- */
typedef enum shrink_backend { SHRINK_BACKEND_AUTO = 0, SHRINK_BACKEND_CPU = 1, SHRINK_BACKEND_CUDA = 2 } shrink_backend_t;
typedef enum shrink_memory { SHRINK_MEMORY_HOST = 0, SHRINK_MEMORY_DEVICE = 1 } shrink_memory_t;
typedef enum shrink_dtype { SHRINK_F32 = 0, SHRINK_F64 = 1 } shrink_dtype_t;
typedef enum shrink_itype { SHRINK_I32 = 0, SHRINK_I64 = 1 } shrink_itype_t;
typedef enum shrink_layout { SHRINK_ROW_MAJOR = 0, SHRINK_COL_MAJOR = 1 } shrink_layout_t;
typedef enum shrink_format { SHRINK_CSR = 0, SHRINK_CSC = 1 } shrink_format_t;
typedef enum shrink_op { SHRINK_OP_N = 0, SHRINK_OP_T = 1 } shrink_op_t;

/* ---- context ------------------------------------------------------------------------------------ */
typedef struct shrink_context* shrink_context_t;

typedef struct shrink_context_options {
  size_t struct_size;          /* set by shrink_context_options_init */
  shrink_backend_t backend;    /* AUTO: CUDA when built and a device exists, else the CPU */
  int device;                  /* CUDA device ordinal */
  int cpu_threads;             /* 0: OpenMP's default */
  int deterministic;           /* bit-identical results run to run (default 1) */
  int honour_environment;      /* let SHRINK_BACKEND decide when backend is AUTO (default 1) */
} shrink_context_options_t;

/* Fills the defaults. struct_size is sizeof(shrink_context_options_t) as the caller compiled it: a
 * later library accepts an older, smaller struct. */
SHRINK_C_API shrink_status_t shrink_context_options_init(shrink_context_options_t* options, size_t struct_size);
/* options NULL: the defaults. */
SHRINK_C_API shrink_status_t shrink_context_create(const shrink_context_options_t* options, shrink_context_t* context);
SHRINK_C_API void shrink_context_destroy(shrink_context_t context);
/* Runs the context's work on the caller's cudaStream_t from now on (NULL: back to the context's own
 * stream). The caller keeps the stream alive while the context uses it. INVALID_ARGUMENT on a CPU
 * context given a non-NULL stream. */
SHRINK_C_API shrink_status_t shrink_context_set_stream(shrink_context_t context, void* stream);
SHRINK_C_API shrink_status_t shrink_context_synchronize(shrink_context_t context);
SHRINK_C_API shrink_status_t shrink_context_backend(shrink_context_t context, shrink_backend_t* backend); /* CPU or CUDA */
SHRINK_C_API shrink_status_t shrink_context_device(shrink_context_t context, int* device);  /* -1 on the CPU */

/* ---- views (non-owning) -------------------------------------------------------------------------- */
typedef struct shrink_vector {
  shrink_dtype_t dtype;
  shrink_memory_t memory;
  int64_t size;
  void* data;
} shrink_vector_t;

typedef struct shrink_dense {
  shrink_dtype_t dtype;
  shrink_memory_t memory;
  shrink_layout_t layout;
  int64_t rows, cols, ld;  /* ld >= cols (row-major) or >= rows (column-major) */
  void* data;
} shrink_dense_t;

/* CSR (ptr = row pointers, rows + 1; idx = column indices) or CSC (ptr = column pointers, cols + 1;
 * idx = row indices). Indices strictly increase within a row (column). */
typedef struct shrink_sparse {
  shrink_format_t format;
  shrink_dtype_t dtype;
  shrink_itype_t itype;
  shrink_memory_t memory;
  int64_t rows, cols, nnz;
  const void* ptr;
  const void* idx;
  const void* values;
} shrink_sparse_t;

/* ---- sparse products ----------------------------------------------------------------------------- */
/* y = alpha op(A) x + beta y, A CSR or CSC; beta == 0 overwrites y; alpha == 0 reads neither A nor x.
 * alpha and beta are converted to A's value type. */
SHRINK_C_API shrink_status_t shrink_spmv(shrink_context_t context, shrink_op_t op, double alpha, const shrink_sparse_t* a,
                            const shrink_vector_t* x, double beta, shrink_vector_t* y);
/* C = alpha A B + beta C, A CSR, B and C dense (either layout). */
SHRINK_C_API shrink_status_t shrink_spmm(shrink_context_t context, double alpha, const shrink_sparse_t* a, const shrink_dense_t* b,
                            double beta, shrink_dense_t* c);

/* A CSR matrix copied into the context's memory with its transpose built once on first use: A x and
 * A^T x both run the forward kernel. */
typedef struct shrink_operator* shrink_operator_t;
SHRINK_C_API shrink_status_t shrink_operator_create(shrink_context_t context, const shrink_sparse_t* a, shrink_operator_t* op);
SHRINK_C_API shrink_status_t shrink_operator_apply(shrink_operator_t op, shrink_op_t transpose, double alpha,
                                      const shrink_vector_t* x, double beta, shrink_vector_t* y);
SHRINK_C_API void shrink_operator_destroy(shrink_operator_t op);

/* ---- proximal steps ------------------------------------------------------------------------------- */
/* r(x) = sum_j w_j (l1 |x_j| + l2/2 x_j^2), x >= 0 when positive; factors NULL: w = 1. */
typedef struct shrink_penalty {
  double l1, l2;
  const shrink_vector_t* factors;
  int positive;
} shrink_penalty_t;

/* x = S(v, threshold w) (x may be v). */
SHRINK_C_API shrink_status_t shrink_soft_threshold(shrink_context_t context, const shrink_vector_t* v, double threshold,
                                      const shrink_vector_t* factors, int positive, shrink_vector_t* x);
/* x = prox_r(v). */
SHRINK_C_API shrink_status_t shrink_prox(shrink_context_t context, const shrink_vector_t* v, const shrink_penalty_t* penalty,
                            shrink_vector_t* x);
/* x = prox_{step r}(v - step g). */
SHRINK_C_API shrink_status_t shrink_prox_grad_step(shrink_context_t context, const shrink_vector_t* v, const shrink_vector_t* g,
                                      double step, const shrink_penalty_t* penalty, shrink_vector_t* x);

/* ---- Lasso / Elastic Net ---------------------------------------------------------------------------- */
typedef enum shrink_lasso_solver {
  SHRINK_SOLVER_AUTO = 0,
  SHRINK_SOLVER_CD = 1,
  SHRINK_SOLVER_GRAM = 2,
  SHRINK_SOLVER_FISTA = 3,
  SHRINK_SOLVER_WS_GRAM = 4
} shrink_lasso_solver_t;

/* The path's options (shrink/lasso.hpp's LassoOptions). Arrays are host memory the caller keeps
 * alive during the call; a count of 0 means "not given". */
typedef struct shrink_lasso_options {
  size_t struct_size;  /* set by shrink_lasso_options_init */
  double l1_ratio;     /* 1: the Lasso */
  int fit_intercept, standardize, positive;
  const double* penalty_factors;  int64_t n_penalty_factors;  /* p values >= 0 */
  const double* sample_weights;   int64_t n_sample_weights;   /* n values >= 0 */
  const double* lambdas;          int64_t n_given_lambdas;    /* a grid fitted in this order */
  int n_lambdas;                  /* computed grid size (default 100) */
  double lambda_min_ratio;        /* 0: 1e-3 when n > p, else 1e-2 */
  double tol;                     /* relative duality gap; 0: 1e-6 (f64) or 1e-4 (f32) */
  int64_t max_iter;
  shrink_lasso_solver_t solver;
  int screening;
  int64_t max_working_set;
  int cv_folds;                   /* shrink_lasso_cv only (default 5) */
  uint64_t cv_seed;
} shrink_lasso_options_t;
SHRINK_C_API shrink_status_t shrink_lasso_options_init(shrink_lasso_options_t* options, size_t struct_size);

/* A batch's options (BatchLassoOptions): the shared part as above, and exactly one of lambda,
 * lambdas (one per problem) and lambda_ratio. */
typedef struct shrink_batch_options {
  size_t struct_size;  /* set by shrink_batch_options_init */
  double l1_ratio;
  int fit_intercept, positive;
  const double* penalty_factors;  int64_t n_penalty_factors;
  double tol;
  int64_t max_iter;
  double lambda;
  const double* lambdas;          int64_t n_given_lambdas;
  double lambda_ratio;
  int64_t chunk;                  /* problems per chunk; 0: automatic */
} shrink_batch_options_t;
SHRINK_C_API shrink_status_t shrink_batch_options_init(shrink_batch_options_t* options, size_t struct_size);

/* The result of a path, a cross-validation or a batch: L solutions, each with its certificate. */
typedef struct shrink_lasso_fit* shrink_lasso_fit_t;

/* X dense (either layout) or sparse (CSR or CSC), y n values, in host memory or the context's. */
SHRINK_C_API shrink_status_t shrink_lasso_path(shrink_context_t context, const shrink_dense_t* x, const shrink_vector_t* y,
                                  const shrink_lasso_options_t* options, shrink_lasso_fit_t* fit);
SHRINK_C_API shrink_status_t shrink_lasso_path_sparse(shrink_context_t context, const shrink_sparse_t* x, const shrink_vector_t* y,
                                         const shrink_lasso_options_t* options, shrink_lasso_fit_t* fit);
/* K-fold cross-validation (options->cv_folds, cv_seed) then the refit on all the data. */
SHRINK_C_API shrink_status_t shrink_lasso_cv(shrink_context_t context, const shrink_dense_t* x, const shrink_vector_t* y,
                                const shrink_lasso_options_t* options, shrink_lasso_fit_t* fit);
SHRINK_C_API shrink_status_t shrink_lasso_cv_sparse(shrink_context_t context, const shrink_sparse_t* x, const shrink_vector_t* y,
                                       const shrink_lasso_options_t* options, shrink_lasso_fit_t* fit);
/* k problems on the columns of Y (n x k). */
SHRINK_C_API shrink_status_t shrink_lasso_batch(shrink_context_t context, const shrink_dense_t* x, const shrink_dense_t* y,
                                   const shrink_batch_options_t* options, shrink_lasso_fit_t* fit);
SHRINK_C_API shrink_status_t shrink_lasso_batch_sparse(shrink_context_t context, const shrink_sparse_t* x, const shrink_dense_t* y,
                                          const shrink_batch_options_t* options, shrink_lasso_fit_t* fit);

typedef enum shrink_fit_field {
  SHRINK_FIT_LAMBDAS = 0,
  SHRINK_FIT_LAMBDA_MAX = 1,
  SHRINK_FIT_INTERCEPTS = 2,
  SHRINK_FIT_OBJECTIVE = 3,
  SHRINK_FIT_DUALITY_GAP = 4,
  SHRINK_FIT_ITERATIONS = 5,
  SHRINK_FIT_NNZ = 6,
  SHRINK_FIT_CONVERGED = 7,  /* 1 or 0 */
  SHRINK_FIT_CV_MEAN = 8,    /* cross-validation only */
  SHRINK_FIT_CV_SE = 9
} shrink_fit_field_t;

/* Solutions (L) and features (p). */
SHRINK_C_API shrink_status_t shrink_lasso_fit_size(shrink_lasso_fit_t fit, int64_t* solutions, int64_t* features);
/* Copies a per-solution field into out (capacity values). With out NULL, only *count is set: the
 * size query. DIMENSION_MISMATCH when capacity < count. */
SHRINK_C_API shrink_status_t shrink_lasso_fit_get(shrink_lasso_fit_t fit, shrink_fit_field_t field, double* out, int64_t capacity,
                                     int64_t* count);
/* Solution l's p coefficients (original scale), dense. */
SHRINK_C_API shrink_status_t shrink_lasso_fit_coefficients(shrink_lasso_fit_t fit, int64_t l, double* out, int64_t capacity);
/* Cross-validation's choices: the index of the lowest mean error and of the one-standard-error rule. */
SHRINK_C_API shrink_status_t shrink_lasso_fit_cv_choice(shrink_lasso_fit_t fit, int64_t* index_min, int64_t* index_1se);
SHRINK_C_API shrink_status_t shrink_lasso_fit_not_converged(shrink_lasso_fit_t fit, int64_t* count);
SHRINK_C_API void shrink_lasso_fit_destroy(shrink_lasso_fit_t fit);

/* ---- files ------------------------------------------------------------------------------------------ */
/* A matrix read from .mtx, .svm, .npy, .npz (SciPy's sparse or NumPy's np.savez: the array X, or the
 * only one), .csv or .txt (by extension; any of them gzip-compressed with .gz after it) into host memory. */
typedef struct shrink_matrix_file* shrink_matrix_file_t;
SHRINK_C_API shrink_status_t shrink_read_matrix(const char* path, shrink_dtype_t dtype, shrink_itype_t itype,
                                   shrink_matrix_file_t* file);
SHRINK_C_API shrink_status_t shrink_matrix_file_is_dense(shrink_matrix_file_t file, int* dense);
/* Views into the file's storage (valid until shrink_matrix_file_destroy): a dense file in the order it
 * was stored (view.layout: a Fortran-order or 1-D .npy is column-major, the rest row-major); a sparse
 * file is CSR. INVALID_ARGUMENT for the other kind. */
SHRINK_C_API shrink_status_t shrink_matrix_file_dense(shrink_matrix_file_t file, shrink_dense_t* view);
SHRINK_C_API shrink_status_t shrink_matrix_file_sparse(shrink_matrix_file_t file, shrink_sparse_t* view);
SHRINK_C_API void shrink_matrix_file_destroy(shrink_matrix_file_t file);

/* ---- block pruning ------------------------------------------------------------------------------------ */
typedef enum shrink_block_norm { SHRINK_NORM_L1 = 0, SHRINK_NORM_L2 = 1, SHRINK_NORM_MAX = 2 } shrink_block_norm_t;
typedef struct shrink_pruned* shrink_pruned_t;
/* Keeps the blocks (block_rows x block_cols) with the largest norms of a host f64 W; `sparsity` of the
 * blocks go. */
SHRINK_C_API shrink_status_t shrink_prune_blocks(const shrink_dense_t* w, int block_rows, int block_cols, double sparsity,
                                    shrink_block_norm_t norm, shrink_pruned_t* pruned);
SHRINK_C_API shrink_status_t shrink_pruned_blocks(shrink_pruned_t pruned, int64_t* kept, int64_t* total);
/* The pruned W, dense row-major (rows x cols values). */
SHRINK_C_API shrink_status_t shrink_pruned_dense(shrink_pruned_t pruned, double* out, int64_t capacity);
SHRINK_C_API void shrink_pruned_destroy(shrink_pruned_t pruned);

/* ---- sparse autoencoders ------------------------------------------------------------------------------- */
typedef enum shrink_sae_activation {
  SHRINK_SAE_SIGMOID_KL = 0,
  SHRINK_SAE_RELU_L1 = 1,
  SHRINK_SAE_TOPK = 2
} shrink_sae_activation_t;

typedef struct shrink_sae_options {
  size_t struct_size;  /* set by shrink_sae_options_init */
  int64_t inputs, latents;
  shrink_sae_activation_t activation;
  double rho, beta;  /* sigmoid-kl */
  double l1;         /* relu-l1 */
  int64_t k, aux_k;  /* topk */
  double weight_decay;
  int tied, unit_norm_decoder;
  /* training */
  int64_t epochs, steps, batch_size;
  double learning_rate;
  uint64_t seed;
} shrink_sae_options_t;
SHRINK_C_API shrink_status_t shrink_sae_options_init(shrink_sae_options_t* options, size_t struct_size);

typedef struct shrink_sae* shrink_sae_t;
typedef struct shrink_sae_metrics {
  int64_t samples;
  double mse, fvu, l0, mean_activation, dead_fraction, sparsity_ratio;
} shrink_sae_metrics_t;

/* A new model (dtype f32 or f64) with the options' configuration, initialized from options->seed. */
SHRINK_C_API shrink_status_t shrink_sae_create(shrink_context_t context, shrink_dtype_t dtype, const shrink_sae_options_t* options,
                                  shrink_sae_t* sae);
/* A checkpoint written by shrink_sae_save or `shrink sae train`. */
SHRINK_C_API shrink_status_t shrink_sae_load(shrink_context_t context, const char* path, shrink_sae_t* sae);
SHRINK_C_API shrink_status_t shrink_sae_save(shrink_sae_t sae, const char* path);
/* Trains on data (samples x inputs, normalized as the model expects) for options' epochs or steps,
 * continuing from where the model stands; metrics may be NULL. */
SHRINK_C_API shrink_status_t shrink_sae_train(shrink_sae_t sae, const shrink_dense_t* data, const shrink_sae_options_t* options,
                                 shrink_sae_metrics_t* metrics);
/* A model trained on raw samples (host, samples x inputs) with every setting chosen from the data, as
 * `shrink sae train` does with no options: the normalization is fitted and stored in the model, 10% of
 * the samples are held out for early stopping. metrics may be NULL. Score raw data by normalizing it
 * first (shrink_sae_normalize). */
SHRINK_C_API shrink_status_t shrink_sae_fit(shrink_context_t context, shrink_dtype_t dtype, const shrink_dense_t* data,
                               uint64_t seed, shrink_sae_t* sae, shrink_sae_metrics_t* metrics);
/* Applies the model's stored normalization to raw samples (host, samples x inputs), in place; a model
 * without one leaves them as they are. */
SHRINK_C_API shrink_status_t shrink_sae_normalize(shrink_sae_t sae, shrink_dense_t* x);
/* codes (samples x latents) of normalized samples. */
SHRINK_C_API shrink_status_t shrink_sae_encode(shrink_sae_t sae, const shrink_dense_t* x, shrink_dense_t* codes);
/* Per-sample anomaly scores of normalized samples (higher is more anomalous) by the model's scorer:
 * a model from shrink_sae_fit or `shrink sae train` gives the mean distance to its 5 nearest training
 * rows (normalized; `--score` chooses), one from shrink_sae_create the mean squared reconstruction
 * error. shrink_sae_train leaves the scorer as it is. */
SHRINK_C_API shrink_status_t shrink_sae_score(shrink_sae_t sae, const shrink_dense_t* x, shrink_vector_t* scores);
SHRINK_C_API shrink_status_t shrink_sae_dims(shrink_sae_t sae, int64_t* inputs, int64_t* latents);
SHRINK_C_API void shrink_sae_destroy(shrink_sae_t sae);

#ifdef __cplusplus
}
#endif

#endif /* SHRINK_SHRINK_H */
