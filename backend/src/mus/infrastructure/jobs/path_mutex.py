"""Jobs on one library path run one at a time, whatever backend or worker runs them.

Two events for a path (a duplicate, or a create and a modify of a file the database does
not know yet) may reach two concurrent workers. Reading the row and upserting it must then
be one step, or both jobs think they added the track; a short Redis mutex per path makes
it so on every backend. It is not the write lock: that one mutes the watcher.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager

from redis.asyncio import Redis

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
