"""A database locked for real: a second SQLite connection holding BEGIN EXCLUSIVE.

mus waits `MUS_DATABASE_BUSY_TIMEOUT_SECONDS` (30 s) for a lock; `short_busy_timeout` makes
that 1 s for the test's own processes, so a lock held past it costs a second, not half a
minute. The lock itself is the real thing another process would hold.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from mus.core.config import Settings

SHORT_BUSY_TIMEOUT_MS = 1000


@contextmanager
def database_locked(settings: Settings) -> Iterator[sqlite3.Connection]:
    """Hold the write lock of the settings' database until the block ends (readers go on)."""
    path: Path = settings.database_dir_path / "mus.db"
    connection = sqlite3.connect(path, isolation_level=None, timeout=10)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        yield connection
    finally:
        connection.execute("ROLLBACK")
        connection.close()


@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> int:
    """Settings made from now on (name this fixture before `settings` or what builds on it)
    give up on a lock after 1 s (`MUS_DATABASE_BUSY_TIMEOUT_SECONDS`)."""
    monkeypatch.setenv("MUS_DATABASE_BUSY_TIMEOUT_SECONDS", str(SHORT_BUSY_TIMEOUT_MS / 1000))
    return SHORT_BUSY_TIMEOUT_MS
