"""A redis-server of a test's own, on a fixed port, which the test may stop and start again.

`durable_redis` keeps its data in an append-only file (fsync on every write) in a private
folder, so a restart or a SIGKILL of the server loses nothing the test wrote: what a
production broker with AOF promises.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.process_probes import free_port, wait_until


class OwnRedis:
    """One port; `start()` and `stop()` as often as the test likes.

    Without `data_dir` nothing persists; with it, an AOF in that folder does.
    """

    def __init__(self, data_dir: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.data_dir = data_dir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            command += ["--appendonly", "yes", "--appendfsync", "always"]
            command += ["--dir", str(self.data_dir)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_until(self.answers, 10, f"the test's own redis-server on port {self.port}")

    def stop(self) -> None:
        """SIGTERM: the server flushes and exits, as on a clean restart."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def kill(self) -> None:
        """SIGKILL: the server dies where it stands (the AOF keeps what was written)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def refuse_writes(self) -> None:
        """Out of memory for real: maxmemory below what the server holds, policy `noeviction`,
        so every write answers "OOM command not allowed" (PING still answers)."""
        client = redis.Redis.from_url(self.url)
        try:
            used = int(client.info("memory")["used_memory"])
            client.config_set("maxmemory-policy", "noeviction")
            client.config_set("maxmemory", str(used // 2))
            try:
                client.set("mus:test:oom-probe", "x")
            except redis.exceptions.OutOfMemoryError:
                return
            raise AssertionError("the server still takes writes after maxmemory was lowered")
        finally:
            client.close()

    def accept_writes(self) -> None:
        """Memory back: no limit, as after an operator raised it."""
        client = redis.Redis.from_url(self.url)
        try:
            client.config_set("maxmemory", "0")
        finally:
            client.close()

    def answers(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False


@pytest.fixture
def durable_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    """A started server with AOF in the test's own folder; the test may stop and restart it."""
    server = OwnRedis(tmp_path / "redis-aof")
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    """A stopped server: the test starts it when it wants the broker to appear."""
    server = OwnRedis()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def started_redis() -> Iterator[OwnRedis]:
    """A started server without persistence that the test may drive out of memory."""
    server = OwnRedis()
    server.start()
    try:
        yield server
    finally:
        server.kill()
