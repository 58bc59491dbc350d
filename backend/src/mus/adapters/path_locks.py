"""Redis locks on library paths: the write lock that mutes the watcher, the per-path mutex.

Two locks, two purposes. The write lock marks a path mus itself is writing, so the watcher
ignores the echo. The mutex makes the jobs on one path run one at a time, whatever backend
or worker runs them: two events for a path (a duplicate, or a create and a modify of a file
the database does not know yet) may reach two concurrent workers, and reading the row and
upserting it must then be one step, or both jobs think they added the track.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from enum import StrEnum

from redis.asyncio import Redis

DEFAULT_TTL_SECONDS = 10.0

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
        keys = [self._key(path) for path in relative_paths]
        ttl_ms = int(ttl_seconds * 1000)
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.set(key, kind.value, px=ttl_ms)
            await pipe.execute()
        try:
            yield
        finally:
            grace_ms = int(self.grace_seconds * 1000)
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.pexpire(key, grace_ms)
                await pipe.execute()

    async def kind_of(self, relative_path: str) -> WriteKind | None:
        """The kind of write mus holds (or just did) on the path, if any."""
        value = await self.redis.get(self._key(relative_path))
        if value is None:
            return None
        text = value.decode() if isinstance(value, bytes) else str(value)
        return WriteKind(text) if text in WriteKind._value2member_map_ else WriteKind.ANY

    async def is_locked(self, relative_path: str) -> bool:
        return await self.kind_of(relative_path) is not None

    async def mutes(self, relative_path: str, task_name: str) -> bool:
        """Whether a watcher job `task_name` on the path is the echo of mus's own write."""
        kind = await self.kind_of(relative_path)
        if kind is None:
            return False
        return kind is WriteKind.ANY or task_name in CONTENT_ECHO_TASKS


MUTEX_PREFIX = "mus:path-mutex"
HOLD_SECONDS = 60.0
WAIT_SECONDS = 60.0


@asynccontextmanager
async def path_mutex(redis: Redis, paths: Iterable[str]) -> AsyncIterator[None]:
    """Hold the mutex of every path (taken in sorted order, so two jobs cannot deadlock)."""
    async with AsyncExitStack() as stack:
        for path in sorted(set(paths)):
            lock = redis.lock(
                f"{MUTEX_PREFIX}:{path}", timeout=HOLD_SECONDS, blocking_timeout=WAIT_SECONDS
            )
            await stack.enter_async_context(lock)
        yield
