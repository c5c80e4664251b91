// Device buffers summed between GPUs with NCCL (comm.hpp's DeviceCollectives), loaded at run time.
// Compiled to a null transport when SHRINK_NCCL is off: the solvers then stage device buffers through
// the host.
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "host/dist/comm.hpp"
#include "shrink/error.hpp"

#ifndef SHRINK_WITH_NCCL
#define SHRINK_WITH_NCCL 0
#endif

#if SHRINK_WITH_NCCL
#include <cuda_runtime.h>
#include <dlfcn.h>
#include <nccl.h>
#include <unistd.h>
#endif

namespace shrink::dist::detail {

#if SHRINK_WITH_NCCL
namespace {

// NCCL is loaded when first wanted (dlopen), not linked: its library is some 200 MB, optional at run
// time, and a machine without it runs host-staged. nccl.h gives the types; these are its functions.
struct NcclApi {
  decltype(&ncclGetUniqueId) get_unique_id = nullptr;
  decltype(&ncclCommInitRank) comm_init_rank = nullptr;
  decltype(&ncclCommDestroy) comm_destroy = nullptr;
  decltype(&ncclAllReduce) all_reduce = nullptr;
  decltype(&ncclBroadcast) broadcast = nullptr;
  decltype(&ncclGroupStart) group_start = nullptr;
  decltype(&ncclGroupEnd) group_end = nullptr;
  decltype(&ncclGetErrorString) error_string = nullptr;
  bool loaded = false;
};

const NcclApi& nccl() {
  static const NcclApi api = [] {
    NcclApi a;
    void* lib = dlopen("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!lib) lib = dlopen("libnccl.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib) return a;
    auto get = [&](auto& fn, const char* name) { fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, name)); };
    get(a.get_unique_id, "ncclGetUniqueId");
    get(a.comm_init_rank, "ncclCommInitRank");
    get(a.comm_destroy, "ncclCommDestroy");
    get(a.all_reduce, "ncclAllReduce");
    get(a.broadcast, "ncclBroadcast");
    get(a.group_start, "ncclGroupStart");
    get(a.group_end, "ncclGroupEnd");
    get(a.error_string, "ncclGetErrorString");
    a.loaded = a.get_unique_id && a.comm_init_rank && a.comm_destroy && a.all_reduce && a.broadcast && a.group_start &&
               a.group_end && a.error_string;
    return a;  // the library stays loaded for the process
  }();
  return api;
}

void check_nccl(ncclResult_t result, const char* what) {
  if (result != ncclSuccess) throw CudaError(std::string("NCCL ") + what + ": " + nccl().error_string(result));
}

ncclDataType_t nccl_type(const lasso_detail::RowSplit::DeviceValues& b) { return b.is_double ? ncclDouble : ncclFloat; }
std::int64_t bytes_of(const lasso_detail::RowSplit::DeviceValues& b) {
  return static_cast<std::int64_t>(b.count * (b.is_double ? sizeof(double) : sizeof(float)));
}

class NcclCollectives final : public DeviceCollectives {
 public:
  NcclCollectives(const Comm& comm, ncclComm_t nccl, cudaStream_t stream) : comm_(comm), nccl_(nccl), stream_(stream) {}
  ~NcclCollectives() override { nccl().comm_destroy(nccl_); }

  void sum(std::initializer_list<lasso_detail::RowSplit::DeviceValues> buffers) const override {
    comm_.check_peers();
    std::int64_t count = 0, bytes = 0;
    check_nccl(nccl().group_start(), "group start");
    for (const auto& b : buffers) {
      check_nccl(nccl().all_reduce(b.data, b.data, b.count, nccl_type(b), ncclSum, nccl_, stream_), "allreduce");
      count += static_cast<std::int64_t>(b.count);
      bytes += bytes_of(b);
    }
    check_nccl(nccl().group_end(), "group end");
    comm_.count_sum(count, bytes);
  }
  void broadcast(lasso_detail::RowSplit::DeviceValues b) const override {
    comm_.check_peers();
    check_nccl(nccl().broadcast(b.data, b.data, b.count, nccl_type(b), 0, nccl_, stream_), "broadcast");
    comm_.count_broadcast(static_cast<std::int64_t>(b.count), bytes_of(b));
  }

 private:
  const Comm& comm_;
  ncclComm_t nccl_;
  cudaStream_t stream_;
};

// "host/PCI bus id" of this rank's device, fixed width for one allgather.
constexpr int kPlaceBytes = 192;
std::vector<char> device_place(int device) {
  std::vector<char> place(kPlaceBytes, '\0');
  char host[96] = {}, bus[64] = {};
  gethostname(host, sizeof(host) - 1);
  if (cudaDeviceGetPCIBusId(bus, sizeof(bus), device) != cudaSuccess) {
    cudaGetLastError();
    std::snprintf(bus, sizeof(bus), "device %d", device);
  }
  std::snprintf(place.data(), place.size(), "%s/%s", host, bus);
  return place;
}

}  // namespace

std::unique_ptr<DeviceCollectives> DeviceCollectives::open(const Comm& comm, const Context& ctx) {
  // Every test below is decided from collective values, so every rank takes the same branch.
  int usable = ctx.backend() == Backend::Cuda && nccl().loaded ? 1 : 0;
  if (const char* env = std::getenv("SHRINK_NCCL"); env && std::strcmp(env, "0") == 0) usable = 0;
  MPI_Allreduce(MPI_IN_PLACE, &usable, 1, MPI_INT, MPI_MIN, comm.get());
  comm.count_other(sizeof(int));
  if (!usable) return nullptr;
  const auto mine = device_place(ctx.device());
  std::vector<char> all(static_cast<std::size_t>(kPlaceBytes) * static_cast<std::size_t>(comm.size()));
  MPI_Allgather(mine.data(), kPlaceBytes, MPI_CHAR, all.data(), kPlaceBytes, MPI_CHAR, comm.get());
  comm.count_other(kPlaceBytes);
  for (int a = 0; a < comm.size(); ++a)
    for (int b = 0; b < a; ++b)
      if (std::memcmp(&all[static_cast<std::size_t>(a) * kPlaceBytes], &all[static_cast<std::size_t>(b) * kPlaceBytes],
                      kPlaceBytes) == 0)
        return nullptr;  // two ranks on one device: host-staged
  ncclUniqueId id{};
  int status = comm.rank() == 0 ? static_cast<int>(nccl().get_unique_id(&id)) : 0;
  MPI_Bcast(&status, 1, MPI_INT, 0, comm.get());
  if (status != ncclSuccess) return nullptr;
  MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, comm.get());
  comm.count_other(static_cast<std::int64_t>(sizeof(id)));
  // The device first, agreed, so that no rank enters NCCL's collective start alone.
  int ok = cudaSetDevice(ctx.device()) == cudaSuccess ? 1 : 0;
  MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, comm.get());
  comm.count_other(sizeof(int));
  if (!ok) return nullptr;
  ncclComm_t comm_nccl = nullptr;
  ok = nccl().comm_init_rank(&comm_nccl, comm.size(), id, comm.rank()) == ncclSuccess ? 1 : 0;
  MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, comm.get());
  comm.count_other(sizeof(int));
  if (!ok) {
    if (comm_nccl) nccl().comm_destroy(comm_nccl);
    return nullptr;
  }
  comm.count_device_transport();
  return std::make_unique<NcclCollectives>(comm, comm_nccl, static_cast<cudaStream_t>(ctx.stream()));
}

#else

std::unique_ptr<DeviceCollectives> DeviceCollectives::open(const Comm&, const Context&) { return nullptr; }

#endif

}  // namespace shrink::dist::detail

namespace shrink::dist {
#if SHRINK_WITH_NCCL
bool nccl_available() noexcept { return detail::nccl().loaded; }
#else
bool nccl_available() noexcept { return false; }
#endif
}  // namespace shrink::dist
