#!/usr/bin/env python3
"""Summarises a shrink_bench JSON file: SpMV GB/s per matrix, percent of the measured copy
bandwidth, ratio to the best cuSPARSE CSR algorithm (and its geometric mean), transpose versus
forward, and the prox kernels against the copy. Usage: perf_table.py bench.json"""
import json
import math
import re
import sys


def main(path):
    with open(path) as f:
        data = json.load(f)
    rows = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") not in (None, "median") or b.get("error_occurred"):
            continue
        rows[b["run_name"] if "run_name" in b else b["name"]] = b
    gbs = {name: b.get("GB/s", 0.0) for name, b in rows.items()}
    copy = {k: v for k, v in gbs.items() if "Copy" in k}
    device_copy = max([v for k, v in copy.items() if "Device" in k] or [0])
    host_copy = max([v for k, v in copy.items() if "Host" in k] or [0])
    print(f"host copy {host_copy:.1f} GB/s, device copy {device_copy:.1f} GB/s")
    spmv = {}
    for name, v in gbs.items():
        m = re.match(r"BM_Spmv(F64|F32)/(\w+)/(\d)/(\d+)", name)
        if m:
            spmv[(m.group(1), m.group(2), int(m.group(3)), int(m.group(4)))] = v
    kinds = {0: "banded", 1: "uniform", 2: "power-law"}
    ratios = []
    print(f"{'matrix':<16}{'ours GB/s':>10}{'% copy':>8}{'cuSPARSE':>10}{'ratio':>7}{'A^T GB/s':>10}")
    for (prec, variant, kind, size), v in sorted(spmv.items()):
        if variant != "cuda_f64_mergepath":
            continue
        peers = [spmv.get((prec, p, kind, size), 0) for p in ("cuda_f64_cusparse_alg1", "cuda_f64_cusparse_alg2")]
        best = max(peers)
        ratio = v / best if best else float("nan")
        if best:
            ratios.append(ratio)
        tr = spmv.get((prec, "cuda_f64_mergepath_transpose", kind, size), 0)
        pct = 100 * v / device_copy if device_copy else float("nan")
        print(f"{kinds[kind] + ' ' + str(size) + 'M':<16}{v:>10.1f}{pct:>7.0f}%{best:>10.1f}{ratio:>7.2f}{tr:>10.1f}")
    if ratios:
        print(f"geometric mean ratio to best cuSPARSE: {math.exp(sum(map(math.log, ratios)) / len(ratios)):.2f}")
    for name, v in sorted(gbs.items()):
        if name.startswith("BM_Prox/cuda"):
            print(f"{name:<40} {v:8.1f} GB/s  {100 * v / device_copy if device_copy else float('nan'):5.0f}% of copy")
    layer_table(rows)
    sae_table(rows)


def sae_table(rows):
    """SAE training step: time per variant and the ratios the targets are set on."""
    times = {}
    for name, b in rows.items():
        m = re.match(r"BM_SaeStep/(\w+)/", name)
        if m:
            times[m.group(1)] = b["real_time"]
    if not times:
        return
    for variant, t in sorted(times.items()):
        print(f"SAE {variant:<28}{t:>10.3f} ms")
    pairs = [("cpu L1 step / its GEMMs (target <= 1.5)", "cpu_l1_step", "cpu_l1_gemms_only"),
             ("cuda TopK dense step / sparse step (target >= 3)", "cuda_topk_dense_step", "cuda_topk_sparse_step"),
             ("cuda L1 step / its GEMMs", "cuda_l1_step", "cuda_gemms_only")]
    for label, num, den in pairs:
        if times.get(num) and times.get(den):
            print(f"{label} = {times[num] / times[den]:.2f}")


def layer_table(rows):
    """Block-sparse layer: time per variant and sparsity, and the ratios the targets are set on."""
    times = {}
    for name, b in rows.items():
        m = re.match(r"BM_Layer/(\w+)/(\d+)/(\d+)/(\d+)/(\d+)", name)
        if m:
            times[(m.group(1), int(m.group(5)))] = b["real_time"]
    if not times:
        return
    print(f"{'layer variant':<30}{'sparsity':>9}{'ms':>9}")
    for (variant, s), t in sorted(times.items()):
        print(f"{variant:<30}{s:>8}%{t:>9.3f}")
    for backend in ("cpu", "cuda"):
        for s in sorted({s for (_, s) in times}):
            def t(v):
                return times.get((f"{backend}_{v}", s))
            pairs = [("dense fwd / bsr fwd", "dense_forward", "bsr_forward"),
                     ("dense fwd / bsr fwd fp32", "dense_forward_fp32", "bsr_forward_fp32"),
                     ("dense fwd / bsr fwd tf32", "dense_forward_fp32", "bsr_forward_tf32"),
                     ("cuSPARSE / bsr fwd fp32", "cusparse_bsr_forward", "bsr_forward_fp32"),
                     ("dense bwd / bsr bwd", "dense_backward", "bsr_backward"),
                     ("bsr bwd / bsr fwd fp32", "bsr_backward_fp32", "bsr_forward_fp32"),
                     ("bsr bwd / bsr fwd", "bsr_backward", "bsr_forward")]
            for label, num, den in pairs:
                if t(num) and t(den):
                    print(f"{backend} {s}%: {label} = {t(num) / t(den):.2f}")


if __name__ == "__main__":
    main(sys.argv[1])
