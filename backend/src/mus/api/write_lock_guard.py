"""The write lock as the API uses it: no Redis means 503 before any file is touched."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Iterable
from contextlib import asynccontextmanager

from redis.exceptions import RedisError

from mus.adapters.path_locks import WriteKind, WriteLock
from mus.application.job_queue import BrokerUnavailableError

logger = logging.getLogger(__name__)


@asynccontextmanager
async def held_write_lock(
    lock: WriteLock, relative_paths: Iterable[str], kind: WriteKind = WriteKind.ANY
) -> AsyncIterator[None]:
    """Hold `lock` on the paths; failing to take it raises BrokerUnavailableError.

    Failing to shorten it afterwards is only logged: the keys expire on their own TTL.
    """
    paths = list(relative_paths)
    hold = lock.hold(paths, kind)
    try:
        await hold.__aenter__()
    except (RedisError, OSError) as exc:
        raise BrokerUnavailableError(f"cannot take the write lock: {exc}") from exc
    try:
        yield
    except BaseException as exc:
        await _release(hold.__aexit__(type(exc), exc, exc.__traceback__), paths)
        raise
    await _release(hold.__aexit__(None, None, None), paths)


async def _release(release: Awaitable[object], paths: list[str]) -> None:
    try:
        await release
    except (RedisError, OSError) as exc:
        logger.warning("write lock on %s not released (expires by itself): %s", paths, exc)
