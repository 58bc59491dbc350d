"""Which failures are the machine's, not the file's: transient resource faults, classified once.

A full disk, a database another process holds locked, a folder remounted read-only, a broker
that is away or out of memory: each passes when the resource is back, so whoever meets one
(a job, the watcher, the outbox relay, the api) waits or answers "try again", and never
records it against a track. Everything else (a corrupt file, one cut short, gone, not audio)
is permanent, and `resource_fault` answers None for it.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError as RedisOutOfMemoryError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError

from mus.core.broker_preflight import BrokerUnavailableError

SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_READONLY = 8
SQLITE_FULL = 13
OUT_OF_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
BROKER_OOM_PREFIX = "OOM command not allowed"
BROKER_OOM_WORDS = "command not allowed when used memory > 'maxmemory'"
MAX_CHAIN = 16


class FaultKind(StrEnum):
    """What is unavailable for now."""

    DATABASE_BUSY = "database_busy"
    """SQLite busy or locked past its busy timeout (another process holds it)."""
    NO_SPACE = "no_space"
    """ENOSPC or EDQUOT on a folder, or SQLite's "database or disk is full"."""
    READ_ONLY = "read_only"
    """EROFS: the folder is (re)mounted read-only; SQLite's SQLITE_READONLY."""
    BROKER_AWAY = "broker_away"
    """The broker does not answer (down, restarting, unreachable)."""
    BROKER_OUT_OF_MEMORY = "broker_out_of_memory"
    """The broker answers but refuses writes: "OOM command not allowed" (maxmemory)."""


class Place(StrEnum):
    """Which of mus's folders a file-system fault is in, when it can be told."""

    DATA = "data"
    MUSIC = "music"


FILE_SYSTEM_KINDS = frozenset({FaultKind.NO_SPACE, FaultKind.READ_ONLY})


@dataclass(frozen=True, slots=True)
class ResourceFault:
    """One transient fault: its kind, where (if known) and the underlying error's text."""

    kind: FaultKind
    detail: str
    place: Place | None = None
    path: str | None = None

    def sentence(self) -> str:
        """What a person is told: the resource, not the file they were working on."""
        folder = f"the {self.place.value} folder" if self.place else "the folder written to"
        if self.kind is FaultKind.DATABASE_BUSY:
            return "the database is busy, try again"
        if self.kind is FaultKind.NO_SPACE:
            return f"no space left in {folder}"
        if self.kind is FaultKind.READ_ONLY:
            return f"{folder} is read-only"
        if self.kind is FaultKind.BROKER_OUT_OF_MEMORY:
            return "the job queue (Redis) is out of memory and refuses writes"
        return "the job queue (Redis) is unavailable"

    def episode_key(self) -> tuple[FaultKind, Place | None]:
        """Faults with one key are one episode for logging: same resource, same trouble."""
        return (self.kind, self.place)


class ResourceUnavailableError(Exception):
    """A transient fault raised on by code that knows which folder it was writing."""

    def __init__(self, fault: ResourceFault) -> None:
        super().__init__(fault.sentence())
        self.fault = fault


def _chain(exc: BaseException) -> list[BaseException]:
    """The error, what caused it and what it interrupted, exception groups opened."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo and len(seen) < MAX_CHAIN:
        current = todo.pop(0)
        if any(current is known for known in seen):
            continue
        seen.append(current)
        if isinstance(current, BaseExceptionGroup):
            todo.extend(current.exceptions)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                todo.append(linked)
    return seen


def _sqlite_fault(exc: sqlite3.Error) -> ResourceFault | None:
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc)
    lowered = text.lower()
    if primary in (SQLITE_BUSY, SQLITE_LOCKED) or "database is locked" in lowered:
        return ResourceFault(FaultKind.DATABASE_BUSY, text, Place.DATA)
    if "table is locked" in lowered:
        return ResourceFault(FaultKind.DATABASE_BUSY, text, Place.DATA)
    if primary == SQLITE_FULL or "database or disk is full" in lowered:
        return ResourceFault(FaultKind.NO_SPACE, text, Place.DATA)
    if primary == SQLITE_READONLY or "readonly database" in lowered:
        return ResourceFault(FaultKind.READ_ONLY, text, Place.DATA)
    return None


def _os_fault(exc: OSError) -> ResourceFault | None:
    path = exc.filename if isinstance(exc.filename, str) else None
    if exc.errno in OUT_OF_SPACE_ERRNOS:
        return ResourceFault(FaultKind.NO_SPACE, str(exc), path=path)
    if exc.errno == errno.EROFS:
        return ResourceFault(FaultKind.READ_ONLY, str(exc), path=path)
    return None


def _says_out_of_memory(message: str) -> bool:
    """Redis's OOM reply as any client words it (redis-py drops the "OOM" code word)."""
    return BROKER_OOM_PREFIX in message or BROKER_OOM_WORDS in message


def _single_fault(exc: BaseException) -> ResourceFault | None:
    if isinstance(exc, ResourceUnavailableError):
        return exc.fault
    if isinstance(exc, DBAPIError) and isinstance(exc.orig, sqlite3.Error):
        return _sqlite_fault(exc.orig)
    if isinstance(exc, sqlite3.Error):
        return _sqlite_fault(exc)
    if isinstance(exc, RedisOutOfMemoryError) or _says_out_of_memory(str(exc)):
        return ResourceFault(FaultKind.BROKER_OUT_OF_MEMORY, str(exc))
    if isinstance(exc, (BrokerUnavailableError, RedisConnectionError, RedisTimeoutError)):
        return ResourceFault(FaultKind.BROKER_AWAY, str(exc))
    if isinstance(exc, OSError):
        return _os_fault(exc)
    return None


def resource_fault(
    exc: BaseException, *, data_dir: Path | None = None, music_dir: Path | None = None
) -> ResourceFault | None:
    """The transient fault behind `exc` (its causes and contexts included), None if permanent.

    With the folders given, a file-system fault whose error names a path says which folder it
    is in (the music folder first: by default it lies inside the data folder).
    """
    for link in _chain(exc):
        fault = _single_fault(link)
        if fault is None:
            continue
        if fault.place is None and fault.path is not None:
            fault = ResourceFault(
                fault.kind, fault.detail, place_of(fault.path, data_dir, music_dir), fault.path
            )
        return fault
    return None


def is_transient(exc: BaseException) -> bool:
    """Whether `exc` is a resource fault that passes (wait and retry), not a permanent one."""
    return resource_fault(exc) is not None


def place_of(path: str | Path, data_dir: Path | None, music_dir: Path | None) -> Place | None:
    """Which of the two folders holds `path` (None: neither, or not known)."""
    candidate = Path(path).absolute()
    for folder, place in ((music_dir, Place.MUSIC), (data_dir, Place.DATA)):
        if folder is not None and candidate.is_relative_to(folder.absolute()):
            return place
    return None


def in_place(exc: BaseException, place: Place) -> ResourceUnavailableError | None:
    """`exc`'s file-system fault (no space, read-only) placed in the folder its writer knows
    it was writing; None for anything else (a permanent error, the database, the broker)."""
    fault = resource_fault(exc)
    if fault is None or fault.kind not in FILE_SYSTEM_KINDS:
        return None
    where = fault.place or place  # SQLite's own faults are the data folder's, whoever asks
    return ResourceUnavailableError(ResourceFault(fault.kind, fault.detail, where, fault.path))


@contextmanager
def writing_in(place: Place) -> Iterator[None]:
    """Whatever fails in the block for lack of space or a read-only folder is that folder's:
    raised as ResourceUnavailableError naming it, so nobody blames the file being written."""
    try:
        yield
    except ResourceUnavailableError:
        raise
    except Exception as exc:
        placed = in_place(exc, place)
        if placed is None:
            raise
        raise placed from exc
