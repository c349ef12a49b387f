#!/usr/bin/env bash
# The second README command (and CI): installs what is missing, builds boxmon twice -- warnings
# as errors, then AddressSanitizer + UndefinedBehaviorSanitizer -- and runs every test in both.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test || exit 1
jobs="$(nproc)"
status=0

run_suite() {  # run_suite NAME BUILD_DIR CMAKE_ARGS...
  local name=$1 dir=$2
  shift 2
  echo "== ${name}: configure and build (${dir})"
  if ! cmake -S . -B "$dir" -G Ninja "$@" >"$dir.configure.log" 2>&1; then
    cat "$dir.configure.log"; status=1; return
  fi
  if ! cmake --build "$dir" -j "$jobs"; then status=1; return; fi
  echo "== ${name}: tests"
  (cd "$dir" && ctest --output-on-failure --timeout 600 -j "$jobs") || status=1
}

# packaging.deb_install installs the .deb with dpkg -i and purges it: as root (CI, a disposable
# machine) unless BOXMON_TEST_DPKG_INSTALL=0; it refuses when a boxmon package is installed.
if [ "$(id -u)" -eq 0 ]; then export BOXMON_TEST_DPKG_INSTALL="${BOXMON_TEST_DPKG_INSTALL:-1}"; fi

# Debug information as line tables only (-g1): backtraces and sanitizer reports still name
# file and line, and each file compiles in about a sixth less time into a third of the object.
mkdir -p build
run_suite "release (-Werror)" build/ci -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBOXMON_WERROR=ON \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG"
run_suite "asan+ubsan" build/asan -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-g1 -O1" \
  "-DCMAKE_C_FLAGS_DEBUG=-g1 -O1" -DBOXMON_SANITIZE=ON -DBOXMON_WERROR=ON -DBOXMON_BUILD_BENCH=OFF

if [ "$status" -eq 0 ]; then echo "test.sh: all suites passed"; else echo "test.sh: FAILED"; fi
exit "$status"
