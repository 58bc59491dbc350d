"""The write lock mutes the watcher for mus's own writes, briefly and only for those paths;
the path mutex serialises jobs on a path and outlives no dead holder for long."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from mus.adapters.path_locks import (
    HOLD_SECONDS,
    MUTEX_PREFIX,
    WriteKind,
    WriteLock,
    path_mutex,
)
from mus.core.config import Settings


async def test_paths_are_locked_while_held_and_for_the_grace_period(redis_url: str) -> None:
    client = Redis.from_url(redis_url)
    lock = WriteLock(client, prefix="test-lock", grace_seconds=0.3)
    try:
        assert not await lock.is_locked("a/b.mp3")
        async with lock.hold(["a/b.mp3", "c.flac"]):
            assert await lock.is_locked("a/b.mp3")
            assert await lock.is_locked("c.flac")
            assert not await lock.is_locked("other.mp3")
        assert await lock.is_locked("a/b.mp3")  # the watcher reports after its debounce
        await asyncio.sleep(0.5)
        assert not await lock.is_locked("a/b.mp3")
    finally:
        await client.aclose()


async def test_lock_expires_even_if_the_holder_dies(redis_url: str) -> None:
    client = Redis.from_url(redis_url)
    lock = WriteLock(client, prefix="test-lock")
    try:
        cm = lock.hold(["x.mp3"], ttl_seconds=0.2)
        await cm.__aenter__()  # never exited: a crashed writer
        assert await lock.is_locked("x.mp3")
        await asyncio.sleep(0.35)
        assert not await lock.is_locked("x.mp3")
    finally:
        await client.aclose()


async def test_a_content_write_mutes_only_modifications(redis_url: str) -> None:
    client = Redis.from_url(redis_url)
    lock = WriteLock(client, prefix="test-lock")
    try:
        async with lock.hold(["song.mp3"], WriteKind.CONTENT):
            assert await lock.kind_of("song.mp3") is WriteKind.CONTENT
            assert await lock.mutes("song.mp3", "handle_file_modified")
            # The user deleting or moving the file meanwhile is not mus's echo.
            assert not await lock.mutes("song.mp3", "handle_file_deleted")
            assert not await lock.mutes("song.mp3", "handle_file_moved")
        async with lock.hold(["gone.mp3"]):
            assert await lock.mutes("gone.mp3", "handle_file_deleted")
            assert await lock.mutes("gone.mp3", "handle_file_created")
        assert not await lock.mutes("other.mp3", "handle_file_modified")
    finally:
        await client.aclose()


async def test_a_live_job_keeps_its_path_mutex_past_the_hold_time(redis_url: str) -> None:
    client = Redis.from_url(redis_url)
    try:
        async with path_mutex(client, ["long.mp3"]):
            await asyncio.sleep(HOLD_SECONDS * 1.5)
            assert await client.exists(f"{MUTEX_PREFIX}:long.mp3")
        assert not await client.exists(f"{MUTEX_PREFIX}:long.mp3")
    finally:
        await client.aclose()


async def test_a_killed_holders_mutex_is_free_before_its_job_is_redelivered(
    redis_url: str,
) -> None:
    """What a SIGKILLed worker leaves: the key, with nobody renewing it."""
    client = Redis.from_url(redis_url)
    try:
        orphan = client.lock(f"{MUTEX_PREFIX}:held.mp3", timeout=HOLD_SECONDS)
        assert await orphan.acquire()
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with path_mutex(client, ["held.mp3"]):
            waited = loop.time() - started
        assert waited <= HOLD_SECONDS + 0.5
        assert Settings().worker_redelivery_seconds > HOLD_SECONDS
    finally:
        await client.aclose()


async def test_a_recorded_content_write_mutes_only_that_content(redis_url: str) -> None:
    """An outside edit right after mus's own write was taken for its echo (3 s grace)."""
    client = Redis.from_url(redis_url)
    lock = WriteLock(client, prefix="test-lock", grace_seconds=5)

    async def ours() -> str | None:
        return "fingerprint-of-what-mus-wrote"

    async def theirs() -> str | None:
        return "fingerprint-of-an-outside-edit"

    try:
        async with lock.hold(["song.mp3"], WriteKind.CONTENT):
            await lock.record_content("song.mp3", "fingerprint-of-what-mus-wrote")
        assert await lock.kind_of("song.mp3") is WriteKind.CONTENT  # within the grace
        assert await lock.mutes("song.mp3", "handle_file_modified", ours)
        assert not await lock.mutes("song.mp3", "handle_file_modified", theirs)
        assert await lock.mutes("song.mp3", "handle_file_modified")  # nothing to compare
    finally:
        await client.aclose()


async def test_held_among_names_the_held_paths_of_a_batch_in_one_look(redis_url: str) -> None:
    client = Redis.from_url(redis_url)
    lock = WriteLock(client, prefix="test-held-among", grace_seconds=0.3)
    try:
        assert await lock.held_among([]) == set()
        async with lock.hold(["a/b.mp3"]), lock.hold(["c.flac"], WriteKind.CONTENT):
            found = await lock.held_among(["a/b.mp3", "c.flac", "other.mp3"])
        assert found == {"a/b.mp3", "c.flac"}
    finally:
        await client.aclose()
