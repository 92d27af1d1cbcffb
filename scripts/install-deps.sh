#!/usr/bin/env bash
# Installs the Debian 12 packages dsd needs to build, test and run.
# Idempotent: when every package is present it does nothing (no apt-get update).
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  nlohmann-json3-dev libyaml-cpp-dev libcli11-dev libcpp-httplib-dev
  libcurl4-openssl-dev libsimdjson-dev
  openssl clang-format
)
# For the clang builds (the `asan`, `fuzz` and `tsan` presets; make test,
# make asan, make fuzz, make tsan): Debian 12's clang (14), its sanitizer
# runtimes (only a Recommends of clang, which apt-get below skips),
# libFuzzer, and llvm for llvm-symbolizer: without it a sanitizer's report
# names no function, and tests/tsan.supp, which names them, matches
# nothing. Not needed for `make build` or `make run`.
CLANG_PACKAGES=(clang libclang-rt-14-dev libfuzzer-14-dev llvm)
# Only for `make lint` and `make bench`; not needed to build or test.
OPTIONAL_PACKAGES=(clang-tidy gnuplot-nox python3)
# Only for `make image` and its smoke test (docker/README.md): podman builds
# images without a daemon, mmdebstrap makes the Debian base image
# (scripts/base-image.sh). Not installed where docker is in use already.
IMAGE_PACKAGES=(podman mmdebstrap)

missing=()
want=("${PACKAGES[@]}")
for arg in "$@"; do
  case "$arg" in
    --all) want+=("${OPTIONAL_PACKAGES[@]}") ;;
    --image) want+=("${IMAGE_PACKAGES[@]}") ;;
    --clang) want+=("${CLANG_PACKAGES[@]}") ;;
    *) echo "usage: install-deps.sh [--all] [--image] [--clang]" >&2; exit 2 ;;
  esac
done
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
