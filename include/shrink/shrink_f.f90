! Fortran bindings of the C face (shrink.h) through iso_c_binding. Compile this file with your
! program and link shrink::shrink_c. Fortran arrays are column-major: pass them as SHRINK_COL_MAJOR
! dense views, with ld = the leading dimension. Every function returns the C status (0: success);
! shrink_message() gives this thread's message after a failure.
module shrink_f
  use iso_c_binding
  implicit none
  private

  ! ---- status codes (shrink_status_t) ----
  integer(c_int), parameter, public :: SHRINK_STATUS_SUCCESS = 0, SHRINK_STATUS_INVALID_ARGUMENT = 1, &
      SHRINK_STATUS_DIMENSION_MISMATCH = 2, SHRINK_STATUS_INDEX_OUT_OF_RANGE = 3, &
      SHRINK_STATUS_INVALID_STRUCTURE = 4, SHRINK_STATUS_NON_FINITE = 5, SHRINK_STATUS_INDEX_OVERFLOW = 6, &
      SHRINK_STATUS_PARSE_ERROR = 7, SHRINK_STATUS_IO_ERROR = 8, SHRINK_STATUS_OUT_OF_MEMORY = 9, &
      SHRINK_STATUS_CUDA_ERROR = 10, SHRINK_STATUS_NOT_COMPILED = 11, SHRINK_STATUS_NO_DEVICE = 12, &
      SHRINK_STATUS_INTERNAL_ERROR = 13, SHRINK_STATUS_STORAGE_ERROR = 14
  ! ---- enums ----
  integer(c_int), parameter, public :: SHRINK_BACKEND_AUTO = 0, SHRINK_BACKEND_CPU = 1, SHRINK_BACKEND_CUDA = 2
  integer(c_int), parameter, public :: SHRINK_MEMORY_HOST = 0, SHRINK_MEMORY_DEVICE = 1
  integer(c_int), parameter, public :: SHRINK_F32 = 0, SHRINK_F64 = 1
  integer(c_int), parameter, public :: SHRINK_I32 = 0, SHRINK_I64 = 1
  integer(c_int), parameter, public :: SHRINK_ROW_MAJOR = 0, SHRINK_COL_MAJOR = 1
  integer(c_int), parameter, public :: SHRINK_CSR = 0, SHRINK_CSC = 1
  integer(c_int), parameter, public :: SHRINK_OP_N = 0, SHRINK_OP_T = 1
  integer(c_int), parameter, public :: SHRINK_SOLVER_AUTO = 0, SHRINK_SOLVER_CD = 1, SHRINK_SOLVER_GRAM = 2, &
      SHRINK_SOLVER_FISTA = 3, SHRINK_SOLVER_WS_GRAM = 4
  integer(c_int), parameter, public :: SHRINK_FIT_LAMBDAS = 0, SHRINK_FIT_LAMBDA_MAX = 1, SHRINK_FIT_INTERCEPTS = 2, &
      SHRINK_FIT_OBJECTIVE = 3, SHRINK_FIT_DUALITY_GAP = 4, SHRINK_FIT_ITERATIONS = 5, SHRINK_FIT_NNZ = 6, &
      SHRINK_FIT_CONVERGED = 7, SHRINK_FIT_CV_MEAN = 8, SHRINK_FIT_CV_SE = 9

  ! ---- the C structs, field for field ----
  type, bind(C), public :: shrink_context_options_t
    integer(c_size_t) :: struct_size
    integer(c_int) :: backend, device, cpu_threads, deterministic, honour_environment
  end type

  type, bind(C), public :: shrink_vector_t
    integer(c_int) :: dtype, memory
    integer(c_int64_t) :: size
    type(c_ptr) :: data
  end type

  type, bind(C), public :: shrink_dense_t
    integer(c_int) :: dtype, memory, layout
    integer(c_int64_t) :: rows, cols, ld
    type(c_ptr) :: data
  end type

  type, bind(C), public :: shrink_sparse_t
    integer(c_int) :: format, dtype, itype, memory
    integer(c_int64_t) :: rows, cols, nnz
    type(c_ptr) :: ptr, idx, values
  end type

  type, bind(C), public :: shrink_lasso_options_t
    integer(c_size_t) :: struct_size
    real(c_double) :: l1_ratio
    integer(c_int) :: fit_intercept, standardize, positive
    type(c_ptr) :: penalty_factors
    integer(c_int64_t) :: n_penalty_factors
    type(c_ptr) :: sample_weights
    integer(c_int64_t) :: n_sample_weights
    type(c_ptr) :: lambdas
    integer(c_int64_t) :: n_given_lambdas
    integer(c_int) :: n_lambdas
    real(c_double) :: lambda_min_ratio, tol
    integer(c_int64_t) :: max_iter
    integer(c_int) :: solver, screening
    integer(c_int64_t) :: max_working_set
    integer(c_int) :: cv_folds
    integer(c_int64_t) :: cv_seed
  end type

  public :: shrink_message, shrink_status_name, shrink_dense_f64, shrink_vector_f64
  public :: shrink_context_options_init, shrink_context_create, shrink_context_destroy
  public :: shrink_spmv, shrink_lasso_options_init, shrink_lasso_path, shrink_lasso_cv
  public :: shrink_lasso_fit_size, shrink_lasso_fit_get, shrink_lasso_fit_coefficients
  public :: shrink_lasso_fit_cv_choice, shrink_lasso_fit_destroy, shrink_get_version

  interface
    function c_status_string(status) bind(C, name="shrink_status_string") result(p)
      import :: c_int, c_ptr
      integer(c_int), value :: status
      type(c_ptr) :: p
    end function
    function c_last_error_message() bind(C, name="shrink_last_error_message") result(p)
      import :: c_ptr
      type(c_ptr) :: p
    end function
    subroutine shrink_get_version(major, minor, patch) bind(C, name="shrink_get_version")
      import :: c_int
      integer(c_int) :: major, minor, patch
    end subroutine

    function shrink_context_options_init(options, struct_size) bind(C, name="shrink_context_options_init") result(s)
      import :: c_int, c_size_t, shrink_context_options_t
      type(shrink_context_options_t) :: options
      integer(c_size_t), value :: struct_size
      integer(c_int) :: s
    end function
    function shrink_context_create(options, context) bind(C, name="shrink_context_create") result(s)
      import :: c_int, c_ptr, shrink_context_options_t
      type(shrink_context_options_t), intent(in) :: options
      type(c_ptr) :: context
      integer(c_int) :: s
    end function
    subroutine shrink_context_destroy(context) bind(C, name="shrink_context_destroy")
      import :: c_ptr
      type(c_ptr), value :: context
    end subroutine

    function shrink_spmv(context, op, alpha, a, x, beta, y) bind(C, name="shrink_spmv") result(s)
      import :: c_int, c_ptr, c_double, shrink_sparse_t, shrink_vector_t
      type(c_ptr), value :: context
      integer(c_int), value :: op
      real(c_double), value :: alpha, beta
      type(shrink_sparse_t), intent(in) :: a
      type(shrink_vector_t), intent(in) :: x
      type(shrink_vector_t) :: y
      integer(c_int) :: s
    end function

    function shrink_lasso_options_init(options, struct_size) bind(C, name="shrink_lasso_options_init") result(s)
      import :: c_int, c_size_t, shrink_lasso_options_t
      type(shrink_lasso_options_t) :: options
      integer(c_size_t), value :: struct_size
      integer(c_int) :: s
    end function
    function shrink_lasso_path(context, x, y, options, fit) bind(C, name="shrink_lasso_path") result(s)
      import :: c_int, c_ptr, shrink_dense_t, shrink_vector_t, shrink_lasso_options_t
      type(c_ptr), value :: context
      type(shrink_dense_t), intent(in) :: x
      type(shrink_vector_t), intent(in) :: y
      type(shrink_lasso_options_t), intent(in) :: options
      type(c_ptr) :: fit
      integer(c_int) :: s
    end function
    function shrink_lasso_cv(context, x, y, options, fit) bind(C, name="shrink_lasso_cv") result(s)
      import :: c_int, c_ptr, shrink_dense_t, shrink_vector_t, shrink_lasso_options_t
      type(c_ptr), value :: context
      type(shrink_dense_t), intent(in) :: x
      type(shrink_vector_t), intent(in) :: y
      type(shrink_lasso_options_t), intent(in) :: options
      type(c_ptr) :: fit
      integer(c_int) :: s
    end function
    function shrink_lasso_fit_size(fit, solutions, features) bind(C, name="shrink_lasso_fit_size") result(s)
      import :: c_int, c_ptr, c_int64_t
      type(c_ptr), value :: fit
      integer(c_int64_t) :: solutions, features
      integer(c_int) :: s
    end function
    function shrink_lasso_fit_get(fit, field, out, capacity, count) bind(C, name="shrink_lasso_fit_get") result(s)
      import :: c_int, c_ptr, c_int64_t, c_double
      type(c_ptr), value :: fit
      integer(c_int), value :: field
      real(c_double) :: out(*)
      integer(c_int64_t), value :: capacity
      integer(c_int64_t) :: count
      integer(c_int) :: s
    end function
    function shrink_lasso_fit_coefficients(fit, l, out, capacity) bind(C, name="shrink_lasso_fit_coefficients") result(s)
      import :: c_int, c_ptr, c_int64_t, c_double
      type(c_ptr), value :: fit
      integer(c_int64_t), value :: l
      real(c_double) :: out(*)
      integer(c_int64_t), value :: capacity
      integer(c_int) :: s
    end function
    function shrink_lasso_fit_cv_choice(fit, index_min, index_1se) bind(C, name="shrink_lasso_fit_cv_choice") result(s)
      import :: c_int, c_ptr, c_int64_t
      type(c_ptr), value :: fit
      integer(c_int64_t) :: index_min, index_1se
      integer(c_int) :: s
    end function
    subroutine shrink_lasso_fit_destroy(fit) bind(C, name="shrink_lasso_fit_destroy")
      import :: c_ptr
      type(c_ptr), value :: fit
    end subroutine

    function c_strlen(p) bind(C, name="strlen") result(n)
      import :: c_ptr, c_size_t
      type(c_ptr), value :: p
      integer(c_size_t) :: n
    end function
  end interface

contains

  ! A C string as a Fortran string.
  function from_c(p) result(text)
    type(c_ptr), intent(in) :: p
    character(len=:), allocatable :: text
    character(kind=c_char), pointer :: chars(:)
    integer :: i, n
    n = int(c_strlen(p))
    call c_f_pointer(p, chars, [n])
    allocate(character(len=n) :: text)
    do i = 1, n
      text(i:i) = chars(i)
    end do
  end function

  ! This thread's message after a failed call.
  function shrink_message() result(text)
    character(len=:), allocatable :: text
    text = from_c(c_last_error_message())
  end function

  ! The status code's name.
  function shrink_status_name(status) result(text)
    integer(c_int), intent(in) :: status
    character(len=:), allocatable :: text
    text = from_c(c_status_string(status))
  end function

  ! A host view of a Fortran real(c_double) matrix (column-major, ld = its first extent).
  function shrink_dense_f64(a) result(v)
    real(c_double), target, contiguous, intent(in) :: a(:, :)
    type(shrink_dense_t) :: v
    v%dtype = SHRINK_F64
    v%memory = SHRINK_MEMORY_HOST
    v%layout = SHRINK_COL_MAJOR
    v%rows = size(a, 1)
    v%cols = size(a, 2)
    v%ld = max(1, size(a, 1))
    v%data = c_loc(a)
  end function

  ! A host view of a Fortran real(c_double) vector.
  function shrink_vector_f64(a) result(v)
    real(c_double), target, contiguous, intent(in) :: a(:)
    type(shrink_vector_t) :: v
    v%dtype = SHRINK_F64
    v%memory = SHRINK_MEMORY_HOST
    v%size = size(a)
    v%data = c_loc(a)
  end function

end module shrink_f
