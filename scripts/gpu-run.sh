#!/usr/bin/env bash
# Runs one stage of the GPU check from the pack that scripts/gpu-pack.sh made (.gpu-pack/), with no
# build. Each stage writes its logs and one JSON summary to $OUT (at most 8 files) and prints a
# summary of at most 30 lines last. docs/GPU.md gives the device-tool calls and the lease plan.
#
#   bash scripts/gpu-run.sh verify [--cpu]   libraries, copy bandwidth, every test with CUDA active
#                                            (fails if a CUDA test skips), determinism      (< 4 min)
#   bash scripts/gpu-run.sh sanitize         compute-sanitizer memcheck per kernel family, racecheck
#                                            and synccheck on the shared-memory kernels     (< 3 min)
#   bash scripts/gpu-run.sh bench            CUDA benchmarks beside their peers, Lasso paths against
#                                            the CPU solver on every core, the perf table   (< 4 min)
#   bash scripts/gpu-run.sh build            fallback when the pack's binaries do not load: builds on
#                                            the device, then stages it as the pack
#   bash scripts/gpu-run.sh check-libs DIR   (used by gpu-pack.sh) every packed binary resolves
#
# --cpu runs verify on a machine without a GPU (CI): CUDA tests skip and the device steps are left out.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

stage=${1:-}
shift || true
cpu_only=0
for a in "$@"; do [ "$a" = --cpu ] && cpu_only=1; done
out=${OUT:-$repo/build/gpu-run/$stage}
# Scratch (inputs, per-shard reports) stays out of $OUT: at most 8 files come back from the device.
work=${SHRINK_GPU_WORK:-/tmp/shrink-gpu-run}/$stage
mkdir -p "$out" && rm -rf "$work" && mkdir -p "$work"
summary=()
failed=0
note() { summary+=("$*"); echo "$*"; }
fail() { failed=1; note "FAIL: $*"; }

# ---- libraries ------------------------------------------------------------------------------------
allowed_lib() {
  case "$(basename "$1")" in
    linux-vdso.so*|ld-linux*|libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|libutil.so*) return 0 ;;
    libstdc++.so*|libgcc_s.so*|libgomp.so*) return 0 ;;
    libcuda.so*|libcudart.so*|libcublas.so*|libcublasLt.so*|libcusparse.so*|libnvJitLink.so*) return 0 ;;
  esac
  return 1
}
is_cuda_lib() { case "$(basename "$1")" in libcuda*|libcublas*|libcusparse*|libnvJitLink*) return 0 ;; esac; return 1; }

# Prints one line per problem; returns non-zero when any library is missing or comes from outside
# the pack without being allowed.
check_libs() {
  local dir=$1 bad=0 f line name path
  for f in "$dir"/bin/* "$dir"/lib/*.so*; do
    [ -f "$f" ] || continue
    while read -r line; do
      name=$(awk '{print $1}' <<<"$line")
      if [[ $line == *"not found"* ]]; then
        echo "$(basename "$f"): $name not found"; bad=1; continue
      fi
      path=$(awk '/=>/ {print $3}' <<<"$line")
      [ -n "$path" ] || continue
      case "$(readlink -f "$path")" in "$(readlink -f "$dir")"/*) continue ;; esac
      allowed_lib "$name" || { echo "$(basename "$f"): $name resolves outside the pack to $path"; bad=1; }
    done < <(env -u LD_LIBRARY_PATH ldd "$f" 2>&1)
  done
  return $bad
}

if [ "$stage" = check-libs ]; then
  check_libs "${1:?check-libs DIR}" || { echo "gpu-run: the pack is not self-contained" >&2; exit 1; }
  exit 0
fi

# ---- the pack -------------------------------------------------------------------------------------
unpack() {
  local archive=$repo/.gpu-pack/shrink-pack.tar.xz root=${SHRINK_PACK_ROOT:-/tmp/shrink-pack-run}
  if [ -n "${SHRINK_PACK_DIR:-}" ]; then pack=$SHRINK_PACK_DIR; return 0; fi
  [ -f "$archive" ] || { echo "gpu-run: no pack at $archive; run scripts/gpu-pack.sh first" >&2; exit 1; }
  local sum
  sum=$(cut -d' ' -f1 "$archive.sha256")
  [ "$(sha256sum "$archive" | cut -d' ' -f1)" = "$sum" ] || { echo "gpu-run: $archive fails its sha256" >&2; exit 1; }
  pack=$root/shrink-pack
  if [ "$(cat "$root/.sha256" 2>/dev/null)" != "$sum" ]; then
    rm -rf "$root" && mkdir -p "$root"
    xz -dc -T0 "$archive" | tar -C "$root" -xf - || { echo "gpu-run: cannot unpack $archive" >&2; exit 1; }
    (cd "$pack" && while IFS=$'\t' read -r f size sha; do
       [ "$(stat -c %s "$f")" = "$size" ] && [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$sha" ] ||
         { echo "gpu-run: $f differs from the manifest" >&2; exit 1; }
     done <MANIFEST.tsv) || exit 1
    echo "$sum" >"$root/.sha256"
  fi
}

# Where the loader does not know CUDA's folders, find them once (toolkit, or pip's nvidia-* wheels).
find_cuda_libs() {
  env -u LD_LIBRARY_PATH ldd "$pack/lib/libshrink.so.0" | grep -q "not found" || return 0
  local d extra=""
  for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda-*/lib64 \
           /usr/lib/x86_64-linux-gnu $(python3 -c 'import glob, site; print(" ".join(glob.glob(site.getsitepackages()[0] + "/nvidia/*/lib")))' 2>/dev/null); do
    [ -d "$d" ] && compgen -G "$d/libcu*.so*" >/dev/null && extra+="${extra:+:}$d"
  done
  export LD_LIBRARY_PATH="$extra${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  note "CUDA libraries from LD_LIBRARY_PATH=$extra"
}

setup_env() {
  find_cuda_libs
  # libgomp comes with gcc; on a machine without it the pack's copy serves.
  if ! ldconfig -p 2>/dev/null | grep -q 'libgomp.so.1 '; then
    export LD_LIBRARY_PATH="$pack/lib/fallback${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
  export SHRINK_TEST_DATA=$repo/tests/data SHRINK_DIGITS_CSV=$repo/data/digits/digits.csv
  export SHRINK_CLI=$pack/bin/shrink
  bin=$pack/bin
  cores=$(nproc)
}

device_line() {
  if [ $cpu_only -eq 1 ]; then note "device: none (--cpu)"; return; fi
  local line
  line=$(nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv,noheader 2>&1 | head -1)
  note "device: $line"
  "$bin/shrink" info --json >"$out/info.json" 2>&1 || fail "shrink info"
}

# ---- verify -------------------------------------------------------------------------------------
# Runs one test binary in shards (the device has 16 cores), XML reports merged into a summary.
run_tests() {
  local name=$1 shards=$2 i pids=() rc=0
  for ((i = 0; i < shards; i++)); do
    GTEST_TOTAL_SHARDS=$shards GTEST_SHARD_INDEX=$i OMP_NUM_THREADS=$(( (cores + shards - 1) / shards )) \
      timeout 200 "$bin/$name" --gtest_output="xml:$work/xml/$name-$i.xml" >"$work/xml/$name-$i.log" 2>&1 &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || rc=1; done
  return $rc
}

verify() {
  device_line
  local libs
  if libs=$(check_libs "$pack"); then note "libraries: every packed binary resolves"; else fail "libraries: $libs"; fi
  # cuBLAS and cuSPARSE are dlopen'ed with the first CUDA context, so ldd does not see them.
  if "$bin/shrink_tests" --gtest_filter='CudaLibraries.*' >"$work/cuda-libraries.log" 2>&1; then
    note "libraries: cuBLAS and cuSPARSE load, every function found"
  else
    fail "libraries: cuBLAS or cuSPARSE: $(grep -m2 -i 'error\|failure' "$work/cuda-libraries.log")"
  fi
  if [ $cpu_only -eq 0 ]; then
    "$bin/shrink_bench" --benchmark_filter='BM_DeviceCopy' --benchmark_format=json >"$out/copy.json" 2>/dev/null ||
      fail "device copy benchmark"
    note "device copy: $(python3 -c 'import json,sys; b=[x for x in json.load(open(sys.argv[1]))["benchmarks"] if x.get("aggregate_name")=="median"]; print("%.0f GB/s read+write (median of 5)" % (b[0]["bytes_per_second"]/1e9))' "$out/copy.json" 2>/dev/null)"
  fi

  mkdir -p "$work/xml"
  local t0=$SECONDS rc_tests=0 rc_cli=0
  run_tests shrink_tests 4 || rc_tests=1
  run_tests shrink_cli_tests 2 || rc_cli=1
  run_tests shrink_c_api_tests 1 || rc_cli=1
  for f in "$work"/xml/*.log; do echo "===== $(basename "$f")"; cat "$f"; done >"$out/tests.log"
  python3 - "$work/xml" "$cpu_only" >"$out/tests.txt" <<'EOF'
import glob, sys, xml.etree.ElementTree as ET
xml_dir, cpu_only = sys.argv[1], sys.argv[2] == "1"
ran = passed = 0
failed, skipped_device, skipped_other = [], [], []
for path in sorted(glob.glob(xml_dir + "/*.xml")):
    for case in ET.parse(path).getroot().iter("testcase"):
        name = case.get("classname") + "." + case.get("name")
        if case.get("result") == "skipped":
            msg = case.find("skipped").get("message", "") if case.find("skipped") is not None else ""
            (skipped_device if ("no usable device" in msg or "without CUDA" in msg) else skipped_other).append(name)
            continue
        ran += 1
        if case.find("failure") is not None:
            failed.append(name)
        else:
            passed += 1
print(f"tests: {ran} ran, {passed} passed, {len(failed)} failed, {len(skipped_device)} skipped for want of a device, {len(skipped_other)} skipped by design")
for n in failed: print("  failed:", n)
if not cpu_only:
    for n in skipped_device: print("  CUDA test skipped on the device:", n)
bad = failed or (skipped_device and not cpu_only) or ran == 0
sys.exit(1 if bad else 0)
EOF
  local rc_xml=$?
  note "$(head -1 "$out/tests.txt") in $((SECONDS - t0)) s"
  [ $rc_xml -eq 0 ] && [ $rc_tests -eq 0 ] && [ $rc_cli -eq 0 ] || { fail "tests (see tests.txt)"; sed -n '2,12p' "$out/tests.txt"; }

  determinism
}

# The README promises bit-identical results run to run: one SpMV (and its transpose) and one Lasso
# path, each run twice on the device (the CPU with --cpu).
determinism() {
  local backend=cuda d=$work/det
  [ $cpu_only -eq 1 ] && backend=cpu
  mkdir -p "$d"
  python3 - "$d" <<'EOF' || { fail "determinism inputs"; return; }
import random, sys
d = sys.argv[1]
rng = random.Random(7)
rows, cols = 200000, 150000
entries = []
for r in range(rows):            # power-law row lengths, mean about 8
    for c in rng.sample(range(cols), min(cols, int(rng.paretovariate(1.6) * 3))):
        entries.append((r + 1, c + 1, rng.uniform(-1, 1)))
with open(d + "/A.mtx", "w") as f:
    f.write("%%%%MatrixMarket matrix coordinate real general\n%d %d %d\n" % (rows, cols, len(entries)))
    f.write("".join("%d %d %.17g\n" % e for e in entries))
n, p = 3000, 800                 # a Lasso problem: sparse-ish dense design, 30 true features
beta = {rng.randrange(p): rng.uniform(-2, 2) for _ in range(30)}
with open(d + "/X.csv", "w") as fx, open(d + "/y.txt", "w") as fy:
    for i in range(n):
        row = [rng.gauss(0, 1) if rng.random() < 0.3 else 0.0 for _ in range(p)]
        fx.write(",".join("%.17g" % v for v in row) + "\n")
        fy.write("%.17g\n" % (sum(row[j] * b for j, b in beta.items()) + rng.gauss(0, 0.5)))
EOF
  local i ok=1
  for i in 1 2; do
    "$bin/shrink" spmv "$d/A.mtx" --backend $backend --repeat 1 --out "$d/y$i.npy" >/dev/null 2>>"$out/det.log" || ok=0
    "$bin/shrink" spmv "$d/A.mtx" --backend $backend --transpose --repeat 1 --out "$d/yt$i.npy" >/dev/null 2>>"$out/det.log" || ok=0
    timeout 120 "$bin/shrink" lasso "$d/X.csv" "$d/y.txt" --backend $backend --n-lambdas 30 --out "$d/coef$i.mtx" \
      --json >"$d/path$i.json" 2>>"$out/det.log" || ok=0
  done
  [ $ok -eq 1 ] || { fail "determinism runs (see det.log)"; return; }
  local same=1
  cmp -s "$d/y1.npy" "$d/y2.npy" || { same=0; fail "SpMV differs between two runs"; }
  cmp -s "$d/yt1.npy" "$d/yt2.npy" || { same=0; fail "transposed SpMV differs between two runs"; }
  cmp -s "$d/coef1.mtx" "$d/coef2.mtx" || { same=0; fail "Lasso path coefficients differ between two runs"; }
  python3 - "$d/path1.json" "$d/path2.json" <<'EOF' || { same=0; fail "Lasso path certificates differ between two runs"; }
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
keys = ["lambdas", "intercepts", "objective", "duality_gap", "nnz", "iterations"]
sys.exit(0 if all(a[k] == b[k] for k in keys) else 1)
EOF
  [ $same -eq 1 ] && note "determinism: SpMV, transposed SpMV and a 30-lambda Lasso path bit-identical over two runs ($backend)"
}

# ---- sanitize -----------------------------------------------------------------------------------
sanitize() {
  device_line
  command -v compute-sanitizer >/dev/null || { fail "compute-sanitizer is not on PATH"; return; }
  # One representative test per CUDA kernel family; the shared-memory kernels get racecheck and
  # synccheck too (merge-path SpMV tiles, block reductions, the batched Lasso's block team, the
  # tiled BSR layer, the TopK radix select).
  local -A fam=(
    [spmv]='AllBackends/Kernels.SpmvAllPathsAndEdgeCases/cuda:AllBackends/Kernels.CusparseBaselineAgrees/cuda:AllBackends/Kernels.DeviceTransposeMatchesHost/cuda'
    [prox]='AllBackends/Kernels.ProxStepsMatchReference/cuda:AllBackends/Kernels.AxpbyMatchesReference/cuda'
    [reduce]='AllBackends/Kernels.ReductionsMatchReference/cuda'
    [lasso]='AllBackends/LassoKernels.*/cuda:AllBackends/BatchLassoKernels.*/cuda'
    [bsr]='AllBackends/Layer.CudaTwinsAgreeWithCpu/cuda:AllBackends/Layer.ColumnSumsAndReluMask/cuda'
    [sae]='AllBackends/SaeKernelTwins.*/cuda:AllBackends/Sae.TopKSparseDecoderEqualsDenseMaskedDecoder/cuda'
  )
  local shared='spmv reduce lasso bsr sae'
  local runs=() f tool
  for f in "${!fam[@]}"; do runs+=("memcheck $f"); done
  for f in $shared; do runs+=("racecheck $f" "synccheck $f"); done
  # Two waves, each process capped so that the stage ends inside 3 minutes.
  local pids=() names=() i=0 r
  for r in "${runs[@]}"; do
    set -- $r
    tool=$1 f=$2
    OMP_NUM_THREADS=2 timeout 80 compute-sanitizer --tool "$tool" --error-exitcode 7 \
      "$bin/shrink_tests" --gtest_filter="${fam[$f]}" >"$work/san-$tool-$f.log" 2>&1 &
    pids+=($!) names+=("$tool $f")
    if (( ${#pids[@]} == 8 )); then
      for i in "${!pids[@]}"; do wait "${pids[$i]}"; sanitize_result $? "${names[$i]}"; done
      pids=() names=()
    fi
  done
  for i in "${!pids[@]}"; do wait "${pids[$i]}"; sanitize_result $? "${names[$i]}"; done
  # Eight files at most come back: fold the logs into one.
  for f in "$work"/san-*.log; do echo "===== $(basename "$f")"; cat "$f"; done >"$out/sanitizer.log"
}

sanitize_result() {
  local rc=$1 name=$2 log
  set -- $name
  log=$work/san-$1-$2.log
  local ran
  ran=$(grep -oE '\[  PASSED  \] [0-9]+' "$log" | grep -oE '[0-9]+$' | head -1)
  if [ "$rc" -eq 124 ]; then fail "$name: timed out"
  elif ! grep -q "ERROR SUMMARY: 0 errors" "$log"; then fail "$name: exit $rc, $(grep -m1 'ERROR SUMMARY' "$log")"
  elif [ "$rc" -ne 0 ] || [ -z "$ran" ] || [ "$ran" -eq 0 ] || grep -q "SKIPPED" "$log"; then
    fail "$name: exit $rc, ${ran:-0} tests passed (a skip or no test means the tool checked nothing)"
  else note "$name: clean, $ran tests"
  fi
}

# ---- bench --------------------------------------------------------------------------------------
bench() {
  device_line
  local t0=$SECONDS gen=0
  # The Lasso problems are generated on the CPU while the benchmarks use the GPU.
  local data=${SHRINK_LASSO_DIR:-/tmp/shrink-lasso-problems}
  local have_py=0
  python3 -c "import numpy, scipy" 2>/dev/null && have_py=1
  if [ $have_py -eq 1 ] && [ ! -f "$data/c_X.mtx" ]; then
    python3 scripts/make_lasso_problems.py "$data" a c >"$out/lasso.log" 2>&1 &
    gen=$!
  fi
  timeout 150 "$bin/shrink_bench" \
    --benchmark_filter='Copy|BM_Spmv.*cuda|BM_Prox.*cuda|BM_Layer.*cuda|BM_SaeStep.*cuda|cuda_sparse_coding|BatchGemmFloor' \
    --benchmark_out="$out/bench.json" --benchmark_out_format=json >"$out/bench.log" 2>&1 || fail "shrink_bench (see bench.log)"
  note "benchmarks: $((SECONDS - t0)) s"

  # Lasso paths: the device against our CPU solver on every core, each capped at 40 s.
  if [ $have_py -eq 1 ]; then
    [ $gen -eq 0 ] || wait $gen || fail "make_lasso_problems.py (see lasso.log)"
    local run x
    for run in "c cuda auto" "c cpu auto" "a cuda gram" "a cpu gram"; do
      set -- $run
      x=$data/$1_X.mtx; [ -f "$x" ] || x=$data/$1_X.npy
      timeout 40 "$bin/shrink" lasso "$x" "$data/$1_y.txt" --backend "$2" --solver "$3" --threads "$cores" \
        --json >"$work/lasso-$1-$2.json" 2>>"$out/lasso.log"
      local rc=$?
      note "lasso ($1) $2/$3: exit $rc$( [ $rc -eq 124 ] && echo ' (over 40 s)'), $(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print("time_s %.3f solver %s worst gap %.2e" % (j["time_s"], j["solver"], max(j["duality_gap"])))' "$work/lasso-$1-$2.json" 2>/dev/null)"
    done
    # The four paths' JSON folded into one file (the eight-file limit).
    python3 -c 'import json,sys,glob,os; json.dump({os.path.basename(p): json.load(open(p)) for p in sorted(glob.glob(sys.argv[1] + "/lasso-*.json")) if open(p).read().strip()}, open(sys.argv[2] + "/lasso.json", "w"))' "$work" "$out" 2>/dev/null
  else
    fail "python3 with numpy and scipy is needed to generate the Lasso problems"
  fi
  python3 scripts/perf_table.py "$out/bench.json" | tee "$out/table.txt" | tail -18
}

# ---- build (fallback) ---------------------------------------------------------------------------
build() {
  local t0=$SECONDS deps=/tmp/shrink-deps src_pack
  unpack
  src_pack=$pack
  if compgen -G "$src_pack/deps/*.deb" >/dev/null; then
    for f in "$src_pack"/deps/*.deb; do dpkg -x "$f" "$deps"; done
    local lib=$deps/usr/lib/x86_64-linux-gnu
    mkdir -p "$deps/blas"
    ln -sf "$src_pack/lib/libopenblas.so.0" "$deps/blas/libopenblas.so"
    ln -sf "$src_pack/lib/libbenchmark.so.1debian" "$lib/libbenchmark.so"
    export CMAKE_PREFIX_PATH="$deps/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
    export CMAKE_LIBRARY_PATH="$deps/blas:$lib"
    export CPATH="$deps/usr/include:$deps/usr/include/x86_64-linux-gnu/openblas-openmp${CPATH:+:$CPATH}"
    export LD_LIBRARY_PATH="$src_pack/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
  cmake --preset gpu >"$out/configure.log" 2>&1 || { fail "configure (configure.log)"; tail -20 "$out/configure.log"; return; }
  cmake --build --preset gpu -j "$(nproc)" --target shrink_cli shrink_tests shrink_cli_tests shrink_c_api_tests shrink_bench \
    >"$out/build.log" 2>&1 || { fail "build (build.log)"; tail -20 "$out/build.log"; return; }
  note "build: $((SECONDS - t0)) s on $(nproc) cores"
  # Stage the fresh build where the other stages look (SHRINK_PACK_DIR=$dir for the calls after).
  local dir=/tmp/shrink-pack-built
  rm -rf "$dir" && mkdir -p "$dir/bin" "$dir/lib"
  cp build/gpu/tools/shrink build/gpu/tests/shrink_tests build/gpu/tests/shrink_cli_tests build/gpu/tests/shrink_c_api_tests \
     build/gpu/bench/shrink_bench "$dir/bin/"
  cp -L build/gpu/libshrink.so.0 build/gpu/libshrink_c.so.0 "$dir/lib/"
  cp -a "$src_pack"/lib/* "$dir/lib/" 2>/dev/null
  for f in "$dir"/bin/*; do patchelf --set-rpath "\$ORIGIN/../lib" "$f" 2>/dev/null || true; done
  note "staged at $dir: run the next stage with SHRINK_PACK_DIR=$dir"
}

# ---- main ---------------------------------------------------------------------------------------
case "$stage" in
  verify|sanitize|bench) unpack; setup_env; t_start=$SECONDS; "$stage" ;;
  build) t_start=$SECONDS; build ;;
  *) echo "usage: $0 verify [--cpu] | sanitize | bench | build | check-libs DIR" >&2; exit 1 ;;
esac

python3 - "$out/summary.json" "$stage" "$failed" "$((SECONDS - t_start))" "${summary[@]}" <<'EOF'
import json, sys
path, stage, failed, seconds, *lines = sys.argv[1:]
json.dump({"stage": stage, "ok": failed == "0", "seconds": int(seconds), "lines": lines}, open(path, "w"), indent=1)
EOF
echo "== $stage: $([ $failed -eq 0 ] && echo ok || echo FAILED) in $((SECONDS - t_start)) s"
for l in "${summary[@]:0:28}"; do echo "  $l"; done
exit $failed
