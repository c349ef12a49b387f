#!/usr/bin/env bash
# Installs what boxmon needs from the system's packages, only what is missing.
#   scripts/install-deps.sh          build dependencies
#   scripts/install-deps.sh --test   build and test dependencies (servers the tests start, tools)
# Debian 12 / Ubuntu: apt-get (through sudo when not root). macOS: prints the Homebrew formulas.
set -euo pipefail

mode=build
if [ "${1:-}" = "--test" ]; then mode=test; fi

build_packages=(
  g++ cmake ninja-build pkg-config ca-certificates tzdata
  libsqlite3-dev libcurl4-openssl-dev libssl-dev
  libspdlog-dev libfmt-dev libtomlplusplus-dev libhowardhinnant-date-dev
  nlohmann-json3-dev libcli11-dev libcpp-httplib-dev libsystemd-dev
)
test_packages=(
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-aiosmtpd python3-trustme sqlite3 openssl curl
  prometheus prometheus-alertmanager
  faketime socat stress-ng util-linux iproute2 procps systemd
  clang libclang-rt-14-dev
  dpkg-dev
)

if [ "$(uname -s)" = "Darwin" ]; then
  echo "On macOS install the dependencies with Homebrew:"
  echo "  brew install cmake ninja pkg-config sqlite curl openssl spdlog fmt tomlplusplus howard-hinnant-date nlohmann-json cli11 cpp-httplib googletest google-benchmark"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: no apt-get here; install the equivalents of: ${build_packages[*]}" >&2
  exit 1
fi

wanted=("${build_packages[@]}")
if [ "$mode" = test ]; then wanted+=("${test_packages[@]}"); fi

missing=()
for p in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#wanted[@]} packages present"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
echo "install-deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
