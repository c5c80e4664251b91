#!/usr/bin/env bash
# Runs every libFuzzer harness (fuzz/harnesses.cpp) from its seed corpus, JOBS at a time, and fails if
# any finds a crash, a sanitizer report, a leak, a timeout or an allocation past the memory limit.
#   scripts/fuzz.sh                       30 s each, two at a time (CI's smoke run)
#   scripts/fuzz.sh --runs 10000000       a campaign: that many executions each
#   scripts/fuzz.sh --time 600 --jobs 2 --only npz,csv
# Builds the fuzz preset (clang, ASan + UBSan) first. A finding is left in build/fuzz/findings/; copy
# it to tests/data/fuzz/NAME/ once fixed, where the replay test runs it on every build.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=30 runs=-1 jobs=2 only="" out=build/fuzz
while [[ $# -gt 0 ]]; do
  case "$1" in
    --time) seconds=$2; shift 2 ;;
    --runs) runs=$2; seconds=0; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;  # where work/, findings/ and logs/ go
    *) echo "usage: $0 [--time S | --runs N] [--jobs J] [--only a,b] [--out DIR]" >&2; exit 1 ;;
  esac
done

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz >/dev/null
build=build/fuzz
harnesses=$(sed -n 's/.*foreach(harness \(.*\))/\1/p' fuzz/CMakeLists.txt)
if [[ -n "$only" ]]; then harnesses=${only//,/ }; fi
rm -rf "$out/work" "$out/findings" "$out/logs"
mkdir -p "$out/work" "$out/findings" "$out/logs"

run_one() {
  local name=$1 build=$2 seconds=$3 runs=$4 out=$5
  local work="$out/work/$name"
  mkdir -p "$work" "$out/findings/$name"
  # The working corpus grows in build/; the committed seeds stay as they are.
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 \
    "$build/fuzz/fuzz_$name" "$work" "fuzz/corpus/$name" \
      -max_total_time="$seconds" -runs="$runs" -timeout=20 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
      -max_len=65536 -print_final_stats=1 -artifact_prefix="$out/findings/$name/" \
      >"$out/logs/$name.log" 2>&1
  local rc=$?
  local execs cov
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/logs/$name.log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$out/logs/$name.log" | tail -1 | cut -d' ' -f2)
  # slow-unit-* files are inputs that took over 10 s: kept to look at, not findings.
  printf '%-16s rc %-3s executions %-10s coverage %-6s findings %s slow inputs %s\n' "$name" "$rc" "${execs:-?}" \
    "${cov:-?}" "$(find "$out/findings/$name" -type f ! -name 'slow-unit-*' | wc -l)" \
    "$(find "$out/findings/$name" -type f -name 'slow-unit-*' | wc -l)"
  return $rc
}
export -f run_one

start=$SECONDS
status=0
printf '%s\n' $harnesses | xargs -P "$jobs" -I{} bash -c "run_one {} $build $seconds $runs $out" || status=$?
echo "fuzz: $(echo $harnesses | wc -w) harnesses in $((SECONDS - start)) s"
if [[ $status -ne 0 ]]; then
  echo "fuzz: FINDINGS (logs in $out/logs, inputs in $out/findings):" >&2
  find "$out/findings" -type f >&2
  for log in "$out"/logs/*.log; do
    if grep -q "ERROR: \|==ERROR\|deadly signal\|Test unit written" "$log"; then
      echo "---- $log" >&2
      grep -A30 "ERROR\|deadly signal" "$log" | head -60 >&2
    fi
  done
  exit 1
fi
