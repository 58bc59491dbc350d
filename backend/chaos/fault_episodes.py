"""Resource faults `make chaos --faults` injects for a while and then releases, for real.

- the data folder full: it is a small tmpfs of its own, filled to the last byte by one file,
  which is deleted to free it;
- the database locked past SQLite's busy timeout: a second connection holds `BEGIN
  EXCLUSIVE`, then rolls back;
- the broker out of memory: `maxmemory` below what Redis holds with `noeviction` (every write
  answers "OOM command not allowed"), then no limit again.

Each episode is started and released by the chaos run's clock; `release()` is safe to call
twice, and the run calls it in a `finally` so no fault outlives the run.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import redis

FILL_CHUNK_BYTES = 1 << 20


class Episode(Protocol):
    name: str

    def start(self) -> str: ...

    def release(self) -> str: ...


@dataclass
class DataFolderFull:
    """The data folder (database, covers, the local Redis's AOF) has no byte left."""

    folder: Path
    name: str = "data folder full"
    _filler: Path | None = None

    def start(self) -> str:
        filler = self.folder / ".chaos-filler"
        self._filler = filler
        written = 0
        chunk = b"\0" * FILL_CHUNK_BYTES
        with filler.open("wb", buffering=0) as handle:
            for size in (FILL_CHUNK_BYTES, 4096, 1):  # big steps, then the last crumbs
                piece = chunk[:size]
                while True:
                    try:
                        written += handle.write(piece) or 0
                    except OSError as exc:
                        if exc.errno != errno.ENOSPC:
                            raise
                        break
        free = os.statvfs(self.folder).f_bavail
        return f"filled with {written / 1e6:.1f} MB ({free} blocks left)"

    def release(self) -> str:
        if self._filler is None:
            return "nothing to free"
        self._filler.unlink(missing_ok=True)
        self._filler = None
        return "freed"


@dataclass
class DatabaseLocked:
    """Another process holds the database's write lock longer than mus's busy timeout."""

    database: Path
    name: str = "database locked"
    _connection: sqlite3.Connection | None = None

    def start(self) -> str:
        connection = sqlite3.connect(self.database, timeout=60, isolation_level=None)
        connection.execute("BEGIN EXCLUSIVE")
        self._connection = connection
        return "BEGIN EXCLUSIVE held by a second connection"

    def release(self) -> str:
        connection, self._connection = self._connection, None
        if connection is None:
            return "nothing held"
        with contextlib.suppress(sqlite3.Error):
            connection.execute("ROLLBACK")
        connection.close()
        return "rolled back and closed"


@dataclass
class BrokerOutOfMemory:
    """Redis past `maxmemory` with `noeviction`: it answers, and refuses every write."""

    url: str
    name: str = "broker out of memory"

    def start(self) -> str:
        client = redis.Redis.from_url(self.url, socket_timeout=5)
        try:
            memory: dict[str, object] = client.info("memory")  # type: ignore[assignment]
            used = int(str(memory["used_memory"]))
            client.config_set("maxmemory-policy", "noeviction")
            client.config_set("maxmemory", str(used // 2))
        finally:
            client.close()
        return f"maxmemory {used // 2} bytes (it holds {used}), noeviction"

    def release(self) -> str:
        client = redis.Redis.from_url(self.url, socket_timeout=5)
        try:
            client.config_set("maxmemory", "0")
        except redis.RedisError as exc:  # a broker restarted meanwhile has no limit anyway
            return f"could not raise maxmemory: {exc}"
        finally:
            client.close()
        return "maxmemory 0 (no limit)"


@contextlib.contextmanager
def small_tmpfs(folder: Path, megabytes: int) -> Iterator[Path]:
    """`folder` as a tmpfs of its own of `megabytes`, unmounted afterwards (needs root)."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m,mode=0755", "mus-chaos", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        raise SystemExit(
            f"chaos --faults mounts a {megabytes} MB tmpfs as the data folder and needs root "
            f"for it: mount said {mounted.stderr.strip() or mounted.returncode}"
        )
    try:
        yield folder
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=False)
