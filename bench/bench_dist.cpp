// Timing of the distributed Lasso path (shrink::dist) on a sparse problem whose rows each rank
// generates itself from the row's index, so the global problem does not depend on the split:
//   mpiexec -n R shrink_dist_bench [--rows N] [--cols P] [--per-row K] [--lambdas L] [--repeats T]
//                                  [--weak] [--serial]
// --weak: N rows per rank (weak scaling) instead of N in all. --serial (one rank): also times the
// serial lasso_path with the same solver, for the one-rank overhead, and with its default solver. Prints one JSON line (rank 0):
// seconds (median), outer iterations (sums of the certificate's p + 2 numbers), seconds per outer
// iteration, bytes sent, and the serial time when asked. Not a Google Benchmark: every rank must run
// the same number of iterations, which the MPI collectives inside require.
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "shrink/dist.hpp"
#include "shrink/lasso.hpp"

namespace {

std::uint64_t mix(std::uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
double unit(std::uint64_t z) { return static_cast<double>(mix(z) >> 11) * 0x1.0p-53; }

struct Rows {
  std::vector<std::int64_t> ptr{0}, col;
  std::vector<double> val, y;
};

// Rows [begin, end): K entries each in distinct columns (a quarter of them among the first P/100
// columns, so some columns are dense), y = X b + noise with about 60 true features.
Rows make_rows(std::int64_t begin, std::int64_t end, std::int64_t p, int k) {
  Rows r;
  std::vector<std::int64_t> cols;
  for (std::int64_t i = begin; i < end; ++i) {
    cols.clear();
    for (int t = 0; t < k; ++t) {
      const std::uint64_t h = mix(static_cast<std::uint64_t>(i) * 1000003u + static_cast<std::uint64_t>(t));
      const std::int64_t range = t % 4 == 0 ? std::max<std::int64_t>(p / 100, 1) : p;
      cols.push_back(static_cast<std::int64_t>(h % static_cast<std::uint64_t>(range)));
    }
    std::sort(cols.begin(), cols.end());
    cols.erase(std::unique(cols.begin(), cols.end()), cols.end());
    double yi = 0.5 * (unit(static_cast<std::uint64_t>(i) ^ 0xABCDEFull) - 0.5);
    for (const auto j : cols) {
      const double v = 1.0 + unit(static_cast<std::uint64_t>(i) * 31 + static_cast<std::uint64_t>(j));
      r.col.push_back(j);
      r.val.push_back(v);
      if (j % (p / 40 + 1) == 0 || (j < p / 100 && j % 5 == 0)) yi += (j % 2 ? 1.0 : -1.0) * v;  // the true features
    }
    r.ptr.push_back(static_cast<std::int64_t>(r.col.size()));
    r.y.push_back(yi);
  }
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  shrink::rerun_with_better_blas(argv);  // before MPI_Init: the library's figures, not generic BLAS kernels'
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  std::int64_t n = 200000, p = 20000;
  int per_row = 20, lambdas = 20, repeats = 3;
  bool weak = false, serial = false;
  for (int a = 1; a < argc; ++a) {
    const std::string s = argv[a];
    auto next = [&] { return a + 1 < argc ? std::atoll(argv[++a]) : 0; };
    if (s == "--rows") n = next();
    else if (s == "--cols") p = next();
    else if (s == "--per-row") per_row = static_cast<int>(next());
    else if (s == "--lambdas") lambdas = static_cast<int>(next());
    else if (s == "--repeats") repeats = static_cast<int>(next());
    else if (s == "--weak") weak = true;
    else if (s == "--serial") serial = true;
  }
  const std::int64_t total = weak ? n * size : n;
  const auto range = shrink::dist::even_ranges(total, size)[rank];
  const Rows rows = make_rows(range.begin, range.end, p, per_row);
  const shrink::CsrView<double, std::int64_t> x(range.size(), p, static_cast<shrink::index_t>(rows.val.size()),
                                                rows.ptr.data(), rows.col.data(), rows.val.data());
  const shrink::Context ctx(shrink::ContextOptions{shrink::Backend::Cpu});
  shrink::LassoOptions o;
  o.n_lambdas = lambdas;
  o.lambda_min_ratio = 0.01;
  o.solver = shrink::LassoSolver::WorkingSetGram;
  std::vector<double> times;
  shrink::dist::CommCounts counts;
  shrink::LassoPath path;
  for (int t = 0; t < repeats; ++t) {
    counts = {};
    MPI_Barrier(MPI_COMM_WORLD);
    const auto start = std::chrono::steady_clock::now();
    path = shrink::dist::lasso_path(ctx, MPI_COMM_WORLD, x, shrink::VectorView<const double>(rows.y), o, &counts);
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  double serial_s = 0, serial_auto_s = 0;
  if (serial && size == 1) {
    std::vector<double> st;
    for (int t = 0; t < repeats; ++t) {
      const auto start = std::chrono::steady_clock::now();
      shrink::lasso_path(ctx, x, shrink::VectorView<const double>(rows.y), o);
      st.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    serial_s = median(st);
    st.clear();
    auto best = o;
    best.solver = shrink::LassoSolver::Auto;  // the serial default (coordinate descent here), for scale
    for (int t = 0; t < repeats; ++t) {
      const auto start = std::chrono::steady_clock::now();
      shrink::lasso_path(ctx, x, shrink::VectorView<const double>(rows.y), best);
      st.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    serial_auto_s = median(st);
  }
  std::int64_t outer = 0;
  for (const auto s : counts.sums)
    if (s == p + 2) ++outer;
  std::int64_t nnz = static_cast<std::int64_t>(rows.val.size());
  MPI_Allreduce(MPI_IN_PLACE, &nnz, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
  if (rank == 0) {
    const double s = median(times);
    std::printf("{\"ranks\": %d, \"threads_per_rank\": %d, \"rows\": %lld, \"cols\": %lld, \"nnz\": %lld, "
                "\"lambdas\": %d, \"seconds\": %.4f, \"outer_iterations\": %lld, \"seconds_per_outer\": %.6f, "
                "\"bytes_per_rank\": %lld, \"converged\": %s, \"last_nnz\": %lld",
                size, ctx.cpu_threads(), static_cast<long long>(total), static_cast<long long>(p),
                static_cast<long long>(nnz), lambdas, s, static_cast<long long>(outer), outer ? s / outer : 0.0,
                static_cast<long long>(counts.bytes), path.all_converged() ? "true" : "false",
                static_cast<long long>(path.nnz.back()));
    if (serial_s > 0)
      std::printf(", \"serial_seconds\": %.4f, \"overhead\": %.4f, \"serial_auto_seconds\": %.4f", serial_s,
                  s / serial_s - 1, serial_auto_s);
    std::printf("}\n");
  }
  MPI_Finalize();
  return 0;
}
