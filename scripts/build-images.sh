#!/usr/bin/env bash
# `make image`: builds the dsd-server, dsdctl, dsd-adapter and dsd-extender
# images of docker/Dockerfile, tagged NAME:VERSION (VERSION from
# CMakeLists.txt's project()).
#
#   scripts/build-images.sh              full multi-stage build (builder stage)
#   scripts/build-images.sh --prebuilt   from build/release/bin instead, tagged
#                                        NAME:VERSION-prebuilt (smoke test)
#
# Engine: docker when its daemon answers, else podman, built with
# --isolation chroot and --pull=never (no daemon, no registry). DSD_IMAGE_ENGINE
# picks one. Missing Debian base images are made by scripts/base-image.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

binaries=builder
suffix=""
case "${1:-}" in
  "") ;;
  --prebuilt) binaries=prebuilt suffix=-prebuilt ;;
  *) echo "usage: build-images.sh [--prebuilt]" >&2; exit 2 ;;
esac

# Each image in turn (DSD_IMAGES narrows it, e.g. "dsd-adapter").
targets=${DSD_IMAGES:-dsd-server dsdctl dsd-adapter dsd-extender}

version=$(sed -n 's/^project(dsd VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
[[ -n "$version" ]] || { echo "build-images: no version in CMakeLists.txt" >&2; exit 1; }

engine=${DSD_IMAGE_ENGINE:-}
if [[ -z "$engine" ]]; then
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    engine=docker
  else
    engine=podman
  fi
fi
flags=()
case "$engine" in
  docker) ;;
  podman)
    bash scripts/install-deps.sh --image
    # chroot isolation needs no user namespaces, cgroups or network setup;
    # --pull=never: every base is local (scripts/base-image.sh).
    flags=(--isolation chroot --pull=never)
    ;;
  *) echo "build-images: DSD_IMAGE_ENGINE must be docker or podman" >&2; exit 2 ;;
esac

if [[ "$binaries" == prebuilt ]]; then
  # The prebuilt stage copies all four, whichever image is built.
  for p in dsd-server dsdctl dsd-adapter dsd-extender; do
    if [[ ! -x "build/release/bin/$p" ]]; then
      echo "build-images: --prebuilt needs build/release/bin/$p (make build)" >&2
      exit 1
    fi
  done
fi

bash scripts/base-image.sh "$engine"

revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
if [[ -n "$(git status --porcelain 2>/dev/null)" ]]; then revision+="-dirty"; fi
mkdir -p build
for target in $targets; do
  log="build/image-$target$suffix.log"
  echo "build-images: $engine build --target $target -> $target:$version$suffix" \
       "(log: $log)" >&2
  if ! nice -n 10 "$engine" build "${flags[@]}" \
      -f docker/Dockerfile --target "$target" \
      --build-arg BINARIES="$binaries" \
      --build-arg JOBS="${JOBS:-2}" \
      --build-arg VERSION="$version" \
      --build-arg REVISION="$revision" \
      -t "$target:$version$suffix" . >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "build-images: building $target failed; full log: $log" >&2
    exit 1
  fi
done
for target in $targets; do
  "$engine" images "$target:$version$suffix"
done
