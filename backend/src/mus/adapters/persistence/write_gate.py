"""One writing transaction at a time across mus's processes, handed over without sleeping.

SQLite lets one connection write at a time, and a connection that meets the lock sleeps in
SQLite's busy handler in growing steps (1, 2, 5 ... 100 ms) however soon the lock is free.
A worker runs ten jobs at once, each on its own pooled connection, and there are several
worker processes: on 1,000 new files most of a worker's aiosqlite threads sat in those
sleeps while little was written. The gate queues writers instead: in the process an
asyncio lock, between processes an `flock` on a file beside the database, both of which
wake the next writer the moment the previous one commits.

The gate is taken at a transaction's first writing statement (where SQLite takes its lock)
and given back when it ends, so reads never wait. It only orders writers: SQLite's lock
still decides, so a writer that waited the busy timeout for the gate goes on without it
and meets SQLite's own wait and "database is locked" (a transient fault, waited out by the
caller), exactly as it would without the gate; a process killed while holding the gate
lets go of its `flock` as it dies. A writer outside mus (the sqlite3 shell) is not gated.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import logging
import os
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.util import await_only

logger = logging.getLogger(__name__)

_HELD = "mus_write_gate_held"
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def writes(statement: str) -> bool:
    """Whether a statement takes SQLite's write lock (the ones mus runs: DML, not DDL)."""
    return statement.lstrip()[:7].upper().startswith(_WRITES)


def gate_file_of(database_file: Path) -> Path:
    """The file whose `flock` is the gate between processes, beside the database."""
    return database_file.with_name(database_file.name + ".write-gate")


class WriteGate:
    """The turn to write, for every connection of one engine (one per process)."""

    def __init__(self, path: Path | None, *, wait_seconds: float) -> None:
        self.wait_seconds = wait_seconds
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._fd: int | None = None
        if path is not None:
            try:
                self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as exc:
                # A read-only or full data folder: writers are then ordered in this process
                # only, and SQLite's busy handler orders the processes as it always did.
                logger.info("database write gate: %s unavailable (%s); in-process only", path, exc)

    def install(self, engine: Engine) -> None:
        """Take the gate before a connection's first write, give it back when it ends."""
        event.listen(engine, "before_cursor_execute", self._before_execute)
        # Given back when the connection returns to the pool: after the DBAPI commit or
        # rollback (the engine's commit and rollback events come before it, while SQLite
        # still holds the lock). A session gives its connection back as its transaction ends.
        event.listen(engine, "checkin", self._on_pool_event)
        event.listen(engine, "invalidate", self._on_pool_event)

    def close(self) -> None:
        """Close the gate file (the engine is disposed)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _current_lock(self) -> asyncio.Lock:
        # A CLI run, a test or a reload may use the engine from a new event loop.
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock

    def _before_execute(
        self,
        connection: Connection,
        _cursor: Any,
        statement: str,
        _parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> None:
        if _HELD in connection.info or not writes(statement):
            return
        connection.info[_HELD] = await_only(self._enter())

    async def _enter(self) -> tuple[asyncio.Lock | None, bool]:
        """(the asyncio lock if taken, whether the file lock is held); never waits longer
        than `wait_seconds` for either."""
        lock = self._current_lock()
        try:
            async with asyncio.timeout(self.wait_seconds):
                await lock.acquire()
        except TimeoutError:
            return None, False
        try:
            return lock, await self._take_file_lock()
        except BaseException:
            lock.release()
            raise

    async def _take_file_lock(self) -> bool:
        fd = self._fd
        if fd is None:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            pass
        waiting = asyncio.get_running_loop().run_in_executor(None, fcntl.flock, fd, fcntl.LOCK_EX)
        try:
            async with asyncio.timeout(self.wait_seconds):
                await asyncio.shield(waiting)
        except OSError:
            return False
        except (TimeoutError, asyncio.CancelledError) as exc:
            # The thread may still get the lock later: it is given straight back then.
            waiting.add_done_callback(functools.partial(_unlock_if_taken, fd))
            if isinstance(exc, asyncio.CancelledError):
                raise
            return False
        return True

    def _on_pool_event(self, _dbapi_connection: Any, record: Any, *_args: Any) -> None:
        self._give_back(record.info)

    def _give_back(self, info: dict[Any, Any]) -> None:
        held = info.pop(_HELD, None)
        if held is None:
            return
        lock, file_locked = held
        if file_locked and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        if lock is not None and lock.locked():
            lock.release()


def _unlock_if_taken(fd: int, done: asyncio.Future[Any]) -> None:
    if not done.cancelled() and done.exception() is None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
