"""The write lock mutes the watcher for mus's own writes, briefly and only for those paths."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from mus.adapters.path_locks import WriteKind, WriteLock


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
