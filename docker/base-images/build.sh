#!/usr/bin/env bash
# Build the base images the Dockerfiles and docker-compose.yml name (python:3.11-slim, redis:7,
# valkey/valkey:8) from Debian packages with mmdebstrap, and tag them under those names in
# podman's storage, so `podman build` and `podman-compose up` never pull: no container registry
# is reachable from these machines. Each is built once; an image already there is kept
# (--force rebuilds). Run as root after `bash docker/base-images/install-podman.sh`.
#
# They are "like" the official images where the Dockerfiles rely on it, not copies:
# - python:3.11-slim: Debian 12's python3 (3.11) with pip, linked as /usr/local/bin/python3.11,
#   python3, python and pip (the official image's paths), no EXTERNALLY-MANAGED marker (the
#   official image has none), and the Debian sources, so `apt-get install` in a Dockerfile works.
# - redis:7: Debian 12's redis-server 7.0; its entrypoint runs `redis-server …` as the redis user
#   in /data with protected mode off (the official image builds Redis with that default, so
#   other containers on the network reach it).
# - valkey/valkey:8: valkey-server 8.0 from bookworm-backports, the same way.
# The host's own extra CA certificates (/usr/local/share/ca-certificates) are added to each
# image, so TLS from inside works where the host's does (a TLS-inspecting egress, for one);
# the python image names the bundle in SSL_CERT_FILE, which uv (otherwise on its own roots) reads.
set -euo pipefail

FORCE=0
if [ "${1:-}" = "--force" ]; then FORCE=1; shift; fi
ONLY=("$@")  # names to build (default: all)

MIRROR=http://deb.debian.org/debian
SOURCES=(
    "deb $MIRROR bookworm main"
    "deb $MIRROR bookworm-updates main"
    "deb http://deb.debian.org/debian-security bookworm-security main"
)
BACKPORTS="deb $MIRROR bookworm-backports main"
WORK="$(mktemp -d /var/tmp/mus-base-images.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

log() { printf '==> %s\n' "$*"; }

wanted() {
    [ "${#ONLY[@]}" -eq 0 ] && return 0
    local name
    for name in "${ONLY[@]}"; do [ "$name" = "$1" ] && return 0; done
    return 1
}

# Hook shared by every image: the host's extra CAs, then apt's lists dropped (as in the
# official images: a Dockerfile runs apt-get update first).
host_cas_hook() {
    local hook="$WORK/host-cas.sh"
    cat >"$hook" <<'HOOK'
#!/bin/sh
set -e
root="$1"
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    chroot "$root" update-ca-certificates >/dev/null 2>&1
fi
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
HOOK
    chmod +x "$hook"
    echo "$hook"
}

build() {
    local tag="$1" include="$2" customize="$3"
    shift 3
    local changes=("$@")
    if [ "$FORCE" -eq 0 ] && podman image exists "$tag"; then
        log "$tag: already built ($(podman image inspect -f '{{.Created}}' "$tag"))"
        return 0
    fi
    local started=$SECONDS tar="$WORK/rootfs.tar"
    log "$tag: mmdebstrap (--include=$include)"
    local sources=("${SOURCES[@]}")
    if [[ "$tag" == *valkey* ]]; then sources+=("$BACKPORTS"); fi
    mmdebstrap --quiet --variant=minbase --include="$include" \
        --customize-hook="$customize \"\$1\"" \
        --customize-hook="$(host_cas_hook) \"\$1\"" \
        bookworm "$tar" "${sources[@]}"
    local args=()
    local change
    for change in "${changes[@]}"; do args+=(--change "$change"); done
    podman import --quiet "${args[@]}" "$tar" "$tag" >/dev/null
    rm -f "$tar"
    log "$tag: built in $((SECONDS - started)) s"
}

python_hook() {
    local hook="$WORK/python.sh"
    cat >"$hook" <<'HOOK'
#!/bin/sh
set -e
root="$1"
for name in python3.11 python3 python; do ln -sf /usr/bin/python3.11 "$root/usr/local/bin/$name"; done
ln -sf /usr/bin/pip3 "$root/usr/local/bin/pip"
ln -sf /usr/bin/pip3 "$root/usr/local/bin/pip3"
rm -f "$root"/usr/lib/python3.*/EXTERNALLY-MANAGED
HOOK
    chmod +x "$hook"
    echo "$hook"
}

# $1: server binary (redis-server or valkey-server)
server_hook() {
    local server="$1" user="$2" hook="$WORK/$1.sh"
    cat >"$hook" <<HOOK
#!/bin/sh
set -e
root="\$1"
mkdir -p "\$root/data"
chroot "\$root" chown $user:$user /data
cat >"\$root/usr/local/bin/docker-entrypoint.sh" <<'ENTRY'
#!/bin/sh
# As the official image: \`$server …\` (or only options) runs as $user, protected mode off.
set -e
if [ "\${1#-}" != "\$1" ]; then set -- $server "\$@"; fi
if [ "\$1" = $server ] || [ "\$1" = redis-server ]; then
    shift
    set -- $server --protected-mode no "\$@"
    if [ "\$(id -u)" = 0 ]; then
        chown -R $user:$user /data 2>/dev/null || true
        exec setpriv --reuid=$user --regid=$user --init-groups "\$@"
    fi
fi
exec "\$@"
ENTRY
chmod 0755 "\$root/usr/local/bin/docker-entrypoint.sh"
HOOK
    chmod +x "$hook"
    echo "$hook"
}

# uv reads its roots from SSL_CERT_FILE when set (its own bundled ones otherwise), as the
# host's clients do here: with it, `uv pip sync` in a Dockerfile trusts the added CAs too.
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
BASE_ENV='ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

if wanted python; then
    build docker.io/library/python:3.11-slim python3,python3-pip,ca-certificates "$(python_hook)" \
        "$BASE_ENV" 'ENV LANG=C.UTF-8' "ENV SSL_CERT_FILE=$CA_BUNDLE" 'CMD ["python3"]'
fi
if wanted redis; then
    build docker.io/library/redis:7 redis-server,ca-certificates "$(server_hook redis-server redis)" \
        "$BASE_ENV" 'WORKDIR /data' 'VOLUME /data' 'EXPOSE 6379' \
        'ENTRYPOINT ["docker-entrypoint.sh"]' 'CMD ["redis-server"]'
fi
if wanted valkey; then
    build docker.io/valkey/valkey:8 valkey-server,ca-certificates "$(server_hook valkey-server valkey)" \
        "$BASE_ENV" 'WORKDIR /data' 'VOLUME /data' 'EXPOSE 6379' \
        'ENTRYPOINT ["docker-entrypoint.sh"]' 'CMD ["valkey-server"]'
fi
