#!/usr/bin/env bash
# Start a Docker engine for the docker sandbox level and build its local base image.
#
#   scripts/start_docker.sh          # then: .venv/bin/pytest -m docker tests/test_docker.py
#
# Installs Debian's docker.io when no dockerd is found (needs root), starts dockerd in the
# background when no engine answers (log under /tmp), waits for it, then runs
# scripts/docker_image.sh, which builds the image from Debian's mirror (no registry needed).
# Safe to call again: a running engine and an existing image are left as they are.
# On failure it prints one line saying why and exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."

LOG=${KERNELWRIGHT_DOCKERD_LOG:-/tmp/kernelwright-dockerd.log}
fail() { echo "start_docker: $*" >&2; exit 1; }
log() { echo "start_docker: $*" >&2; }

engine_answers() { command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1; }

if ! engine_answers; then
    if ! command -v dockerd >/dev/null 2>&1; then
        [ "$(id -u)" -eq 0 ] || fail "dockerd is not installed; run as root or: sudo apt-get install -y docker.io"
        command -v apt-get >/dev/null 2>&1 || fail "dockerd is not installed and there is no apt-get to install docker.io"
        log "installing docker.io with apt-get"
        apt-get update -qq >/dev/null 2>&1 || fail "apt-get update failed"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null 2>&1 \
            || fail "apt-get install docker.io failed"
        command -v dockerd >/dev/null 2>&1 || fail "docker.io installed but no dockerd on PATH"
    fi
    command -v docker >/dev/null 2>&1 || fail "dockerd is installed but the docker client is not"
    [ "$(id -u)" -eq 0 ] || fail "no Docker engine answers and only root may start dockerd here"
    if ! pgrep -x dockerd >/dev/null 2>&1; then
        log "starting dockerd (log: $LOG)"
        # setsid: the engine outlives this script and the shell that called it.
        setsid dockerd >>"$LOG" 2>&1 </dev/null &
    else
        log "dockerd is running but does not answer yet; waiting"
    fi
    for _ in $(seq 60); do
        engine_answers && break
        sleep 1
    done
    engine_answers || fail "dockerd did not answer within 60 s: $(tail -n 1 "$LOG" 2>/dev/null)"
fi
log "engine $(docker version --format '{{.Server.Version}}' 2>/dev/null) answers"
bash scripts/docker_image.sh || fail "the base image could not be built (scripts/docker_image.sh)"
