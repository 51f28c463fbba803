#!/usr/bin/env bash
# Build the docker sandbox level's base image locally, without any registry:
# `debootstrap --variant=minbase bookworm` from Debian's mirror, imported with `docker import`.
# The container only needs a C library the host's interpreter can run on: the interpreter, the
# venv and kernelwright are bound in read-only at their host paths (docker_sandbox.container_spec).
#
#   scripts/docker_image.sh            # prints the tag (stdout); skips the build if it exists
#
# Tag: $KERNELWRIGHT_DOCKER_IMAGE, else kernelwright-base:bookworm. Mirror: $KERNELWRIGHT_DEBIAN_MIRROR.
set -euo pipefail

TAG=${KERNELWRIGHT_DOCKER_IMAGE:-kernelwright-base:bookworm}
# Bumped when the recipe changes, so that an image built by an older recipe is rebuilt.
RECIPE=2
MIRROR=${KERNELWRIGHT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
fail() { echo "docker_image: $*" >&2; exit 1; }
log() { echo "docker_image: $*" >&2; }

command -v docker >/dev/null 2>&1 || fail "no docker client (run scripts/start_docker.sh)"
have=$(docker image inspect --format '{{ index .Config.Labels "kernelwright.recipe" }}' "$TAG" 2>/dev/null || true)
if [ "$have" = "$RECIPE" ]; then
    echo "$TAG"
    exit 0
fi
if ! command -v debootstrap >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] || fail "debootstrap is missing; run as root or: sudo apt-get install -y debootstrap"
    log "installing debootstrap with apt-get"
    apt-get update -qq >/dev/null 2>&1 || fail "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null 2>&1 \
        || fail "apt-get install debootstrap failed"
fi
[ "$(id -u)" -eq 0 ] || fail "debootstrap needs root"
ROOT=$(mktemp -d "${TMPDIR:-/tmp}/kernelwright-rootfs.XXXXXX")
trap 'rm -rf "$ROOT"' EXIT
log "debootstrap --variant=minbase bookworm from $MIRROR (a few minutes)"
debootstrap --variant=minbase bookworm "$ROOT/root" "$MIRROR" >"$ROOT/debootstrap.log" 2>&1 \
    || fail "debootstrap failed: $(tail -n 1 "$ROOT/debootstrap.log")"
# Package caches and lists are not needed at run time; a smaller image imports faster.
rm -rf "$ROOT"/root/var/cache/apt/archives/*.deb "$ROOT"/root/var/lib/apt/lists/*
# The interpreter may live under /root (pyenv) and is bound in at its host path: the child's
# uid must be able to traverse /root, which holds nothing in this image.
chmod 0755 "$ROOT/root/root"
tar -C "$ROOT/root" --numeric-owner -c . | docker import \
    --change 'CMD ["/bin/sh"]' --change "LABEL kernelwright.recipe=$RECIPE" --message "kernelwright sandbox base (debootstrap minbase bookworm)" \
    - "$TAG" >/dev/null || fail "docker import failed"
log "built $TAG"
echo "$TAG"
