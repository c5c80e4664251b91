#!/usr/bin/env python3
"""Before/after benchmark comparison with interleaved whole-process runs.

Runs two shrink_bench binaries (say, one built from the commit before a change and one after) in
alternation, ROUNDS times each, with the same filter, and prints for each benchmark the median over
the rounds of its per-run figure (a repeated benchmark contributes its median), both medians'
ratio, and the spread. Alternating whole processes keeps drift (thermal, other load) from landing
on one side.

  scripts/bench_interleave.py BEFORE_BENCH AFTER_BENCH [--rounds 5] [--filter REGEX] [--json OUT]

Set SHRINK_BENCH_LASSO_DIR for the Lasso path benchmarks (scripts/make_lasso_problems.py).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

DEFAULT_FILTER = "BM_LassoPath.*cpu|BM_BatchLasso.*cpu|BM_Layer/cpu|BM_SaeStep/cpu|BM_Prox/cpu"


def run_once(binary, pattern):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    try:
        subprocess.run([binary, f"--benchmark_filter={pattern}", "--benchmark_format=json",
                        f"--benchmark_out={out}"], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        with open(out) as f:
            data = json.load(f)
    finally:
        os.unlink(out)
    figures = {}
    for b in data["benchmarks"]:
        if b.get("error_occurred"):
            continue
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") != "median":
                continue
            name = b["run_name"]
        elif b.get("repetitions", 1) > 1:
            continue  # its median aggregate stands for it
        else:
            name = b["name"]
        scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b.get("time_unit", "ns")]
        figures[name] = b["real_time"] * scale  # milliseconds
    return figures, data.get("context", {})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--filter", default=DEFAULT_FILTER)
    ap.add_argument("--json", help="write every run's figures here")
    args = ap.parse_args()
    runs = {"before": [], "after": []}
    context = {}
    for r in range(args.rounds):
        for side, binary in (("before", args.before), ("after", args.after)):
            figures, context = run_once(binary, args.filter)
            runs[side].append(figures)
            print(f"round {r + 1}/{args.rounds} {side}: {len(figures)} figures", file=sys.stderr)
    names = [n for n in runs["after"][0] if all(n in f for side in runs.values() for f in side)]
    print(f"# {context.get('host_name', '?')}, {context.get('num_cpus', '?')} CPUs, {args.rounds} interleaved rounds; "
          "medians in ms; ratio = after / before")
    print(f"{'benchmark':<64} {'before':>10} {'after':>10} {'ratio':>7}  after range")
    worst = 0.0
    for n in names:
        b = statistics.median(f[n] for f in runs["before"])
        a_all = [f[n] for f in runs["after"]]
        a = statistics.median(a_all)
        ratio = a / b if b > 0 else float("nan")
        worst = max(worst, ratio)
        print(f"{n[:64]:<64} {b:10.3f} {a:10.3f} {ratio:7.3f}  {min(a_all):.3f}..{max(a_all):.3f}")
    print(f"# worst ratio {worst:.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"context": context, "runs": runs}, f, indent=1)


if __name__ == "__main__":
    main()
