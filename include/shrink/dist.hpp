// Shrink across processes with MPI (the shrink::dist library; find_package(Shrink COMPONENTS MPI)).
//
// Rows are split: each rank passes its own contiguous block of rows of X and y (dense, CSR or CSC,
// weights too), in rank order, nothing shuffled; the options, penalty factors and lambda grid are
// replicated. Every call is collective over the caller's communicator, and the library never calls
// MPI_Init. Inputs are validated on each rank, then the ranks agree on the outcome before any data
// moves: a NaN or a malformed matrix on one rank throws the same error (kind and message, naming the
// rank) on every rank, never a hang.
//
// Every rank returns the same result: the coefficients are replicated bit for bit (the first rank's
// iterate is broadcast where the reductions could differ), and the certificate is the duality gap of
// the whole problem, computed from one allreduce of X^T W r and three scalars.
#pragma once
#include <mpi.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "shrink/batch_lasso.hpp"
#include "shrink/lasso.hpp"
#include "shrink/matrix.hpp"

namespace shrink::dist {

// The global rows [begin, end) a rank holds.
struct RowRange {
  index_t begin = 0, end = 0;
  index_t size() const noexcept { return end - begin; }
};

// Whether this process can sum device buffers with NCCL: built with SHRINK_NCCL, and libnccl.so.2
// loads (it is opened at run time, not linked). On a CUDA context with one rank per GPU the solvers'
// per-iteration sums then go between the devices on the context's stream; otherwise (no NCCL, ranks
// sharing a GPU, or SHRINK_NCCL=0 in the environment) they are staged through the host and MPI, with
// the same results to rounding.
bool nccl_available() noexcept;

// Every rank's range in rank order, from each rank's row count (one allgather).
std::vector<RowRange> row_ranges(MPI_Comm comm, index_t local_rows);
// `total` rows split as evenly as possible (the first total % ranks ranks get one more).
std::vector<RowRange> even_ranges(index_t total, int ranks);

// Runs `local` (work with no collectives in it, such as reading this rank's part of a file), then
// agrees: when it threw on any rank, every rank throws the error of the lowest such rank (its kind,
// and its message prefixed with "rank R: "). One allreduce when all went well.
void agree_on_errors(MPI_Comm comm, const std::function<void()>& local);

// What one call sent through the communicator, for tests and tuning: the element count of every
// sum (allreduce), max and broadcast it ran, in order, and the bytes each rank contributed.
struct CommCounts {
  std::vector<std::int64_t> sums, maxima, broadcasts;
  std::int64_t other_collectives = 0;  // agreement, allgathers, neighbourhood exchanges
  std::int64_t bytes = 0;
  // Device buffers were summed between GPUs with NCCL (a CUDA context, SHRINK_NCCL built, one rank
  // per device); false: they were staged through the host.
  bool device_transport = false;
  // One-int allreduces inside a solver that let an error on one rank reach the others (one before
  // each sum, max and broadcast above, and one at the end); not counted in collectives().
  std::int64_t status_checks = 0;
  std::int64_t collectives() const noexcept {
    return static_cast<std::int64_t>(sums.size() + maxima.size() + broadcasts.size()) + other_collectives;
  }
};

// ---- Lasso / Elastic-Net path -----------------------------------------------------------------------
// The path of lasso.hpp over the rows of every rank. options.sample_weights holds this rank's rows'
// weights. Solvers: auto (gram for a dense X with n_total >> p: G summed once; else ws-gram), gram,
// ws-gram (one allreduce of p + 2 numbers and one of a k x k block per outer iteration, one broadcast
// of k coefficients) and fista (one allreduce per step; the reference). cd does not run split.
// LassoFit::n_samples is the total over ranks. `counts`, when given, receives this call's traffic.
template <class V>
LassoPath lasso_path(const Context& ctx, MPI_Comm comm, DenseView<const V> x, VectorView<const V> y,
                     const LassoOptions& options = {}, CommCounts* counts = nullptr);
template <class V, class I>
LassoPath lasso_path(const Context& ctx, MPI_Comm comm, const CsrView<V, I>& x, VectorView<const V> y,
                     const LassoOptions& options = {}, CommCounts* counts = nullptr);
template <class V, class I>
LassoPath lasso_path(const Context& ctx, MPI_Comm comm, const CscView<V, I>& x, VectorView<const V> y,
                     const LassoOptions& options = {}, CommCounts* counts = nullptr);

// K-fold cross-validation over the path's grid, then the refit on all the rows (lasso.hpp's
// lasso_cv): the folds are the serial lasso_cv's, by global row (cv.fold_of_sample, when given,
// holds every row's fold over all ranks), each fold's test rows weigh 0 in its fit, and the errors
// are summed over the ranks. Every rank returns the same result.
template <class V>
LassoCv lasso_cv(const Context& ctx, MPI_Comm comm, DenseView<const V> x, VectorView<const V> y,
                 const LassoOptions& options = {}, const CrossValidationOptions& cv = {});
template <class V, class I>
LassoCv lasso_cv(const Context& ctx, MPI_Comm comm, const CsrView<V, I>& x, VectorView<const V> y,
                 const LassoOptions& options = {}, const CrossValidationOptions& cv = {});

// ---- batched fits -------------------------------------------------------------------------------------
// The problems are split: every rank passes the whole batch (X and all k responses, or all strided
// problems), fits its contiguous share of the problems, and every rank returns every answer in
// problem order, equal to the single-process lasso_batch's.
template <class V>
BatchLassoResult lasso_batch(const Context& ctx, MPI_Comm comm, DenseView<const V> x, DenseView<const V> y,
                             const BatchLassoOptions& options = {});
template <class V, class I>
BatchLassoResult lasso_batch(const Context& ctx, MPI_Comm comm, const CsrView<V, I>& x, DenseView<const V> y,
                             const BatchLassoOptions& options = {});
template <class V>
BatchLassoResult lasso_batch(const Context& ctx, MPI_Comm comm, const StridedBatch<V>& batch,
                             const BatchLassoOptions& options = {});
// Rank r fits problems even_ranges(k, ranks)[r]; lambdas, when given per problem, are sliced.

// ---- distributed SpMV ------------------------------------------------------------------------------------
// y = A x and y = A^T x for an n x m CSR matrix whose rows are split over the ranks (each rank passes
// its rows with global column indices). x and y are split too: A x reads x split by `column_ranges`
// (default: the row ranges when the matrix is square, else even_ranges(m)) and writes this rank's
// rows; A^T x reads this rank's rows and writes its column range.
//   - The plan is built once: the ghost entries of x each rank needs, and a graph communicator over
//     the ranks that exchange them (MPI neighbourhood collectives).
//   - Rows that touch only owned columns are computed while the ghosts are in flight.
//   - Every row sums its entries in their stored order, so A x is deterministic and equals the
//     serial product bit for bit; A^T x adds the ranks' contributions in rank order (deterministic
//     for a given number of ranks).
// Host memory, on the CPU; the matrix's arrays must outlive the object.
template <class V, class I>
class DistributedCsr {
 public:
  DistributedCsr(MPI_Comm comm, const CsrView<V, I>& local_rows, index_t global_cols,
                 std::vector<RowRange> column_ranges = {});
  ~DistributedCsr();
  DistributedCsr(const DistributedCsr&) = delete;
  DistributedCsr& operator=(const DistributedCsr&) = delete;

  void multiply(const V* x_local, V* y_local) const;            // y (local rows) = A x
  void multiply_transpose(const V* x_local, V* y_local) const;  // y (local columns) = A^T x

  const std::vector<RowRange>& rows() const noexcept { return rows_; }
  const std::vector<RowRange>& columns() const noexcept { return cols_; }
  index_t ghosts() const noexcept { return static_cast<index_t>(ghost_cols_.size()); }
  int neighbours() const noexcept { return static_cast<int>(recv_from_.size()); }
  index_t interior_rows() const noexcept { return static_cast<index_t>(interior_.size()); }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL, forward_ = MPI_COMM_NULL, backward_ = MPI_COMM_NULL;
  int rank_ = 0;
  std::vector<RowRange> rows_, cols_;
  index_t local_cols_ = 0;
  // The local block with columns renumbered: owned columns 0 .. local_cols_-1, ghosts after them.
  std::vector<std::int64_t> row_ptr_;
  std::vector<std::int64_t> col_;
  const V* values_ = nullptr;
  std::vector<index_t> interior_, boundary_;
  std::vector<index_t> ghost_cols_;  // global index of each ghost, grouped by owner in rank order
  std::vector<int> recv_from_, recv_counts_, recv_displs_;  // ghosts by owner
  std::vector<int> send_to_, send_counts_, send_displs_;    // entries others need from us
  std::vector<index_t> send_index_;                         // local column of each entry sent
};

}  // namespace shrink::dist
