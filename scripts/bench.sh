#!/usr/bin/env bash
# `make bench`: run every Google Benchmark program built in build/release/bench.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
ran=0
for b in build/release/bench/*_bench; do
  echo "== $b"
  "$b" --benchmark_counters_tabular=true
  ran=1
done
if ((ran == 0)); then echo "make bench: no benchmark programs built yet"; fi
