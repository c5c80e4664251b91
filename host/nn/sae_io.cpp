// The SAE checkpoint: a versioned little-endian binary file.
//   "SHRKSAE\0", u32 version, u32 value bytes (4 or 8)
//   configuration, normalizer, training state, optimizer step, parameters, Adam moments,
//   dead-latent counters, block patterns (each vector as u64 count + raw values)
//   version 2: the anomaly scorer (u32 method, i64 neighbors, the reference samples as a vector)
//   u64 FNV-1a of every byte before it
// Version 1 files (no scorer) still load and score by reconstruction.
// Loading checks the checksum before it parses anything, and every count against the bytes left,
// so a corrupt or truncated file is refused with the file's name and what is wrong.
#include <bit>
#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>

#include "host/io/binary_file.hpp"
#include "host/io/mapped_file.hpp"
#include "shrink/error.hpp"
#include "shrink/io.hpp"
#include "shrink/sae.hpp"

namespace shrink {

namespace {

static_assert(std::endian::native == std::endian::little, "checkpoints are written little-endian");
constexpr char kMagic[8] = {'S', 'H', 'R', 'K', 'S', 'A', 'E', '\0'};
constexpr std::uint32_t kVersion = 2;
constexpr std::uint32_t kFirstVersion = 1;

using io_detail::fnv1a;

class Reader : public io_detail::BinaryReader {
 public:
  Reader(std::string path, std::string_view bytes) : BinaryReader(std::move(path), bytes, "SAE checkpoint") {}
};
using Writer = io_detail::BinaryWriter;

void put_config(Writer& w, const SaeConfig& c) {
  w.put<std::int64_t>(c.inputs);
  w.put<std::int64_t>(c.latents);
  w.put<std::uint32_t>(static_cast<std::uint32_t>(c.activation));
  w.put<double>(c.rho);
  w.put<double>(c.beta);
  w.put<double>(c.l1);
  w.put<std::uint8_t>(c.l1_decoder_norm);
  w.put<std::int64_t>(c.k);
  w.put<std::int64_t>(c.aux_k);
  w.put<double>(c.aux_coeff);
  w.put<std::uint8_t>(c.aux_detach_residual);
  w.put<std::int64_t>(c.dead_after);
  w.put<double>(c.weight_decay);
  w.put<std::uint8_t>(c.tied);
  w.put<std::uint8_t>(c.unit_norm_decoder);
  w.put<std::uint32_t>(static_cast<std::uint32_t>(c.topk_decoder));
  w.put<std::uint8_t>(c.block_sparse);
  w.put<std::int64_t>(c.block.rows);
  w.put<std::int64_t>(c.block.cols);
}

SaeConfig get_config(Reader& r) {
  SaeConfig c;
  c.inputs = r.get<std::int64_t>("inputs");
  c.latents = r.get<std::int64_t>("latents");
  c.activation = r.get_enum<SaeActivation>("activation", 3);
  c.rho = r.get<double>("rho");
  c.beta = r.get<double>("beta");
  c.l1 = r.get<double>("l1");
  c.l1_decoder_norm = r.get_bool("l1_decoder_norm");
  c.k = r.get<std::int64_t>("k");
  c.aux_k = r.get<std::int64_t>("aux_k");
  c.aux_coeff = r.get<double>("aux_coeff");
  c.aux_detach_residual = r.get_bool("aux_detach_residual");
  c.dead_after = r.get<std::int64_t>("dead_after");
  c.weight_decay = r.get<double>("weight_decay");
  c.tied = r.get_bool("tied");
  c.unit_norm_decoder = r.get_bool("unit_norm_decoder");
  c.topk_decoder = r.get_enum<TopKDecoder>("topk_decoder", 2);
  c.block_sparse = r.get_bool("block_sparse");
  c.block.rows = r.get<std::int64_t>("block rows");
  c.block.cols = r.get<std::int64_t>("block cols");
  try {
    c.validate();
  } catch (const InvalidArgument& e) {
    r.fail(std::string("invalid configuration: ") + e.what());
  }
  return c;
}

// The header and the checksum: returns a reader positioned after the header.
Reader open_checked(const std::string& path, std::string_view bytes, int& value_bytes, std::uint32_t& version) {
  Reader head(path, bytes);
  if (bytes.size() < sizeof(kMagic) + 8 + 8 || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0)
    head.fail("not a shrink SAE checkpoint (bad magic or too short: " + std::to_string(bytes.size()) + " bytes)");
  std::uint64_t stored = 0;
  std::memcpy(&stored, bytes.data() + bytes.size() - 8, 8);
  if (fnv1a(bytes.substr(0, bytes.size() - 8)) != stored)
    head.fail("checksum mismatch: the file is corrupt or truncated");
  Reader r(path, bytes.substr(0, bytes.size() - 8));
  for (std::size_t i = 0; i < sizeof(kMagic); ++i) (void)r.get<char>("magic");
  version = r.get<std::uint32_t>("version");
  if (version < kFirstVersion || version > kVersion)
    r.fail("version " + std::to_string(version) + " is not supported (this build reads " +
           std::to_string(kFirstVersion) + " to " + std::to_string(kVersion) + ")");
  value_bytes = static_cast<int>(r.get<std::uint32_t>("value bytes"));
  if (value_bytes != 4 && value_bytes != 8) r.fail("value bytes " + std::to_string(value_bytes) + " is not 4 or 8");
  return r;
}

}  // namespace

template <class V>
void save_sae(const std::string& path, const SparseAutoencoder<V>& model, const SaeTrainState& state) {
  Writer w;
  w.bytes().append(kMagic, sizeof(kMagic));
  w.put<std::uint32_t>(kVersion);
  w.put<std::uint32_t>(sizeof(V));
  put_config(w, model.config());
  const Normalizer& n = model.normalizer();
  w.put<std::uint32_t>(static_cast<std::uint32_t>(n.kind));
  w.put_vector(n.offset);
  w.put_vector(n.scale);
  w.put<std::uint64_t>(state.seed);
  w.put<std::int64_t>(state.epochs_done);
  w.put<std::int64_t>(state.steps_done);
  w.put<std::int64_t>(state.epoch_step);
  w.put<double>(state.schedule.initial_sparsity);
  w.put<double>(state.schedule.final_sparsity);
  w.put<std::int64_t>(state.schedule.begin_step);
  w.put<std::int64_t>(state.schedule.prunings);
  w.put<std::int64_t>(state.schedule.interval);
  const auto s = model.state();
  w.put<std::int64_t>(s.t);
  w.put_vector(s.params);
  w.put_vector(s.adam_m);
  w.put_vector(s.adam_v);
  w.put_vector(s.since_fired);
  w.put_vector(s.encoder_row_ptr);
  w.put_vector(s.encoder_col_idx);
  w.put_vector(s.decoder_row_ptr);
  w.put_vector(s.decoder_col_idx);
  const auto& scorer = model.scorer();
  w.put<std::uint32_t>(static_cast<std::uint32_t>(scorer.method));
  w.put<std::int64_t>(scorer.neighbors);
  w.put_vector(scorer.reference);
  w.put<std::uint64_t>(fnv1a(w.bytes()));
  write_file_atomic(path, w.bytes());
}

SaeCheckpointInfo sae_checkpoint_info(const std::string& path) {
  const io_detail::MappedFile file(path);
  SaeCheckpointInfo info;
  std::uint32_t version = 0;
  Reader r = open_checked(path, file.view(), info.value_bytes, version);
  info.config = get_config(r);
  return info;
}

template <class V>
LoadedSae<V> load_sae(const Context& ctx, const std::string& path) {
  const io_detail::MappedFile file(path);
  return parse_sae<V>(ctx, file.view(), path);
}

template <class V>
LoadedSae<V> parse_sae(const Context& ctx, std::string_view bytes, const std::string& path) {
  int value_bytes = 0;
  std::uint32_t version = 0;
  Reader r = open_checked(path, bytes, value_bytes, version);
  if (value_bytes != static_cast<int>(sizeof(V)))
    r.fail("holds " + std::string(value_bytes == 4 ? "float32" : "float64") + " values but " +
           (sizeof(V) == 4 ? "float32" : "float64") + " was asked for");
  const SaeConfig config = get_config(r);
  Normalizer n;
  n.kind = r.get_enum<Normalization>("normalization", 3);
  n.offset = r.get_vector<double>("normalization offsets");
  n.scale = r.get_vector<double>("normalization scales");
  const auto width = static_cast<std::size_t>(n.kind == Normalization::None ? 0 : config.inputs);
  if (n.offset.size() != width || n.scale.size() != width)
    r.fail("normalizer has " + std::to_string(n.offset.size()) + " offsets and " + std::to_string(n.scale.size()) +
           " scales for " + std::to_string(config.inputs) + " inputs");
  for (const double s : n.scale)
    if (!(s > 0) || !std::isfinite(s)) r.fail("normalizer scale " + std::to_string(s) + " is not finite and > 0");
  SaeTrainState state;
  state.seed = r.get<std::uint64_t>("seed");
  state.epochs_done = r.get<std::int64_t>("epochs done");
  state.steps_done = r.get<std::int64_t>("steps done");
  state.epoch_step = r.get<std::int64_t>("steps into the epoch");
  if (state.epoch_step < 0) r.fail("steps into the epoch is negative");
  state.schedule.initial_sparsity = r.get<double>("schedule initial sparsity");
  state.schedule.final_sparsity = r.get<double>("schedule final sparsity");
  state.schedule.begin_step = r.get<std::int64_t>("schedule begin");
  state.schedule.prunings = r.get<std::int64_t>("schedule prunings");
  state.schedule.interval = r.get<std::int64_t>("schedule interval");
  try {
    state.schedule.validate();
  } catch (const InvalidArgument& e) {
    r.fail(std::string("invalid pruning schedule: ") + e.what());
  }
  typename SparseAutoencoder<V>::State s;
  s.t = r.get<std::int64_t>("optimizer step");
  s.params = r.get_vector<V>("parameters");
  s.adam_m = r.get_vector<V>("Adam first moments");
  s.adam_v = r.get_vector<V>("Adam second moments");
  s.since_fired = r.get_vector<std::int64_t>("dead-latent counters");
  s.encoder_row_ptr = r.get_vector<std::int64_t>("encoder block row pointers");
  s.encoder_col_idx = r.get_vector<std::int64_t>("encoder block columns");
  s.decoder_row_ptr = r.get_vector<std::int64_t>("decoder block row pointers");
  s.decoder_col_idx = r.get_vector<std::int64_t>("decoder block columns");
  typename SparseAutoencoder<V>::Scorer scorer;
  if (version >= 2) {
    scorer.method = r.get_enum<SaeScore>("score", 2);
    scorer.neighbors = r.get<std::int64_t>("neighbors");
    scorer.reference = r.get_vector<V>("neighbors' reference");
  }
  try {
    SparseAutoencoder<V> model(ctx, config, std::move(n), s);
    model.set_scorer(std::move(scorer));
    return {std::move(model), state};
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::CudaError || e.kind() == ErrorKind::OutOfMemory) throw;
    r.fail(std::string("inconsistent contents: ") + e.what());
  }
}

#define SHRINK_INSTANTIATE_SAE_IO(V)                                                                  \
  template void save_sae<V>(const std::string&, const SparseAutoencoder<V>&, const SaeTrainState&); \
  template LoadedSae<V> load_sae<V>(const Context&, const std::string&);             \
  template LoadedSae<V> parse_sae<V>(const Context&, std::string_view, const std::string&);
SHRINK_INSTANTIATE_SAE_IO(float)
SHRINK_INSTANTIATE_SAE_IO(double)

}  // namespace shrink
