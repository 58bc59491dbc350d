"""One writer per track: tag writes and renames of a track, from the api or a job, in turn.

Fifty concurrent edits of one track used to interleave: an edit wrote tags to a path a
rename had just moved, and the rename jobs, run in any order, left a file named after an
older title. Here every writer holds the track's mutex (Redis, shared by the api and every
worker) and re-reads the row under it; and the latest rename an edit asked for is noted,
so an older rename job that runs later knows it was superseded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.exceptions import RedisError

from mus.adapters.path_locks import redis_mutexes
from mus.core.broker_preflight import BrokerUnavailableError

TRACK_MUTEX_PREFIX = "mus:track-writer"
RENAME_TARGET_PREFIX = "mus:track-rename"
RENAME_TARGET_TTL_SECONDS = 3600
"""The note outlives its own rename job: an older job that runs after it is still told."""
API_WAIT_SECONDS = 30.0


@asynccontextmanager
async def track_mutex(
    redis: Redis, track_id: int, wait_seconds: float = API_WAIT_SECONDS
) -> AsyncIterator[None]:
    """Be the only writer of the track's file and row meanwhile (LockError after waiting)."""
    async with redis_mutexes(redis, [f"{TRACK_MUTEX_PREFIX}:{track_id}"], wait_seconds):
        yield


@asynccontextmanager
async def track_mutexes(
    redis: Redis, track_ids: Iterable[int], wait_seconds: float = API_WAIT_SECONDS
) -> AsyncIterator[None]:
    """Be the only writer of every one of these tracks (a batch analysis writes them in one
    transaction, so it holds them all until then); taken in sorted order, like paths."""
    async with redis_mutexes(
        redis, [f"{TRACK_MUTEX_PREFIX}:{track_id}" for track_id in track_ids], wait_seconds
    ):
        yield


def _target_key(track_id: int) -> str:
    return f"{RENAME_TARGET_PREFIX}:{track_id}"


async def note_rename_target(redis: Redis, track_id: int, target: str) -> None:
    """Record the path the latest edit wants the track at (call under the track mutex)."""
    try:
        await redis.set(_target_key(track_id), target, ex=RENAME_TARGET_TTL_SECONDS)
    except (RedisError, OSError) as exc:
        raise BrokerUnavailableError(f"cannot note the rename: {exc}") from exc


async def rename_superseded(redis: Redis, track_id: int, target: str) -> bool:
    """Whether a later edit asked for another path than `target` (no note: not superseded)."""
    try:
        latest = await redis.get(_target_key(track_id))
    except (RedisError, OSError) as exc:
        raise BrokerUnavailableError(f"cannot read the rename note: {exc}") from exc
    if latest is None:
        return False
    text = latest.decode() if isinstance(latest, bytes) else str(latest)
    return text != target
