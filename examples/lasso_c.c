/* A Lasso path through the C face: X (60 x 12, column-major) and y generated from integers, 20
 * lambdas, then each solution's lambda, objective, certificate and non-zeros, and the last
 * solution's coefficients. examples/lasso_f.f90 fits the same problem from Fortran and prints the
 * same lines; the consumer test checks that the two agree to the last bit. */
#include <shrink/shrink.h>

#include <stdio.h>
#include <stdlib.h>

#define N 60
#define P 12

static int fail(const char* what, shrink_status_t status) {
  fprintf(stderr, "%s: %s: %s\n", what, shrink_status_string(status), shrink_last_error_message());
  return 1;
}

int main(void) {
  double x[N * P], y[N];
  for (int j = 0; j < P; ++j)
    for (int i = 0; i < N; ++i) x[j * N + i] = (double)(((i * 7 + j * 13 + (i * j) % 5) % 17) - 8) / 4.0;
  for (int i = 0; i < N; ++i)
    y[i] = 2.0 * x[0 * N + i] - 1.0 * x[3 * N + i] + 0.5 * x[5 * N + i] + (double)((i * 3) % 7 - 3) / 8.0;

  shrink_context_options_t copts;
  shrink_context_options_init(&copts, sizeof(copts));
  copts.backend = SHRINK_BACKEND_CPU;
  shrink_context_t ctx;
  shrink_status_t s = shrink_context_create(&copts, &ctx);
  if (s != SHRINK_STATUS_SUCCESS) return fail("shrink_context_create", s);

  const shrink_dense_t xv = {SHRINK_F64, SHRINK_MEMORY_HOST, SHRINK_COL_MAJOR, N, P, N, x};
  const shrink_vector_t yv = {SHRINK_F64, SHRINK_MEMORY_HOST, N, y};
  shrink_lasso_options_t opts;
  shrink_lasso_options_init(&opts, sizeof(opts));
  opts.n_lambdas = 20;
  opts.tol = 1e-10;
  shrink_lasso_fit_t fit;
  s = shrink_lasso_path(ctx, &xv, &yv, &opts, &fit);
  if (s != SHRINK_STATUS_SUCCESS) {
    shrink_context_destroy(ctx);
    return fail("shrink_lasso_path", s);
  }
  int64_t count = 0, features = 0;
  shrink_lasso_fit_size(fit, &count, &features);
  double lambdas[20], objective[20], gap[20], nnz[20], coef[P];
  int64_t got = 0;
  shrink_lasso_fit_get(fit, SHRINK_FIT_LAMBDAS, lambdas, 20, &got);
  shrink_lasso_fit_get(fit, SHRINK_FIT_OBJECTIVE, objective, 20, &got);
  shrink_lasso_fit_get(fit, SHRINK_FIT_DUALITY_GAP, gap, 20, &got);
  shrink_lasso_fit_get(fit, SHRINK_FIT_NNZ, nnz, 20, &got);
  shrink_lasso_fit_coefficients(fit, count - 1, coef, P);
  for (int64_t l = 0; l < count; ++l)
    printf("%.17e %.17e %.17e %d\n", lambdas[l], objective[l], gap[l], (int)nnz[l]);
  for (int j = 0; j < P; ++j) printf("%.17e\n", coef[j]);

  /* A mistake gets its status and a message that names the argument. */
  const shrink_vector_t short_y = {SHRINK_F64, SHRINK_MEMORY_HOST, N - 1, y};
  shrink_lasso_fit_t none;
  s = shrink_lasso_path(ctx, &xv, &short_y, &opts, &none);
  fprintf(stderr, "a short y: %s: %s\n", shrink_status_string(s), shrink_last_error_message());
  shrink_lasso_fit_destroy(fit);
  shrink_context_destroy(ctx);
  return s == SHRINK_STATUS_DIMENSION_MISMATCH ? 0 : 1;
}
