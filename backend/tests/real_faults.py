"""Real resource faults for tests: small tmpfs mounts filled or remounted read-only, and a
second SQLite connection holding the database with BEGIN EXCLUSIVE.

Mounting needs root (CI runs as root): without it a test fails saying so, it never skips.
Every fault is bounded in time and undone in a `finally`.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import sqlite3
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

MOUNT_SECONDS = 10.0
LONGEST_HOLD_SECONDS = 60.0


def _run(*command: str) -> None:
    done = subprocess.run(
        command, check=False, capture_output=True, text=True, timeout=MOUNT_SECONDS
    )
    if done.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed: {done.stderr.strip()}", pytrace=False)


def require_root() -> None:
    if os.geteuid() != 0:
        pytest.fail(
            "this test mounts a small tmpfs to fill it for real and needs root (CI runs as "
            "root); run it as root",
            pytrace=False,
        )


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "4m", *, inodes: int | None = None) -> Iterator[Path]:
    """`path` as a tmpfs of `size` (and at most `inodes` files) for the block, made if
    missing, unmounted after it."""
    require_root()
    path.mkdir(parents=True, exist_ok=True)
    options = f"size={size},mode=0755" + (f",nr_inodes={inodes}" if inodes else "")
    _run("mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path))
    try:
        yield path
    finally:
        subprocess.run(
            ["umount", "-l", str(path)], check=False, capture_output=True, timeout=MOUNT_SECONDS
        )


def fill(folder: Path, name: str = ".filler") -> Path:
    """Write into `folder` until the file system says ENOSPC; returns the filler file."""
    filler = folder / name
    with filler.open("ab", buffering=0) as out:
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    out.write(b"\0" * size)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
    return filler


def remount(folder: Path, mode: str) -> None:
    """`mount -o remount,ro` (or `rw`) of a tmpfs made by `tmpfs`."""
    _run("mount", "-o", f"remount,{mode}", str(folder))


async def empty_write_ahead_log(engine: AsyncEngine) -> None:
    """Checkpoint the WAL and truncate it to 0 bytes, so the next write must grow a file.

    A write could otherwise reuse WAL space already allocated and pass on a full disk. The
    checkpoint cannot truncate while another connection reads: tried until it could (5 s).
    """
    for _ in range(100):
        async with engine.connect() as conn:
            busy, log_frames, _done = (
                await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            ).one()
        if busy == 0 and log_frames == 0:
            return
        await asyncio.sleep(0.05)
    pytest.fail("the write-ahead log could not be truncated within 5 s", pytrace=False)


class ExclusiveHolder:
    """Another process's lock, played by a second real SQLite connection on its own thread:
    BEGIN EXCLUSIVE until `release()` or `LONGEST_HOLD_SECONDS`, whichever comes first."""

    def __init__(self, database_file: Path) -> None:
        self.database_file = database_file
        self.held = threading.Event()
        self._release = threading.Event()
        self._thread = threading.Thread(target=self._hold, name="exclusive-holder", daemon=True)
        self.problem: BaseException | None = None

    def _hold(self) -> None:
        try:
            connection = sqlite3.connect(self.database_file, timeout=5, isolation_level=None)
            try:
                connection.execute("BEGIN EXCLUSIVE")
                self.held.set()
                self._release.wait(LONGEST_HOLD_SECONDS)
                connection.execute("ROLLBACK")
            finally:
                connection.close()
        except BaseException as exc:  # reported by start()/release()
            self.problem = exc
            self.held.set()

    def start(self) -> ExclusiveHolder:
        self._thread.start()
        assert self.held.wait(10), "the second connection never got its lock"
        if self.problem is not None:
            raise self.problem
        return self

    def release(self) -> None:
        self._release.set()
        self._thread.join(10)
        if self.problem is not None:
            raise self.problem


@contextlib.asynccontextmanager
async def database_held(database_file: Path) -> AsyncIterator[ExclusiveHolder]:
    """The database locked by another connection for the block (released in any case).

    Taken and given back in a thread: the event loop goes on meanwhile, or a transaction of
    the app's own left mid-way would hold the lock this waits for.
    """
    holder = ExclusiveHolder(database_file)
    await asyncio.to_thread(holder.start)
    try:
        yield holder
    finally:
        await asyncio.to_thread(holder.release)
