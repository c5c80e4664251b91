// MPI for the program, only when an MPI launcher started it (mpirun, mpiexec, srun) with more than
// one rank: plain runs and the tests never touch MPI, and a build without MPI runs everything else.
#pragma once

namespace shrink::cli {

struct Ranks {
  int rank = 0, size = 1;
  int local = 0;  // the rank among those on this machine (from the launcher): picks its GPU
  bool distributed() const noexcept { return size > 1; }
  bool first() const noexcept { return rank == 0; }
};

// Set by MpiSession; {0, 1} otherwise.
const Ranks& ranks() noexcept;

// Initializes MPI when a launcher's environment says there are several ranks (OMPI_COMM_WORLD_SIZE,
// PMI_SIZE, PMIX_SIZE or SLURM_NTASKS, with MPI built in), silences the standard streams of ranks
// other than 0 (every rank agrees on errors, and rank 0 reports them), and finalizes on exit.
class MpiSession {
 public:
  MpiSession(int& argc, char**& argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  // The exit code every rank returns: the largest over the ranks.
  int exit_code(int mine) const;

 private:
  bool started_ = false;
};

}  // namespace shrink::cli
