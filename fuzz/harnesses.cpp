#include "fuzz/harnesses.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "host/io/binary_file.hpp"
#include "host/io/mapped_file.hpp"
#include "shrink/error.hpp"
#include "shrink/io.hpp"
#include "shrink/lasso.hpp"
#include "shrink/matrix.hpp"
#include "shrink/nn.hpp"
#include "shrink/sae.hpp"
#include "tools/commands.hpp"

namespace shrink::fuzz {

std::vector<std::string> command_line_tokens(std::string_view bytes) {
  std::vector<std::string> tokens{"shrink"};
  std::string token;
  for (const char c : bytes) {
    if (c == '\0' || c == '\n') {
      tokens.push_back(token);
      token.clear();
    } else {
      token.push_back(c);
    }
  }
  if (!token.empty()) tokens.push_back(token);
  return tokens;
}

namespace {

// Runs f; a refusal (any shrink::Error) is the expected outcome for most inputs. True when f returned.
template <class F>
bool refused_or_done(F&& f) {
  try {
    f();
    return true;
  } catch (const Error&) {
    return false;
  }
}

// Bytes taken from the front of the input, as the structured harnesses read their parameters.
class Bytes {
 public:
  explicit Bytes(std::string_view b) : b_(b) {}
  std::uint8_t byte() {
    if (b_.empty()) return 0;
    const auto v = static_cast<std::uint8_t>(b_.front());
    b_.remove_prefix(1);
    return v;
  }
  template <class T>
  T value() {
    T v{};
    const std::size_t n = std::min(sizeof(T), b_.size());
    std::memcpy(&v, b_.data(), n);
    b_.remove_prefix(n);
    return v;
  }
  std::string_view rest() const { return b_; }

 private:
  std::string_view b_;
};

// The file with its closing FNV-1a checksum made right, so that mutations reach the parser behind it.
std::string with_checksum(std::string_view body) {
  std::string s(body);
  const std::uint64_t h = io_detail::fnv1a(s);
  s.append(reinterpret_cast<const char*>(&h), sizeof h);
  return s;
}

bool matrix_market(std::string_view bytes) {
  const bool accepted = refused_or_done([&] { (void)parse_matrix_market<double, std::int64_t>(bytes, "fuzz.mtx"); });
  refused_or_done([&] { (void)parse_matrix_market<float, std::int32_t>(bytes, "fuzz.mtx"); });
  return accepted;
}

bool svmlight(std::string_view bytes) {
  const bool accepted = refused_or_done([&] { (void)parse_svmlight<double, std::int32_t>(bytes, "fuzz.svm"); });
  refused_or_done([&] { (void)parse_svmlight<float, std::int64_t>(bytes, "fuzz.svm", IndexBase::One, 0); });
  return accepted;
}

bool npy(std::string_view bytes) {
  const bool accepted = refused_or_done([&] { (void)parse_npy<double>(bytes, "fuzz.npy"); });
  refused_or_done([&] { (void)parse_npy<float>(bytes, "fuzz.npy"); });
  return accepted;
}

bool npz(std::string_view bytes) {
  const bool accepted = refused_or_done([&] { (void)parse_npz<double, std::int32_t>(bytes, "fuzz.npz"); });
  refused_or_done([&] { (void)parse_npz<float, std::int64_t>(bytes, "fuzz.npz"); });
  // NumPy's dense archives: the kind test, then an array by name.
  const bool dense = refused_or_done([&] {
    if (!npz_is_sparse(bytes, "fuzz.npz")) (void)parse_npz_dense<double>(bytes, "fuzz.npz", {"X", "y"});
  });
  return accepted || dense;
}

bool csv(std::string_view bytes) {
  const bool accepted = refused_or_done([&] {
    CsvInfo info;
    (void)parse_csv<double>(bytes, "fuzz.csv", {}, &info);
  });
  refused_or_done([&] { (void)parse_csv<float>(bytes, "fuzz.csv", CsvOptions{';', false}); });
  refused_or_done([&] {  // decimal commas forced
    CsvOptions o;
    o.decimal = ',';
    (void)parse_csv<double>(bytes, "fuzz.csv", o);
  });
  return accepted;
}

// gzip input (X.csv.gz): the inflation, then the CSV reader on what it gives.
bool gzip(std::string_view bytes) {
  std::string inflated;
  const bool accepted = refused_or_done([&] { inflated = io_detail::gunzip(bytes, "fuzz.csv.gz"); });
  if (accepted) refused_or_done([&] { (void)parse_csv<double>(inflated, "fuzz.csv.gz"); });
  return accepted;
}

// A checkpoint that loads must also encode and score: its shapes, patterns and scorer were validated.
bool sae_checkpoint(std::string_view bytes) {
  const std::string file = with_checksum(bytes);
  const bool accepted = refused_or_done([&] {
    const Context ctx(ContextOptions{Backend::Cpu});
    auto loaded = parse_sae<float>(ctx, file, "fuzz.sae");
    const auto& c = loaded.model.config();
    if (static_cast<double>(c.inputs) * static_cast<double>(c.latents) > 4e6) return;
    DenseMatrix<float> x(2, c.inputs), h(2, c.latents);
    loaded.model.encode(DenseView<const float>(x.view()), h.view());
    if (static_cast<double>(loaded.model.scorer().reference.size()) > 4e6) return;
    std::vector<float> scores(2);
    loaded.model.anomaly_scores(DenseView<const float>(x.view()), VectorView<float>(scores.data(), 2));
  });
  refused_or_done([&] {
    const Context ctx(ContextOptions{Backend::Cpu});
    (void)parse_sae<double>(ctx, file, "fuzz.sae");
  });
  return accepted;
}

// A model that loads must also answer: any solution, any lambda, a prediction.
bool lasso_model(std::string_view bytes) {
  const std::string file = with_checksum(bytes);
  return refused_or_done([&] {
    const LassoModel m = parse_lasso_model(file, "fuzz.model");
    if (m.lambdas.empty()) return;
    for (const char* which : {"min", "1se", "last", "#0"}) refused_or_done([&] { (void)m.solution(which); });
    double intercept = 0;
    for (const double lambda : {0.0, m.lambdas.front(), m.lambdas.back() * 0.5, 1e300})
      refused_or_done([&] { (void)m.coefficients_at_lambda(lambda, intercept); });
    if (m.n_features > 4096) return;
    const DenseMatrix<double> x(2, m.n_features);
    const auto coef = m.coefficients_at_lambda(m.lambdas.front(), intercept);
    (void)lasso_predict<double>(x.view(), coef, intercept);
  });
}

// Block pruning of a small dense matrix and BSR built from raw arrays: shapes, block sizes, sparsity,
// norm and values all come from the input.
bool bsr_prune(std::string_view bytes) {
  Bytes in(bytes);
  const index_t rows = in.byte() % 48, cols = in.byte() % 48;
  const index_t bh = in.byte() % 12, bw = in.byte() % 12;
  const double sparsity = (in.byte() % 130) / 128.0;  // a little past 1 is refused
  const auto norm = static_cast<BlockNorm>(in.byte() % 3);
  DenseMatrix<float> w(rows, cols);
  for (index_t i = 0; i < rows; ++i)
    for (index_t j = 0; j < cols; ++j) w(i, j) = in.value<float>();
  const bool accepted = refused_or_done([&] {
    PruneOptions o;
    o.block = {bh, bw};
    o.sparsity = sparsity;
    o.norm = norm;
    const auto pruned = prune_blocks<float, std::int32_t>(w.view(), o);
    (void)bsr_to_dense(pruned.weights);
    (void)bsr_to_csr(pruned.weights);
  });
  // Raw BSR arrays: counts of block rows, stored blocks; then the arrays.
  Bytes raw(in.rest());
  const index_t brows = raw.byte() % 8, blocks = raw.byte() % 16;
  const index_t rh = 1 + raw.byte() % 4, rw = 1 + raw.byte() % 4;
  const index_t r_rows = raw.value<std::int16_t>(), r_cols = raw.value<std::int16_t>();
  std::vector<std::int32_t> ptr(static_cast<std::size_t>(brows + 1)), idx(static_cast<std::size_t>(blocks));
  for (auto& p : ptr) p = raw.byte() % 20;
  for (auto& c : idx) c = raw.byte() % 20;
  std::vector<float> vals(static_cast<std::size_t>(blocks * rh * rw));
  for (auto& v : vals) v = raw.value<float>();
  refused_or_done([&] {
    const auto b = BsrMatrix<float, std::int32_t>::from_arrays(r_rows, r_cols, rh, rw, ptr, idx, vals);
    const auto csr = bsr_to_csr(b);
    (void)csr_to_bsr(csr, rh, rw);
    (void)block_norms(b, norm);
  });
  return accepted;
}

// The program's command line, parsed and checked but not run: tokens are separated by NUL or newline.
bool cli_options(std::string_view bytes) {
  const std::vector<std::string> tokens = command_line_tokens(bytes);
  if (tokens.size() > 64) return false;
  std::vector<const char*> argv;
  for (const auto& t : tokens) argv.push_back(t.c_str());
  // One parser for many lines: building it costs far more than parsing one. CLI11 2.1.2's reset keeps
  // a list of every option parsed (a few bytes a line), so a fresh parser every 100,000 lines keeps
  // the fuzzer's memory flat.
  static std::unique_ptr<cli::CommandLine> program;
  static long lines = 0;
  if (!program || ++lines % 100000 == 0) program = std::make_unique<cli::CommandLine>();
  int code = -1;
  refused_or_done([&] { code = program->run(static_cast<int>(argv.size()), argv.data(), true); });
  return code == 0;
}

// One option value through each parser the program uses for it: the library's (memory sizes, block
// shapes, names, a saved model's solution) and CLI11's numeric conversions with the range checks the
// program declares. The first byte picks the parser, the rest is the text. Fast enough for long
// campaigns: the whole program's parser does much more per input than one option needs.
bool cli_values(std::string_view bytes) {
  if (bytes.empty()) return false;
  const auto which = static_cast<unsigned char>(bytes.front()) % 16;
  const std::string text(bytes.substr(1));
  LassoModel model;
  model.lambdas = {1.0, 0.5, 0.25};
  model.index_min = 1;
  bool ok = false;
  auto numeric = [&](auto value, auto&& check, bool list) {
    CLI::App app;
    auto* o = app.add_option("--v", value);
    if (list) o->delimiter(',')->expected(2);
    o->check(check);
    try {
      app.parse(std::vector<std::string>{text, "--v"});  // CLI11 takes them in reverse order
      ok = true;
    } catch (const CLI::Error&) {
    }
  };
  refused_or_done([&] {
    switch (which) {
      case 0: (void)parse_memory_size(text); break;
      case 1: (void)parse_block_shape(text); break;
      case 2: (void)parse_lasso_solver(text); break;
      case 3: (void)parse_block_norm(text); break;
      case 4: (void)parse_backend(text); break;
      case 5: (void)parse_sae_activation(text); break;
      case 6: (void)parse_normalization(text); break;
      case 7: (void)parse_schedule_kind(text); break;
      case 8: (void)model.solution(text); break;
      case 9: (void)format_from_path(text); break;
      case 10: numeric(0.0, CLI::PositiveNumber, false); return;
      case 11: numeric(0.0, CLI::Range(0.0, 1.0), false); return;
      case 12: numeric(std::int64_t{0}, CLI::Range(std::int64_t{1}, std::int64_t{1} << 30), false); return;
      case 13: numeric(0, CLI::Range(0, 4096), false); return;
      case 14: numeric(std::vector<double>{}, CLI::Range(0.0, 0.999999999), true); return;
      default: numeric(std::optional<double>{}, CLI::NonNegativeNumber, false); return;
    }
    ok = true;
  });
  return ok;
}

const Harness kHarnesses[] = {
    {"matrix_market", matrix_market}, {"svmlight", svmlight},     {"npy", npy},
    {"npz", npz},                     {"csv", csv},               {"sae_checkpoint", sae_checkpoint},
    {"lasso_model", lasso_model},     {"bsr_prune", bsr_prune},   {"cli_options", cli_options},
    {"cli_values", cli_values},       {"gzip", gzip},
};

}  // namespace

std::span<const Harness> harnesses() { return kHarnesses; }

const Harness* find_harness(std::string_view name) {
  for (const auto& h : kHarnesses)
    if (name == h.name) return &h;
  return nullptr;
}

}  // namespace shrink::fuzz
