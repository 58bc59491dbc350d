"""Ask the broker what it is, and refuse an unfit one with a sentence, not a stack trace.

streaq >= 6 loads its Lua code with Redis Functions (FUNCTION LOAD/FCALL) as soon as it
connects: the broker must be Redis >= 7 or Valkey >= 7.2. DragonflyDB speaks the protocol but
has no Functions. The api, the worker, `mus run` and `mus doctor` all ask here first; this is
also the one place that says whether a broker answers at all, and how its URL is shown.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from redis.asyncio import Redis
from redis.exceptions import AuthenticationError, RedisError, ResponseError

MASK = "***"
REQUIREMENT = "mus needs Redis >= 7 or Valkey >= 7.2"
MINIMUM_VERSIONS: dict[str, tuple[int, ...]] = {"redis": (7,), "valkey": (7, 2)}
PRODUCT_NAMES = {"redis": "Redis", "valkey": "Valkey", "dragonfly": "DragonflyDB"}

_VERSION_NUMBERS = re.compile(r"\d+(?:\.\d+)*")


def mask_url(url: str) -> str:
    """The URL with any password replaced by `***`, so it can be printed and logged."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url
    masked = url
    if password is not None:
        credentials, _, host = parts.netloc.rpartition("@")
        user = credentials.partition(":")[0]
        masked = masked.replace(parts.netloc, f"{user}:{MASK}@{host}", 1)
    if parts.query:
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if any(key == "password" for key, _ in pairs):
            query = urlencode(
                [(key, MASK if key == "password" else value) for key, value in pairs], safe="*"
            )
            head, _, _ = masked.partition("?")
            masked = f"{head}?{query}" + (f"#{parts.fragment}" if parts.fragment else "")
    return masked


def parse_version(text: str | None) -> tuple[int, ...] | None:
    """`7.0.15` -> (7, 0, 15); `df-v1.25.1` -> (1, 25, 1); None when there is no number."""
    if not text:
        return None
    match = _VERSION_NUMBERS.search(text)
    if match is None:
        return None
    return tuple(int(part) for part in match.group(0).split("."))


def identify_server(info: dict[str, Any]) -> tuple[str | None, str | None]:
    """(server, version) from INFO server; forks report a fake `redis_version`, so theirs wins."""
    dragonfly = info.get("dragonfly_version")
    if dragonfly:
        version = parse_version(str(dragonfly))
        return "dragonfly", ".".join(map(str, version)) if version else str(dragonfly)
    if info.get("valkey_version"):
        return "valkey", str(info["valkey_version"])
    server_name = str(info.get("server_name") or "").strip().lower()
    redis_version = info.get("redis_version")
    if server_name == "valkey":
        return "valkey", str(redis_version) if redis_version else None
    if server_name:
        own = info.get(f"{server_name}_version") or redis_version
        return server_name, str(own) if own else None
    if redis_version:
        return "redis", str(redis_version)
    return None, None


@dataclass(frozen=True, slots=True)
class BrokerInfo:
    """What one probe learned; `problem()` turns it into the one sentence a user needs."""

    url: str
    reachable: bool
    server: str | None = None
    version: str | None = None
    has_functions: bool = False
    error: str | None = None
    answered: bool = False
    """A server answered, even one that refused us (a wrong password): something is there."""

    @property
    def product(self) -> str:
        """Human name of the server, e.g. `Redis 7.0.15` or `DragonflyDB 1.25.1`."""
        name = PRODUCT_NAMES.get(self.server or "", self.server or "an unknown server")
        return f"{name} {self.version}" if self.version else name

    def unreachable_problem(self) -> str | None:
        """Why mus cannot talk to the broker at all, or None."""
        if self.reachable:
            return None
        return f"cannot reach the broker at {self.url}: {self.error or 'no answer'}"

    def version_problem(self) -> str | None:
        """Redis < 7 or Valkey < 7.2 (or an unreadable version of either), else None.

        Other servers number their releases their own way; for them Functions decide.
        """
        if not self.reachable or self.server not in MINIMUM_VERSIONS:
            return None
        minimum = MINIMUM_VERSIONS[self.server]
        version = parse_version(self.version)
        if version is None:
            return (
                f"the broker at {self.url} is {self.product} but its version is unreadable "
                f"({self.version!r}); {REQUIREMENT}."
            )
        if version < minimum:
            return f"the broker at {self.url} is {self.product}, too old; {REQUIREMENT}."
        return None

    def functions_problem(self) -> str | None:
        """No Redis Functions (Dragonfly, Redis 6, a refused FUNCTION LIST), else None."""
        if not self.reachable or self.has_functions:
            return None
        if self.error:
            return (
                f"the broker at {self.url} ({self.product}) refused FUNCTION LIST: {self.error}; "
                f"{REQUIREMENT} with Redis Functions available."
            )
        return (
            f"the broker at {self.url} is {self.product}, which has no Redis Functions "
            f"(FUNCTION LOAD/FCALL); {REQUIREMENT}."
        )

    def problem(self) -> str | None:
        """None if mus's queues can run on this broker; else one sentence saying what to fix."""
        return self.unreachable_problem() or self.version_problem() or self.functions_problem()


def _os_reason(exc: BaseException) -> str | None:
    """`Connection refused` and the like, from the first OSError in the exception chain."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, OSError):
            errno = cause.errno
            if isinstance(cause, socket.gaierror) or not errno or errno < 0:
                return None
            return os.strerror(errno)
        cause = cause.__cause__ or cause.__context__
    return None


def _error_text(exc: BaseException) -> str:
    """`Connection refused` rather than redis-py's errno-and-tuple wording; the URL says where."""
    return _os_reason(exc) or str(exc).strip() or type(exc).__name__


async def _has_functions(client: Redis) -> tuple[bool, str | None]:
    """FUNCTION LIST answers on a server with Functions; nothing is loaded."""
    try:
        await client.execute_command("FUNCTION", "LIST")  # type: ignore[no-untyped-call]
    except ResponseError as exc:
        message = str(exc).lower()
        if "unknown command" in message or "unknown subcommand" in message:
            return False, None
        return False, _error_text(exc)
    return True, None


async def _probe(client: Redis, url: str) -> BrokerInfo:
    info = await client.info("server")
    server, version = identify_server(info)
    has_functions, error = await _has_functions(client)
    return BrokerInfo(
        url=url,
        reachable=True,
        server=server,
        version=version,
        has_functions=has_functions,
        error=error,
        answered=True,
    )


async def probe_broker(url: str, *, timeout: float = 2.0) -> BrokerInfo:  # noqa: ASYNC109
    """Connect, read INFO server, try FUNCTION LIST; a down broker is a result, never a raise."""
    shown = mask_url(url)

    def down(error: str, *, answered: bool = False) -> BrokerInfo:
        return BrokerInfo(url=shown, reachable=False, error=error, answered=answered)

    try:
        client = Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    except ValueError as exc:
        return down(f"invalid broker URL: {_error_text(exc)}")
    try:
        async with asyncio.timeout(timeout * 2):
            return await _probe(client, shown)
    except TimeoutError:
        return down(f"no answer within {timeout * 2:g}s")
    except AuthenticationError as exc:
        return down(_error_text(exc), answered=True)
    except (RedisError, OSError) as exc:
        return down(_error_text(exc))
    finally:
        await client.aclose()


class BrokerUnavailableError(RuntimeError):
    """The broker is away (down, restarting, unreachable): nothing was changed, try again.

    What the api answers with 503, what a job is retried for and never marked ERROR for.
    """


class BrokerRefusedError(RuntimeError):
    """The broker answers but cannot run mus's queues (no Functions, too old)."""


async def refuse_unfit_broker(url: str, *, allow_unreachable: bool) -> BrokerInfo:
    """Raise BrokerRefusedError with the probe's sentence when the broker is unfit.

    `allow_unreachable`: the api starts without a broker (it answers 503 until one
    appears); a worker has nothing to do without one and refuses that too.
    """
    info = await probe_broker(url)
    if not info.reachable and allow_unreachable:
        return info
    problem = info.problem()
    if problem is not None:
        raise BrokerRefusedError(problem)
    return info
