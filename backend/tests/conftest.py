"""Shared fixtures: a real Redis database, real SQLite, settings pointing at a temp data dir."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis

from mus.adapters.persistence.database import Database
from mus.adapters.scanner.duration_probe import (
    FFPROBE_PATH_ENV,
    reset_missing_ffprobe_warning,
)
from mus.core.config import Settings, get_settings

# `stub_broker`, `own_redis`, the scan fixtures, `round_trip_proxy`, the small mounts and the
# database lock, for any test folder
pytest_plugins = [
    "tests.stub_broker",
    "tests.own_redis",
    "tests.scan_fixtures",
    "tests.round_trip_proxy",
    "tests.small_mounts",
    "tests.database_lock",
]

TEST_REDIS_URL = os.environ.get("MUS_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


@pytest.fixture(scope="session")
def redis_server_url() -> Iterator[str]:
    """The Redis the tests use; a missing server is a clear failure, never a skip.

    Run serially, that is MUS_TEST_REDIS_URL. Under pytest-xdist (`make test` runs three
    workers) each worker starts a redis-server of its own on a free port, so workers never
    flush each other's keys and no database number is taken from other suites.
    """
    if os.environ.get("PYTEST_XDIST_WORKER"):
        if shutil.which("redis-server") is None:
            pytest.fail(
                "parallel tests start a redis-server per worker, and none is on PATH; "
                "install redis-server or run serially (make test TEST_WORKERS=0)",
                pytrace=False,
            )
        from tests.own_redis import OwnRedis  # a plugin module: imported after registration

        server = OwnRedis()
        server.start()
        try:
            yield f"{server.url.rsplit('/', 1)[0]}/13"
        finally:
            server.stop()
        return
    client = redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(
            f"these tests need a real Redis >= 7 at {TEST_REDIS_URL} ({exc}); start one with "
            "`redis-server --daemonize yes --port 6379` or set MUS_TEST_REDIS_URL",
            pytrace=False,
        )
    finally:
        client.close()
    yield TEST_REDIS_URL


@pytest.fixture
def redis_url(redis_server_url: str) -> Iterator[str]:
    """A flushed Redis database for one test, flushed again after it."""
    client = redis.Redis.from_url(redis_server_url)
    client.flushdb()
    try:
        yield redis_server_url
    finally:
        client.flushdb()
        client.close()


@pytest.fixture
def settings(tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings on a temp data dir and the test Redis, also seen by `get_settings()`."""
    data_dir = tmp_path / "data"
    channel = f"mus:test-events:{uuid.uuid4().hex}"
    monkeypatch.setenv("DATA_DIR_PATH", str(data_dir))
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("MUS_EVENT_CHANNEL", channel)
    monkeypatch.setenv("MUS_WATCHER_ENABLED", "false")
    monkeypatch.setenv("MUS_INITIAL_SCAN_ENABLED", "false")
    # The machine's free space is not the test's: tests of the warning set their own.
    monkeypatch.setenv("MUS_FREE_SPACE_WARNING_MB", "0")
    monkeypatch.delenv("MUSIC_DIR_PATH", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    get_settings.cache_clear()
    value = get_settings()
    value.ensure_directories()
    return value


@pytest.fixture(autouse=True)
def _real_ffprobe(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts on the PATH's ffprobe, with the once-per-process warning re-armed."""
    monkeypatch.delenv(FFPROBE_PATH_ENV, raising=False)
    reset_missing_ffprobe_warning()
    yield
    reset_missing_ffprobe_warning()


@pytest.fixture(autouse=True)
def _fresh_settings_cache() -> Iterator[None]:
    yield
    get_settings.cache_clear()


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    """The real SQLite database of `settings`, tables created."""
    db = Database(settings.database_url)
    await db.create_tables()
    try:
        yield db
    finally:
        await db.dispose()
