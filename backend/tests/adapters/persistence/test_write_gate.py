"""The write gate on a real SQLite file, with a real second process holding it.

Writers of one process take turns in the event loop; writers of two processes through an
`flock` beside the database. SQLite's lock still decides: a gate held too long is given up
after the busy timeout, and a process killed while holding it lets go as it dies.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from mus.adapters.persistence.database import Database
from mus.adapters.persistence.write_gate import gate_file_of, writes

HOLDER = """
import asyncio, sys, time
from sqlalchemy import text
from mus.adapters.persistence.database import Database

async def main() -> None:
    database = Database(sys.argv[1], busy_timeout_seconds=5)
    async with database.session() as session:
        await session.execute(text("INSERT INTO probe (writer) VALUES ('holder')"))
        print("holding", flush=True)
        await asyncio.sleep(float(sys.argv[2]))
    print("released", flush=True)
    await database.dispose()

asyncio.run(main())
"""


def url_of(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def database_file(tmp_path: Path) -> AsyncIterator[Path]:
    path = tmp_path / "gate.db"
    database = Database(url_of(path))
    async with database.engine.begin() as connection:
        await connection.execute(text("CREATE TABLE probe (writer TEXT)"))
    await database.dispose()
    yield path


@contextmanager
def holder(path: Path, seconds: float) -> Iterator[subprocess.Popen[str]]:
    """A second process inside a writing transaction (gate and SQLite lock held)."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url_of(path), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "holding"
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


async def write(database: Database, writer: str) -> None:
    async with database.session() as session:
        await session.execute(text("INSERT INTO probe (writer) VALUES (:w)"), {"w": writer})


def test_writing_statements_are_told_from_reads() -> None:
    assert writes("INSERT INTO tracks (x) VALUES (1)")
    assert writes("  update tracks SET x = 1")
    assert writes("DELETE FROM job_outbox WHERE id IN (1)")
    assert writes("REPLACE INTO t VALUES (1)")
    assert not writes("SELECT * FROM tracks")
    assert not writes("PRAGMA journal_mode=WAL")
    assert not writes("CREATE TABLE t (x)")


def without_busy_handler(database: Database) -> Database:
    """SQLite's own wait turned off (busy_timeout 0) on every connection the database opens,
    while the gate still waits up to the database's busy timeout: any two writers that met
    at SQLite's lock would fail "database is locked" at once."""

    def no_waiting(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=0")
        cursor.close()

    event.listen(database.engine.sync_engine, "connect", no_waiting)
    return database


async def test_writers_of_one_process_never_meet_at_sqlites_lock(database_file: Path) -> None:
    """Forty concurrent transactions, each holding the lock across an await, all commit with
    SQLite's busy handler off: they waited for each other in the gate, not in SQLite."""
    database = without_busy_handler(Database(url_of(database_file), busy_timeout_seconds=10))

    async def slow_writer(number: int) -> None:
        async with database.session() as session:
            await session.execute(text("INSERT INTO probe (writer) VALUES (:w)"), {"w": number})
            await asyncio.sleep(0.005)

    try:
        await asyncio.gather(*(slow_writer(number) for number in range(40)))
        async with database.session() as session:
            rows = await session.execute(text("SELECT writer FROM probe"))
            written = sorted(int(writer) for writer in rows.scalars())
    finally:
        await database.dispose()
    assert written == list(range(40))


async def test_a_writer_waits_for_another_process_in_the_gate_and_goes_when_it_commits(
    database_file: Path,
) -> None:
    assert gate_file_of(database_file).name == "gate.db.write-gate"
    database = without_busy_handler(Database(url_of(database_file), busy_timeout_seconds=10))
    try:
        with holder(database_file, 1.5) as process:
            started = time.monotonic()
            await write(database, "second")
            waited = time.monotonic() - started
            assert process.wait(timeout=10) == 0
        async with database.session() as session:
            order = (await session.execute(text("SELECT writer FROM probe"))).scalars().all()
    finally:
        await database.dispose()
    assert order == ["holder", "second"]
    assert waited > 1.0  # the holder's 1.5 s, less its start


async def test_a_process_killed_holding_the_gate_lets_go(database_file: Path) -> None:
    database = Database(url_of(database_file), busy_timeout_seconds=10)
    try:
        with holder(database_file, 600) as process:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
            started = time.monotonic()
            await write(database, "after the kill")
            assert time.monotonic() - started < 2.0
    finally:
        await database.dispose()


async def test_a_gate_held_past_the_busy_timeout_ends_in_database_is_locked(
    database_file: Path,
) -> None:
    """Never a wait without end: after the busy timeout for the gate, SQLite's own wait and
    its "database is locked" (a transient fault callers wait out)."""
    database = Database(url_of(database_file), busy_timeout_seconds=0.5)
    try:
        with holder(database_file, 30):
            started = time.monotonic()
            with pytest.raises(OperationalError, match="database is locked"):
                await write(database, "too late")
            waited = time.monotonic() - started
    finally:
        await database.dispose()
    assert 0.5 <= waited < 5.0
