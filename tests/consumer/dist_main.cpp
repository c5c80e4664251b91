// An MPI application linking shrink::dist from the installed package (built, not run: the MPI
// suite runs the library under mpiexec).
#include <mpi.h>
#include <shrink/dist.hpp>

#include <cstdio>
#include <vector>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  const shrink::Context ctx(shrink::ContextOptions{shrink::Backend::Cpu});
  const std::vector<double> x{1, 2, 3, 4, 5, 6}, y{1, 0, 2};
  const auto path = shrink::dist::lasso_path<double>(
      ctx, MPI_COMM_WORLD, shrink::DenseView<const double>(x.data(), 3, 2, 3, shrink::Layout::ColMajor),
      shrink::VectorView<const double>(y));
  std::printf("%zu solutions\n", path.size());
  MPI_Finalize();
  return 0;
}
