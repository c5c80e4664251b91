#!/usr/bin/env bash
# GPU verification, run on a machine with an NVIDIA H100 (or any sm_90 card):
#   1. builds for sm_90 (preset "gpu": CUDA required),
#   2. runs the whole test suite with every CUDA test active,
#   3. runs compute-sanitizer (memcheck, racecheck, initcheck, synccheck) on the CUDA tests,
#   4. runs the CUDA benchmarks next to their peers (cuSPARSE, device copy; the block-sparse layer
#      against cuBLAS sgemm and cuSPARSE bsrmm; the batched Lasso's 10^6-signal sparse coding next to
#      the GEMM C = D^T Y alone, and its CPU case on every core),
#   5. times the Lasso paths: problem (c) (10M non-zeros), GPU ws-gram (what auto picks there) and
#      GPU fista against CPU cd, and problem (a) (dense, n >> p) on the Gram path, GPU against CPU,
#   6. prints a short table last (scripts/perf_table.py).
# Logs and the benchmark JSON go to $OUT (the device tool's folder) or build/gpu-check.
# Libraries the GPU image lacks (OpenBLAS, GoogleTest, Google Benchmark, CLI11, nlohmann-json,
# fast_float) are unpacked from .deps/*.deb when present: make them with scripts/fetch-device-deps.sh
# and pass .deps in the device tool's `carry`.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-build/gpu-check}"
mkdir -p "$out"
status=0

if compgen -G ".deps/*.deb" >/dev/null; then
  deps=/tmp/shrink-deps
  for f in .deps/*.deb; do dpkg -x "$f" "$deps"; done
  lib="$deps/usr/lib/x86_64-linux-gnu"
  export CMAKE_PREFIX_PATH="$deps/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
  export CMAKE_LIBRARY_PATH="$lib/openblas-pthread:$lib"
  export CPATH="$deps/usr/include:$deps/usr/include/x86_64-linux-gnu/openblas-pthread${CPATH:+:$CPATH}"
  export LD_LIBRARY_PATH="$lib/openblas-pthread:$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  ln -sf "$lib/openblas-pthread/libopenblas.so.0" "$lib/openblas-pthread/libopenblas.so" 2>/dev/null || true
fi

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv \
  | tee "$out/device.txt"

echo "== 1. build (sm_90)"
cmake --preset gpu >"$out/configure.log" 2>&1 || { cat "$out/configure.log"; exit 1; }
cmake --build --preset gpu -j "$(nproc)" >"$out/build.log" 2>&1 || { tail -50 "$out/build.log"; exit 1; }

echo "== 2. tests"
ctest --preset gpu 2>&1 | tee "$out/ctest.log" | tail -15
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
if grep -q "Skipped" "$out/ctest.log" && grep -q "/cuda.*Skipped" "$out/ctest.log"; then
  echo "!! CUDA tests skipped on a GPU machine"; status=1
fi

echo "== 3. compute-sanitizer"
for tool in memcheck racecheck initcheck synccheck; do
  compute-sanitizer --tool "$tool" --error-exitcode 7 \
    build/gpu/tests/shrink_tests --gtest_filter='*/cuda:*Cuda*' >"$out/sanitizer-$tool.log" 2>&1
  rc=$?
  echo "$tool: exit $rc ($(grep -c 'ERROR SUMMARY: 0' "$out/sanitizer-$tool.log") clean summaries)"
  [ $rc -eq 0 ] || { status=1; grep -m5 -A5 "=========" "$out/sanitizer-$tool.log"; }
done

echo "== 4. benchmarks"
build/gpu/bench/shrink_bench --benchmark_filter='Copy|cuda|MatrixMarket|BatchLasso' \
  --benchmark_out="$out/bench.json" --benchmark_out_format=json >"$out/bench.log" 2>&1 || status=1

echo "== 5. Lasso paths: (c) GPU ws-gram and fista against CPU cd on every core, (a) the Gram path on both"
if python3 -c "import numpy, scipy" 2>/dev/null; then
  data=build/lasso-problems
  [ -f "$data/c_X.mtx" ] || python3 scripts/make_lasso_problems.py "$data" a b c >"$out/lasso-gen.log" 2>&1
  # (c) sparse: GPU ws-gram and fista against CPU cd; (a) dense n >> p: the Gram path on the device
  # against the CPU.
  for run in "c cuda ws-gram" "c cuda fista" "c cpu cd" "a cuda gram" "a cpu gram"; do
    set -- $run
    x="$data/$1_X.mtx"
    [ -f "$x" ] || x="$data/$1_X.npy"
    # A path that outlives 240 s is reported (exit 124), not waited for: the device lease is short.
    timeout 240 build/gpu/tools/shrink lasso "$x" "$data/$1_y.txt" --backend "$2" --solver "$3" \
      --threads "$(nproc)" --json >"$out/lasso-$1-$2-$3.json" 2>"$out/lasso-$1-$2-$3.log"
    rc=$?
    echo "lasso ($1) $2/$3: exit $rc, $(python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print('time_s', round(j['time_s'], 3), 'not converged', j['n_not_converged'])" "$out/lasso-$1-$2-$3.json" 2>/dev/null)"
    [ $rc -eq 0 ] || status=1
  done
  SHRINK_BENCH_LASSO_DIR="$data" build/gpu/bench/shrink_bench --benchmark_filter='Lasso.*cuda' \
    --benchmark_out="$out/bench-lasso.json" --benchmark_out_format=json >"$out/bench-lasso.log" 2>&1 || status=1
else
  echo "skipped: python3 with numpy and scipy is needed to generate the problems"
fi

echo "== 6. summary"
python3 scripts/perf_table.py "$out/bench.json" | tee "$out/table.txt"
exit $status
