"""The broker for `mus run`: is REDIS_URL up, and if it points at this machine, a redis-server.

A developer should get a working stack from `make run` alone, so a local URL with nothing
listening gets its own redis-server (AOF on, data under DATA_DIR_PATH/redis). A remote URL is
never replaced by a local server: that would silently split the queue from the real one.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from mus.core.broker_preflight import mask_url, probe_broker
from mus.local_stack.managed_process import ManagedProcess

LOCAL_HOST_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
DEFAULT_REDIS_PORT = 6379
REACHABILITY_TIMEOUT_SECONDS = 1.0
SERVER_READY_TIMEOUT_SECONDS = 15.0
EXTRA_BINARY_DIRS = (Path("/usr/sbin"), Path("/usr/local/bin"), Path("/opt/homebrew/bin"))

INSTALL_HINT = (
    "redis-server is not installed. Install Redis >= 7 (Debian/Ubuntu: "
    "`sudo apt-get install redis-server`; macOS: `brew install redis`), or point REDIS_URL "
    "at a running Redis >= 7 or Valkey >= 7.2"
)


class BrokerError(RuntimeError):
    """The broker is unusable for `mus run`; the message says what to do."""


@dataclass(frozen=True, slots=True)
class RedisTarget:
    """Where REDIS_URL points, as far as starting a server for it is concerned."""

    url: str
    scheme: str
    host: str | None
    port: int
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> RedisTarget:
        """Split a redis://, rediss:// or unix:// URL; a malformed one is a BrokerError."""
        try:
            parts = urlsplit(url)
            port = parts.port or DEFAULT_REDIS_PORT
        except ValueError as exc:
            raise BrokerError(f"REDIS_URL is not a valid URL ({exc}): {mask_url(url)}") from None
        if parts.scheme not in {"redis", "rediss", "unix"}:
            raise BrokerError(
                f"REDIS_URL must start with redis://, rediss:// or unix://, got {mask_url(url)}"
            )
        return cls(
            url=url,
            scheme=parts.scheme,
            host=parts.hostname,
            port=port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    @property
    def is_local(self) -> bool:
        """True for a TCP URL on this machine's loopback (the only kind we may start)."""
        if self.scheme == "unix" or self.host is None:
            return False
        if self.host.lower() in LOCAL_HOST_NAMES:
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    @property
    def bind_address(self) -> str:
        """The loopback address a local server listens on for this URL."""
        return "::1" if self.host == "::1" else "127.0.0.1"


def broker_answers(url: str, timeout: float = REACHABILITY_TIMEOUT_SECONDS) -> bool:
    """Whether a server answers at `url` (even one refusing our password: it is up).

    The preflight's own probe, asked from the supervisor's synchronous code.
    """
    return asyncio.run(probe_broker(url, timeout=timeout)).answered


def find_redis_server() -> Path | None:
    """The redis-server binary on PATH (or in the usual sbin folders), if any."""
    found = shutil.which("redis-server")
    if found:
        return Path(found)
    for folder in EXTRA_BINARY_DIRS:
        candidate = folder / "redis-server"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def can_install_with_apt() -> bool:
    """apt-get is present and we are root: installing needs no question to the user."""
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def install_redis_server(say: Callable[[str], None]) -> Path:
    """`apt-get install -y redis-server` (refreshing the package lists once if that fails)."""
    if not can_install_with_apt():
        raise BrokerError(INSTALL_HINT)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "redis-server"]
    say("redis-server is not installed; installing it with `apt-get install -y redis-server`")
    if subprocess.run(install, env=env, check=False).returncode != 0:
        say("apt-get install failed; running `apt-get update` and trying once more")
        subprocess.run(["apt-get", "update"], env=env, check=False)
        if subprocess.run(install, env=env, check=False).returncode != 0:
            raise BrokerError(f"`apt-get install -y redis-server` failed. {INSTALL_HINT}")
    binary = find_redis_server()
    if binary is None:
        raise BrokerError(f"apt-get installed redis-server but it is not on PATH. {INSTALL_HINT}")
    return binary


def _config_value(value: str) -> str:
    """A value quoted for redis.conf (spaces, quotes and backslashes in paths survive)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def redis_config(target: RedisTarget, data_dir: Path) -> str:
    """The redis.conf of the server `mus run` starts: loopback only, AOF on, logs to stdout."""
    lines = [
        f"bind {target.bind_address}",
        f"port {target.port}",
        f"dir {_config_value(str(data_dir))}",
        "appendonly yes",
        "daemonize no",
        "protected-mode yes",
        'logfile ""',
        "loglevel warning",
    ]
    if target.password:
        lines.append(f"requirepass {_config_value(target.password)}")
    return "\n".join(lines) + "\n"


def local_redis_process(binary: Path, target: RedisTarget, data_dir: Path) -> ManagedProcess:
    """A ManagedProcess for redis-server, its config written to data_dir/redis.conf (0600)."""
    if target.scheme != "redis":
        raise BrokerError(
            f"nothing answers at {mask_url(target.url)}, and mus run starts a local Redis only "
            "for a plain redis:// URL; start that server yourself"
        )
    if target.username not in {None, "default"}:
        raise BrokerError(
            f"nothing answers at {mask_url(target.url)}, and mus run cannot start a Redis with "
            f"ACL user {target.username!r}; start that server yourself or drop the user name"
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    config_path = data_dir / "redis.conf"
    config_path.touch(mode=0o600, exist_ok=True)
    config_path.chmod(0o600)
    config_path.write_text(redis_config(target, data_dir), encoding="utf-8")
    return ManagedProcess("redis", [str(binary), str(config_path)], cwd=data_dir)


def wait_until_reachable(
    url: str,
    process: ManagedProcess,
    timeout: float = SERVER_READY_TIMEOUT_SECONDS,
    should_stop: Callable[[], bool] = lambda: False,
) -> None:
    """Block until the freshly started server answers; fail if it exits or takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not should_stop():
        if broker_answers(url, timeout=0.5):
            return
        code = process.poll()
        if code is not None:
            raise BrokerError(
                f"redis-server exited with code {code} before answering at {mask_url(url)} "
                "(its output is above: often the port is taken by another program)"
            )
        time.sleep(0.1)
    if not should_stop():
        raise BrokerError(f"redis-server did not answer at {mask_url(url)} within {timeout:.0f}s")
