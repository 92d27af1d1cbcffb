#!/usr/bin/env bash
# make soak: dsd-server under a mixed load for SOAK_MINUTES (default 10),
# then a drain under load. Passes when
#   - every load sees only the codes it should (OK for well-formed calls,
#     INVALID_ARGUMENT for garbage, RESOURCE_EXHAUSTED for requests over a
#     per-object cap);
#   - RSS after warm-up grows less than 5%: VmRSS when idle (the load
#     paused) after the warm-up against the same after the rest of the run.
#     RSS under load swings by tens of MB with the requests in flight, so
#     only idle readings can show a leak of a few percent. Reported beside
#     it: RssAnon (VmRSS without the shared libraries' pages) and
#     dsd_heap_in_use_bytes (what malloc has handed out);
#   - SIGTERM amid load: exit 0 within lameduck + grace + 1 s, and no call
#     dsd ran after the drain began ended other than OK (the server's
#     debug log names each call it ran).
# Writes build/soak/: rss.csv (seconds, RSS KiB), one report per load,
# server.log, summary.md and rss.png (gnuplot, when installed); and the
# report docs/soak.md with docs/perf-soak.png (SOAK_DOCS=DIR elsewhere),
# which scripts/perf_report.py makes the last section of
# docs/performance.md.
#
# The load mix (rates suit 2 cores; a soak looks for leaks and wrong
# codes, not capacity):
#   decide    100 nodes at 20/s, 1,000 nodes at 4/s, 5,000 nodes at 1/s
#   validate  1,000 nodes at 4/s
#   explain   200 nodes at 4/s (every DaemonSet on every node)
#   health    50/s
#   garbage   bytes that are no request, again and again (INVALID_ARGUMENT)
#   hostile   issue 11's shapes 1 (50k nodes x 100k In values, bench
#             scale) and 2 (taints x tolerations over the cap), one call
#             every 10 s each
set -euo pipefail
cd "$(dirname "$0")/.."

MINUTES=${SOAK_MINUTES:-10}
OUT=${SOAK_DIR:-build/soak}
DOCS=${SOAK_DOCS:-docs}
BIN=build/release/bin
HOSTILE=build/release/bench/hostile_request
LAMEDUCK=2
GRACE=5

seconds=$(awk -v m="$MINUTES" 'BEGIN { s = int(m * 60); print (s < 60 ? 60 : s) }')
# Warm-up: a quarter of the run, at most 2 minutes.
warmup=$(( seconds / 4 < 120 ? seconds / 4 : 120 ))

rm -rf "$OUT"
mkdir -p "$OUT"
log() { echo "soak: $*" >&2; }
fail=0
problem() { log "FAIL: $*"; echo "- FAIL: $*" >>"$OUT/problems.md"; fail=1; }

"$BIN/dsd-server" --listen=127.0.0.1:0 --metrics_listen=127.0.0.1:0 \
  --lameduck=$LAMEDUCK --shutdown_grace=$GRACE --log_level=debug \
  2>"$OUT/server.log" &
server=$!
trap 'kill -9 $server 2>/dev/null || true; kill $(jobs -p) 2>/dev/null || true' EXIT
address=""
for _ in $(seq 300); do
  address=$(grep -oE 'listening on [0-9.]+:[0-9]+' "$OUT/server.log" | head -1 | awk '{print $3}' || true)
  [[ -n "$address" ]] && break
  sleep 0.1
done
[[ -n "$address" ]] || { cat "$OUT/server.log" >&2; log "dsd-server did not start"; exit 1; }
metrics=$(grep -oE 'metrics on http://[0-9.]+:[0-9]+' "$OUT/server.log" | head -1 | sed 's#.*http://##')
log "dsd-server $server on $address; ${seconds} s of load, warm-up ${warmup} s"

# Request files for the hostile loads.
head -c 4096 /dev/urandom | tr '\000-\011' '\377' >"$OUT/garbage.bin"
"$HOSTILE" write --shape 1 --scale bench "$OUT/shape1.bin" >/dev/null
"$HOSTILE" write --shape 2 --scale bench "$OUT/shape2.bin" >/dev/null

load() {  # phase, seconds, name, dsdctl load arguments...
  local phase=$1 duration=$2 name=$3
  shift 3
  "$BIN/dsdctl" --server "$address" load --duration "$duration" --no_progress \
    -o json --timeout 60 "$@" >"$OUT/load-$phase-$name.json" \
    2>"$OUT/load-$phase-$name.err" &
}
hostile_loop() {  # phase, seconds, name, file, method, pause
  local phase=$1 end=$((SECONDS + $2)) name=$3 file=$4 method=$5 pause=$6
  while ((SECONDS < end)); do
    "$HOSTILE" send --server "$address" --method "$method" --timeout 30 "$file" \
      >>"$OUT/hostile-$name.jsonl" 2>>"$OUT/hostile-$name.err" || true
    sleep "$pause"
  done
}
# Every load of the mix for `seconds`, then waits for all of them.
run_mix() {  # phase, seconds
  local pids
  load "$1" "$2" decide-100 --method decide --nodes 100 --rate 20
  load "$1" "$2" decide-1k --method decide --nodes 1000 --rate 4
  load "$1" "$2" decide-5k --method decide --nodes 5000 --rate 1
  load "$1" "$2" validate-1k --method validate --nodes 1000 --rate 4
  load "$1" "$2" explain-200 --method explain --nodes 200 --rate 4
  load "$1" "$2" health --method health --rate 50
  hostile_loop "$1" "$2" garbage "$OUT/garbage.bin" decide 0.2 &
  hostile_loop "$1" "$2" shape1 "$OUT/shape1.bin" decide 10 &
  hostile_loop "$1" "$2" shape2 "$OUT/shape2.bin" decide 10 &
  pids=$(jobs -p | grep -v -e "^$server\$" -e "^$sampler\$")
  # shellcheck disable=SC2086
  wait $pids || true
}
# RssAnon: the memory the process allocated (heap, stacks, mmaps); VmRSS
# adds the shared libraries' resident pages (~15 MB of gRPC, protobuf and
# libc), which grow as more code paths run.
anon_kib() { awk '/^RssAnon:/ {print $2}' "/proc/$server/status"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$server/status"; }
# RSS once the load has stopped: the median of 5 samples, 1 s apart, after
# 5 s of quiet. Memory a leak keeps shows here, where the swing of the
# requests in flight (tens of MB at this mix) does not.
idle_rss() {  # prints VmRSS and RssAnon in KiB, each the median of 5
  local samples
  sleep 5
  samples=$(for _ in 1 2 3 4 5; do echo "$(rss_kib) $(anon_kib)"; sleep 1; done)
  echo "$(cut -d' ' -f1 <<<"$samples" | sort -n | sed -n 3p)" \
    "$(cut -d' ' -f2 <<<"$samples" | sort -n | sed -n 3p)"
}
# dsd_heap_in_use_bytes in KiB: what malloc has handed out and not had
# back. RSS growing while this does not is the allocator keeping freed
# pages, not a leak.
heap_kib() {
  python3 - "$metrics" <<'EOF'
import sys, urllib.request
text = urllib.request.urlopen(f"http://{sys.argv[1]}/metrics", timeout=10).read().decode()
for line in text.splitlines():
    if line.startswith("dsd_heap_in_use_bytes "):
        print(int(float(line.split()[1])) // 1024)
EOF
}

t0=$SECONDS
echo "seconds,rss_anon_kib,vm_rss_kib" >"$OUT/rss.csv"
(while kill -0 "$server" 2>/dev/null; do
  echo "$((SECONDS - t0)),$(anon_kib),$(rss_kib)" >>"$OUT/rss.csv" 2>/dev/null || true
  sleep 5
done) &
sampler=$!
log "warm-up: ${warmup} s"
run_mix warmup "$warmup"
read -r rss_after_warmup anon_after_warmup < <(idle_rss)
heap_after_warmup=$(heap_kib)
warmup_end=$((SECONDS - t0))
log "idle RSS after warm-up: ${rss_after_warmup} KiB; load: $((seconds - warmup)) s"
run_mix load $((seconds - warmup))
read -r rss_end anon_end < <(idle_rss)
heap_end=$(heap_kib)
load_end=$((SECONDS - t0))
log "idle RSS at the end: ${rss_end} KiB"

# Every dsdctl load: every call OK.
for report in "$OUT"/load-*.json; do
  name=$(basename "$report" .json)
  if ! python3 - "$report" "${name#load-}" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
ok = r["ok"] == r["requests"] and r["requests"] > 0 and not r["errors"]
print(f'{sys.argv[2]}: {r["requests"]} calls, {r["ok"]} OK, errors {r["errors"]}, '
      f'p99 {r["latency_ms"]["p99"]:.1f} ms')
sys.exit(0 if ok else 1)
EOF
  then
    problem "$name: not every call OK ($(cat "$OUT/$name.err" | tail -2))"
  fi
done >"$OUT/loads.txt"
# Each hostile load: only its expected code.
expect_code() {  # name, code
  local calls
  calls=$(wc -l <"$OUT/hostile-$1.jsonl")
  if ((calls == 0)); then problem "hostile $1: no call made"; return; fi
  if ! python3 - "$OUT/hostile-$1.jsonl" "$2" <<'EOF'
import json, sys
want = sys.argv[2]
for line in open(sys.argv[1]):
    codes = json.loads(line)["codes"]
    if set(codes) != {want}:
        print(f"unexpected codes {codes}")
        sys.exit(1)
EOF
  then
    problem "hostile $1: codes other than $2"
  fi
  echo "hostile $1: $calls calls, each $2" >>"$OUT/loads.txt"
}
expect_code garbage INVALID_ARGUMENT
expect_code shape1 OK
expect_code shape2 RESOURCE_EXHAUSTED

# RSS growth after warm-up, idle against idle.
growth_pct=$(awk -v a="$rss_after_warmup" -v b="$rss_end" 'BEGIN { printf "%.2f", (b / a - 1) * 100 }')
anon_growth_pct=$(awk -v a="$anon_after_warmup" -v b="$anon_end" 'BEGIN { printf "%.2f", (b / a - 1) * 100 }')
heap_growth_pct=$(awk -v a="$heap_after_warmup" -v b="$heap_end" 'BEGIN { printf "%.2f", (b / a - 1) * 100 }')
if awk -v g="$growth_pct" 'BEGIN { exit !(g >= 5) }'; then
  problem "idle RSS grew ${growth_pct}% after warm-up (${rss_after_warmup} -> ${rss_end} KiB)"
fi

# Drain under load: fresh loads, SIGTERM after 5 s.
log "drain phase: SIGTERM amid load"
for rate in 20 4; do
  "$BIN/dsdctl" --server "$address" load --method decide --nodes $((2000 / rate)) \
    --rate $rate --duration 30 --no_progress -o json --timeout 60 \
    >"$OUT/drain-$rate.json" 2>"$OUT/drain-$rate.err" &
done
sleep 5
term=$(date +%s.%N)
kill -TERM "$server"
code=0
wait "$server" || code=$?
wait "$sampler" 2>/dev/null || true
took=$(awk -v a="$term" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
trap - EXIT
wait || true
limit=$((LAMEDUCK + GRACE + 1))
((code == 0)) || problem "dsd-server exited $code after SIGTERM"
awk -v t="$took" -v l="$limit" 'BEGIN { exit !(t > l) }' &&
  problem "dsd-server took ${took} s to exit (limit ${limit} s)"
cut_calls=$(awk '/draining:/ { d = 1 } d && /rpc method=/ && !/code=OK /' "$OUT/server.log" | wc -l)
((cut_calls == 0)) || problem "$cut_calls calls dsd ran after the drain began did not end OK"

{
  echo "| | |"
  echo "|---|---|"
  echo "| load | ${seconds} s, the first ${warmup} s warm-up |"
  echo "| idle RSS after warm-up (at ${warmup_end} s) | ${rss_after_warmup} KiB |"
  echo "| idle RSS at the end (at ${load_end} s) | ${rss_end} KiB |"
  echo "| **RSS growth** | **${growth_pct}%** (limit 5%) |"
  echo "| idle RssAnon | ${anon_after_warmup} KiB, then ${anon_end} KiB: ${anon_growth_pct}% |"
  echo "| heap in use (dsd_heap_in_use_bytes), idle | ${heap_after_warmup} KiB, then ${heap_end} KiB: ${heap_growth_pct}% |"
  echo "| SIGTERM to exit under load | ${took} s, exit ${code} (limit ${limit} s) |"
  echo "| calls cut by the drain | ${cut_calls} |"
  echo
  sed 's/^/- /' "$OUT/loads.txt"
} >"$OUT/summary.md"
plotted=0
if command -v gnuplot >/dev/null; then
  gnuplot <<EOF && plotted=1 || log "gnuplot failed; no plot"
set terminal pngcairo size 800,400
set output '$OUT/rss.png'
set datafile separator ','
set xlabel 'seconds'
set ylabel 'dsd-server RSS (MiB)'
set key top left
set yrange [0:*]
set arrow from ${warmup_end}, graph 0 to ${warmup_end}, graph 1 nohead dt 2
set arrow from ${load_end}, graph 0 to ${load_end}, graph 1 nohead dt 2
plot '$OUT/rss.csv' every ::1 using 1:(\$3/1024) with lines lw 2 title 'VmRSS', \\
     '' every ::1 using 1:(\$2/1024) with lines lw 1 title 'RssAnon (without shared libraries)'
EOF
fi
mkdir -p "$DOCS"
result=passed
((fail)) && result="**failed**: $(sed 's/^- FAIL: //' "$OUT/problems.md" | paste -sd';' -)"
{
  echo "## Soak (make soak)"
  echo
  echo "\`scripts/soak.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores, SOAK_MINUTES=${MINUTES}:" \
    "dsd-server under the mix below, RSS sampled every 5 s (the dashed" \
    "lines mark the idle readings after the warm-up and at the end), then" \
    "SIGTERM while two more loads run (\`--lameduck=${LAMEDUCK} --shutdown_grace=${GRACE}\`)." \
    "Result: ${result}."
  echo
  cat "$OUT/summary.md"
  if ((plotted)); then
    cp "$OUT/rss.png" "$DOCS/perf-soak.png"
    echo
    echo "![dsd-server RSS during the soak](perf-soak.png)"
  fi
} >"$DOCS/soak.md"
cat "$OUT/summary.md"
if ((fail)); then
  log "FAILED (see $OUT/problems.md)"
  exit 1
fi
log "passed"
