#!/usr/bin/env bash
# Smoke test of the dsd images (`make image-test`, part of `make test`).
# `image_smoke_test.sh --full` checks the images of `make image` instead.
#
# Builds the dsd-server and dsdctl images with podman from the host's
# Release binaries (scripts/build-images.sh --prebuilt; docker/README.md
# says why not the full multi-stage build here), then runs each program
# from its image's filesystem as a container would: `podman image mount`,
# a private mount namespace with the root read-only and /proc mounted, the
# image's entrypoint, arguments and non-root user, via chroot (containers
# cannot be started on these machines). Checks:
#   - image config: non-root user, exec-form entrypoint, --listen=0.0.0.0
#     and OCI labels;
#   - dsd-server (image) answers grpc.health.v1.Health and Decides
#     examples/ssd-monitor from the host's dsdctl, byte for byte as the host's
#     dsd-server does (the host's plans are checked against
#     tests/e2e/golden by dsdctl_e2e_test), and serves /metrics;
#   - dsdctl (tools image) decides against it too;
#   - dsd-adapter and dsd-extender (their images) start from their
#     filesystems, answer --help, and serve /healthz (the extender in front
#     of the image's dsd-server; the adapter with a kubeconfig naming an API
#     server that is not there, which liveness does not depend on);
#   - SIGTERM drains and exits 0.
# Skips (exit 0, saying why) only where podman cannot run: not root, or no
# mount namespaces / working podman storage.
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=build/release/bin
EX=examples/ssd-monitor
NOW=2026-01-02T03:00:00Z
T0=$SECONDS

say() { echo "image-test: $*"; }
fail() { echo "image-test: FAIL: $*" >&2; exit 1; }
skip() { say "SKIPPED: $*"; exit 0; }

for p in dsd-server dsdctl dsd-adapter dsd-extender; do
  [[ -x "$BIN/$p" ]] || fail "$BIN/$p is missing; run make build first"
done

if [[ $(id -u) -ne 0 ]]; then
  skip "needs root (podman image mount, mount namespaces and chroot);" \
       "CI runs make test as root"
fi
bash scripts/install-deps.sh --image
if ! unshare --mount true 2>/dev/null; then
  skip "no mount namespaces here (unshare --mount fails), so no image can" \
       "be mounted and run"
fi
if ! info=$(podman info 2>&1); then
  skip "podman cannot run here: $(tail -n 1 <<<"$info")"
fi

version=$(sed -n 's/^project(dsd VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
if [[ "${1:-}" == --full ]]; then
  # The images of `make image` (builder stage), checked the same way.
  suffix=""
  build_args=()
else
  suffix=-prebuilt
  build_args=(--prebuilt)
fi
server_image="dsd-server:$version$suffix"
tools_image="dsdctl:$version$suffix"
adapter_image="dsd-adapter:$version$suffix"
extender_image="dsd-extender:$version$suffix"

say "building $server_image, $tools_image, $adapter_image and" \
    "$extender_image (podman, --isolation chroot)"
DSD_IMAGE_ENGINE=podman bash scripts/build-images.sh "${build_args[@]}"
T_BUILD=$((SECONDS - T0))

work=$(mktemp -d)
server_pid=""
host_pid=""
extender_pid=""
adapter_pid=""
mounted=()
cleanup() {
  for pid in $server_pid $host_pid $extender_pid $adapter_pid; do
    kill -KILL "$pid" 2>/dev/null || true
  done
  for image in "${mounted[@]}"; do
    podman image unmount "$image" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

inspect() { podman image inspect --format "$2" "$1"; }
mount_image() {
  local dir
  dir=$(podman image mount "$1")
  mounted+=("$1")
  echo "$dir"
}

# --- image configuration -------------------------------------------------
for image in "$server_image" "$tools_image" "$adapter_image" "$extender_image"; do
  user=$(inspect "$image" '{{.Config.User}}')
  [[ "$user" == 65532:65532 ]] || fail "$image runs as '$user', not 65532:65532"
  for label in title version revision base.name; do
    value=$(inspect "$image" "{{index .Config.Labels \"org.opencontainers.image.$label\"}}")
    [[ -n "$value" && "$value" != "<no value>" ]] ||
      fail "$image lacks label org.opencontainers.image.$label"
  done
done
[[ $(inspect "$server_image" '{{json .Config.Entrypoint}}') == '["/usr/local/bin/dsd-server"]' ]] ||
  fail "dsd-server entrypoint is $(inspect "$server_image" '{{json .Config.Entrypoint}}')"
for pair in "$tools_image dsdctl" "$adapter_image dsd-adapter" \
            "$extender_image dsd-extender"; do
  read -r image program <<<"$pair"
  [[ $(inspect "$image" '{{json .Config.Entrypoint}}') == "[\"/usr/local/bin/$program\"]" ]] ||
    fail "$program entrypoint is $(inspect "$image" '{{json .Config.Entrypoint}}')"
done
mapfile -t server_cmd < <(inspect "$server_image" '{{range .Config.Cmd}}{{println .}}{{end}}' | sed '/^$/d')
printf '%s\n' "${server_cmd[@]}" | grep -qx -- '--listen=0.0.0.0:50051' ||
  fail "dsd-server's CMD does not listen on 0.0.0.0:50051: ${server_cmd[*]}"
say "config ok: user 65532:65532, entrypoints, CMD ${server_cmd[*]}, OCI labels"

# --- run from an image's filesystem ----------------------------------------
# run_in IMAGE_ROOT ARGS...: the image's root bound read-only in a private
# mount namespace (so nothing outlives the process), /proc and /dev as a
# container has them, the image's user, an empty environment but PATH;
# with RUN_IN_TMP=DIR, DIR on the image's /tmp (as a mounted volume).
# Every step execs, so the pid of `unshare` is the program's pid.
# shellcheck disable=SC2016  # expanded by the inner bash, not here
RUN_IN_SCRIPT='
  set -e
  root=$1; shift
  mount --bind "$root" "$root"
  mount -o remount,bind,ro "$root"
  mount -t proc proc "$root/proc"
  mount --rbind /dev "$root/dev"
  if [[ -n "${RUN_IN_TMP:-}" ]]; then mount --bind "$RUN_IN_TMP" "$root/tmp"; fi
  exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    chroot --userspec=65532:65532 "$root" "$@"
'
run_in() {
  unshare --mount --propagation private -- bash -c "$RUN_IN_SCRIPT" run_in "$@"
}

# The image's CMD, with the listen addresses moved to free loopback ports so
# that the test never collides with another server on this machine.
server_args=()
for arg in "${server_cmd[@]}"; do
  case "$arg" in
    --listen=*) server_args+=(--listen=127.0.0.1:0) ;;
    --metrics_listen=*) server_args+=(--metrics_listen=127.0.0.1:0) ;;
    *) server_args+=("$arg") ;;
  esac
done

wait_for_log() {  # wait_for_log FILE PATTERN PID
  for _ in $(seq 200); do
    grep -qsE "$2" "$1" && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

server_root=$(mount_image "$server_image")
tools_root=$(mount_image "$tools_image")
adapter_root=$(mount_image "$adapter_image")
extender_root=$(mount_image "$extender_image")

unshare --mount --propagation private -- bash -c "$RUN_IN_SCRIPT" run_in \
  "$server_root" /usr/local/bin/dsd-server "${server_args[@]}" \
  >"$work/server.log" 2>&1 &
server_pid=$!
if ! wait_for_log "$work/server.log" 'metrics on http://' "$server_pid"; then
  cat "$work/server.log" >&2
  fail "dsd-server from the image did not start"
fi
addr=$(grep -oE 'listening on [^ ]+' "$work/server.log" | head -n 1 | cut -d' ' -f3)
metrics=$(grep -oE 'metrics on http://[^/]+' "$work/server.log" | head -n 1 | sed 's|.*//||')
say "dsd-server from $server_image (read-only root, uid 65532) listens on $addr"

# Health, with the host's dsdctl: one grpc.health.v1.Health/Check.
"$BIN/dsdctl" --server "$addr" --timeout 10 load --method health \
  --requests 1 --duration 10 --warmup 0 --no_progress -o json \
  >"$work/health.json" 2>"$work/health.err" ||
  { cat "$work/health.err" >&2; fail "Health/Check failed"; }
say "health: $(tr -d ' \n' <"$work/health.json" | grep -oE '"ok":[0-9]+|"requests":[0-9]+' | head -n 2 | tr '\n' ' ')"

# The reference: the same dsdctl against the host's dsd-server.
"$BIN/dsd-server" --listen=127.0.0.1:0 >"$work/host.log" 2>&1 &
host_pid=$!
wait_for_log "$work/host.log" 'listening on' "$host_pid" ||
  { cat "$work/host.log" >&2; fail "the host's dsd-server did not start"; }
host_addr=$(grep -oE 'listening on [^ ]+' "$work/host.log" | head -n 1 | cut -d' ' -f3)

for case in 01-cluster 02-after-relabel; do
  "$BIN/dsdctl" --server "$addr" --timeout 30 decide -o json --now "$NOW" \
    -f "$EX/$case.yaml" >"$work/$case.image.json" ||
    fail "Decide of $EX/$case.yaml against the image failed"
  "$BIN/dsdctl" --server "$host_addr" --timeout 30 decide -o json --now "$NOW" \
    -f "$EX/$case.yaml" >"$work/$case.host.json"
  cmp -s "$work/$case.image.json" "$work/$case.host.json" || {
    diff "$work/$case.host.json" "$work/$case.image.json" >&2 || true
    fail "$case: the image's plan differs from the host's"
  }
done
kill -TERM "$host_pid"
wait "$host_pid" || true
host_pid=""
# What tests/e2e/golden says, spot-checked on the image's own answers.
tr -d ' \n' <"$work/01-cluster.image.json" |
  grep -q '"name":"ssd-monitor","create":\[{"node":"k8s-node1"},{"node":"k8s-node2"}\]' ||
  fail "01-cluster: ssd-monitor is not created on k8s-node1 and k8s-node2"
tr -d ' \n' <"$work/02-after-relabel.image.json" |
  grep -q '"node":"k8s-node1"[^}]*"reason":"NodeAffinityMismatch"' ||
  fail "02-after-relabel: the pod on k8s-node1 is not deleted (NodeAffinityMismatch)"
say "Decide of $EX (2 cases) from the host's dsdctl: same plans as the host's" \
    "dsd-server; ssd-monitor created on k8s-node1, k8s-node2, then deleted" \
    "from k8s-node1 (NodeAffinityMismatch)"

# The tools image: dsdctl from its own filesystem, against the image server.
# Its input reaches it through /proc/self/fd as a container's mounted file.
version_line=$(run_in "$tools_root" /usr/local/bin/dsdctl version)
run_in "$tools_root" /usr/local/bin/dsdctl --server "$addr" --timeout 30 \
  decide -o json --now "$NOW" -f - <"$EX/02-after-relabel.yaml" \
  >"$work/tools.json" || fail "dsdctl from $tools_image failed"
cmp -s "$work/tools.json" "$work/02-after-relabel.host.json" ||
  fail "dsdctl from $tools_image printed a different plan"
say "dsdctl from $tools_image ($version_line): same plan"

http_get() {  # http_get HOST:PORT PATH > response (status line first)
  exec 3<>"/dev/tcp/${1%:*}/${1##*:}"
  printf 'GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' \
    "$2" "$1" >&3
  cat <&3
  exec 3<&-
}

# dsd-adapter and dsd-extender: each binary starts from its own image
# (every library it loads is there) and answers --help and /healthz.
T_CLIENTS=$SECONDS
for pair in "$adapter_root dsd-adapter" "$extender_root dsd-extender"; do
  read -r root program <<<"$pair"
  run_in "$root" "/usr/local/bin/$program" --help >"$work/$program.help" 2>&1 ||
    { cat "$work/$program.help" >&2; fail "$program --help from its image failed"; }
  grep -q 'Exit codes' "$work/$program.help" ||
    fail "$program --help does not say its exit codes"
done
unshare --mount --propagation private -- bash -c "$RUN_IN_SCRIPT" run_in \
  "$extender_root" /usr/local/bin/dsd-extender --listen=127.0.0.1:0 \
  --server="$addr" >"$work/extender.log" 2>&1 &
extender_pid=$!
wait_for_log "$work/extender.log" 'listening on [^ ]+:[1-9]' "$extender_pid" ||
  { cat "$work/extender.log" >&2; fail "dsd-extender from $extender_image did not start"; }
extender_addr=$(grep -oE 'listening on [^ ]+:[0-9]+' "$work/extender.log" |
  head -n 1 | sed 's/.* //; s|^https\?://||')
http_get "$extender_addr" /healthz >"$work/extender.healthz"
head -n 1 "$work/extender.healthz" | grep -q ' 200' ||
  { cat "$work/extender.healthz" "$work/extender.log" >&2; fail "dsd-extender /healthz"; }
kill -TERM "$extender_pid"
wait "$extender_pid" || fail "dsd-extender exited $? after SIGTERM"
extender_pid=""
# The adapter's kubeconfig is mounted on /tmp as a ConfigMap would be; its
# API server is not there, so only liveness answers 200 (readiness waits
# for a sync).
mkdir -m 0755 "$work/kube"
cat >"$work/kube/config" <<'EOF_KUBECONFIG'
apiVersion: v1
kind: Config
current-context: none
clusters: [{name: none, cluster: {server: "http://127.0.0.1:1"}}]
users: [{name: none, user: {}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
EOF_KUBECONFIG
chmod 0644 "$work/kube/config"
# A port nobody answers on (the adapter cannot pick port 0 and say it),
# below the kernel's ephemeral range, where no connection's own port can
# be; and another one if the port was taken meanwhile ("cannot listen").
ephemeral_low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
for attempt in 1 2 3 4 5; do
  for _ in $(seq 20); do
    adapter_port=$((10000 + RANDOM % (ephemeral_low - 10000)))
    (exec 3<>"/dev/tcp/127.0.0.1/$adapter_port") 2>/dev/null || break
  done
  RUN_IN_TMP="$work/kube" unshare --mount --propagation private -- \
    bash -c "$RUN_IN_SCRIPT" run_in "$adapter_root" /usr/local/bin/dsd-adapter \
    --kubeconfig=/tmp/config --server="$addr" \
    --health_listen="127.0.0.1:$adapter_port" >"$work/adapter.log" 2>&1 &
  adapter_pid=$!
  wait_for_log "$work/adapter.log" 'audit starting' "$adapter_pid" && break
  kill "$adapter_pid" 2>/dev/null || true
  wait "$adapter_pid" 2>/dev/null || true
  adapter_pid=""
  if grep -q 'cannot listen' "$work/adapter.log" && [[ $attempt -lt 5 ]]; then
    say "dsd-adapter: port $adapter_port was taken meanwhile; another"
    continue
  fi
  cat "$work/adapter.log" >&2
  fail "dsd-adapter from $adapter_image did not start"
done
for _ in $(seq 50); do
  http_get "127.0.0.1:$adapter_port" /healthz >"$work/adapter.healthz" 2>/dev/null && break
  sleep 0.1
done
head -n 1 "$work/adapter.healthz" | grep -q ' 200' ||
  { cat "$work/adapter.healthz" "$work/adapter.log" >&2; fail "dsd-adapter /healthz"; }
http_get "127.0.0.1:$adapter_port" /readyz | head -n 1 | grep -q ' 503' ||
  fail "dsd-adapter /readyz is not 503 before any sync"
kill -TERM "$adapter_pid"
wait "$adapter_pid" || fail "dsd-adapter exited $? after SIGTERM"
adapter_pid=""
say "dsd-adapter and dsd-extender from their images: --help, /healthz" \
    "($((SECONDS - T_CLIENTS)) s)"

# Metrics over plain HTTP (the Deployment's prometheus.io annotations).
http_get "$metrics" /metrics >"$work/metrics.txt"
grep -q '^dsd_requests_total{method="Decide"' "$work/metrics.txt" ||
  { head -n 20 "$work/metrics.txt" >&2; fail "/metrics does not count the Decide calls"; }
say "metrics on $metrics count the calls"

# SIGTERM: drain, exit 0.
kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=""
[[ $status == 0 ]] || { cat "$work/server.log" >&2; fail "dsd-server exited $status after SIGTERM"; }
grep -q 'stopped' "$work/server.log" || fail "dsd-server did not log its drain"
say "SIGTERM: drained and exited 0"

for image in "$server_image" "$tools_image" "$adapter_image" "$extender_image"; do
  say "$image: $(podman image inspect --format '{{.Size}}' "$image" |
    awk '{printf "%.1f MB", $1 / 1e6}')"
done
say "PASSED in $((SECONDS - T0)) s (image build $T_BUILD s)"
