#!/usr/bin/env bash
# Downloads (does not install) the Debian packages that the GPU image lacks into .deps/, for
# scripts/gpu-check.sh to unpack there. Run here, then pass .deps in the device tool's carry.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .deps
cd .deps
apt-get download libopenblas-dev libopenblas-pthread-dev libopenblas0-pthread libgfortran5 \
  libgtest-dev libbenchmark-dev libbenchmark1debian libcli11-dev nlohmann-json3-dev \
  libfast-float-dev 2>&1 | tail -2
du -sh .
