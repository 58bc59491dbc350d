#!/usr/bin/env bash
# Install and configure what the container checks need on Debian 12, from scratch: podman (with
# runc, netavark, aardvark-dns, and iptables, which netavark runs: without it every published
# port fails with "netavark: No such file or directory"), mmdebstrap for the base images, and podman's defaults for this
# kind of machine in /etc/containers/containers.conf:
# - runtime runc: crun refuses hybrid cgroups ("cgroups in hybrid mode not supported");
# - default ulimits within the host's hard limits: podman's own default (nofile 1048576) is above
#   them and every container fails with "setrlimit: Operation not permitted"; nproc also no
#   higher than kernel.pid_max.
# Idempotent and quick when everything is there. podman-compose itself comes from PyPI (see
# tools/compose_smoke/), Debian 12's 1.0.3 knows neither profiles nor stop_grace_period.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

log() { printf '==> %s\n' "$*"; }

missing=()
for pair in podman:podman runc:runc mmdebstrap:mmdebstrap netavark:/usr/lib/podman/netavark \
    aardvark-dns:/usr/lib/podman/aardvark-dns iptables:iptables; do
    package="${pair%%:*}" probe="${pair#*:}"
    if ! command -v "$probe" >/dev/null 2>&1 && [ ! -x "$probe" ]; then missing+=("$package"); fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" uidmap </dev/null >/dev/null
fi

conf=/etc/containers/containers.conf
nofile="$(ulimit -Hn)" nproc="$(ulimit -Hu)"
[ "$nofile" = unlimited ] && nofile=1048576
pid_max="$(cat /proc/sys/kernel/pid_max)"
# Measured: runc is refused any nproc above kernel.pid_max (32768 here), even under the hard limit.
if [ "$nproc" = unlimited ] || [ "$nproc" -gt "$pid_max" ]; then nproc="$pid_max"; fi
wanted="# Written by mus's docker/base-images/install-podman.sh (see there why).
[containers]
default_ulimits = [\"nofile=$nofile:$nofile\", \"nproc=$nproc:$nproc\"]

[engine]
runtime = \"runc\"
"
if [ ! -f "$conf" ] || [ "$(cat "$conf")" != "${wanted%$'\n'}" ]; then
    if [ -f "$conf" ] && ! grep -q "docker/base-images/install-podman.sh" "$conf"; then
        cp "$conf" "$conf.before-mus"
        log "kept the previous $conf as $conf.before-mus"
    fi
    mkdir -p /etc/containers
    printf '%s' "$wanted" >"$conf"
    log "wrote $conf (runtime runc, ulimits nofile=$nofile nproc=$nproc)"
fi
podman --version
