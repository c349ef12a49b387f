#!/usr/bin/env bash
# The first README command: installs what is missing, builds boxmon, and runs the daemon in the
# foreground on the built-in defaults with its state in ./state, printing each sample.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DBOXMON_BUILD_TESTS=OFF -DBOXMON_BUILD_BENCH=OFF
cmake --build build/release -j "$(nproc)"
mkdir -p state
echo "quickstart: running build/release/cli/boxmon run --print --state-dir $PWD/state (Ctrl-C stops it)"
exec build/release/cli/boxmon run --print --state-dir "$PWD/state" "$@"
