#!/usr/bin/env bash
# One-step set-up for Shrink on Debian/Ubuntu.
#   bash scripts/bootstrap.sh demo   install missing packages, build, run `shrink demo`
#   bash scripts/bootstrap.sh test   install missing packages, configure + build + run the tests, then build
#                                    the Python package (pip install .) and run its tests (pytest)
#   bash scripts/bootstrap.sh deps   only install missing packages
#   bash scripts/bootstrap.sh ci-deps  also what .ci/run's sanitizer and fuzz builds need
#   bash scripts/bootstrap.sh bench-deps  also the Lasso peers of scripts/bench_lasso_peers.py: glmnet
#                                    (Debian's r-cran-glmnet), scikit-learn, celer and skglm (PyPI)
# The CUDA toolkit is optional: when nvcc is found the CUDA backend is built too (SHRINK_CUDA=AUTO).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake g++ make pkg-config libopenblas-dev libopenblas-openmp-dev libgtest-dev libgmock-dev libbenchmark-dev
          libcli11-dev nlohmann-json3-dev libfast-float-dev patchelf xz-utils gcc gfortran zlib1g-dev python3-dev
          python3-pip openmpi-bin libopenmpi-dev)

# What .ci/run's extra checks add: clang with its sanitizer and libFuzzer runtimes, LLVM's OpenMP with
# the Archer tool (ThreadSanitizer understands it; GCC's libgomp gives false reports).
ci_packages=(clang libclang-rt-dev libomp-dev)

install_missing() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "shrink: missing packages. Run:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  echo "shrink: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The Python packages the tests load outputs with (NumPy, SciPy, pandas), from PyPI when missing;
# the check that needs them skips without them.
python_deps() {
  command -v python3 >/dev/null 2>&1 || return 0
  python3 -c "import numpy, scipy, pandas" 2>/dev/null && return 0
  python3 -m pip install --quiet numpy scipy pandas 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages numpy scipy pandas 2>/dev/null ||
    echo "shrink: note: could not install numpy, scipy and pandas; the output-loading test will skip" >&2
}

# The Python package (pip install . : scikit-build-core and nanobind build the module shrink._core with
# the library linked in statically; here CUDA off, a quick CPU build), then its tests. pytest's "no
# tests collected" (exit 5) fails like any other failure.
python_package() {
  local pip=(python3 -m pip install --quiet)
  "${pip[@]}" pytest scikit-learn 2>/dev/null || pip+=(--break-system-packages)
  "${pip[@]}" pytest scikit-learn
  "${pip[@]}" . -C cmake.define.SHRINK_CUDA=OFF
  (cd tests/python && python3 -m pytest -q -p no:cacheprovider .)
}

# nvcc lives outside PATH in the default toolkit install.
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH=/usr/local/cuda/bin:$PATH
fi

case "${1:-demo}" in
  deps) install_missing ;;
  ci-deps) packages+=("${ci_packages[@]}"); install_missing ;;
  bench-deps)
    packages+=(r-cran-glmnet)
    install_missing
    python3 -m pip install --quiet scikit-learn celer skglm 2>/dev/null ||
      python3 -m pip install --quiet --break-system-packages scikit-learn celer skglm
    ;;
  demo)
    install_missing
    cmake --preset default >/dev/null
    cmake --build --preset default --target shrink_cli
    ./build/default/tools/shrink demo
    ;;
  test)
    install_missing
    python_deps
    cmake --workflow --preset default
    python_package
    ;;
  *) echo "usage: $0 [demo|test|deps|ci-deps|bench-deps]" >&2; exit 1 ;;
esac
