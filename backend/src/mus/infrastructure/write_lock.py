"""Short Redis locks on library paths, so the watcher ignores the echo of mus's own writes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from redis.asyncio import Redis

DEFAULT_TTL_SECONDS = 10.0


class WriteLock:
    """`async with lock.hold(paths)`: the watcher skips events for those paths meanwhile.

    The key outlives the write by a grace period because the watcher reports a change
    only after its debounce; the TTL bounds how long a crash can mute a path.
    """

    def __init__(self, redis: Redis, prefix: str = "mus:write-lock", grace_seconds: float = 3.0):
        self.redis = redis
        self.prefix = prefix
        self.grace_seconds = grace_seconds

    def _key(self, relative_path: str) -> str:
        return f"{self.prefix}:{relative_path}"

    @asynccontextmanager
    async def hold(
        self, relative_paths: Iterable[str], ttl_seconds: float = DEFAULT_TTL_SECONDS
    ) -> AsyncIterator[None]:
        keys = [self._key(path) for path in relative_paths]
        ttl_ms = int(ttl_seconds * 1000)
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.set(key, "1", px=ttl_ms)
            await pipe.execute()
        try:
            yield
        finally:
            grace_ms = int(self.grace_seconds * 1000)
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.pexpire(key, grace_ms)
                await pipe.execute()

    async def is_locked(self, relative_path: str) -> bool:
        return bool(await self.redis.exists(self._key(relative_path)))
