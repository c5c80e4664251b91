#include <cstdlib>

#include "host/core/cpu.hpp"
#include "tests/test_util.hpp"

namespace shrink::test {
namespace {

TEST(Context, CpuAlwaysWorks) {
  Context ctx(ContextOptions{Backend::Cpu});
  EXPECT_EQ(ctx.backend(), Backend::Cpu);
  EXPECT_EQ(ctx.memory_space(), MemorySpace::Host);
  EXPECT_GE(ctx.cpu_threads(), 1);
  EXPECT_TRUE(ctx.deterministic());
  EXPECT_NE(ctx.workspace(100), nullptr);
  ctx.synchronize();
}

TEST(Context, AutoPicksCudaOnlyWithADevice) {
  Context ctx(ContextOptions{Backend::Auto, 0, 0, true, false});
  EXPECT_EQ(ctx.backend(), cuda_device_count() > 0 ? Backend::Cuda : Backend::Cpu);
}

TEST(Context, CudaWithoutDeviceOrBuildIsAClearError) {
  if (cuda_device_count() > 0) GTEST_SKIP() << "a CUDA device is present";
  try {
    Context ctx(ContextOptions{Backend::Cuda});
    FAIL() << "expected an error";
  } catch (const NotCompiled& e) {
    EXPECT_FALSE(cuda_compiled());
    EXPECT_NE(std::string(e.what()).find("without CUDA"), std::string::npos);
  } catch (const NoDevice& e) {
    EXPECT_TRUE(cuda_compiled());
    EXPECT_NE(std::string(e.what()).find("no usable CUDA device"), std::string::npos);
  }
}

TEST(Context, EnvironmentOverridesAuto) {
  ::setenv("SHRINK_BACKEND", "cpu", 1);
  EXPECT_EQ(Context().backend(), Backend::Cpu);
  ::setenv("SHRINK_BACKEND", "bogus", 1);
  EXPECT_THROW(Context(), InvalidArgument);
  if (cuda_device_count() == 0) {
    ::setenv("SHRINK_BACKEND", "cuda", 1);
    EXPECT_THROW(Context(), Error);
  }
  // An explicit choice in code wins over the environment.
  ::setenv("SHRINK_BACKEND", "cuda", 1);
  EXPECT_EQ(Context(ContextOptions{Backend::Cpu}).backend(), Backend::Cpu);
  ::unsetenv("SHRINK_BACKEND");
}

// The loaded BLAS is named; where OpenBLAS runs generic kernels on a CPU that allows better ones, the
// better core is proposed (what the program sets in OPENBLAS_CORETYPE), never once that variable is set.
TEST(Context, BlasInfoNamesTheKernels) {
  const BlasInfo b = blas_info();
  if (b.library.empty()) GTEST_SKIP() << "the BLAS is not OpenBLAS";
  EXPECT_FALSE(b.kernels.empty());
  if (!b.better_kernels.empty()) {
    EXPECT_TRUE(b.better_kernels == "SkylakeX" || b.better_kernels == "Haswell") << b.better_kernels;
    EXPECT_EQ(std::getenv("OPENBLAS_CORETYPE"), nullptr);
  }
  if (std::getenv("OPENBLAS_CORETYPE")) EXPECT_TRUE(b.better_kernels.empty());
}

// The core asked for when OpenBLAS does not know the CPU: SkylakeX only for Intel's AVX-512; AMD's
// AVX-512 takes Haswell (older OpenBLAS releases miscompute or crash with SkylakeX kernels there).
TEST(Context, OpenBlasCoreForTheCpu) {
  EXPECT_EQ(openblas_core_for({.amd = false, .avx512 = true, .avx2_fma = true}), "SkylakeX");
  EXPECT_EQ(openblas_core_for({.amd = true, .avx512 = true, .avx2_fma = true}), "Haswell");
  EXPECT_EQ(openblas_core_for({.amd = true, .avx512 = false, .avx2_fma = true}), "Haswell");
  EXPECT_EQ(openblas_core_for({.amd = false, .avx512 = false, .avx2_fma = true}), "Haswell");
  EXPECT_EQ(openblas_core_for({.amd = false, .avx512 = false, .avx2_fma = false}), "");
}

TEST(Context, ParseBackendAndOptions) {
  EXPECT_EQ(parse_backend("CUDA"), Backend::Cuda);
  EXPECT_EQ(parse_backend("Cpu"), Backend::Cpu);
  EXPECT_EQ(parse_backend("auto"), Backend::Auto);
  EXPECT_THROW(parse_backend("tpu"), InvalidArgument);
  EXPECT_THROW(Context(ContextOptions{Backend::Cpu, 0, -1}), InvalidArgument);
  EXPECT_EQ(Context(ContextOptions{Backend::Cpu, 0, 3}).cpu_threads(), 3);
}

TEST(Context, DeviceMemoryNeedsCuda) {
  if (cuda_device_count() > 0) GTEST_SKIP() << "a CUDA device is present";
  Context cpu(ContextOptions{Backend::Cpu});
  EXPECT_THROW(Array<double>(cpu, 10, MemorySpace::Device), Error);
}

TEST(Context, CudaDevicesAreListed) {
  const auto devices = cuda_devices();
  EXPECT_EQ(static_cast<int>(devices.size()), cuda_device_count());
  for (const auto& d : devices) {
    EXPECT_FALSE(d.name.empty());
    EXPECT_GT(d.total_memory, 0u);
  }
}

TEST(Context, ArraysMoveAndCopyExplicitly) {
  Context ctx(ContextOptions{Backend::Cpu});
  Array<float> a = Array<float>::from_vector({1, 2, 3});
  Array<float> b = std::move(a);
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(b.size(), 3u);
  const auto c = b.copy_to(ctx, MemorySpace::Host);
  EXPECT_EQ(c.to_vector(ctx), (std::vector<float>{1, 2, 3}));
  EXPECT_NE(c.data(), b.data());
  Array<float> zero(ctx, 5, MemorySpace::Host);
  for (float v : zero.to_vector(ctx)) EXPECT_EQ(v, 0.0f);
}

TEST(Context, CopyAndTimer) {
  Context ctx(ContextOptions{Backend::Cpu});
  const auto a = Array<double>::from_vector({1, 2, 3});
  Array<double> b(3), c(2);
  copy(ctx, a.view(), b.view());
  EXPECT_EQ(b.to_vector(ctx), (std::vector<double>{1, 2, 3}));
  EXPECT_THROW(copy(ctx, a.view(), c.view()), DimensionMismatch);
  if (cuda_device_count() == 0) {
    // A view that claims device memory is refused without a CUDA context.
    VectorView<double> dev(b.data(), 3, MemorySpace::Device);
    EXPECT_THROW(copy(ctx, a.view(), dev), InvalidArgument);
  }
  Timer timer(ctx);
  timer.start();
  volatile double sink = 0;
  for (int i = 0; i < 1000; ++i) sink = sink + i;
  EXPECT_GE(timer.stop_seconds(), 0.0);
}

}  // namespace
}  // namespace shrink::test

namespace shrink::test {
namespace {

// Device memory read back through a CPU context sees every queued write: the contexts' streams are
// non-blocking, so such a copy must wait for the device, not only for the legacy default stream.
TEST(Context, CopyThroughACpuContextWaitsForTheDevice) {
  SHRINK_SKIP_IF_ABSENT(Backend::Cuda);
  const Context gpu = make_context(Backend::Cuda), cpu = make_context(Backend::Cpu);
  const std::size_t n = std::size_t(1) << 24;
  const auto x = Array<double>::from_vector(std::vector<double>(n, 1.0)).copy_to(gpu, MemorySpace::Device);
  Array<double> y(gpu, n, MemorySpace::Device);
  for (int pass = 0; pass < 40; ++pass) axpby(gpu, 1.0, x.view(), 1.0, y.view());  // queued, not waited for
  const auto host = y.to_vector(cpu);
  for (std::size_t i = 0; i < n; i += 4099) ASSERT_EQ(host[i], 40.0) << i;
  ASSERT_EQ(host[n - 1], 40.0);
}

}  // namespace
}  // namespace shrink::test

#if SHRINK_WITH_CUDA
#include <cuda_runtime.h>

#include <fstream>
#include <string>

#include "kernels/cuda/runtime.hpp"
#endif

namespace shrink {
namespace {

// A CPU context takes only the null stream; a CUDA context runs its work on the caller's stream and
// goes back to its own on nullptr, with the same answers.
TEST(Context, SetStreamAdoptsTheCallersStream) {
  Context cpu = test::make_context(Backend::Cpu);
  EXPECT_NO_THROW(cpu.set_stream(nullptr));
  int not_a_stream = 0;
  EXPECT_THROW(cpu.set_stream(&not_a_stream), InvalidArgument);
  SHRINK_SKIP_IF_ABSENT(Backend::Cuda);
#if SHRINK_WITH_CUDA
  Context gpu = test::make_context(Backend::Cuda);
  cudaStream_t stream = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
  const auto a = generate_power_law<double, std::int32_t>(4000, 3000, 8.0, 1.3, 2);
  const auto x = generate_vector<double>(3000, 3);
  std::vector<double> want(4000);
  spmv(cpu, Op::NoTranspose, 1.0, a.view(), x.view(), 0.0, VectorView<double>(want));
  const auto ad = a.copy_to(gpu, MemorySpace::Device);
  const auto xd = x.copy_to(gpu, MemorySpace::Device);
  Array<double> yd(gpu, 4000, MemorySpace::Device);
  gpu.set_stream(stream);
  spmv(gpu, Op::NoTranspose, 1.0, ad.view(), xd.view(), 0.0, yd.view());
  ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);  // the work went to the caller's stream
  EXPECT_EQ(yd.to_vector(gpu), want);
  gpu.set_stream(nullptr);
  spmv(gpu, Op::NoTranspose, 2.0, ad.view(), xd.view(), 0.0, yd.view());
  const auto twice = yd.to_vector(gpu);
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(twice[i], 2.0 * want[i]);
  ASSERT_EQ(cudaStreamDestroy(stream), cudaSuccess);
#endif
}

#if SHRINK_WITH_CUDA
bool mapped(const std::string& library) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line))
    if (line.find(library) != std::string::npos) return true;
  return false;
}

// cuBLAS and cuSPARSE are not linked: a process that loads Shrink maps neither until a CUDA context
// wants them (with them it started ~250 MB larger and 0.2 s later), and then every function the
// kernels call is found. Needs the toolkit's libraries, not a GPU.
TEST(CudaLibraries, LoadWhenAContextWantsThemWithEveryFunction) {
  if (detail::cuda_libraries_loaded()) GTEST_SKIP() << "a CUDA context was made earlier in this process";
  EXPECT_FALSE(mapped("libcublas")) << "cuBLAS was loaded with the library";
  EXPECT_FALSE(mapped("libcusparse")) << "cuSPARSE was loaded with the library";
  ASSERT_NO_THROW(detail::cuda_load_libraries());
  EXPECT_TRUE(detail::cuda_libraries_loaded());
  EXPECT_TRUE(mapped("libcublas.so."));
  EXPECT_TRUE(mapped("libcusparse.so."));
}
#endif

}  // namespace
}  // namespace shrink
