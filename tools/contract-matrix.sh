#!/usr/bin/env bash
# `make contract-matrix` on a machine without a Docker engine: podman (installed and configured
# by docker/base-images/install-podman.sh) serves the Docker API on a private socket for the
# harness's docker SDK, with redis:7 and valkey/valkey:8 built from Debian packages
# (docker/base-images/build.sh; Valkey 8.0 from bookworm-backports). DragonflyDB has no Debian
# package and no registry is reachable here: without its image the matrix runs with
# --no-dragonfly and says so; the GitHub workflow's dragonfly-refused job checks the refusal.
# With a Docker engine answering, it is used as it is. Usage: contract-matrix.sh COMMAND…
# (run in contract_tests/, with the podman socket in DOCKER_HOST).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
DRAGONFLY_IMAGE=docker.dragonflydb.io/dragonflydb/dragonfly:latest
log() { printf '==> %s\n' "$*"; }

service_pid=""
socket=""
stop_service() {
    if [ -n "$service_pid" ]; then
        kill "$service_pid" 2>/dev/null || true
        wait "$service_pid" 2>/dev/null || true
        rm -f "$socket"
    fi
}
trap stop_service EXIT

extra=()
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    log "using the Docker engine that answers"
else
    bash docker/base-images/install-podman.sh
    bash docker/base-images/build.sh redis valkey
    socket="/run/mus-contract-matrix-$$.sock"
    podman system service --time=0 "unix://$socket" &
    service_pid=$!
    for _ in $(seq 1 100); do [ -S "$socket" ] && break; sleep 0.1; done
    [ -S "$socket" ] || { echo "podman system service did not open $socket" >&2; exit 1; }
    export DOCKER_HOST="unix://$socket"
    log "podman serves the Docker API on $socket"
    if ! podman image exists "$DRAGONFLY_IMAGE"; then
        log "DragonflyDB: not run here (no Debian package, no registry for its image);" \
            "the GitHub workflow's dragonfly-refused job checks its refusal"
        extra+=(--no-dragonfly)
    fi
fi
cd contract_tests
"$@" "${extra[@]}"
