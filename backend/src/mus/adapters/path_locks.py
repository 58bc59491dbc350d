"""Redis locks on library paths: the write lock that mutes the watcher, the per-path mutex.

Two locks, two purposes. The write lock marks a path mus itself is writing, so the watcher
ignores the echo. The mutex makes the jobs on one path run one at a time, whatever backend
or worker runs them: two events for a path (a duplicate, or a create and a modify of a file
the database does not know yet) may reach two concurrent workers, and reading the row and
upserting it must then be one step, or both jobs think they added the track.

Both live in Redis: a broker that is away raises `BrokerUnavailableError` before anything
is written, so callers answer 503 (the api) or are retried (a job), never marked ERROR.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from enum import StrEnum

from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, RedisError

from mus.core.broker_preflight import BrokerUnavailableError

logger = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 10.0
_FINGERPRINT_SEPARATOR = ":"

# The only job a content-only write can echo as: the file is still there, changed.
CONTENT_ECHO_TASKS = frozenset({"handle_file_modified"})


class WriteKind(StrEnum):
    """What mus did to a path, hence which of the watcher's events are its echo."""

    CONTENT = "content"  # rewrote bytes in place (tag edits, ID3v2.3 normalisation)
    ANY = "any"  # created, moved or deleted the file


class WriteLock:
    """`async with lock.hold(paths, kind)`: the watcher skips those paths' echoes meanwhile.

    The key outlives the write by a grace period because the watcher reports a change
    only after its debounce; the TTL bounds how long a crash can mute a path. A content
    write mutes only modifications: a user deleting or moving the file at that moment is
    still seen.
    """

    def __init__(self, redis: Redis, prefix: str = "mus:write-lock", grace_seconds: float = 3.0):
        self.redis = redis
        self.prefix = prefix
        self.grace_seconds = grace_seconds

    def _key(self, relative_path: str) -> str:
        return f"{self.prefix}:{relative_path}"

    @asynccontextmanager
    async def hold(
        self,
        relative_paths: Iterable[str],
        kind: WriteKind = WriteKind.ANY,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
    ) -> AsyncIterator[None]:
        """Hold the lock on the paths; failing to shorten it afterwards is only logged.

        The keys expire on their own TTL, so a broker lost mid-write mutes the paths a
        little longer, and the write that was done is not undone by the lost release.
        """
        keys = [self._key(path) for path in relative_paths]
        ttl_ms = int(ttl_seconds * 1000)
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.set(key, kind.value, px=ttl_ms)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            raise BrokerUnavailableError(f"cannot take the write lock: {exc}") from exc
        try:
            yield
        finally:
            try:
                await self._release(keys)
            except (RedisError, OSError) as exc:
                logger.warning("write lock on %s not released (expires by itself): %s", keys, exc)

    async def _release(self, keys: list[str]) -> None:
        grace_ms = int(self.grace_seconds * 1000)
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.pexpire(key, grace_ms)
            await pipe.execute()

    async def record_content(self, relative_path: str, fingerprint: str) -> None:
        """Note the content fingerprint of what mus just wrote (inside `hold`), so only a
        file still holding exactly that is taken for the echo."""
        value = f"{WriteKind.CONTENT.value}{_FINGERPRINT_SEPARATOR}{fingerprint}"
        try:
            await self.redis.set(self._key(relative_path), value, keepttl=True, xx=True)
        except (RedisError, OSError) as exc:
            raise BrokerUnavailableError(f"cannot record the write: {exc}") from exc

    async def _state_of(self, relative_path: str) -> tuple[WriteKind | None, str | None]:
        try:
            value = await self.redis.get(self._key(relative_path))
        except (RedisError, OSError) as exc:
            raise BrokerUnavailableError(f"cannot read the write lock: {exc}") from exc
        if value is None:
            return None, None
        text = value.decode() if isinstance(value, bytes) else str(value)
        kind_text, _, fingerprint = text.partition(_FINGERPRINT_SEPARATOR)
        kind = WriteKind(kind_text) if kind_text in WriteKind._value2member_map_ else WriteKind.ANY
        return kind, fingerprint or None

    async def held_among(self, relative_paths: Sequence[str]) -> set[str]:
        """Which of these paths mus holds (or just wrote), in one round trip: the watcher
        asks once per batch, and looks closer (`mutes`) only at these."""
        if not relative_paths:
            return set()
        try:
            values = await self.redis.mget([self._key(path) for path in relative_paths])
        except (RedisError, OSError) as exc:
            raise BrokerUnavailableError(f"cannot read the write lock: {exc}") from exc
        return {path for path, value in zip(relative_paths, values, strict=True) if value}

    async def kind_of(self, relative_path: str) -> WriteKind | None:
        """The kind of write mus holds (or just did) on the path, if any."""
        kind, _ = await self._state_of(relative_path)
        return kind

    async def is_locked(self, relative_path: str) -> bool:
        return await self.kind_of(relative_path) is not None

    async def mutes(
        self,
        relative_path: str,
        task_name: str,
        current_fingerprint: Callable[[], Awaitable[str | None]] | None = None,
    ) -> bool:
        """Whether a watcher job `task_name` on the path is the echo of mus's own write.

        For a content write whose fingerprint was recorded, `current_fingerprint` (what
        the file holds now) decides: an edit made by someone else right after ours differs,
        and is not muted.
        """
        kind, written = await self._state_of(relative_path)
        if kind is None:
            return False
        if kind is WriteKind.ANY:
            return True
        if task_name not in CONTENT_ECHO_TASKS:
            return False
        if written is None or current_fingerprint is None:
            return True  # still writing, or nothing to compare with
        return await current_fingerprint() == written


MUTEX_PREFIX = "mus:path-mutex"
HOLD_SECONDS = 4.0
"""The mutex's TTL, renewed every third of it while its job is alive: a killed worker's
mutex is free before its jobs are redelivered (MUS_WORKER_REDELIVERY_SECONDS, 6 s)."""
WAIT_SECONDS = 60.0


@asynccontextmanager
async def path_mutex(redis: Redis, paths: Iterable[str]) -> AsyncIterator[None]:
    """Hold the mutex of every path (taken in sorted order, so two jobs cannot deadlock).

    A broker lost while taking it raises BrokerUnavailableError; one lost while holding it
    lets the mutex expire on its own (`HOLD_SECONDS`) rather than fail the finished work.
    """
    async with redis_mutexes(redis, [f"{MUTEX_PREFIX}:{path}" for path in set(paths)]):
        yield


@asynccontextmanager
async def redis_mutexes(
    redis: Redis, names: Iterable[str], wait_seconds: float = WAIT_SECONDS
) -> AsyncIterator[None]:
    """Hold every named Redis mutex, taken in sorted order, renewed while held.

    Raises BrokerUnavailableError when the broker is away, LockError when one is still
    held elsewhere after `wait_seconds`.
    """
    locks: list[Lock] = []
    async with AsyncExitStack() as stack:
        for name in sorted(set(names)):
            lock = redis.lock(name, timeout=HOLD_SECONDS, blocking_timeout=wait_seconds)
            try:
                acquired = await lock.acquire()
            except (RedisError, OSError) as exc:
                raise BrokerUnavailableError(f"cannot take the mutex {name}: {exc}") from exc
            if not acquired:  # held elsewhere for wait_seconds: contention, not an outage
                raise LockError(f"mutex {name!r} not taken within {wait_seconds:g}s")  # type: ignore[no-untyped-call]
            stack.push_async_callback(_release_mutex, lock)
            locks.append(lock)
        renewal = asyncio.create_task(_keep_alive(locks), name="path-mutex-renewal")
        try:
            yield
        finally:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal


async def _keep_alive(locks: list[Lock]) -> None:
    """Reset the mutexes' TTL while their job runs; a broker blip only shortens them."""
    while True:
        await asyncio.sleep(HOLD_SECONDS / 3)
        for lock in locks:
            try:
                await lock.reacquire()
            except (RedisError, OSError) as exc:
                logger.warning("path mutex %s not renewed: %s", lock.name, exc)


async def _release_mutex(lock: Lock) -> None:
    try:
        await lock.release()
    except (RedisError, OSError) as exc:
        logger.warning("path mutex %s not released (expires by itself): %s", lock.name, exc)
