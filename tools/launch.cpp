// The program's MPI session (launch.hpp).
#include "tools/launch.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#if SHRINK_CLI_MPI
#include <mpi.h>
#endif

namespace shrink::cli {

namespace {
Ranks g_ranks;

// The number of ranks a launcher announced, or 1.
int launched_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_NTASKS"}) {
    const char* v = std::getenv(name);
    if (v && std::atoi(v) > 1) return std::atoi(v);
  }
  return 1;
}
}  // namespace

const Ranks& ranks() noexcept { return g_ranks; }

MpiSession::MpiSession(int& argc, char**& argv) {
  if (launched_size() <= 1) return;
#if SHRINK_CLI_MPI
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  started_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &g_ranks.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_ranks.size);
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"})
    if (const char* v = std::getenv(name)) {
      g_ranks.local = std::atoi(v);
      break;
    }
  if (g_ranks.rank != 0) {  // rank 0 speaks for all
    const int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) {
      std::fflush(stdout);
      std::fflush(stderr);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::close(null);
    }
  }
#else
  (void)argc;
  (void)argv;
  std::fprintf(stderr, "shrink: note: started by an MPI launcher, but this build has no MPI (SHRINK_MPI=OFF): "
                       "every rank runs the whole command alone\n");
#endif
}

MpiSession::~MpiSession() {
#if SHRINK_CLI_MPI
  if (started_) MPI_Finalize();
#endif
}

int MpiSession::exit_code(int mine) const {
#if SHRINK_CLI_MPI
  if (started_) {
    int worst = mine;
    MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return worst;
  }
#endif
  return mine;
}

}  // namespace shrink::cli
