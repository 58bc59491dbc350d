"""A broker that answers but refuses writes: out of memory (`noeviction`), or unable to persist.

Redis past `maxmemory` with `noeviction` answers every write "OOM command not allowed", and one
whose snapshot failed answers "MISCONF"; PING still says PONG. Both pass once memory or disk is
back, so mus treats them like a broker that went away: wait and retry, never an error. This is
the one place that recognises the refusal (whichever client raised it) and the write probe that
tells it apart from a healthy broker.
"""

from __future__ import annotations

import asyncio
import logging
import re

from redis.asyncio import Redis
from redis.exceptions import OutOfMemoryError, RedisError
from redis.exceptions import ResponseError as RedisResponseError

PROBE_KEY = "mus:write-probe"
PROBE_TTL_MS = 10_000
PROBE_TIMEOUT_SECONDS = 2.0
WAIT_FIRST_SECONDS = 0.5
WAIT_MAX_SECONDS = 5.0

# redis-py strips the code into `OutOfMemoryError`; coredis keeps it in the message, after
# "Command # n (...) of pipeline caused error: " when the write was part of a pipeline.
_REFUSAL = re.compile(r"(?:^|: )(?:OOM|MISCONF) ")

logger = logging.getLogger(__name__)


def refuses_writes(exc: BaseException) -> bool:
    """Whether `exc` (or an error inside its group or its causes) is a broker refusing writes."""
    return refusing_error(exc) is not None


def refusing_error(exc: BaseException) -> BaseException | None:
    """The error inside `exc` (itself, its group, its causes) that is a refused write."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        error = pending.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, BaseExceptionGroup):
            pending.extend(error.exceptions)
        elif isinstance(error, OutOfMemoryError) or (
            # redis-py's ResponseError, or the queue client's own (told by its words, so that
            # core/ names no queue backend outside streaq_broker.py)
            (isinstance(error, RedisResponseError) or type(error).__name__ == "ResponseError")
            and _REFUSAL.search(str(error))
        ):
            return error
        for linked in (error.__cause__, error.__context__):
            if linked is not None:
                pending.append(linked)
    return None


async def write_probe(client: Redis) -> None:
    """Write a small key that expires by itself: PING answers even when writes are refused,
    this does not. Raises what the broker answered."""
    await client.set(PROBE_KEY, b"1", px=PROBE_TTL_MS)


async def write_refusal(url: str, *, timeout: float = PROBE_TIMEOUT_SECONDS) -> str | None:  # noqa: ASYNC109
    """None when the broker took the probe's write, else the sentence saying it refuses writes.

    A connection error is not a refusal (that is "unreachable", which PING already tells):
    it returns None too, so callers report each trouble once.
    """
    client: Redis = Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        await write_probe(client)
    except RedisError as exc:
        if refuses_writes(exc):
            return f"the broker refuses writes: {describe_refusal(exc)}"
        return None
    except OSError:
        return None
    finally:
        await client.aclose()
    return None


def describe_refusal(exc: BaseException) -> str:
    """One line for the log: the broker's own words, without a pipeline's or group's wrapping."""
    error = refusing_error(exc) or exc
    text = str(error)
    match = _REFUSAL.search(text)
    if match is not None:
        return text[match.start() :].removeprefix(": ")
    if isinstance(error, OutOfMemoryError):
        return f"OOM {text}"
    return text


async def wait_until_writable(url: str) -> None:
    """Probe with backoff until the broker takes a write again (or stops answering, which
    the caller's own reconnect handles)."""
    delay = WAIT_FIRST_SECONDS
    while True:
        await asyncio.sleep(delay)
        problem = await write_refusal(url)
        if problem is None:
            return
        logger.debug("%s; next probe in %.1fs", problem, delay)
        delay = min(delay * 2, WAIT_MAX_SECONDS)
