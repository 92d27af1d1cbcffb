#!/usr/bin/env bash
# `make run`: start dsd-server and replay examples/ through dsdctl.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=build/release
if [[ ! -x $BIN/server/dsd-server || ! -x $BIN/client/dsdctl ]]; then
  echo "make run: dsd-server and dsdctl are not built yet (they arrive with the"
  echo "gRPC API and client issues). The engine and its tests are: run 'make test'."
  exit 0
fi
