#!/usr/bin/env bash
# `make run`: start dsd-server on 127.0.0.1:50051 and replay the bundled
# ssd-monitor example through dsdctl: a placement, then the eviction after
# `kubectl label node k8s-node1 disk=hdd --overwrite`. From a terminal the
# server keeps running until Ctrl-C; otherwise it stops after the replay.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=build/release/bin
ADDR=${DSD_LISTEN:-127.0.0.1:50051}
EX=examples/ssd-monitor
NOW=2026-01-02T03:00:00Z

"$BIN/dsd-server" --listen "$ADDR" --log_level info &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT

# Wait for the port (up to 10 s); a failed start (port in use) ends here.
host=${ADDR%:*} port=${ADDR##*:}
for _ in $(seq 100); do
  if ! kill -0 $server 2>/dev/null; then
    echo "make run: dsd-server could not start on $ADDR (port in use?" \
         "set DSD_LISTEN=127.0.0.1:PORT)" >&2
    exit 1
  fi
  (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && break
  sleep 0.1
done

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
dsdctl() { "$BIN/dsdctl" --server "$ADDR" "$@"; }

step dsdctl decide -o table --now $NOW -f $EX/01-cluster.yaml
step dsdctl decide -o table --now $NOW -f $EX/02-after-relabel.yaml
step dsdctl explain -o table --now $NOW -f $EX/02-after-relabel.yaml \
  --daemonset default/ssd-monitor

if [[ -t 0 ]]; then
  printf '\ndsd-server is serving on %s. Try:\n' "$ADDR"
  printf '  %s/dsdctl decide -f %s/02-after-relabel.json -o json\n' "$BIN" "$EX"
  printf 'Ctrl-C stops it.\n'
  wait $server
fi
