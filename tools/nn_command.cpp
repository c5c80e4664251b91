// `shrink prune` and `shrink distill`: read the weights (and inputs), call the library, report.
#include <nlohmann/json.hpp>

#include <chrono>
#include <iomanip>
#include <iostream>

#include "shrink/shrink.hpp"
#include "tools/cli_support.hpp"
#include "tools/commands.hpp"
#include "tools/output.hpp"

using nlohmann::json;

namespace shrink::cli {

namespace {

json report_json(const PruneReport& r) {
  return {{"blocks_total", r.blocks_total},
          {"blocks_kept", r.blocks_kept},
          {"target_sparsity", r.target_sparsity},
          {"block_sparsity", r.block_sparsity},
          {"element_sparsity", r.element_sparsity},
          {"relative_frobenius_error", r.relative_frobenius_error},
          {"block_norm_histogram", histogram_json(r.block_norm_histogram)}};
}

std::string block_text(const BlockShape& b) { return std::to_string(b.rows) + "x" + std::to_string(b.cols); }

// WS for one layer; WS with ".<l>" before the extension for several.
std::string layer_path(const std::string& out, std::size_t l, std::size_t layers) {
  if (layers == 1) return out;
  const auto dot = out.find_last_of('.');
  const auto slash = out.find_last_of('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash))
    return out + "." + std::to_string(l);
  return out.substr(0, dot) + "." + std::to_string(l) + out.substr(dot);
}

}  // namespace

int run_prune(const PruneArgs& args) {
  const auto t0 = std::chrono::steady_clock::now();
  const Output out(args.out, "--out");
  PruneOptions o = args.options;
  o.block = block_option(args.block, "--block");
  const auto w = read_dense<double>(args.weights);
  const auto pruned = prune_blocks<double, std::int64_t>(w.view(), o);
  if (!out.empty()) out.write_sparse(bsr_to_csr(pruned.weights));
  const auto& r = pruned.report;
  if (args.json) {
    json j = report_json(r);
    j["rows"] = w.rows();
    j["cols"] = w.cols();
    j["block"] = block_text(o.block);
    j["norm"] = to_string(o.norm);
    j["time_s"] = seconds_since(t0);
    if (!args.out.empty()) j["out"] = args.out;
    (out.to_stdout() ? std::cerr : std::cout) << j.dump(2) << "\n";
  } else {
    (out.to_stdout() ? std::cerr : std::cout) << std::setprecision(6) << "W " << w.rows() << " x " << w.cols() << ", blocks " << block_text(o.block)
              << " (" << to_string(o.norm) << ")\n"
              << "blocks kept " << r.blocks_kept << " / " << r.blocks_total << "\n"
              << "block sparsity " << r.block_sparsity << " (target " << r.target_sparsity << ")\n"
              << "element sparsity " << r.element_sparsity << "\n"
              << "relative Frobenius error " << r.relative_frobenius_error << "\n";
  }
  return kOk;
}

namespace {

template <class V>
int distill_in(const DistillArgs& args) {
  const Output out(args.out, "--out");
  if (out.to_stdout()) throw UsageError("--out: the student's layers and biases are files, not stdout");
  std::vector<DenseLayer<V>> teacher;
  for (const auto& path : args.teacher) teacher.push_back({read_dense<V>(path), {}});
  const auto inputs = read_dense<V>(args.inputs);
  const Context ctx = make_context(args.backend, args.threads);

  DistillOptions o = args.options;
  o.block = block_option(args.block, "--block");
  Progress bar("distill", static_cast<long>(o.steps));
  o.progress = [&](std::int64_t step, double, double) {
    if (step % 16 == 0 || step == o.steps) bar.update(static_cast<long>(step));
  };
  const auto r = distill<V, std::int64_t>(ctx, teacher, inputs.view(), o);
  // Each layer's kept blocks and its trained bias, so that the files alone reproduce the student.
  std::vector<std::string> written;
  if (!out.empty())
    for (std::size_t l = 0; l < r.weights.size(); ++l) {
      written.push_back(layer_path(args.out, l, r.weights.size()));
      Output(written.back(), "--out").write_sparse(bsr_to_csr(r.weights[l]));
      written.push_back(with_tag(written.back(), "bias"));
      Output(written.back(), "--out", OutputKind::Vector).write_vector(r.biases[l], "bias");
    }
  if (args.json) {
    json j;
    j["student_relative_error"] = r.student_relative_error;
    j["one_shot_relative_error"] = r.one_shot_relative_error;
    j["block_sparsity"] = r.block_sparsity;
    j["target_sparsity"] = o.sparsity;
    j["block"] = block_text(o.block);
    j["schedule"] = to_string(o.schedule);
    j["steps"] = r.steps;
    j["final_loss"] = r.loss.empty() ? 0.0 : r.loss.back();
    j["time_s"] = r.time_s;
    j["backend"] = to_string(ctx.backend());
    j["device"] = ctx.device_name();
    j["precision"] = args.precision;
    j["layers"] = json::array();
    for (const auto& w : r.weights)
      j["layers"].push_back({{"rows", w.rows()}, {"cols", w.cols()}, {"blocks_kept", w.nnzb()}});
    if (!written.empty()) j["out"] = written;
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << std::setprecision(6) << "student relative output error " << r.student_relative_error << "\n"
              << "one-shot pruning relative output error " << r.one_shot_relative_error << "\n"
              << "block sparsity " << r.block_sparsity << " (target " << o.sparsity << ")\n"
              << "steps " << r.steps << ", " << r.time_s << " s on " << to_string(ctx.backend()) << " ("
              << ctx.device_name() << ")\n";
  }
  return kOk;
}

}  // namespace

int run_distill(const DistillArgs& args) {
  return args.precision == "f64" ? distill_in<double>(args) : distill_in<float>(args);
}

}  // namespace shrink::cli
