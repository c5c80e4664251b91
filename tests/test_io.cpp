// Readers and writers: golden files written by SciPy/NumPy (scripts/make_golden.py), round trips,
// a directory of malformed files (scripts/make_malformed.py) and random corruption.
#include <nlohmann/json.hpp>
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <tuple>

#include "tests/test_paths.hpp"
#include "tests/test_util.hpp"

namespace fs = std::filesystem;

namespace shrink::test {
namespace {

const std::string kData = shrink::test::data_dir();

fs::path scratch_dir() {
  const fs::path dir = fs::temp_directory_path() /
                       ("shrink_io_" + std::to_string(::getpid()) + "_" +
                        testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::create_directories(dir);
  return dir;
}

void expect_matches_golden(const std::string& name, const DenseMatrix<double>& d,
                           const nlohmann::json& g) {
  ASSERT_EQ(d.rows(), g["rows"].get<index_t>()) << name;
  ASSERT_EQ(d.cols(), g["cols"].get<index_t>()) << name;
  long double s = 0, ss = 0;
  index_t nnz = 0;
  for (index_t r = 0; r < d.rows(); ++r)
    for (index_t c = 0; c < d.cols(); ++c) {
      s += d(r, c);
      ss += static_cast<long double>(d(r, c)) * d(r, c);
      nnz += d(r, c) != 0;
    }
  EXPECT_EQ(nnz, g["nnz"].get<index_t>()) << name;
  const double tol = name.find("f4") != std::string::npos ? 1e-6 : 1e-12;
  EXPECT_NEAR(static_cast<double>(s), g["sum"].get<double>(), tol * (1 + std::abs(g["sum"].get<double>()))) << name;
  EXPECT_NEAR(static_cast<double>(ss), g["sum_sq"].get<double>(), tol * (1 + g["sum_sq"].get<double>())) << name;
  const auto first = g["first_row"].get<std::vector<double>>();
  for (std::size_t c = 0; c < first.size(); ++c) EXPECT_NEAR(d(0, c), first[c], tol * (1 + std::abs(first[c]))) << name;
  // The whole matrix, entry by entry, against what SciPy/NumPy wrote: every file stores its values
  // exactly (17 digits, shortest round trip or binary), so the reader must give the same bits.
  DenseMatrix<double> want(d.rows(), d.cols());
  for (const auto& e : g["entries"]) want(e[0].get<index_t>(), e[1].get<index_t>()) = e[2].get<double>();
  for (index_t r = 0; r < d.rows(); ++r)
    for (index_t c = 0; c < d.cols(); ++c) ASSERT_EQ(d(r, c), want(r, c)) << name << " at (" << r << ", " << c << ")";
}

TEST(Io, GoldenFilesFromScipy) {
  std::ifstream in(kData + "/golden/golden.json");
  ASSERT_TRUE(in) << "missing golden.json";
  const auto golden = nlohmann::json::parse(in);
  ASSERT_GE(golden.size(), 12u);
  for (const auto& [name, g] : golden.items()) {
    const std::string path = kData + "/golden/" + name;
    auto m = read_matrix<double, std::int64_t>(path);
    expect_matches_golden(name, m.take_dense(), g);
  }
  // svmlight labels and zero-based detection, CSV header, the SpMV product.
  const auto svm = read_svmlight<double, std::int32_t>(kData + "/golden/zero_based.svm");
  EXPECT_TRUE(svm.zero_based);
  EXPECT_EQ(svm.labels, golden["zero_based.svm"]["labels"].get<std::vector<double>>());
  CsvInfo header;
  (void)read_csv<double>(kData + "/golden/header.csv", {}, &header);
  EXPECT_EQ(header.names, (std::vector<std::string>{"a", "b", "c"}));
  const auto a = read_matrix<double, std::int32_t>(kData + "/golden/general.mtx").take_csr();
  std::vector<double> x(static_cast<std::size_t>(a.cols())), y(static_cast<std::size_t>(a.rows()));
  for (index_t j = 0; j < a.cols(); ++j) x[j] = (j + 1.0) / a.cols();
  const Context ctx({Backend::Cpu});
  spmv(ctx, Op::NoTranspose, 1.0, a.view(), VectorView<const double>(x), 0.0, VectorView<double>(y));
  const auto want = golden["general.mtx"]["y_for_x_ramp"].get<std::vector<double>>();
  for (std::size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], want[i], 1e-12 * (1 + std::abs(want[i])));
  MatrixMarketInfo info;
  (void)read_matrix_market<double, std::int32_t>(kData + "/golden/skew.mtx", {}, &info);
  EXPECT_EQ(info.symmetry, MmSymmetry::SkewSymmetric);
}

TEST(Io, MalformedFilesAreRefusedWithFileAndLine) {
  std::ifstream manifest(kData + "/malformed/expected.tsv");
  ASSERT_TRUE(manifest);
  std::string line;
  int checked = 0;
  while (std::getline(manifest, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string name, line_no, substring;
    std::getline(fields, name, '\t');
    std::getline(fields, line_no, '\t');
    std::getline(fields, substring);
    const std::string path = kData + "/malformed/" + name;
    try {
      (void)read_matrix<double, std::int32_t>(path);
      ADD_FAILURE() << name << ": accepted";
    } catch (const ParseError& e) {
      EXPECT_EQ(e.file(), path) << name;
      EXPECT_EQ(e.line(), std::stoll(line_no)) << name << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find(substring), std::string::npos)
          << name << ": message '" << e.what() << "' lacks '" << substring << "'";
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << name << ": not a ParseError: " << e.what();
    }
    ++checked;
  }
  EXPECT_GE(checked, 50);
}

TEST(Io, MatrixMarketSyntaxVariants) {
  const std::string text =
      "%%matrixmarket   MATRIX Coordinate  REAL   General\r\n"
      "% comment\r\n"
      "\r\n"
      "  3\t4   3  \r\n"
      "1 1 +1.5\r\n"
      "\r\n"
      "% a comment among entries\r\n"
      "3\t4   -2e-3\r\n"
      "3 4 1\r\n";  // duplicate entry: summed
  MatrixMarketInfo info;
  auto m = parse_matrix_market<double, std::int32_t>(text, "variants", {}, &info).take_csr();
  EXPECT_EQ(info.entries, 3);
  EXPECT_EQ(m.rows(), 3);
  EXPECT_EQ(m.cols(), 4);
  EXPECT_EQ(m.nnz(), 2);
  EXPECT_DOUBLE_EQ(m.values()[0], 1.5);
  EXPECT_DOUBLE_EQ(m.values()[1], 1.0 - 2e-3);
  // No final newline, empty matrix, array format with symmetry.
  EXPECT_EQ((parse_matrix_market<float, std::int64_t>("%%MatrixMarket matrix coordinate pattern general\n2 2 1\n2 1",
                                                       "x").take_csr().nnz()), 1);
  EXPECT_EQ((parse_matrix_market<double, std::int32_t>("%%MatrixMarket matrix coordinate real general\n0 0 0\n", "x")
                 .take_csr().rows()), 0);
  auto sym = parse_matrix_market<double, std::int32_t>(
                 "%%MatrixMarket matrix array real symmetric\n2 2\n1\n2\n3\n", "x").take_dense();
  EXPECT_EQ(sym(0, 1), 2.0);
  EXPECT_EQ(sym(1, 0), 2.0);
  EXPECT_EQ(sym(1, 1), 3.0);
  auto skew = parse_matrix_market<double, std::int32_t>(
                  "%%MatrixMarket matrix array real skew-symmetric\n3 3\n1\n2\n3\n", "x").take_dense();
  EXPECT_EQ(skew(1, 0), 1.0);
  EXPECT_EQ(skew(0, 1), -1.0);
  EXPECT_EQ(skew(2, 1), 3.0);
  EXPECT_EQ(skew(1, 2), -3.0);
}

TEST(Io, ParallelParseMatchesSerialAndReportsTheRightLine) {
  const auto a = generate_power_law<double, std::int64_t>(60000, 50000, 12.0, 1.5, 5);
  const fs::path dir = scratch_dir();
  const std::string path = (dir / "big.mtx").string();
  write_matrix_market(path, a);
  const std::string text = read_file(path);
  ASSERT_GT(text.size(), 4u << 20);  // several chunks
  const auto serial = parse_matrix_market<double, std::int64_t>(text, path, {1}).take_csr();
  const auto parallel = parse_matrix_market<double, std::int64_t>(text, path, {4}).take_csr();
  ASSERT_EQ(serial.nnz(), a.nnz());
  ASSERT_EQ(parallel.nnz(), a.nnz());
  for (index_t k = 0; k < a.nnz(); ++k) {
    ASSERT_EQ(parallel.col_idx()[k], a.col_idx()[k]);
    ASSERT_EQ(parallel.values()[k], a.values()[k]);  // shortest round-trip text is exact
  }
  // Corrupt a line deep inside a later chunk: the error names that line.
  std::string bad = text;
  std::size_t pos = bad.size() * 3 / 4;
  pos = bad.find('\n', pos) + 1;
  const auto line = 1 + std::count(bad.begin(), bad.begin() + static_cast<std::ptrdiff_t>(pos), '\n');
  bad.replace(pos, 1, "x");
  for (int threads : {1, 4}) {
    try {
      (void)parse_matrix_market<double, std::int64_t>(bad, path, {threads});
      ADD_FAILURE() << "accepted";
    } catch (const ParseError& e) {
      EXPECT_EQ(e.line(), line) << e.what();
    }
  }
  fs::remove_all(dir);
}

template <class V>
void dense_round_trips(const fs::path& dir) {
  for (Layout layout : {Layout::RowMajor, Layout::ColMajor}) {
    DenseMatrix<V> d(5, 3, layout);
    for (index_t r = 0; r < 5; ++r)
      for (index_t c = 0; c < 3; ++c) d(r, c) = static_cast<V>(0.1 * r - 0.37 * c + 1e-7 * r * c);
    for (const char* ext : {".mtx", ".npy", ".csv", ".txt", ".npz"}) {
      const std::string path = (dir / (std::string("d") + ext)).string();
      MatrixFile<V, std::int32_t> f;
      f.is_dense = true;
      f.dense = d.copy_to(Context({Backend::Cpu}), MemorySpace::Host);
      write_matrix(path, f);
      auto back = read_matrix<V, std::int32_t>(path).take_dense();
      ASSERT_EQ(back.rows(), 5);
      ASSERT_EQ(back.cols(), 3);
      for (index_t r = 0; r < 5; ++r)
        for (index_t c = 0; c < 3; ++c) ASSERT_EQ(back(r, c), d(r, c)) << ext;
    }
  }
}

TEST(Io, RoundTripsEveryFormat) {
  const fs::path dir = scratch_dir();
  dense_round_trips<double>(dir);
  dense_round_trips<float>(dir);
  const auto a = generate_uniform<double, std::int32_t>(40, 25, 6, 3);
  for (const char* ext : {".mtx", ".svm", ".npy", ".npz", ".csv", ".txt"}) {
    const std::string path = (dir / (std::string("s") + ext)).string();
    MatrixFile<double, std::int32_t> f;
    f.sparse = a.copy_to(Context({Backend::Cpu}), MemorySpace::Host);
    write_matrix(path, f);
    const auto back = read_matrix<double, std::int32_t>(path).take_csr();
    ASSERT_EQ(back.nnz(), a.nnz()) << ext;
    ASSERT_EQ(back.rows(), a.rows()) << ext;
    for (index_t k = 0; k < a.nnz(); ++k) {
      ASSERT_EQ(back.col_idx()[k], a.col_idx()[k]) << ext;
      ASSERT_EQ(back.values()[k], a.values()[k]) << ext;
    }
  }
  // Labels survive svmlight.
  std::vector<double> labels(40);
  for (int i = 0; i < 40; ++i) labels[i] = i % 2 ? 1.0 : -1.0;
  write_svmlight((dir / "l.svm").string(), a, labels);
  const auto svm = read_svmlight<double, std::int32_t>((dir / "l.svm").string());
  EXPECT_EQ(svm.labels, labels);
  EXPECT_FALSE(svm.zero_based);
  // No temporary files are left behind.
  for (const auto& entry : fs::directory_iterator(dir))
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << entry.path();
  fs::remove_all(dir);
}

// A .npy array's bytes: the version 1 header (its dict padded to a multiple of 64) and the data.
std::string npy_bytes(const std::string& descr, bool fortran, index_t rows, index_t cols, const std::string& data) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
                     ", 'shape': (" + std::to_string(rows) + ", " + std::to_string(cols) + "), }";
  while ((10 + dict.size() + 1) % 64 != 0) dict += ' ';
  dict += '\n';
  std::string out = "\x93NUMPY\x01";
  out += '\0';
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>(dict.size() >> 8);
  return out + dict + data;
}

template <class T>
std::string raw_values(const std::vector<T>& v, bool big_endian = false) {
  std::string out(v.size() * sizeof(T), '\0');
  std::memcpy(out.data(), v.data(), out.size());
  if (big_endian)
    for (std::size_t k = 0; k < v.size(); ++k) std::reverse(out.begin() + k * sizeof(T), out.begin() + (k + 1) * sizeof(T));
  return out;
}

// Asked for column-major, a C-order array comes back column-major with every value where the
// row-major read puts it: each element type, several blocks of rows (20 x 5000), one row, one
// column; a Fortran-order array is read as before; a value out of range names its element in file
// order.
TEST(Io, NpyReadColumnMajorHoldsTheSameValues) {
  const auto same_values = [](const std::string& bytes, const std::string& what) {
    const auto by_rows = parse_npy<double>(bytes, what);
    const auto by_columns = parse_npy<double>(bytes, what, true);
    ASSERT_EQ(by_columns.rows(), by_rows.rows()) << what;
    ASSERT_EQ(by_columns.cols(), by_rows.cols()) << what;
    if (by_rows.rows() > 1 && by_rows.cols() > 1) EXPECT_EQ(by_columns.layout(), Layout::ColMajor) << what;
    for (index_t i = 0; i < by_rows.rows(); ++i)
      for (index_t j = 0; j < by_rows.cols(); ++j)
        ASSERT_EQ(by_columns.view()(i, j), by_rows.view()(i, j)) << what << " at " << i << ", " << j;
  };
  for (const auto [rows, cols] : {std::pair<index_t, index_t>{20, 5000}, {7, 3}, {1, 9}, {9, 1}}) {
    const auto count = static_cast<std::size_t>(rows * cols);
    std::vector<double> f8(count);
    std::vector<float> f4(count);
    std::vector<std::int32_t> i4(count);
    std::vector<std::uint16_t> f2(count);
    std::string b1(count, '\0');
    for (std::size_t k = 0; k < count; ++k) {
      f8[k] = 0.5 * static_cast<double>(k) - 3;
      f4[k] = static_cast<float>(k % 97) * 0.25f;
      i4[k] = static_cast<std::int32_t>(k * 7919 % 1000) - 500;
      f2[k] = static_cast<std::uint16_t>(0x3c00 + (k % 64));  // 1.0 and a little more
      b1[k] = static_cast<char>(k % 3 == 0);
    }
    const std::string shape = std::to_string(rows) + " x " + std::to_string(cols);
    same_values(npy_bytes("<f8", false, rows, cols, raw_values(f8)), "<f8 " + shape);
    same_values(npy_bytes(">f8", false, rows, cols, raw_values(f8, true)), ">f8 " + shape);
    same_values(npy_bytes("<f4", false, rows, cols, raw_values(f4)), "<f4 " + shape);
    same_values(npy_bytes("<i4", false, rows, cols, raw_values(i4)), "<i4 " + shape);
    same_values(npy_bytes("<f2", false, rows, cols, raw_values(f2)), "<f2 " + shape);
    same_values(npy_bytes("|b1", false, rows, cols, b1), "|b1 " + shape);
    same_values(npy_bytes("<f8", true, rows, cols, raw_values(f8)), "<f8 Fortran " + shape);
  }
  // Row 3, column 1 of a 5 x 4 int64 array is element 13 in the file.
  std::vector<std::int64_t> big(20, 1);
  big[13] = (std::int64_t{1} << 53) + 1;
  const std::string bytes = npy_bytes("<i8", false, 5, 4, raw_values(big));
  for (const bool column_major : {false, true}) {
    try {
      (void)parse_npy<double>(bytes, "big.npy", column_major);
      ADD_FAILURE() << "an int64 past 2^53 was read";
    } catch (const ParseError& e) {
      EXPECT_NE(std::string(e.what()).find("element 13 "), std::string::npos) << e.what();
    }
  }
  // NaN: its row and column from 0, as the row-major read gives them.
  std::vector<double> nan(12, 1.0);
  nan[7] = std::nan("");
  try {
    (void)parse_npy<double>(npy_bytes("<f8", false, 3, 4, raw_values(nan)), "nan.npy", true);
    ADD_FAILURE() << "NaN was read";
  } catch (const ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("row 1, column 3"), std::string::npos) << e.what();
  }
}

// Every part of a file, in order, holds its rows: stacked, the parts are the whole file, for 1 to 5
// parts (more parts than some files have lines leave parts empty).
TEST(Io, PartsOfAFileStackToTheWholeFile) {
  const fs::path dir = scratch_dir();
  const index_t n = 23, p = 4;
  DenseMatrix<double> a(n, p, Layout::RowMajor);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < p; ++j) a.data()[i * p + j] = (i * 7 + j * 3) % 5 == 0 ? 0.0 : 0.25 * (i + 1) - j;
  DenseMatrix<double> f(n, p, Layout::ColMajor);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < p; ++j) f.data()[j * n + i] = a.data()[i * p + j];
  write_npy((dir / "c.npy").string(), DenseView<const double>(a.view()));
  write_npy((dir / "f.npy").string(), DenseView<const double>(f.view()));
  {  // as pandas writes a frame: a header with an empty first name over an index column
    std::ofstream csv(dir / "x.csv");
    csv << ",a,b,c,d\n";
    for (index_t i = 0; i < n; ++i) {
      csv << i;
      for (index_t j = 0; j < p; ++j) csv << "," << a.data()[i * p + j];
      csv << "\n";
    }
  }
  MatrixFile<double, std::int64_t> whole;
  whole.is_dense = true;
  whole.dense = a.copy_to(Context({Backend::Cpu}), MemorySpace::Host);
  write_matrix((dir / "x.mtx").string(), whole);
  const auto csr = whole.take_csr();
  write_svmlight((dir / "x.svm").string(), csr, std::vector<double>(static_cast<std::size_t>(n), 1.0));
  write_matrix_market((dir / "xs.mtx").string(), csr);  // coordinate: filtered in one pass
  write_npz((dir / "x.npz").string(), csr);              // deflated CSR: the part's stretch only
  for (const char* name : {"c.npy", "f.npy", "x.csv", "x.svm", "x.mtx", "xs.mtx", "x.npz"}) {
    const std::string path = (dir / name).string();
    for (int parts = 1; parts <= 5; ++parts) {
      std::vector<double> stacked;
      index_t rows = 0;
      CsvInfo first;
      for (int part = 0; part < parts; ++part) {
        PartOptions o;
        if (part > 0) o.csv_first_part = &first;
        auto got = read_matrix_part(path, part, parts, o);
        if (part == 0) first = got.csv;
        if (got.first_row >= 0) EXPECT_EQ(got.first_row, rows) << name << " part " << part << " of " << parts;
        const auto d = got.file.take_dense();
        if (d.rows() > 0) ASSERT_EQ(d.cols(), p) << name << " part " << part << " of " << parts;
        for (index_t i = 0; i < d.rows(); ++i)
          for (index_t j = 0; j < p; ++j) stacked.push_back(d.view()(i, j));
        rows += d.rows();
      }
      ASSERT_EQ(rows, n) << name << " in " << parts << " parts";
      for (index_t k = 0; k < n * p; ++k) ASSERT_EQ(stacked[k], a.data()[k]) << name << " in " << parts << " parts, " << k;
    }
  }
  EXPECT_THROW(read_matrix_part((dir / "c.npy").string(), 2, 2), InvalidArgument);
  // A symmetric coordinate file: each part holds its rows' stored and mirrored entries.
  {
    std::ofstream sym(dir / "sym.mtx");
    sym << "%%MatrixMarket matrix coordinate real symmetric\n5 5 7\n1 1 1\n2 1 2\n3 2 3\n4 1 4\n5 5 5\n5 3 6\n4 4 7\n";
  }
  {  // the same matrix in the array format: the lower triangle by columns
    std::ofstream sym(dir / "sym_array.mtx");
    sym << "%%MatrixMarket matrix array real symmetric\n5 5\n";
    const double lower[5][5] = {{1, 0, 0, 0, 0}, {2, 0, 0, 0, 0}, {0, 3, 0, 0, 0}, {4, 0, 0, 7, 0}, {0, 0, 6, 0, 5}};
    for (int j = 0; j < 5; ++j)
      for (int i = j; i < 5; ++i) sym << lower[i][j] << "\n";
  }
  const auto full = read_matrix<double, std::int64_t>((dir / "sym.mtx").string()).take_dense();
  for (const char* file : {"sym.mtx", "sym_array.mtx"}) {
    for (int parts = 1; parts <= 5; ++parts) {
      index_t rows = 0;
      for (int part = 0; part < parts; ++part) {
        auto got = read_matrix_part((dir / file).string(), part, parts);
        EXPECT_EQ(got.first_row, rows) << file;
        const auto d = got.file.take_dense();
        for (index_t i = 0; i < d.rows(); ++i)
          for (index_t j = 0; j < 5; ++j)
            ASSERT_EQ(d.view()(i, j), full.view()(rows + i, j)) << file << " " << parts << " " << part;
        rows += d.rows();
      }
      EXPECT_EQ(rows, 5) << file;
    }
  }
  fs::remove_all(dir);
}

// SciPy's own .npz files (deflated CSR with int32 and int64 indices, stored CSC, COO) and NumPy's
// dense archives in parts: the parts stack to the whole read; a damaged deflated member fails its
// CRC in a part too.
TEST(Io, NpzPartsFromScipyStackToTheWholeFile) {
  for (const char* name : {"scipy_csr.npz", "scipy_csr_int64.npz", "scipy_csc_stored.npz", "scipy_coo.npz",
                           "numpy_xy.npz", "numpy_xy_compressed.npz"}) {
    const std::string path = kData + "/user/" + name;
    const auto whole = read_matrix<double, std::int64_t>(path).take_dense();
    for (int parts = 1; parts <= 4; ++parts) {
      index_t rows = 0;
      for (int part = 0; part < parts; ++part) {
        auto got = read_matrix_part(path, part, parts);
        EXPECT_EQ(got.first_row, rows) << name;
        const auto d = got.file.take_dense();
        for (index_t i = 0; i < d.rows(); ++i)
          for (index_t j = 0; j < d.cols(); ++j)
            ASSERT_EQ(d.view()(i, j), whole.view()(rows + i, j)) << name << " " << part << "/" << parts;
        rows += d.rows();
      }
      EXPECT_EQ(rows, whole.rows()) << name;
    }
  }
  const fs::path dir = scratch_dir();
  std::ifstream in(kData + "/user/scipy_csr.npz", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto at = bytes.find("data.npy");  // the first local header names the member; damage its body
  ASSERT_NE(at, std::string::npos);
  bytes[at + 40] = static_cast<char>(bytes[at + 40] ^ 0x5a);
  std::ofstream((dir / "bad.npz").string(), std::ios::binary) << bytes;
  EXPECT_THROW(read_matrix_part((dir / "bad.npz").string(), 1, 2), ParseError);
  fs::remove_all(dir);
}

TEST(Io, WriterFailureLeavesNothing) {
  const fs::path dir = scratch_dir();
  const std::string missing = (dir / "no_such_dir" / "out.mtx").string();
  const auto a = generate_banded<double, std::int32_t>(4, 1);
  EXPECT_THROW(write_matrix_market(missing, a), IoError);
  EXPECT_FALSE(fs::exists(missing));
  EXPECT_THROW(((void)read_matrix<double, std::int32_t>((dir / "absent.mtx").string())), IoError);
  EXPECT_THROW(((void)read_matrix<double, std::int32_t>((dir / "x.unknown").string())), InvalidArgument);

  // A write that fails part-way (the file-size limit makes write() fail with EFBIG) leaves the
  // existing target as it was and no temporary file behind.
  const std::string target = (dir / "target.mtx").string();
  write_matrix_market(target, a);
  const std::string before = read_file(target);
  const auto big = generate_uniform<double, std::int32_t>(2000, 2000, 20, 7);  // ~1 MB of text
  struct rlimit old_limit {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old_limit;
  small.rlim_cur = 64 * 1024;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  try {
    write_matrix_market(target, big);
    ADD_FAILURE() << "a write past the file-size limit succeeded";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(target), std::string::npos) << e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_EQ(read_file(target), before);
  // A target that cannot be replaced (a directory) fails at the rename: the directory stays.
  const fs::path taken = dir / "taken.mtx";
  fs::create_directories(taken / "inside");
  EXPECT_THROW(write_matrix_market(taken.string(), a), IoError);
  EXPECT_TRUE(fs::is_directory(taken / "inside"));
  for (const auto& entry : fs::directory_iterator(dir))
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << entry.path();
  fs::remove_all(dir);
}

TEST(Io, SvmlightIndexBases) {
  const std::string one = "1 1:0.5 3:2\n-1 2:1\n";
  const auto auto_base = parse_svmlight<double, std::int32_t>(one, "one");
  EXPECT_FALSE(auto_base.zero_based);
  EXPECT_EQ(auto_base.features.cols(), 3);
  const auto zero = parse_svmlight<double, std::int32_t>(one, "one", IndexBase::Zero);
  EXPECT_EQ(zero.features.cols(), 4);
  EXPECT_THROW(((void)parse_svmlight<double, std::int32_t>("1 0:1\n", "z", IndexBase::One)), ParseError);
  EXPECT_EQ((parse_svmlight<double, std::int32_t>(one, "one", IndexBase::Auto, 10).features.cols()), 10);
  EXPECT_THROW(((void)parse_svmlight<double, std::int32_t>(one, "one", IndexBase::Auto, 2)), ParseError);
}

TEST(Io, CorruptedInputsNeverCrash) {
  // Random byte edits of valid files: each parse either succeeds or throws a shrink::Error.
  std::mt19937 gen(99);
  const std::vector<std::pair<std::string, std::string>> seeds = {
      {"a.mtx", read_file(kData + "/golden/general.mtx")},
      {"b.mtx", read_file(kData + "/golden/array.mtx")},
      {"c.mtx", read_file(kData + "/golden/symmetric.mtx")},
      {"d.svm", read_file(kData + "/golden/zero_based.svm")},
      {"e.npy", read_file(kData + "/golden/c_f8_v1.npy")},
      {"f.csv", read_file(kData + "/golden/header.csv")}};
  // Built with its length: a literal stops at its first \0, and the NUL and 0xFF bytes must be in.
  static constexpr char kAlphabet[] = "0123456789 \n\r\t-+.eE%:,naifx\x00\xff";
  const std::string alphabet(kAlphabet, sizeof(kAlphabet) - 1);
  ASSERT_EQ(alphabet.size(), 29u);
  int accepted = 0, refused = 0;
  for (int round = 0; round < 3000; ++round) {
    const auto& [name, text] = seeds[round % seeds.size()];
    std::string t = text;
    const int edits = 1 + static_cast<int>(gen() % 4);
    for (int e = 0; e < edits && !t.empty(); ++e) {
      const std::size_t at = gen() % t.size();
      switch (gen() % 5) {
        case 0: t[at] = alphabet[gen() % alphabet.size()]; break;
        case 1: t.erase(at, 1 + gen() % 8); break;
        case 2: t.insert(at, 1, alphabet[gen() % alphabet.size()]); break;
        case 3: t.resize(at); break;
        case 4: t[at] = static_cast<char>(gen() & 0xFF); break;  // any byte: binary headers, NULs
      }
    }
    try {
      const FileFormat f = format_from_path(name);
      if (f == FileFormat::MatrixMarket) (void)parse_matrix_market<double, std::int32_t>(t, name, {2});
      if (f == FileFormat::Svmlight) (void)parse_svmlight<double, std::int32_t>(t, name);
      if (f == FileFormat::Npy) (void)parse_npy<double>(t, name);
      if (f == FileFormat::Csv) (void)parse_csv<double>(t, name);
      ++accepted;
    } catch (const Error&) {
      ++refused;
    }
  }
  EXPECT_GT(refused, 100);
  EXPECT_GT(accepted, 10);
}

}  // namespace
}  // namespace shrink::test

namespace shrink {
namespace {

// Files written the way users write them (scripts/make_user_files.py: pandas to_csv in its common
// forms, numpy.savetxt, integer, bool, Fortran-order and big-endian .npy) read as the matrices they
// hold: the header by content, pandas' index column dropped, the delimiter sniffed.
TEST(UserFiles, PandasAndNumpyFilesReadAsWritten) {
  std::ifstream in(test::data_dir() + "/user/expected.json");
  ASSERT_TRUE(in) << "missing tests/data/user/expected.json";
  const auto expected = nlohmann::json::parse(in);
  ASSERT_GE(expected.size(), 20u);
  for (const auto& [name, e] : expected.items()) {
    SCOPED_TRACE(name);
    const std::string path = test::data_dir() + "/user/" + name;
    DenseMatrix<double> m;
    if (name.ends_with(".csv") || name.ends_with(".csv.gz")) {
      CsvInfo info;
      m = read_csv<double>(path, {}, &info);
      EXPECT_EQ(info.names, e["names"].get<std::vector<std::string>>());
      EXPECT_EQ(info.dropped_index, e["dropped_index"].get<bool>());
    } else {
      m = read_matrix<double, std::int64_t>(path).take_dense();
    }
    ASSERT_EQ(m.rows(), e["rows"].get<index_t>());
    ASSERT_EQ(m.cols(), e["cols"].get<index_t>());
    const auto values = e["values"].get<std::vector<double>>();
    for (index_t i = 0; i < m.rows(); ++i)
      for (index_t j = 0; j < m.cols(); ++j) EXPECT_EQ(m(i, j), values[static_cast<std::size_t>(i * m.cols() + j)]) << i << "," << j;
  }
}

// np.savez archives: X read from the member named X, y (read_columns) from the one named y, an
// archive of unnamed arrays refused with its arrays listed.
TEST(UserFiles, NumpyArchivesGiveTheNamedArray) {
  const std::string dir = test::data_dir() + "/user/";
  const auto x = read_matrix<double, std::int64_t>(dir + "numpy_xy.npz");
  EXPECT_TRUE(x.is_dense);
  EXPECT_EQ(x.npz_member, "X");
  EXPECT_EQ(x.cols(), 3);
  const auto y = read_columns<double>(dir + "numpy_xy.npz");
  ASSERT_EQ(y.rows(), 6);
  ASSERT_EQ(y.cols(), 1);
  const auto y_compressed = read_columns<double>(dir + "numpy_xy_compressed.npz");
  for (index_t i = 0; i < 6; ++i) EXPECT_EQ(y(i, 0), y_compressed(i, 0));
  EXPECT_EQ((read_matrix<double, std::int64_t>(dir + "numpy_one.npz").npz_member), "");  // no choice made
  try {
    (void)read_matrix<double, std::int64_t>(dir + "numpy_unnamed.npz");
    FAIL() << "an archive without X was read";
  } catch (const ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("arr_0, arr_1"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(npz_is_sparse(read_file(dir + "numpy_one.npz"), "numpy_one.npz"));
  EXPECT_TRUE(npz_is_sparse(read_file(dir + "scipy_csr.npz"), "scipy_csr.npz"));
}

// gzip: every reader takes NAME.EXT.gz as NAME.EXT (the expected.json files above include pandas'
// inferred .csv.gz, np.savetxt's .txt.gz and a two-member .mtx.gz), every writer compresses a .gz
// name, and bad gzip data is a ParseError naming the file; its growth is held to the memory limit.
TEST(UserFiles, GzipFilesAreReadAndWritten) {
  const auto dir = fs::temp_directory_path() / ("shrink_gz_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::shared_ptr<void> cleanup(nullptr, [&](void*) { fs::remove_all(dir); });
  const auto raw_bytes = [](const std::string& path) {  // as stored (read_file inflates a .gz)
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  DenseMatrix<double> m(7, 3);
  for (index_t i = 0; i < 7; ++i)
    for (index_t j = 0; j < 3; ++j) m(i, j) = (i * 3 + j) % 4 == 0 ? 0.0 : 0.1 * i - j;
  for (const char* name : {"a.csv.gz", "a.mtx.gz", "a.npy.gz", "a.npz.gz", "a.txt.gz", "A.MTX.GZ"}) {
    SCOPED_TRACE(name);
    const std::string path = (dir / name).string();
    MatrixFile<double, std::int64_t> f;
    f.is_dense = true;
    f.dense = dense_to_layout<double>(std::as_const(m).view(), Layout::RowMajor);
    write_matrix(path, f);
    const std::string bytes = raw_bytes(path);
    ASSERT_GE(bytes.size(), 2u);
    EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 0x1f);  // gzip's magic: compressed
    EXPECT_EQ(static_cast<unsigned char>(bytes[1]), 0x8b);
    const auto back = read_matrix<double, std::int64_t>(path).take_dense();
    ASSERT_EQ(back.rows(), 7);
    ASSERT_EQ(back.cols(), 3);
    for (index_t i = 0; i < 7; ++i)
      for (index_t j = 0; j < 3; ++j) EXPECT_EQ(back(i, j), m(i, j));
  }
  EXPECT_EQ(format_from_path("x.svm.gz"), FileFormat::Svmlight);
  EXPECT_THROW((void)format_from_path("x.gz"), InvalidArgument);
  const auto file = [&](const std::string& name, const std::string& bytes) {
    const std::string path = (dir / name).string();
    write_file_atomic(path + ".plain", bytes);
    fs::rename(path + ".plain", path);
    return path;
  };
  const std::string packed = raw_bytes((dir / "a.csv.gz").string());
  for (const auto& [name, bytes, words] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"text.csv.gz", "1,2\n3,4\n", "not a gzip file"},
           {"cut.csv.gz", packed.substr(0, packed.size() - 12), "truncated"},
           {"tail.csv.gz", packed + "junk", "trailing bytes"},
           {"flip.csv.gz", packed.substr(0, 20) + std::string(1, static_cast<char>(packed[20] ^ 0x55)) + packed.substr(21),
            "gzip"}}) {
    SCOPED_TRACE(name);
    try {
      (void)read_matrix<double, std::int64_t>(file(name, bytes));
      FAIL() << "read";
    } catch (const ParseError& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  }
  // 64 MiB of zeros packed in ~64 KiB: the inflation stops at a 16 MiB limit.
  const std::string bomb = (dir / "bomb.csv.gz").string();
  write_file_atomic(bomb, std::string(std::size_t{64} << 20, '0'));
  set_memory_limit(std::size_t{16} << 20);
  EXPECT_THROW((void)(read_matrix<double, std::int64_t>(bomb)), OutOfMemory);
  set_memory_limit(0);
}

// --y-column's library half: a column found by its header name or a 0-based index (negative from
// the last), then taken out of a dense matrix (either order) or a sparse one, its name with it.
TEST(UserFiles, ColumnsAreFoundByNameOrIndexAndTakenOut) {
  const std::string path = test::data_dir() + "/user/pandas_with_target.csv";
  auto f = read_matrix<double, std::int64_t>(path);
  ASSERT_EQ(f.cols(), 4);
  EXPECT_EQ(f.find_column("target", path), 3);
  EXPECT_EQ(f.find_column("1", path), 1);
  EXPECT_EQ(f.find_column("-1", path), 3);
  EXPECT_EQ(f.find_column("-4", path), 0);
  for (const char* bad : {"4", "-5", "-0", "weight", "", "1.5", "99999999999999999999"})
    EXPECT_THROW((void)f.find_column(bad, path), InvalidArgument) << bad;
  try {
    (void)f.find_column("weight", path);
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("age, bmi, bp, target"), std::string::npos) << e.what();
  }
  const auto whole = dense_to_layout<double>(std::as_const(f.dense).view(), Layout::RowMajor);
  const auto y = f.take_column(3);
  EXPECT_EQ(f.column_names, (std::vector<std::string>{"age", "bmi", "bp"}));
  ASSERT_EQ(f.cols(), 3);
  ASSERT_EQ(y.size(), 6u);
  for (index_t i = 0; i < 6; ++i) {
    EXPECT_EQ(y[static_cast<std::size_t>(i)], whole(i, 3));
    for (index_t j = 0; j < 3; ++j) EXPECT_EQ(f.dense(i, j), whole(i, j));
  }
  // A middle column, from each storage.
  DenseMatrix<double> m(5, 4);
  for (index_t i = 0; i < 5; ++i)
    for (index_t j = 0; j < 4; ++j) m(i, j) = (i + j) % 3 == 0 ? 0.0 : 10.0 * i + j;
  for (int kind = 0; kind < 3; ++kind) {
    SCOPED_TRACE(kind);
    MatrixFile<double, std::int64_t> g;
    g.is_dense = kind < 2;
    if (kind == 0) g.dense = dense_to_layout<double>(std::as_const(m).view(), Layout::RowMajor);
    if (kind == 1) g.dense = dense_to_layout<double>(std::as_const(m).view(), Layout::ColMajor);
    if (kind == 2) g.sparse = dense_to_csr<double, std::int64_t>(std::as_const(m).view());
    const auto col = g.take_column(1);
    ASSERT_EQ(g.cols(), 3);
    const auto rest = g.take_dense();
    for (index_t i = 0; i < 5; ++i) {
      EXPECT_EQ(col[static_cast<std::size_t>(i)], m(i, 1));
      for (index_t j = 0; j < 3; ++j) EXPECT_EQ(rest(i, j), m(i, j < 1 ? j : j + 1)) << i << "," << j;
    }
  }
}

DenseMatrix<double> parse(const std::string& text, CsvInfo* info = nullptr, CsvOptions o = {}) {
  return parse_csv<double>(text, "t.csv", o, info);
}

// The CSV rules one by one: sniffed delimiters, quotes, a header told by content, a missing value
// (also in the first row, which used to be taken for a header), pandas' index column.
TEST(UserFiles, CsvRules) {
  CsvInfo info;
  auto m = parse("a;b;c\n1;2;3\n4;5;6\n", &info);
  EXPECT_EQ(info.delimiter, ';');
  EXPECT_EQ(m.rows(), 2);
  EXPECT_EQ(m(1, 2), 6.0);
  m = parse("1\t2\n3\t4\n", &info);
  EXPECT_EQ(info.delimiter, '\t');
  EXPECT_FALSE(info.header);
  m = parse("  1   2  3\n4 5   6\n", &info);
  EXPECT_EQ(info.delimiter, ' ');
  EXPECT_EQ(m.cols(), 3);
  m = parse("x,\"y, z\"\r\n1,2\r\n", &info);
  EXPECT_EQ(info.names, (std::vector<std::string>{"x", "y, z"}));
  EXPECT_EQ(m(0, 1), 2.0);
  // A forced delimiter is used as given, and a wrong one is named.
  m = parse("1;2\n3;4\n", &info, CsvOptions{';', true});
  EXPECT_EQ(m.cols(), 2);
  try {
    (void)parse("1;2\n3;4\n", &info, CsvOptions{',', true});
    ADD_FAILURE();
  } catch (const ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("delimiter may be ';'"), std::string::npos) << e.what();
  }
  // Missing values, with line and field.
  for (const std::string text : {"1,,3\n4,5,6\n", "a,b\n1,2\n,4\n", "1,2\n3,nan\n"}) {
    try {
      (void)parse(text);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const ParseError& e) {
      EXPECT_GT(e.line(), 0) << e.what();
    }
  }
  // pandas' index: dropped when its header is empty or "Unnamed: 0"; kept when named.
  m = parse("Unnamed: 0,a\n0,1.5\n1,2.5\n", &info);
  EXPECT_TRUE(info.dropped_index);
  EXPECT_EQ(m.cols(), 1);
  m = parse("id,a\n0,1.5\n1,2.5\n", &info);
  EXPECT_FALSE(info.dropped_index);
  EXPECT_EQ(m.cols(), 2);
  m = parse(",a\n0,1.5\n1,2.5\n", &info, CsvOptions{0, false});
  EXPECT_FALSE(info.dropped_index);
}

// Decimal commas, as pandas' to_csv(sep=";", decimal=",") and spreadsheets in many locales write
// them: sniffed from the first lines with the delimiter, or met later after integers only; a file
// that mixes both marks is refused, naming the line and field.
TEST(UserFiles, CsvDecimalCommas) {
  CsvInfo info;
  auto m = parse("a;b\n1,5;2\n-0,25;3e-2\n", &info);
  EXPECT_EQ(info.delimiter, ';');
  EXPECT_EQ(info.decimal, ',');
  EXPECT_EQ(info.names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(m(0, 0), 1.5);
  EXPECT_EQ(m(1, 0), -0.25);
  EXPECT_EQ(m(1, 1), 0.03);
  // No header: the first row's decimal commas make it data, not names.
  m = parse("1,5;2,25\n3,0;4,5\n", &info);
  EXPECT_FALSE(info.header);
  EXPECT_EQ(m.rows(), 2);
  EXPECT_EQ(m(0, 1), 2.25);
  // Tab- and blank-separated; quoted fields in a comma-separated file (pandas quotes them there).
  m = parse("x\ty\n1,5\t2\n", &info);
  EXPECT_EQ(info.delimiter, '\t');
  EXPECT_EQ(m(0, 0), 1.5);
  m = parse("1,5 2,5\n3 4,75\n", &info);
  EXPECT_EQ(info.delimiter, ' ');
  EXPECT_EQ(m(1, 1), 4.75);
  m = parse("\"a\",\"b\"\n\"1,5\",\"2\"\n", &info);
  EXPECT_EQ(info.delimiter, ',');
  EXPECT_EQ(info.decimal, ',');
  EXPECT_EQ(m(0, 0), 1.5);
  // One column under a name: one field per line, not two.
  m = parse("y\n1,5\n2,5\n-3,125\n", &info);
  EXPECT_EQ(m.cols(), 1);
  EXPECT_EQ(m(2, 0), -3.125);
  // The first decimal comma after 25 lines of integers.
  std::string late = "a;b\n";
  for (int i = 0; i < 25; ++i) late += std::to_string(i) + ";" + std::to_string(2 * i) + "\n";
  m = parse(late + "7,5;8\n", &info);
  EXPECT_EQ(info.decimal, ',');
  EXPECT_EQ(m(25, 0), 7.5);
  // Ordinary files are untouched: commas delimit, points are decimals.
  m = parse("1,5\n2,5\n", &info);
  EXPECT_EQ(info.decimal, '.');
  EXPECT_EQ(m.cols(), 2);
  m = parse("1.5;2\n3;4.25\n", &info);
  EXPECT_EQ(info.decimal, '.');
  EXPECT_EQ(m(1, 1), 4.25);
  // Forced marks.
  m = parse("1;2\n3;4,5\n", &info, [] { CsvOptions o; o.decimal = ','; return o; }());
  EXPECT_EQ(m(1, 1), 4.5);
  // Both marks in one file: refused at the field that breaks the file's rule.
  for (const std::string text : {"a;b\n1,5;2\n3.5;4\n", "a;b\n1.5;2\n3,5;4\n", "1;2\n3;4,5\n"}) {
    const bool forced = text == "1;2\n3;4,5\n";
    try {
      CsvOptions o;
      if (forced) o.decimal = '.';
      (void)parse(text, nullptr, o);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const ParseError& e) {
      EXPECT_GT(e.line(), 1) << e.what();
      EXPECT_NE(std::string(e.what()).find("decimal"), std::string::npos) << e.what();
    }
  }
}

// A UTF-8 byte-order mark (Windows tools, pandas' encoding="utf-8-sig") is not data: a y file that
// starts with one lost its first value to a "header", and a CSV's first column name carried it.
TEST(UserFiles, ByteOrderMarkIsNotData) {
  const std::string bom = "\xEF\xBB\xBF";
  CsvInfo info;
  auto m = parse_csv<double>(bom + "a,b\n1,2\n3,4\n", "t.csv", {}, &info);
  EXPECT_EQ(info.names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(m.rows(), 2);
  m = parse_csv<double>(bom + "1,2\n3,4\n", "t.csv", {}, &info);
  EXPECT_FALSE(info.header);
  EXPECT_EQ(m.rows(), 2);
  EXPECT_EQ(m(0, 0), 1.0);
  const auto mm = parse_matrix_market<double, std::int32_t>(
      bom + "%%MatrixMarket matrix coordinate real general\n2 2 1\n1 2 5\n", "t.mtx", {}, nullptr);
  EXPECT_EQ(mm.cols(), 2);
  const auto svm = parse_svmlight<double, std::int32_t>(bom + "1 1:2 3:4\n-1 2:1\n", "t.svm");
  EXPECT_EQ(svm.labels, (std::vector<double>{1.0, -1.0}));
  const fs::path dir = test::scratch_dir();
  for (const std::string name : {"y.txt", "y.csv"}) {
    SCOPED_TRACE(name);
    std::ofstream((dir / name).string(), std::ios::binary) << bom << "1.5\n2.5\n3.5\n";
    const auto y = read_columns<double>((dir / name).string());
    ASSERT_EQ(y.rows(), 3);
    EXPECT_EQ(y(0, 0), 1.5);
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace shrink
