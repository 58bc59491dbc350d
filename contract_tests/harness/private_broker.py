"""A Redis of the scenario's own, with AOF in its folder, that a fault scenario may restart.

The shared contract Redis cannot be stopped under other scenarios; this one lives and dies
with one world, on a free port, and keeps what was written across a stop (fsync always).
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import redis

START_TIMEOUT_SECONDS = 10.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivateBroker:
    """`start()`, `stop()` (SIGTERM: a clean restart), `kill()` (SIGKILL), as often as wanted."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [
                "redis-server",
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "yes",
                "--appendfsync", "always",
                "--dir", str(self.data_dir),
            ],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self.answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the scenario's redis-server on port {self.port} did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self._end(kill=False)

    def kill(self) -> None:
        self._end(kill=True)

    def _end(self, *, kill: bool) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            process.kill() if kill else process.terminate()
            process.wait(10)
        self._process = None

    def refuse_writes(self) -> None:
        """Out of memory for real: `maxmemory` below what the server holds, `noeviction`, so
        it answers every write "OOM command not allowed" (reads and PING still work)."""
        client = redis.Redis.from_url(self.url)
        try:
            memory: dict[str, object] = client.info("memory")  # type: ignore[assignment]
            used = int(str(memory["used_memory"]))
            client.config_set("maxmemory-policy", "noeviction")
            client.config_set("maxmemory", str(used // 2))
            try:
                client.set("contract:oom-probe", "x")
            except redis.exceptions.OutOfMemoryError:
                return
            raise RuntimeError(f"the redis-server on port {self.port} still takes writes")
        finally:
            client.close()

    def accept_writes(self) -> None:
        """Memory raised again: no limit."""
        client = redis.Redis.from_url(self.url)
        try:
            client.config_set("maxmemory", "0")
        finally:
            client.close()

    def answers(self) -> bool:
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()
