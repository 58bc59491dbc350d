"""SQLite engine in WAL mode so the api and the worker processes can share one file."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from mus.adapters.persistence.models import Base
from mus.adapters.persistence.schema_migrations import (
    add_tracks_file_size,
    migrate_tracks_to_autoincrement,
)
from mus.adapters.persistence.write_gate import WriteGate, gate_file_of
from mus.core.config import Settings

BUSY_TIMEOUT_SECONDS = 30.0


def _pragma_setter(busy_timeout_seconds: float) -> Callable[[Any, Any], None]:
    busy_timeout_ms = max(1, round(busy_timeout_seconds * 1000))

    def set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return set_sqlite_pragmas


class Database:
    """Owns the engine and hands out sessions; one per process.

    `busy_timeout_seconds` is how long a statement waits for another process's lock before
    it fails "database is locked" (`Settings.database_busy_timeout_seconds`).
    """

    def __init__(self, url: str, *, busy_timeout_seconds: float = BUSY_TIMEOUT_SECONDS) -> None:
        self.url = url
        self.busy_timeout_seconds = busy_timeout_seconds
        self.engine: AsyncEngine = create_async_engine(
            url, connect_args={"timeout": busy_timeout_seconds}
        )
        event.listen(self.engine.sync_engine, "connect", _pragma_setter(busy_timeout_seconds))
        database_file = make_url(url).database
        self.write_gate = WriteGate(
            gate_file_of(Path(database_file))
            if database_file and database_file != ":memory:"
            else None,
            wait_seconds=busy_timeout_seconds,
        )
        self.write_gate.install(self.engine.sync_engine)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        """The database the settings name, with their busy timeout."""
        return cls(
            settings.database_url, busy_timeout_seconds=settings.database_busy_timeout_seconds
        )

    async def create_tables(self) -> None:
        """Create missing tables; safe to call from every process at start-up.

        api and workers start together on a fresh file: both may see a table missing and
        one then loses the race to create it. The loser checks again and finds it there.
        """
        for attempt in range(3):
            try:
                async with self.engine.begin() as conn:
                    await conn.run_sync(Base.metadata.create_all)
                # Columns first: the rebuild copies every column the model names.
                async with self.engine.begin() as conn:
                    await conn.run_sync(add_tracks_file_size)
                async with self.engine.begin() as conn:
                    await conn.run_sync(migrate_tracks_to_autoincrement)
                return
            except OperationalError as exc:
                if "already exists" not in str(exc) or attempt == 2:
                    raise

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session committed on success and rolled back on error."""
        async with self._sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def ping(self) -> None:
        """Raise if the database cannot answer a trivial query (healthcheck)."""
        from sqlalchemy import text

        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def is_busy(self, wait_seconds: float = 0.2) -> bool:
        """Whether another connection holds the write lock now (healthcheck, `/admin`).

        A read (`ping`) passes under WAL while a writer holds the database, so this asks for
        the write lock itself, on a connection of its own, and gives it back at once.
        """
        return await asyncio.to_thread(_write_lock_taken, self.file_path, wait_seconds)

    @property
    def file_path(self) -> Path:
        """The SQLite file the URL names."""
        return Path(make_url(self.url).database or "")

    async def dispose(self) -> None:
        """Close pooled connections and the write gate (end of lifespan, end of a CLI run)."""
        await self.engine.dispose()
        self.write_gate.close()


def _write_lock_taken(path: Path, wait_seconds: float) -> bool:
    # mode=rw: a probe never creates the file it asks about.
    uri = f"{path.absolute().as_uri()}?mode=rw"
    connection = sqlite3.connect(uri, uri=True, timeout=wait_seconds, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return True
        raise
    finally:
        connection.close()
    return False
