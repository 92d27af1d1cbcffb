#!/usr/bin/env bash
# Makes the Debian 12 base images docker/Dockerfile starts from
# (debian:bookworm for the builder, debian:bookworm-slim for the runtime)
# when the container engine has none locally: mmdebstrap builds a minbase
# root filesystem from this machine's own apt sources, and the engine imports
# it under both names. This is how air-gapped sites get their base: nothing
# but Debian packages through apt, no registry.
#
#   scripts/base-image.sh [podman|docker]     (default: podman)
#
# Idempotent: an image already present is kept (the engine's storage is the
# cache between runs). DSD_BASE_REBUILD=1 makes them again (for example to
# pick up Debian security updates). With docker, a `docker pull` is tried
# first; podman never pulls (`make image` builds with --pull=never).
set -euo pipefail

ENGINE=${1:-podman}
SUITE=bookworm
IMAGES=("debian:$SUITE" "debian:$SUITE-slim")
# The names docker and podman resolve `FROM debian:bookworm` to.
qualified() { echo "docker.io/library/$1"; }

have() { "$ENGINE" image inspect "$(qualified "$1")" >/dev/null 2>&1; }

missing=()
for image in "${IMAGES[@]}"; do
  if [[ "${DSD_BASE_REBUILD:-0}" == 1 ]] || ! have "$image"; then
    missing+=("$image")
  fi
done
((${#missing[@]} == 0)) && exit 0

if [[ "$ENGINE" == docker && "${DSD_BASE_REBUILD:-0}" != 1 ]]; then
  still=()
  for image in "${missing[@]}"; do
    timeout 120 docker pull -q "$image" >/dev/null 2>&1 || still+=("$image")
  done
  ((${#still[@]} == 0)) && exit 0
  missing=("${still[@]}")
fi

bash "$(dirname "$0")/install-deps.sh" --image

# The Debian entries of this machine's apt sources, so the base (and every
# apt-get inside the build) uses the same mirror, snapshot and suites.
# One-line (.list) and deb822 (.sources) entries go to one file each.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mirrors=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
         /etc/apt/sources.list.d/*.sources; do
  [[ -f "$f" ]] || continue
  grep -Eq 'debian\.org|/debian(-security)?/?([[:space:]]|$)' "$f" || continue
  out="$work/debian.${f##*.}"
  [[ "$f" == /etc/apt/sources.list ]] && out="$work/debian.list"
  [[ -f "$out" ]] || mirrors+=("$out")
  { cat "$f"; printf '\n'; } >>"$out"
done
if ((${#mirrors[@]} == 0)); then
  echo "base-image: no Debian entry in /etc/apt/sources*; cannot make" \
       "${missing[*]}" >&2
  exit 1
fi

# minbase: dpkg, apt and essential packages only, as the official images.
# The merged-usr hook sets up the merged /usr that bookworm requires; without
# it mmdebstrap installs the usrmerge package, which drags in perl (47 MB the
# official images do not have).
# Documentation, man pages and translations are left out as in the official
# -slim image; one root filesystem then serves both names (the builder needs
# no documentation either).
echo "base-image: making ${missing[*]} with mmdebstrap from this machine's" \
     "apt sources (a few minutes)" >&2
# shellcheck disable=SC2016  # the hook's $1 (the root) is mmdebstrap's
nice -n 10 mmdebstrap --quiet --variant=minbase \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --aptopt='Acquire::Languages "none"' \
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
  "$SUITE" "$work/rootfs.tar" "${mirrors[@]}" >/dev/null

for image in "${missing[@]}"; do
  "$ENGINE" import --quiet \
    --change 'CMD ["bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$work/rootfs.tar" "$(qualified "$image")" >/dev/null
  echo "base-image: imported $(qualified "$image")" >&2
done
