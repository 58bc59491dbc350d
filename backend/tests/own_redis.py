"""A redis-server of a test's own, on a fixed port, which the test may stop and start again."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
import redis

from tests.process_probes import free_port, wait_until


class OwnRedis:
    """One port; `start()` and `stop()` as often as the test likes (no persistence)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""],
            stdout=subprocess.DEVNULL,
        )
        wait_until(self.answers, 10, f"the test's own redis-server on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def answers(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    """A stopped server: the test starts it when it wants the broker to appear."""
    server = OwnRedis()
    try:
        yield server
    finally:
        server.stop()
