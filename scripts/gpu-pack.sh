#!/usr/bin/env bash
# Builds the GPU pack here (no GPU needed): a CUDA-on Release build for sm_90, its programs and every
# shared library they need beyond the system's (glibc, libstdc++, libgcc, libgomp) and CUDA's, with
# RUNPATH $ORIGIN/../lib, a manifest (size, sha256) and one compressed archive in .gpu-pack/.
# The device runs it with scripts/gpu-run.sh STAGE and builds nothing (docs/GPU.md).
#
#   bash scripts/gpu-pack.sh [BUILD_DIR] [--no-deps]
#
# BUILD_DIR (default build/gpu, preset "gpu") is reused when it is a CUDA build for sm_90, else it is
# configured and built. --no-deps leaves out the Debian -dev packages that gpu-run.sh's fallback
# `build` stage needs (CI checks the pack without them).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

build=build/gpu
with_deps=1
for a in "$@"; do
  case "$a" in
    --no-deps) with_deps=0 ;;
    -*) echo "gpu-pack: unknown option $a" >&2; exit 1 ;;
    *) build=${a%/} ;;
  esac
done

if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH=/usr/local/cuda/bin:$PATH
fi
command -v patchelf >/dev/null || { echo "gpu-pack: patchelf is missing (bash scripts/bootstrap.sh deps)" >&2; exit 1; }

cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt" 2>/dev/null; }
with_cuda() { grep -q "SHRINK_BUILT_WITH_CUDA 1" "$build/include/shrink/build_config.hpp" 2>/dev/null; }
if ! with_cuda || [ "$(cache_value CMAKE_CUDA_ARCHITECTURES)" != "90" ] || [ "$(cache_value CMAKE_BUILD_TYPE)" != "Release" ]; then
  if [ "$build" != build/gpu ]; then
    echo "gpu-pack: $build is not a CUDA Release build for sm_90 (CUDA $(with_cuda && echo on || echo off)," \
         "archs=$(cache_value CMAKE_CUDA_ARCHITECTURES), type=$(cache_value CMAKE_BUILD_TYPE))" >&2
    exit 1
  fi
  cmake --preset gpu >/dev/null
fi
programs=(tools/shrink tests/shrink_tests tests/shrink_cli_tests tests/shrink_c_api_tests bench/shrink_bench)
cmake --build "$build" -j "$(nproc)" --target shrink_cli shrink_tests shrink_cli_tests shrink_c_api_tests shrink_bench >/dev/null

stage=$build/gpu-pack-stage
pack=$stage/shrink-pack
rm -rf "$stage"
mkdir -p "$pack/bin" "$pack/lib/fallback"
for p in "${programs[@]}"; do cp "$build/$p" "$pack/bin/"; done
cp -L "$build/libshrink.so.0" "$build/libshrink_c.so.0" "$pack/lib/"

# The libraries a binary may take from the machine it runs on; everything else travels.
is_system_lib() {
  case "$(basename "$1")" in
    linux-vdso.so*|ld-linux*|libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|libutil.so*) return 0 ;;
    libstdc++.so*|libgcc_s.so*|libgomp.so*) return 0 ;;
    libcuda.so*|libcudart.so*|libcublas.so*|libcublasLt.so*|libcusparse.so*|libnvJitLink.so*) return 0 ;;
  esac
  return 1
}
export -f is_system_lib

# Copy the closure of what the binaries need (ldd lists it transitively).
for f in "$pack"/bin/* "$pack"/lib/*.so*; do
  ldd "$f" | awk '/=> \// {print $1, $3}'
done | sort -u | while read -r name path; do
  is_system_lib "$name" && continue
  [ "$name" = libshrink.so.0 ] || [ "$name" = libshrink_c.so.0 ] && continue
  cp -L "$path" "$pack/lib/$name"
done
# libgomp is a system library on any machine with gcc; a copy waits in lib/fallback for one without.
gomp=$(ldd "$pack/lib/libshrink.so.0" | awk '/libgomp/ {print $3}')
[ -n "$gomp" ] && cp -L "$gomp" "$pack/lib/fallback/"

# RUNPATH: binaries look in ../lib, libraries beside themselves; CUDA's own folders come after, for
# machines whose loader does not list them.
cuda_dirs='/usr/local/cuda/lib64:/usr/local/cuda/lib:/usr/local/cuda/targets/x86_64-linux/lib'
for f in "$pack"/bin/*; do patchelf --set-rpath "\$ORIGIN/../lib:$cuda_dirs" "$f"; done
for f in "$pack"/lib/*.so*; do patchelf --set-rpath "\$ORIGIN:$cuda_dirs" "$f"; done

# What the bench and verify stages read besides the binaries travels in the working tree (scripts/,
# tests/data, data/); the Lasso problems are generated there by scripts/make_lasso_problems.py.
if [ $with_deps -eq 1 ]; then
  # Headers and static libraries for the fallback `build` stage on a machine without Debian's packages.
  mkdir -p "$pack/deps"
  (cd "$pack/deps" && apt-get download libopenblas-dev libopenblas-openmp-dev libgtest-dev \
     libbenchmark-dev libcli11-dev nlohmann-json3-dev libfast-float-dev >/dev/null 2>&1) ||
    echo "gpu-pack: apt-get download failed; the pack has no deps/ for the fallback build stage" >&2
fi

{
  echo "commit $(git rev-parse HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (dirty)')"
  echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -m), $(nvcc --version | tail -1)"
  echo "compiler $(cache_value CMAKE_CXX_COMPILER) $("$(cache_value CMAKE_CXX_COMPILER)" -dumpversion)"
  echo "cuda_architectures $(cache_value CMAKE_CUDA_ARCHITECTURES)"
} >"$pack/BUILD_INFO"

(cd "$pack" && find . -type f ! -name MANIFEST.tsv | sort | while read -r f; do
   printf '%s\t%s\t%s\n' "${f#./}" "$(stat -c %s "$f")" "$(sha256sum "$f" | cut -d' ' -f1)"
 done) >"$pack/MANIFEST.tsv"

# The check CI makes: every binary resolves with no LD_LIBRARY_PATH, inside the pack or to an allowed
# system or CUDA library.
bash scripts/gpu-run.sh check-libs "$pack"

mkdir -p .gpu-pack
rm -f .gpu-pack/*
tar -C "$stage" -cf - shrink-pack | xz -T0 -6 >.gpu-pack/shrink-pack.tar.xz
cp "$pack/MANIFEST.tsv" .gpu-pack/
(cd .gpu-pack && sha256sum shrink-pack.tar.xz >shrink-pack.tar.xz.sha256)

pack_bytes=$(du -cb .gpu-pack/* | tail -1 | cut -f1)
tree_bytes=$( (git ls-files -z; git ls-files -z --others --exclude-standard) | xargs -0 -r stat -c %s 2>/dev/null |
  awk '{s += $1} END {print s + 0}')
total=$((pack_bytes + tree_bytes))
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
echo "gpu-pack: $(wc -l <"$pack/MANIFEST.tsv") files; pack $(mib "$pack_bytes") compressed" \
     "($(mib "$(du -cb "$pack" | tail -1 | cut -f1)") unpacked) + working tree $(mib "$tree_bytes") = $(mib "$total")"
if [ "$total" -ge $((48 * 1048576)) ]; then
  echo "gpu-pack: over the 48 MiB budget (the transfer limit is 64 MiB)" >&2
  exit 1
fi
