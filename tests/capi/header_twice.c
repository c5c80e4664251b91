/* The C header's C check: included twice (guards), compiled as strict C11 with every warning an
 * error, and run: versions, a CPU context, y = A x on a 3 x 3 CSR matrix, one error and its message,
 * and NULL-safe destroys. */
#include <shrink/shrink.h>
#include <shrink/shrink.h>

#include <stdio.h>
#include <string.h>

int main(void) {
  int major = -1, minor = -1, patch = -1;
  shrink_get_version(&major, &minor, &patch);
  if (major != SHRINK_VERSION_MAJOR || minor != SHRINK_VERSION_MINOR || patch != SHRINK_VERSION_PATCH) return 1;

  shrink_context_options_t options;
  if (shrink_context_options_init(&options, sizeof(options)) != SHRINK_STATUS_SUCCESS) return 2;
  options.backend = SHRINK_BACKEND_CPU;
  shrink_context_t ctx = NULL;
  if (shrink_context_create(&options, &ctx) != SHRINK_STATUS_SUCCESS) return 3;

  const int32_t ptr[4] = {0, 2, 3, 5}, idx[5] = {0, 2, 1, 0, 2};
  const double values[5] = {1, 2, 3, 4, 5};
  double x[3] = {1, 1, 1}, y[3] = {0, 0, 0};
  const shrink_sparse_t a = {SHRINK_CSR, SHRINK_F64, SHRINK_I32, SHRINK_MEMORY_HOST, 3, 3, 5, ptr, idx, values};
  const shrink_vector_t xv = {SHRINK_F64, SHRINK_MEMORY_HOST, 3, x};
  shrink_vector_t yv = {SHRINK_F64, SHRINK_MEMORY_HOST, 3, y};
  if (shrink_spmv(ctx, SHRINK_OP_N, 1.0, &a, &xv, 0.0, &yv) != SHRINK_STATUS_SUCCESS) return 4;
  if (y[0] != 3.0 || y[1] != 3.0 || y[2] != 9.0) return 5;

  shrink_vector_t short_y = {SHRINK_F64, SHRINK_MEMORY_HOST, 2, y};
  const shrink_status_t s = shrink_spmv(ctx, SHRINK_OP_N, 1.0, &a, &xv, 0.0, &short_y);
  if (s != SHRINK_STATUS_DIMENSION_MISMATCH || strstr(shrink_last_error_message(), "y") == NULL) return 6;
  printf("%s: %s\n", shrink_status_string(s), shrink_last_error_message());

  shrink_context_destroy(ctx);
  shrink_context_destroy(NULL);
  shrink_lasso_fit_destroy(NULL);
  shrink_operator_destroy(NULL);
  return 0;
}
