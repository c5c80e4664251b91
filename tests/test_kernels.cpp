// Every kernel on every backend present, against a float64 (long double) reference, on random
// inputs and the edge cases; CUDA results are also compared with the CPU twin and checked for
// bit-identical repeats.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <tuple>

#include "kernels/common/merge_spmv_tile.hpp"
#include "tests/test_util.hpp"

namespace shrink::test {
namespace {

class Kernels : public BackendTest {};

INSTANTIATE_TEST_SUITE_P(AllBackends, Kernels, testing::Values(Backend::Cpu, Backend::Cuda),
                         backend_name);

// Named edge-case and random matrices.
template <class V, class I>
std::vector<std::pair<std::string, CsrMatrix<V, I>>> spmv_cases() {
  std::vector<std::pair<std::string, CsrMatrix<V, I>>> cases;
  cases.emplace_back("0x0", CsrMatrix<V, I>(0, 0));
  cases.emplace_back("5x0", CsrMatrix<V, I>(5, 0));
  cases.emplace_back("0x5", CsrMatrix<V, I>(0, 5));
  cases.emplace_back("nnz0", CsrMatrix<V, I>(6, 9));
  {  // empty rows between full ones, empty leading and trailing rows
    CooMatrix<V, I> coo{8, 5, {}, {}, {}};
    for (I r : {1, 2, 5})
      for (I c = 0; c < 5; ++c) {
        coo.row.push_back(r);
        coo.col.push_back(c);
        coo.val.push_back(static_cast<V>(0.25 * (r + 1) - 0.1 * c));
      }
    cases.emplace_back("empty_rows", coo_to_csr(coo));
  }
  cases.emplace_back("single_row", generate_uniform<V, I>(1, 3000, 2000, 5));
  cases.emplace_back("single_col", generate_uniform<V, I>(3000, 1, 1, 6));
  cases.emplace_back("uniform", generate_uniform<V, I>(317, 211, 9, 7));
  cases.emplace_back("banded", generate_banded<V, I>(1000, 3, 8));
  cases.emplace_back("power_law", generate_power_law<V, I>(5000, 4000, 6.0, 1.3, 9));
  {  // one very long row among short ones: spans many CUDA tiles and CPU threads
    CooMatrix<V, I> coo{2000, 60000, {}, {}, {}};
    std::mt19937 gen(10);
    for (I r = 0; r < 2000; ++r) {
      const I len = r == 1234 ? 60000 : static_cast<I>(gen() % 4);
      for (I k = 0; k < len; ++k) {
        coo.row.push_back(r);
        coo.col.push_back(r == 1234 ? k : static_cast<I>(gen() % 60000));
        coo.val.push_back(static_cast<V>(static_cast<double>(gen() % 2001) / 1000.0 - 1.0));
      }
    }
    cases.emplace_back("long_row", coo_to_csr(coo));
  }
  return cases;
}

enum class Path { Forward, Transpose, Operator, OperatorTranspose, Csc };

template <class V, class I>
std::vector<V> run_spmv(const Context& ctx, const CsrMatrix<V, I>& a, Path path, V alpha,
                        const std::vector<V>& x, V beta, const std::vector<V>& y0) {
  const auto ad = a.copy_to(ctx, ctx.memory_space());
  const auto xd = Array<V>::from_vector(x).copy_to(ctx, ctx.memory_space());
  auto yd = Array<V>::from_vector(y0).copy_to(ctx, ctx.memory_space());
  switch (path) {
    case Path::Forward: spmv(ctx, Op::NoTranspose, alpha, ad.view(), xd.view(), beta, yd.view()); break;
    case Path::Transpose: spmv(ctx, Op::Transpose, alpha, ad.view(), xd.view(), beta, yd.view()); break;
    case Path::Operator: SparseOperator<V, I>(ctx, a).apply(Op::NoTranspose, alpha, xd.view(), beta, yd.view()); break;
    case Path::OperatorTranspose: SparseOperator<V, I>(ctx, a).apply(Op::Transpose, alpha, xd.view(), beta, yd.view()); break;
    case Path::Csc: {
      const auto csc = csr_to_csc(a).copy_to(ctx, ctx.memory_space());  // A held as CSC
      spmv(ctx, alpha, csc, xd.view(), beta, yd.view());
      break;
    }
  }
  return yd.to_vector(ctx);
}

template <class V, class I>
void check_spmv_all(Backend backend) {
  const Context ctx = make_context(backend);
  const Context cpu = make_context(Backend::Cpu);
  for (const auto& [name, a] : spmv_cases<V, I>()) {
    for (Path path : {Path::Forward, Path::Transpose, Path::Operator, Path::OperatorTranspose, Path::Csc}) {
      const bool t = path == Path::Transpose || path == Path::OperatorTranspose;
      const index_t in = t ? a.rows() : a.cols(), out = t ? a.cols() : a.rows();
      const auto x = random_vector<V>(in, 21);
      const auto y0 = random_vector<V>(out, 22);
      const std::string what = name + " path " + std::to_string(static_cast<int>(path));
      // alpha, beta general
      {
        const V alpha = V(1.5), beta = V(-0.5);
        const auto got = run_spmv(ctx, a, path, alpha, x, beta, y0);
        auto want = reference_spmv(a, x, t);
        std::vector<long double> mag(want.size());
        {
          CsrMatrix<V, I> abs_a = a.copy_to(cpu, MemorySpace::Host);
          for (std::size_t k = 0; k < abs_a.values().size(); ++k)
            abs_a.values()[k] = std::abs(abs_a.values()[k]);
          std::vector<V> abs_x(x.size());
          for (std::size_t k = 0; k < x.size(); ++k) abs_x[k] = std::abs(x[k]);
          mag = reference_spmv(abs_a, abs_x, t);
        }
        for (std::size_t i = 0; i < want.size(); ++i) {
          want[i] = alpha * want[i] + static_cast<long double>(beta) * y0[i];
          mag[i] = std::fabs(alpha) * mag[i] + std::fabs(static_cast<long double>(beta) * y0[i]);
        }
        expect_close(got, want, mag, tolerance<V>() * 4, what);
        // Deterministic: a second run gives the same bits.
        const auto again = run_spmv(ctx, a, path, alpha, x, beta, y0);
        ASSERT_TRUE(same_bits(got, again)) << what;
        if (backend == Backend::Cuda) {
          const auto twin = run_spmv(cpu, a, path, alpha, x, beta, y0);
          expect_close(got, std::vector<long double>(twin.begin(), twin.end()), mag,
                       tolerance<V>() * 8, what + " vs CPU twin");
        }
      }
      // beta = 0 overwrites y even when it holds NaN.
      {
        const std::vector<V> nan_y(static_cast<std::size_t>(out), std::numeric_limits<V>::quiet_NaN());
        const auto got = run_spmv(ctx, a, path, V(1), x, V(0), nan_y);
        for (std::size_t i = 0; i < got.size(); ++i)
          ASSERT_TRUE(std::isfinite(got[i])) << what << ": beta = 0 left NaN at " << i;
      }
    }
  }
}

TEST_P(Kernels, SpmvAllPathsAndEdgeCases) {
  check_spmv_all<double, std::int32_t>(GetParam());
  check_spmv_all<double, std::int64_t>(GetParam());
  check_spmv_all<float, std::int32_t>(GetParam());
  check_spmv_all<float, std::int64_t>(GetParam());
}

// Rows cut between CPU threads (and CUDA tiles) are finished from the carries in a fixed order.
TEST(KernelsCpu, SpmvSplitsLongRowsAcrossThreads) {
  for (int threads : {2, 3, 5}) {
    const Context ctx(ContextOptions{Backend::Cpu, 0, threads, true, false});
    CooMatrix<double, std::int64_t> coo{400, 300000, {}, {}, {}};
    std::mt19937 gen(threads);
    for (std::int64_t r = 0; r < 400; ++r) {
      const std::int64_t len = (r == 17 || r == 250 || r == 251) ? 150000 : static_cast<std::int64_t>(gen() % 50);
      for (std::int64_t k = 0; k < len; ++k) {
        coo.row.push_back(r);
        coo.col.push_back(len == 150000 ? 2 * k : static_cast<std::int64_t>(gen() % 300000));
        coo.val.push_back(static_cast<double>(gen() % 2001) / 1000.0 - 1.0);
      }
    }
    const auto a = coo_to_csr(coo);
    for (bool t : {false, true}) {
      const auto x = random_vector<double>(t ? a.rows() : a.cols(), 4);
      const auto y0 = random_vector<double>(t ? a.cols() : a.rows(), 5);
      const auto got = run_spmv(ctx, a, t ? Path::Transpose : Path::Forward, 2.0, x, 0.5, y0);
      auto want = reference_spmv(a, x, t);
      std::vector<long double> mag(want.size(), 0);
      for (std::size_t i = 0; i < want.size(); ++i) {
        want[i] = 2.0L * want[i] + 0.5L * y0[i];
        mag[i] = 1e6;  // generous scale: rows sum up to 150k terms of size <= 1
      }
      expect_close(got, want, mag, 1e-15, "threads " + std::to_string(threads));
      const auto again = run_spmv(ctx, a, t ? Path::Transpose : Path::Forward, 2.0, x, 0.5, y0);
      ASSERT_TRUE(same_bits(got, again));
    }
  }
}

// The CUDA merge-path tile steps, run thread by thread on the CPU with shared memory poisoned
// before each tile: checks the kernel's staging, path walk and carry logic without a GPU.
template <class V, class I>
std::vector<V> simulate_merge_spmv(const CsrMatrix<V, I>& a, const std::vector<V>& x, V alpha, V beta,
                                   std::vector<V> y) {
  namespace mt = kernels::merge_tile;
  const index_t rows = a.rows(), nnz = a.nnz();
  if (rows == 0) return y;
  const index_t tiles = mt::tiles_for(rows, nnz);
  std::vector<index_t> tile_row(static_cast<std::size_t>(tiles) + 1), carry_row(tiles);
  std::vector<V> carry_val(tiles);
  for (index_t t = 0; t <= tiles; ++t) tile_row[t] = mt::tile_start_row(t, a.row_ptr().data() + 1, rows, nnz);
  std::vector<index_t> s_row_end(mt::kTileItems + 1);
  std::vector<V> s_prod(mt::kTileItems), s_carry(mt::kThreads);
  bool s_emitted[mt::kThreads];
  std::vector<mt::Walk<V>> walks(mt::kThreads);
  for (index_t tile = 0; tile < tiles; ++tile) {
    std::fill(s_row_end.begin(), s_row_end.end(), index_t(-777));
    std::fill(s_prod.begin(), s_prod.end(), std::numeric_limits<V>::quiet_NaN());
    std::fill(s_carry.begin(), s_carry.end(), std::numeric_limits<V>::quiet_NaN());
    const mt::Tile t = mt::make_tile(tile, rows, nnz, tile_row.data());
    EXPECT_LE(t.rows + t.nnz, mt::kTileItems);
    for (int tid = 0; tid < mt::kThreads; ++tid)
      mt::stage(tid, mt::kThreads, t, rows, nnz, a.row_ptr().data(), a.col_idx().data(), a.values().data(),
                x.data(), s_row_end.data(), s_prod.data());
    for (int tid = 0; tid < mt::kThreads; ++tid)
      walks[tid] = mt::walk(tid, t, s_row_end.data(), s_prod.data(), alpha, beta, y.data(), s_carry.data(), s_emitted);
    for (int tid = 0; tid < mt::kThreads; ++tid)
      mt::finish_first_row(tid, t, walks[tid], s_carry.data(), s_emitted, alpha, beta, y.data());
    mt::tile_carry(tile, t, s_carry.data(), s_emitted, carry_row.data(), carry_val.data());
  }
  for (index_t tile = 0; tile < tiles; ++tile)
    mt::fixup(tile, tiles, rows, carry_row.data(), carry_val.data(), alpha, y.data());
  return y;
}

template <class V, class I>
void check_merge_tiles() {
  auto cases = spmv_cases<V, I>();
  // Rows far longer than a tile, and a tile boundary inside almost every row.
  cases.emplace_back("very_long_rows", generate_power_law<V, I>(3000, 20000, 40.0, 1.1, 12));
  cases.emplace_back("rows_of_895", generate_uniform<V, I>(200, 1000, 895, 13));
  for (const auto& [name, a] : cases) {
    const auto x = random_vector<V>(a.cols(), 41);
    const auto y0 = random_vector<V>(a.rows(), 42);
    for (V beta : {V(0), V(-0.5)}) {
      std::vector<V> start = y0;
      if (beta == V(0)) std::fill(start.begin(), start.end(), std::numeric_limits<V>::quiet_NaN());
      const auto got = simulate_merge_spmv(a, x, V(1.5), beta, start);
      auto want = reference_spmv(a, x, false);
      std::vector<long double> mag(want.size(), 0);
      for (index_t r = 0; r < a.rows(); ++r) {
        for (I k = a.row_ptr()[r]; k < a.row_ptr()[r + 1]; ++k)
          mag[r] += std::fabs(static_cast<long double>(a.values()[k]) * x[a.col_idx()[k]]);
        want[r] = 1.5L * want[r] + static_cast<long double>(beta) * y0[r];
        mag[r] = 1.5L * mag[r] + std::fabs(static_cast<long double>(beta) * y0[r]);
      }
      expect_close(got, want, mag, tolerance<V>() * 4, name + " (simulated CUDA tiles)");
    }
  }
}

TEST(MergeTileOnCpu, CudaTileLogicMatchesReference) {
  check_merge_tiles<double, std::int32_t>();
  check_merge_tiles<float, std::int64_t>();
}

TEST_P(Kernels, SpmvRefusesBadArguments) {
  const Context ctx = make_context(GetParam());
  const auto a = generate_uniform<double, std::int32_t>(10, 7, 3, 1).copy_to(ctx, ctx.memory_space());
  Array<double> x(ctx, 7, ctx.memory_space()), y(ctx, 10, ctx.memory_space()), short_y(ctx, 9, ctx.memory_space());
  EXPECT_THROW(spmv(ctx, Op::NoTranspose, 1.0, a.view(), x.view(), 0.0, short_y.view()), DimensionMismatch);
  EXPECT_THROW(spmv(ctx, Op::Transpose, 1.0, a.view(), x.view(), 0.0, y.view()), DimensionMismatch);
  EXPECT_THROW(spmv(ctx, Op::NoTranspose, std::nan(""), a.view(), x.view(), 0.0, y.view()), NonFinite);
  if (GetParam() == Backend::Cpu)
    EXPECT_THROW(spmv(ctx, Op::NoTranspose, 1.0, a.view(), x.view(), 0.0, y.view(), SpmvAlgorithm::Cusparse),
                 InvalidArgument);
  try {
    spmv(ctx, Op::NoTranspose, 1.0, a.view(), x.view(), 0.0, short_y.view());
  } catch (const DimensionMismatch& e) {
    EXPECT_NE(std::string(e.what()).find("10 x 7"), std::string::npos) << e.what();
  }
}

// Every cuSPARSE baseline (ALG1 and ALG2, forward and transposed, float32 and float64, 32- and
// 64-bit indices) against the float64 reference, and ALG2 bit-identical run to run as the API says.
template <class V, class I>
void check_cusparse_baselines(const Context& ctx) {
  const auto a = generate_power_law<V, I>(3000, 2500, 8.0, 1.4, 3);
  const auto ad = a.copy_to(ctx, ctx.memory_space());
  for (Op op : {Op::NoTranspose, Op::Transpose}) {
    const bool t = op == Op::Transpose;
    const auto x = random_vector<V>(t ? 3000 : 2500, 1);
    const auto y0 = random_vector<V>(t ? 2500 : 3000, 2);
    const auto want = reference_spmv(a, x, t);
    CsrMatrix<V, I> abs_a = a.copy_to(ctx, MemorySpace::Host);
    for (auto& v : abs_a.values().host_span()) v = std::abs(v);
    std::vector<V> abs_x(x.size());
    for (std::size_t k = 0; k < x.size(); ++k) abs_x[k] = std::abs(x[k]);
    const auto mag = reference_spmv(abs_a, abs_x, t);
    for (auto algorithm : {SpmvAlgorithm::Cusparse, SpmvAlgorithm::CusparseAlg2}) {
      std::vector<V> runs[2];
      for (auto& got : runs) {
        auto yd = to_backend(ctx, y0);
        spmv(ctx, op, V(1.5), ad.view(), to_backend(ctx, x).view(), V(-0.5), yd.view(), algorithm);
        got = yd.to_vector(ctx);
      }
      std::vector<long double> w(want.size()), m(mag.size());
      for (std::size_t i = 0; i < want.size(); ++i) {
        w[i] = 1.5L * want[i] - 0.5L * y0[i];
        m[i] = 1.5L * mag[i] + 0.5L * std::fabs(static_cast<long double>(y0[i]));
      }
      expect_close(runs[0], w, m, tolerance<V>() * 8, std::string(to_string(algorithm)) + (t ? " transposed" : ""));
      if (algorithm == SpmvAlgorithm::CusparseAlg2)
        EXPECT_TRUE(same_bits(runs[0], runs[1]))
            << "ALG2 repeat" << (t ? " transposed" : "");
    }
  }
}

TEST_P(Kernels, CusparseBaselineAgrees) {
  if (GetParam() != Backend::Cuda) GTEST_SKIP() << "cuSPARSE baseline exists only on CUDA";
  const Context ctx = make_context(Backend::Cuda);
  check_cusparse_baselines<double, std::int32_t>(ctx);
  check_cusparse_baselines<float, std::int32_t>(ctx);
  check_cusparse_baselines<double, std::int64_t>(ctx);
  check_cusparse_baselines<float, std::int64_t>(ctx);
  const auto a = generate_power_law<double, std::int32_t>(3000, 2500, 8.0, 1.4, 3);
  const auto x = random_vector<double>(2500, 1);
  const auto ad = a.copy_to(ctx, ctx.memory_space());
  const auto xd = Array<double>::from_vector(x).copy_to(ctx, ctx.memory_space());
  Array<double> y1(ctx, 3000, ctx.memory_space()), y2(ctx, 3000, ctx.memory_space());
  spmv(ctx, Op::NoTranspose, 1.0, ad.view(), xd.view(), 0.0, y1.view(), SpmvAlgorithm::MergePath);
  spmv(ctx, Op::NoTranspose, 1.0, ad.view(), xd.view(), 0.0, y2.view(), SpmvAlgorithm::Cusparse);
  const auto a1 = y1.to_vector(ctx), a2 = y2.to_vector(ctx);
  for (std::size_t i = 0; i < a1.size(); ++i) ASSERT_NEAR(a1[i], a2[i], 1e-12 * (1 + std::abs(a2[i])));
}

template <class V, class I>
void check_spmm(Backend backend) {
  const Context ctx = make_context(backend);
  const auto a = generate_power_law<V, I>(300, 200, 5.0, 1.5, 4);
  for (Layout lb : {Layout::RowMajor, Layout::ColMajor})
    for (Layout lc : {Layout::RowMajor, Layout::ColMajor})
      for (index_t k : {0, 1, 7, 40}) {
        DenseMatrix<V> b(200, k, lb), c0(300, k, lc);
        const auto rb = random_vector<V>(200 * k, 5), rc = random_vector<V>(300 * k, 6);
        std::copy(rb.begin(), rb.end(), b.data());
        std::copy(rc.begin(), rc.end(), c0.data());
        const auto bd = b.copy_to(ctx, ctx.memory_space());
        auto cd = c0.copy_to(ctx, ctx.memory_space());
        spmm(ctx, V(2), a.copy_to(ctx, ctx.memory_space()).view(), bd.view(), V(0.5), cd.view());
        const auto c = cd.copy_to(ctx, MemorySpace::Host);
        for (index_t q = 0; q < k; ++q) {
          std::vector<V> xq(200);
          for (index_t j = 0; j < 200; ++j) xq[j] = b(j, q);
          const auto ref = reference_spmv(a, xq, false);
          for (index_t r = 0; r < 300; ++r) {
            const long double want = 2.0L * ref[r] + 0.5L * c0(r, q);
            ASSERT_NEAR(static_cast<double>(c(r, q)), static_cast<double>(want),
                        tolerance<V>() * 50 * (1 + std::fabs(static_cast<double>(want))));
          }
        }
      }
}

TEST_P(Kernels, SpmmBothLayouts) {
  check_spmm<double, std::int32_t>(GetParam());
  check_spmm<float, std::int64_t>(GetParam());
}

template <class V>
void check_dense_products(Backend backend) {
  const Context ctx = make_context(backend);
  for (Layout la : {Layout::RowMajor, Layout::ColMajor})
    for (Layout lc : {Layout::RowMajor, Layout::ColMajor})
      for (Op oa : {Op::NoTranspose, Op::Transpose})
        for (Op ob : {Op::NoTranspose, Op::Transpose}) {
          const index_t m = 13, n = 9, k = 11;
          DenseMatrix<V> a(oa == Op::NoTranspose ? m : k, oa == Op::NoTranspose ? k : m, la);
          DenseMatrix<V> b(ob == Op::NoTranspose ? k : n, ob == Op::NoTranspose ? n : k, lc);
          DenseMatrix<V> c(m, n, lc);
          auto ra = random_vector<V>(m * k, 1), rb = random_vector<V>(k * n, 2);
          std::copy(ra.begin(), ra.end(), a.data());
          std::copy(rb.begin(), rb.end(), b.data());
          for (index_t i = 0; i < m * n; ++i) c.data()[i] = std::numeric_limits<V>::quiet_NaN();
          auto cd = c.copy_to(ctx, ctx.memory_space());
          gemm(ctx, oa, ob, V(1), a.copy_to(ctx, ctx.memory_space()).view(),
               b.copy_to(ctx, ctx.memory_space()).view(), V(0), cd.view());
          const auto got = cd.copy_to(ctx, MemorySpace::Host);
          for (index_t i = 0; i < m; ++i)
            for (index_t j = 0; j < n; ++j) {
              long double want = 0;
              for (index_t p = 0; p < k; ++p)
                want += static_cast<long double>(oa == Op::NoTranspose ? a(i, p) : a(p, i)) *
                        (ob == Op::NoTranspose ? b(p, j) : b(j, p));
              ASSERT_NEAR(got(i, j), static_cast<double>(want), tolerance<V>() * 20);
            }
          // gemv with the same A.
          const index_t rows = a.rows(), cols = a.cols();
          for (Op op : {Op::NoTranspose, Op::Transpose}) {
            const auto x = random_vector<V>(op == Op::NoTranspose ? cols : rows, 3);
            const auto xd = Array<V>::from_vector(x).copy_to(ctx, ctx.memory_space());
            Array<V> yd(ctx, static_cast<std::size_t>(op == Op::NoTranspose ? rows : cols), ctx.memory_space());
            gemv(ctx, op, V(1), a.copy_to(ctx, ctx.memory_space()).view(), xd.view(), V(0), yd.view());
            const auto y = yd.to_vector(ctx);
            for (std::size_t i = 0; i < y.size(); ++i) {
              long double want = 0;
              for (std::size_t p = 0; p < x.size(); ++p)
                want += static_cast<long double>(op == Op::NoTranspose ? a(i, p) : a(p, i)) * x[p];
              ASSERT_NEAR(y[i], static_cast<double>(want), tolerance<V>() * 20);
            }
          }
        }
  // Empty inner dimension: C = beta*C.
  DenseMatrix<V> a(3, 0), b(0, 2), c(3, 2);
  for (index_t i = 0; i < 6; ++i) c.data()[i] = V(2);
  auto cd = c.copy_to(ctx, ctx.memory_space());
  gemm(ctx, Op::NoTranspose, Op::NoTranspose, V(1), a.copy_to(ctx, ctx.memory_space()).view(),
       b.copy_to(ctx, ctx.memory_space()).view(), V(3), cd.view());
  const auto got = cd.copy_to(ctx, MemorySpace::Host);
  for (index_t i = 0; i < 6; ++i) EXPECT_EQ(got.data()[i], V(6));
}

TEST_P(Kernels, DenseProductsAllLayouts) {
  check_dense_products<double>(GetParam());
  check_dense_products<float>(GetParam());
}

// An n x p matrix laid out as `layout`, holding `values` row by row.
template <class V>
DenseMatrix<V> row_by_row(index_t n, index_t p, Layout layout, const std::vector<V>& values) {
  DenseMatrix<V> a(n, p, layout);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < p; ++j) a(i, j) = values[i * p + j];
  return a;
}

template <class V>
void check_gram(Backend backend) {
  const Context ctx = make_context(backend);
  for (auto [n, p] : {std::pair<index_t, index_t>{0, 3}, {5, 0}, {1, 1}, {37, 11}, {300, 64}}) {
    const auto values = random_vector<V>(n * p, 51);
    for (Layout la : {Layout::RowMajor, Layout::ColMajor})
      for (Layout lc : {Layout::RowMajor, Layout::ColMajor}) {
        const auto a = row_by_row(n, p, la, values);
        DenseMatrix<V> c(p, p, lc);
        // C is not symmetric: beta must read its lower triangle (i >= j in C's own order) on every
        // backend, whatever the layouts.
        for (index_t i = 0; i < p; ++i)
          for (index_t j = 0; j < p; ++j) c(i, j) = V(0.5) * static_cast<V>((i + 3 * j) % 7) - V(i < j ? 9 : 0);
        const auto ad = a.copy_to(ctx, ctx.memory_space());
        auto cd = c.copy_to(ctx, ctx.memory_space());
        gram<V>(ctx, V(0.75), ad.view(), V(2), cd.view());
        const auto got = cd.copy_to(ctx, MemorySpace::Host);
        for (index_t i = 0; i < p; ++i)
          for (index_t j = 0; j < p; ++j) {
            long double want = 2.0L * c(std::max(i, j), std::min(i, j)), mag = std::fabs(want);
            for (index_t k = 0; k < n; ++k) {
              want += 0.75L * a(k, i) * a(k, j);
              mag += std::fabs(0.75L * a(k, i) * a(k, j));
            }
            // The result is symmetric, exactly.
            ASSERT_NEAR(got(i, j), static_cast<double>(want), tolerance<V>() * 4 * (1 + static_cast<double>(mag)))
                << "layouts " << static_cast<int>(la) << static_cast<int>(lc) << " at " << i << ", " << j;
            ASSERT_EQ(got(i, j), got(j, i));
          }
      }
  }
  DenseMatrix<V> a(4, 3), c(4, 4);
  const auto ad = a.copy_to(ctx, ctx.memory_space());
  auto cd = c.copy_to(ctx, ctx.memory_space());
  EXPECT_THROW(gram<V>(ctx, V(1), ad.view(), V(0), cd.view()), DimensionMismatch);
}

TEST_P(Kernels, GramMatchesReference) {
  check_gram<double>(GetParam());
  check_gram<float>(GetParam());
}

// On 2 to 4 threads a large enough G is summed in column tiles, each by a single-threaded BLAS call
// (kernels/cpu/blas.cpp): the same G as one SYRK on one thread, to rounding, in every layout, and
// the same bits on 2 and 3 threads.
TEST(CpuKernels, GramTilesMatchOneSyrk) {
  const index_t n = 330, p = 602;  // tiles of 150 and 151 columns; n p^2 / 2 over the threshold
  const auto values = random_vector<double>(n * p, 77);
  const Context one(ContextOptions{Backend::Cpu, 0, 1, true, false});
  const Context two(ContextOptions{Backend::Cpu, 0, 2, true, false});
  const Context three(ContextOptions{Backend::Cpu, 0, 3, true, false});
  for (Layout la : {Layout::RowMajor, Layout::ColMajor})
    for (Layout lc : {Layout::RowMajor, Layout::ColMajor}) {
      const auto a = row_by_row(n, p, la, values);
      DenseMatrix<double> c(p, p, lc);
      for (index_t i = 0; i < p; ++i)
        for (index_t j = 0; j < p; ++j) c(i, j) = 0.25 * static_cast<double>((2 * i + j) % 5);
      auto c1 = c.copy_to(one, MemorySpace::Host), c2 = c.copy_to(one, MemorySpace::Host),
           c3 = c.copy_to(one, MemorySpace::Host);
      gram<double>(one, 0.5, a.view(), 1.5, c1.view());
      gram<double>(two, 0.5, a.view(), 1.5, c2.view());
      gram<double>(three, 0.5, a.view(), 1.5, c3.view());
      for (index_t i = 0; i < p; ++i)
        for (index_t j = 0; j < p; ++j) {
          ASSERT_NEAR(c2(i, j), c1(i, j), 1e-12 * (1 + std::fabs(c1(i, j)))) << i << ", " << j;
          ASSERT_EQ(c2(i, j), c2(j, i));
          ASSERT_EQ(c3(i, j), c2(i, j));
        }
      // Entries in every tile against a sum in long double.
      for (index_t i = 0; i < p; i += 37)
        for (index_t j = 0; j < p; j += 41) {
          long double want = 1.5L * c(std::max(i, j), std::min(i, j)), mag = std::fabs(want);
          for (index_t k = 0; k < n; ++k) {
            want += 0.5L * a(k, i) * a(k, j);
            mag += std::fabs(0.5L * a(k, i) * a(k, j));
          }
          ASSERT_NEAR(c2(i, j), static_cast<double>(want), 1e-14 * (1 + static_cast<double>(mag)));
        }
    }
}

template <class V>
long double prox_ref(long double v, long double l1, long double l2, long double w, bool positive) {
  long double s = 0;
  if (positive) s = v > l1 * w ? v - l1 * w : 0;
  else s = v > l1 * w ? v - l1 * w : (v < -l1 * w ? v + l1 * w : 0);
  return s / (1 + l2 * w);
}

template <class V>
void check_prox(Backend backend) {
  const Context ctx = make_context(backend);
  for (index_t n : {0, 1, 1000, 300001}) {
    const auto v = random_vector<V>(n, 1), g = random_vector<V>(n, 2), x0 = random_vector<V>(n, 3);
    auto w = random_vector<V>(n, 4);
    for (auto& e : w) e = std::abs(e) * 2;
    if (n > 0) w[0] = 0;  // an unpenalized coordinate
    const auto vd = Array<V>::from_vector(v).copy_to(ctx, ctx.memory_space());
    const auto gd = Array<V>::from_vector(g).copy_to(ctx, ctx.memory_space());
    const auto wd = Array<V>::from_vector(w).copy_to(ctx, ctx.memory_space());
    for (bool positive : {false, true})
      for (bool weighted : {false, true}) {
        const Penalty<V> pen{V(0.3), V(0.2), weighted ? wd.view() : VectorView<const V>{}, positive};
        const V step = V(0.7), momentum = V(0.4);
        Array<V> xd(ctx, static_cast<std::size_t>(n), ctx.memory_space());
        prox(ctx, vd.view(), pen, xd.view());
        auto x = xd.to_vector(ctx);
        for (index_t i = 0; i < n; ++i)
          ASSERT_NEAR(x[i], static_cast<double>(prox_ref<V>(v[i], 0.3, 0.2, weighted ? w[i] : 1, positive)),
                      tolerance<V>() * 4);
        prox_grad_step(ctx, vd.view(), gd.view(), step, pen, xd.view());
        x = xd.to_vector(ctx);
        for (index_t i = 0; i < n; ++i) {
          const long double arg = static_cast<long double>(v[i]) - step * static_cast<long double>(g[i]);
          ASSERT_NEAR(x[i], static_cast<double>(prox_ref<V>(arg, 0.3L * step, 0.2L * step, weighted ? w[i] : 1, positive)),
                      tolerance<V>() * 4);
        }
        // Fused FISTA step, against prox_grad_step + extrapolate.
        auto yd = Array<V>::from_vector(v).copy_to(ctx, ctx.memory_space());
        auto xold = Array<V>::from_vector(x0).copy_to(ctx, ctx.memory_space());
        fista_step(ctx, yd.view(), gd.view(), xold.view(), step, pen, momentum);
        const auto y_new = yd.to_vector(ctx), x_new = xold.to_vector(ctx);
        for (index_t i = 0; i < n; ++i) {
          ASSERT_NEAR(x_new[i], x[i], tolerance<V>() * 4);
          ASSERT_NEAR(y_new[i], static_cast<double>(x[i] + momentum * (static_cast<long double>(x[i]) - x0[i])),
                      tolerance<V>() * 8);
        }
        Array<V> e(ctx, static_cast<std::size_t>(n), ctx.memory_space());
        extrapolate(ctx, xd.view(), Array<V>::from_vector(x0).copy_to(ctx, ctx.memory_space()).view(), momentum,
                    e.view());
        const auto ev = e.to_vector(ctx);
        for (index_t i = 0; i < n; ++i) ASSERT_NEAR(ev[i], y_new[i], tolerance<V>() * 8);
      }
    // Soft-threshold is the l2 = 0 prox; positivity clips.
    Array<V> xd(ctx, static_cast<std::size_t>(n), ctx.memory_space());
    soft_threshold(ctx, vd.view(), V(0.5), VectorView<const V>{}, true, xd.view());
    const auto x = xd.to_vector(ctx);
    for (index_t i = 0; i < n; ++i) ASSERT_EQ(x[i], v[i] > V(0.5) ? v[i] - V(0.5) : V(0));
  }
  // Bad arguments.
  Array<V> a(ctx, 4, ctx.memory_space()), b(ctx, 3, ctx.memory_space());
  EXPECT_THROW(prox(ctx, a.view(), Penalty<V>{V(-1)}, a.view()), InvalidArgument);
  EXPECT_THROW(prox(ctx, a.view(), Penalty<V>{V(1)}, b.view()), DimensionMismatch);
  EXPECT_THROW(prox_grad_step(ctx, a.view(), a.view(), V(0), Penalty<V>{V(1)}, a.view()), InvalidArgument);
  EXPECT_THROW(prox(ctx, a.view(), Penalty<V>{V(1), V(0), b.view()}, a.view()), DimensionMismatch);
}

TEST_P(Kernels, ProxStepsMatchReference) {
  check_prox<double>(GetParam());
  check_prox<float>(GetParam());
}

template <class V>
void check_axpby(Backend backend) {
  const Context ctx = make_context(backend);
  for (index_t n : {0, 1, 13, 200003}) {
    const auto x = random_vector<V>(n, 41), y = random_vector<V>(n, 42);
    const auto xd = Array<V>::from_vector(x).copy_to(ctx, ctx.memory_space());
    for (V beta : {V(0), V(-1), V(0.25)}) {
      auto yd = Array<V>::from_vector(y).copy_to(ctx, ctx.memory_space());
      axpby(ctx, V(1.5), xd.view(), beta, yd.view());
      const auto got = yd.to_vector(ctx);
      for (index_t i = 0; i < n; ++i)
        ASSERT_NEAR(got[i], static_cast<double>(1.5L * x[i] + beta * static_cast<long double>(y[i])),
                    tolerance<V>() * 4 * (1 + std::fabs(x[i]) + std::fabs(y[i])));
    }
  }
  // beta == 0 overwrites: a NaN already in y does not propagate.
  const std::vector<V> one{V(2)}, nan{std::numeric_limits<V>::quiet_NaN()};
  auto yd = Array<V>::from_vector(nan).copy_to(ctx, ctx.memory_space());
  axpby(ctx, V(3), Array<V>::from_vector(one).copy_to(ctx, ctx.memory_space()).view(), V(0), yd.view());
  EXPECT_EQ(yd.to_vector(ctx)[0], V(6));
  Array<V> a(ctx, 4, ctx.memory_space()), b(ctx, 3, ctx.memory_space());
  EXPECT_THROW(axpby(ctx, V(1), a.view(), V(1), b.view()), DimensionMismatch);
}

TEST_P(Kernels, AxpbyMatchesReference) {
  check_axpby<double>(GetParam());
  check_axpby<float>(GetParam());
}

template <class V>
void check_reductions(Backend backend) {
  const Context ctx = make_context(backend);
  for (index_t n : {0, 1, 7, 100000, 1000003}) {
    const auto x = random_vector<V>(n, 31), y = random_vector<V>(n, 32);
    const auto xd = Array<V>::from_vector(x).copy_to(ctx, ctx.memory_space());
    const auto yd = Array<V>::from_vector(y).copy_to(ctx, ctx.memory_space());
    long double d = 0, s = 0, ss = 0, m = 0, mag = 0;
    for (index_t i = 0; i < n; ++i) {
      d += static_cast<long double>(x[i]) * y[i];
      mag += std::fabs(static_cast<long double>(x[i]) * y[i]);
      s += x[i];
      ss += static_cast<long double>(x[i]) * x[i];
      m = std::max<long double>(m, std::fabs(x[i]));
    }
    // Both twins sum in double (float products are exact there): the error is at most double's
    // summation bound, n u_64 sum |terms| (any order, any split), plus one rounding of the result
    // to V, u_V |result|. The sum's terms are |x_i|; nrm2 adds the square root's rounding.
    long double sabs = 0;
    for (index_t i = 0; i < n; ++i) sabs += std::fabs(static_cast<long double>(x[i]));
    const double u64 = 1.12e-16, uv = std::numeric_limits<V>::epsilon() / 2;
    const double dn = static_cast<double>(n);
    EXPECT_NEAR(dot(ctx, xd.view(), yd.view()), static_cast<double>(d),
                dn * u64 * static_cast<double>(mag) + uv * std::fabs(static_cast<double>(d)) + 1e-300) << n;
    EXPECT_NEAR(sum(ctx, xd.view()), static_cast<double>(s),
                dn * u64 * static_cast<double>(sabs) + uv * std::fabs(static_cast<double>(s)) + 1e-300) << n;
    const double norm = static_cast<double>(std::sqrt(ss));
    EXPECT_NEAR(nrm2(ctx, xd.view()), norm, (dn * u64 + 2 * uv) * norm + 1e-300) << n;
    EXPECT_EQ(amax(ctx, xd.view()), static_cast<V>(m));
    EXPECT_EQ(count_nonfinite(ctx, xd.view()), 0);
    // Deterministic repeats.
    const V d1 = dot(ctx, xd.view(), yd.view()), d2 = dot(ctx, xd.view(), yd.view());
    EXPECT_EQ(0, std::memcmp(&d1, &d2, sizeof(V)));
  }
  // nrm2 neither overflows nor underflows.
  const V big = std::numeric_limits<V>::max() / 4, tiny = std::numeric_limits<V>::min() * 4;
  for (V scale : {big, tiny}) {
    const std::vector<V> v{scale * V(3) / 5, scale * V(4) / 5};
    const auto vd = Array<V>::from_vector(v).copy_to(ctx, ctx.memory_space());
    EXPECT_NEAR(nrm2(ctx, vd.view()) / scale, V(1), tolerance<V>() * 4);
  }
  const std::vector<V> bad{V(1), std::numeric_limits<V>::infinity(), std::numeric_limits<V>::quiet_NaN()};
  EXPECT_EQ(count_nonfinite(ctx, Array<V>::from_vector(bad).copy_to(ctx, ctx.memory_space()).view()), 2);
}

TEST_P(Kernels, ReductionsMatchReference) {
  check_reductions<double>(GetParam());
  check_reductions<float>(GetParam());
}

// The transpose on each backend against one built here from (column, row, value) triplets sorted by
// column then row: the CSR of A^T with rows ascending inside each new row.
TEST_P(Kernels, DeviceTransposeMatchesHost) {
  const Context ctx = make_context(GetParam());
  for (const auto& [name, a] : spmv_cases<double, std::int64_t>()) {
    std::vector<std::tuple<std::int64_t, std::int64_t, double>> entries;
    for (index_t r = 0; r < a.rows(); ++r)
      for (auto k = a.row_ptr()[r]; k < a.row_ptr()[r + 1]; ++k) entries.emplace_back(a.col_idx()[k], r, a.values()[k]);
    std::sort(entries.begin(), entries.end(),
              [](const auto& u, const auto& v) { return std::tie(std::get<0>(u), std::get<1>(u)) < std::tie(std::get<0>(v), std::get<1>(v)); });
    std::vector<std::int64_t> ptr(static_cast<std::size_t>(a.cols() + 1), 0), col;
    std::vector<double> val;
    for (const auto& [c, r, v] : entries) {
      ++ptr[static_cast<std::size_t>(c + 1)];
      col.push_back(r);
      val.push_back(v);
    }
    for (index_t c = 0; c < a.cols(); ++c) ptr[c + 1] += ptr[c];
    const auto t = transpose(ctx, a.copy_to(ctx, ctx.memory_space())).copy_to(ctx, MemorySpace::Host);
    ASSERT_EQ(t.rows(), a.cols()) << name;
    ASSERT_EQ(t.cols(), a.rows()) << name;
    ASSERT_EQ(t.nnz(), a.nnz()) << name;
    EXPECT_TRUE(std::equal(ptr.begin(), ptr.end(), t.row_ptr().data())) << name;
    EXPECT_TRUE(std::equal(col.begin(), col.end(), t.col_idx().data())) << name;
    EXPECT_TRUE(std::equal(val.begin(), val.end(), t.values().data())) << name;
  }
}

// alpha == 0 reads neither A nor x (BLAS convention), forward, transposed and SpMM alike: an Inf in x
// gives beta * y, not NaN, on every backend.
TEST_P(Kernels, ZeroAlphaDoesNotReadX) {
  const Context ctx = make_context(GetParam());
  const auto a = generate_uniform<double, std::int32_t>(50, 40, 5, 3);
  for (Op op : {Op::NoTranspose, Op::Transpose}) {
    const index_t in = op == Op::NoTranspose ? 40 : 50, out = op == Op::NoTranspose ? 50 : 40;
    std::vector<double> x(static_cast<std::size_t>(in), std::numeric_limits<double>::infinity());
    const auto y0 = random_vector<double>(out, 3);
    for (double beta : {0.0, -1.5}) {
      for (auto algorithm : {SpmvAlgorithm::Auto, SpmvAlgorithm::Cusparse, SpmvAlgorithm::CusparseAlg2}) {
        if (algorithm != SpmvAlgorithm::Auto && GetParam() != Backend::Cuda) continue;
        const auto ad = a.copy_to(ctx, ctx.memory_space());
        const auto xd = to_backend(ctx, x);
        auto yd = to_backend(ctx, y0);
        spmv(ctx, op, 0.0, ad.view(), xd.view(), beta, yd.view(), algorithm);
        const auto y = yd.to_vector(ctx);
        for (index_t i = 0; i < out; ++i)
          ASSERT_EQ(y[i], beta * y0[i]) << "op " << static_cast<int>(op) << " " << to_string(algorithm) << " at " << i;
      }
    }
  }
  DenseMatrix<double> b(40, 3), c(50, 3);
  for (index_t i = 0; i < 40; ++i)
    for (index_t q = 0; q < 3; ++q) b(i, q) = std::numeric_limits<double>::infinity();
  for (index_t i = 0; i < 50; ++i)
    for (index_t q = 0; q < 3; ++q) c(i, q) = 0.5 * (i + q);
  const auto bd = b.copy_to(ctx, ctx.memory_space());
  auto cd = c.copy_to(ctx, ctx.memory_space());
  spmm(ctx, 0.0, a.copy_to(ctx, ctx.memory_space()).view(), bd.view(), 2.0, cd.view());
  const auto got = cd.copy_to(ctx, MemorySpace::Host);
  for (index_t i = 0; i < 50; ++i)
    for (index_t q = 0; q < 3; ++q) ASSERT_EQ(got(i, q), 2.0 * c(i, q));
}


}  // namespace
}  // namespace shrink::test
