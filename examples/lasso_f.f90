! The Lasso path of examples/lasso_c.c, from Fortran through the shrink_f module (compile
! include/shrink/shrink_f.f90 with it and link shrink::shrink_c). It prints the same lines as the C
! example.
program lasso_f
  use iso_c_binding
  use shrink_f
  implicit none
  integer, parameter :: n = 60, p = 12
  real(c_double), target :: x(n, p), y(n), values(20), objective(20), gap(20), nnz(20), coef(p)
  type(shrink_context_options_t) :: copts
  type(shrink_lasso_options_t) :: opts
  type(c_ptr) :: ctx, fit
  integer(c_int) :: s
  integer(c_int64_t) :: count, features, got, l
  integer :: i, j

  do j = 0, p - 1
    do i = 0, n - 1
      x(i + 1, j + 1) = real(modulo(i * 7 + j * 13 + modulo(i * j, 5), 17) - 8, c_double) / 4.0_c_double
    end do
  end do
  do i = 0, n - 1
    y(i + 1) = 2.0_c_double * x(i + 1, 1) - 1.0_c_double * x(i + 1, 4) + 0.5_c_double * x(i + 1, 6) &
               + real(modulo(i * 3, 7) - 3, c_double) / 8.0_c_double
  end do

  s = shrink_context_options_init(copts, c_sizeof(copts))
  copts%backend = SHRINK_BACKEND_CPU
  s = shrink_context_create(copts, ctx)
  if (s /= SHRINK_STATUS_SUCCESS) then
    write(0, *) 'shrink_context_create: ', shrink_status_name(s), ': ', shrink_message()
    stop 1
  end if
  s = shrink_lasso_options_init(opts, c_sizeof(opts))
  opts%n_lambdas = 20
  opts%tol = 1e-10_c_double
  s = shrink_lasso_path(ctx, shrink_dense_f64(x), shrink_vector_f64(y), opts, fit)
  if (s /= SHRINK_STATUS_SUCCESS) then
    write(0, *) 'shrink_lasso_path: ', shrink_status_name(s), ': ', shrink_message()
    stop 1
  end if
  s = shrink_lasso_fit_size(fit, count, features)
  s = shrink_lasso_fit_get(fit, SHRINK_FIT_LAMBDAS, values, 20_c_int64_t, got)
  s = shrink_lasso_fit_get(fit, SHRINK_FIT_OBJECTIVE, objective, 20_c_int64_t, got)
  s = shrink_lasso_fit_get(fit, SHRINK_FIT_DUALITY_GAP, gap, 20_c_int64_t, got)
  s = shrink_lasso_fit_get(fit, SHRINK_FIT_NNZ, nnz, 20_c_int64_t, got)
  s = shrink_lasso_fit_coefficients(fit, count - 1, coef, int(p, c_int64_t))
  do l = 1, count
    write(*, '(ES24.17E2, 1X, ES24.17E2, 1X, ES24.17E2, 1X, I0)') values(l), objective(l), gap(l), int(nnz(l))
  end do
  do j = 1, p
    write(*, '(ES24.17E2)') coef(j)
  end do
  call shrink_lasso_fit_destroy(fit)
  call shrink_context_destroy(ctx)
end program lasso_f
