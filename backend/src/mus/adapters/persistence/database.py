"""SQLite engine in WAL mode so the api and the worker processes can share one file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
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

BUSY_TIMEOUT_MS = 30_000


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Database:
    """Owns the engine and hands out sessions; one per process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(
            url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}
        )
        event.listen(self.engine.sync_engine, "connect", _set_sqlite_pragmas)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)

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

    async def dispose(self) -> None:
        """Close pooled connections (end of lifespan, end of a CLI run)."""
        await self.engine.dispose()
