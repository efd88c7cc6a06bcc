#!/usr/bin/env bash
# Make sure a Docker engine answers, installing and starting one when we may.
#
# - Docker already answering (a desktop, a CI runner with Docker): touch nothing.
# - root on Debian with no engine: apt-get install docker.io, start dockerd in the
#   background, wait for its socket. (The compose v2 plugin is scripts/setup-compose.sh's.)
# - anything else: say what to do and fail.
#
# Used by `make test`, `make demo` and `.ci/run`; safe to run repeatedly.
set -euo pipefail

log() { echo "setup-docker: $*" >&2; }

if docker info >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" != 0 ] || [ ! -f /etc/debian_version ]; then
  log "no Docker engine answers. Start Docker (or set DOCKER_HOST) and rerun."
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1; then
  log "installing docker.io (Debian's Docker engine)..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q docker.io >/tmp/deploysim-apt-docker.log 2>&1 || {
    apt-get update -q >>/tmp/deploysim-apt-docker.log 2>&1
    apt-get install -y -q docker.io >>/tmp/deploysim-apt-docker.log 2>&1
  } || { log "apt-get install docker.io failed; see /tmp/deploysim-apt-docker.log"; exit 1; }
fi

if ! pgrep -x dockerd >/dev/null 2>&1; then
  log "starting dockerd in the background (log: /var/log/deploysim-dockerd.log)..."
  nohup dockerd >/var/log/deploysim-dockerd.log 2>&1 &
fi

for _ in $(seq 1 120); do
  if docker info >/dev/null 2>&1; then
    break
  fi
  sleep 0.5
done
docker info >/dev/null 2>&1 || { log "dockerd did not answer within 60 s; see /var/log/deploysim-dockerd.log"; exit 1; }
log "Docker engine $(docker version --format '{{.Server.Version}}') is up."
