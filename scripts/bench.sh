#!/usr/bin/env bash
# `make bench`: measure dsd and write docs/performance.md (tables + PNG plots).
#   1. engine time versus nodes x DaemonSets (bench/engine_bench)
#   2. handler / protobuf parse of the same request (bench/service_bench)
#   3. server throughput: Decide versus Validate on the same request bytes,
#      with Health/Check as the transport ceiling (dsdctl load, one client)
#   4. latency percentiles under a fixed open-loop rate
#   5. peak RSS of dsd-server for the 5,000-node request vs. its size
# Every ratio is measured in one run. Only loopback traffic; all bounded.
# BENCH_QUICK=1 shortens every run (for trying the pipeline, not for numbers).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=build/release/bin
OUT=build/bench
mkdir -p "$OUT" docs
QUICK=${BENCH_QUICK:-0}
if [[ $QUICK == 1 ]]; then MIN_TIME=0.05 DURATION=2 ROUNDS=1; else MIN_TIME=0.5 DURATION=10 ROUNDS=3; fi

echo "== 1/5 engine_bench" >&2
build/release/bench/engine_bench --benchmark_min_time=$MIN_TIME \
  --benchmark_filter=BM_Decide/ \
  --benchmark_format=json --benchmark_out="$OUT/engine.json" \
  --benchmark_out_format=json >/dev/null

echo "== 2/5 service_bench" >&2
build/release/bench/service_bench --benchmark_min_time=$MIN_TIME \
  --benchmark_format=json --benchmark_out="$OUT/service.json" \
  --benchmark_out_format=json >/dev/null

PORT=${DSD_BENCH_PORT:-50777}
ADDR=127.0.0.1:$PORT
start_server() {
  "$BIN/dsd-server" --listen "$ADDR" --log_level warn &
  server=$!
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
    kill -0 $server 2>/dev/null || { echo "dsd-server did not start" >&2; exit 1; }
    sleep 0.1
  done
}
stop_server() { kill -TERM $server; wait $server || true; }
trap 'kill -TERM ${server:-0} 2>/dev/null || true' EXIT
load() { "$BIN/dsdctl" --server "$ADDR" --timeout 120 load --output json "$@"; }

echo "== 3/5 throughput (Decide vs Validate vs Health/Check)" >&2
# Decide and Validate alternate, ROUNDS times: the report takes the median
# round's ratio (client and server share the cores; one pair is noisy).
start_server
for nodes in 100 5000; do
  for round in $(seq "$ROUNDS"); do
    for method in decide validate; do
      load --method $method --nodes $nodes --daemonsets 10 --concurrency 4 \
        --duration "$DURATION" >"$OUT/load-$method-$nodes-$round.json"
    done
  done
done
load --method health --concurrency 4 --duration "$DURATION" >"$OUT/load-health.json"

echo "== 4/5 latency under a fixed open-loop rate" >&2
# Half of the closed-loop Decide capacity at 100 nodes: a loaded, stable server.
rate=$(python3 -c "import json;print(max(1,int(json.load(open('$OUT/load-decide-100-1.json'))['qps']*0.5)))")
load --method decide --nodes 100 --daemonsets 10 --rate "$rate" \
  --duration "$DURATION" >"$OUT/load-open-100.json"
stop_server

echo "== 5/5 peak RSS for the 5,000-node request" >&2
"$BIN/dsdctl" load --nodes 5000 --daemonsets 50 --write-request "$OUT/request-5000.bin" >/dev/null
start_server
baseline=$(awk '/VmHWM/{print $2*1024}' /proc/$server/status)
load --method decide --nodes 5000 --daemonsets 50 --concurrency 1 --requests 3 \
  >"$OUT/load-decide-5000x50.json"
peak=$(awk '/VmHWM/{print $2*1024}' /proc/$server/status)
stop_server
printf '{"request_bytes": %d, "baseline_rss_bytes": %d, "peak_rss_bytes": %d}\n' \
  "$(stat -c %s "$OUT/request-5000.bin")" "$baseline" "$peak" >"$OUT/rss.json"

python3 scripts/perf_report.py "$OUT" docs
echo "wrote docs/performance.md" >&2
