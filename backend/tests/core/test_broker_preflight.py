"""The probe against the real Redis, a closed port, and stubs answering like Dragonfly/Redis 6.

DragonflyDB and Redis 6 are not installed here: a tiny RESP server answers INFO with lines
copied from their sources and every other command with their `unknown command` error, so the
probe runs its real network path against them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
import redis

from mus.core.broker_preflight import (
    BrokerInfo,
    identify_server,
    mask_url,
    parse_version,
    probe_broker,
)

from tests.process_probes import free_port
from tests.stub_broker import DRAGONFLY_INFO, REDIS6_INFO, StartStub


def info(**overrides: object) -> BrokerInfo:
    values: dict[str, object] = {
        "url": "redis://broker:6379/0",
        "reachable": True,
        "server": "redis",
        "version": "7.0.15",
        "has_functions": True,
        "error": None,
    }
    values.update(overrides)
    return BrokerInfo(**values)  # type: ignore[arg-type]


# --- the real Redis ---------------------------------------------------------------------------


async def test_real_redis_is_usable(redis_url: str) -> None:
    result = await probe_broker(redis_url)

    assert result.reachable
    assert result.server == "redis"
    version = parse_version(result.version)
    assert version is not None
    assert version >= (7,)
    assert result.has_functions
    assert result.error is None
    assert result.problem() is None
    assert result.url == redis_url


@pytest.fixture
def user_without_functions(redis_server_url: str) -> Iterator[tuple[str, str]]:
    """A real ACL user that may do everything but FUNCTION: the server refuses, not ignores."""
    client = redis.Redis.from_url(redis_server_url)
    name, password = f"mus-probe-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    client.acl_setuser(
        name, enabled=True, passwords=[f"+{password}"], keys=["*"], commands=["+@all", "-function"]
    )
    try:
        yield name, password
    finally:
        client.acl_deluser(name)
        client.close()


async def test_refused_function_list_is_reported_with_the_reason(
    redis_server_url: str, user_without_functions: tuple[str, str]
) -> None:
    name, password = user_without_functions
    url = redis_server_url.replace("redis://", f"redis://{name}:{password}@", 1)

    result = await probe_broker(url)

    assert result.reachable
    assert result.server == "redis"
    assert not result.has_functions
    assert result.error is not None
    assert "no permissions" in result.error
    problem = result.problem()
    assert problem is not None
    assert "refused FUNCTION LIST" in problem
    assert password not in problem
    assert password not in result.url


# --- a broker that is not there ---------------------------------------------------------------


async def test_closed_port_is_unreachable_with_a_clear_error() -> None:
    port = free_port()

    result = await probe_broker(f"redis://127.0.0.1:{port}/0", timeout=1.0)

    assert not result.reachable
    assert result.server is None
    assert result.version is None
    assert not result.has_functions
    assert result.error == "Connection refused"
    assert result.problem() == (
        f"cannot reach the broker at redis://127.0.0.1:{port}/0: Connection refused"
    )


async def test_server_that_never_answers_times_out_quickly() -> None:
    async def accept_and_stay_silent(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.read()  # until the probe gives up and closes
        writer.close()

    server = await asyncio.start_server(accept_and_stay_silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    try:
        started = loop.time()
        result = await probe_broker(f"redis://127.0.0.1:{port}/0", timeout=0.3)
        elapsed = loop.time() - started
    finally:
        server.close()
        await server.wait_closed()

    assert not result.reachable
    assert result.error is not None
    assert "timeout" in result.error.lower() or "no answer" in result.error
    assert elapsed < 2.0


async def test_password_never_shows_for_an_unreachable_broker() -> None:
    port = free_port()

    result = await probe_broker(f"redis://:s3cret-pw@127.0.0.1:{port}/0", timeout=1.0)

    assert not result.reachable
    assert result.url == f"redis://:***@127.0.0.1:{port}/0"
    problem = result.problem()
    assert problem is not None
    assert "s3cret-pw" not in problem


async def test_url_that_is_not_a_redis_url_is_a_result_not_a_raise() -> None:
    result = await probe_broker("http://127.0.0.1:6379")

    assert not result.reachable
    assert result.error is not None
    assert result.error.startswith("invalid broker URL:")
    assert "redis://" in result.error


# --- servers without Functions, over a real socket --------------------------------------------


async def test_dragonfly_like_server_has_no_functions(stub_broker: StartStub) -> None:
    stub = await stub_broker(DRAGONFLY_INFO)

    result = await probe_broker(stub.url)

    assert result.reachable
    assert (result.server, result.version) == ("dragonfly", "1.25.1")
    assert not result.has_functions
    assert result.error is None  # "unknown command" means no Functions, not a failure
    assert result.problem() == (
        f"the broker at {stub.url} is DragonflyDB 1.25.1, which has no Redis Functions "
        "(FUNCTION LOAD/FCALL); mus needs Redis >= 7 or Valkey >= 7.2."
    )
    assert "FUNCTION LIST" in stub.commands
    assert not any(command.startswith(("FUNCTION LOAD", "FCALL")) for command in stub.commands)


async def test_redis_6_is_too_old(stub_broker: StartStub) -> None:
    stub = await stub_broker(REDIS6_INFO)

    result = await probe_broker(stub.url)

    assert result.reachable
    assert (result.server, result.version) == ("redis", "6.2.14")
    assert not result.has_functions
    assert result.problem() == (
        f"the broker at {stub.url} is Redis 6.2.14, too old; mus needs Redis >= 7 or Valkey >= 7.2."
    )


# --- pure logic: INFO, versions, sentences ----------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"redis_version": "7.0.15", "redis_mode": "standalone"}, ("redis", "7.0.15")),
        ({"redis_version": "7.4.0", "dragonfly_version": "df-v1.25.1"}, ("dragonfly", "1.25.1")),
        (
            {"redis_version": "7.2.4", "server_name": "valkey", "valkey_version": "8.0.1"},
            ("valkey", "8.0.1"),
        ),
        ({"redis_version": "7.2.4", "server_name": "valkey"}, ("valkey", "7.2.4")),
        ({"redis_version": "7.2.5", "server_name": "Redict"}, ("redict", "7.2.5")),
        ({}, (None, None)),
    ],
)
def test_identify_server_prefers_the_product_own_version(
    fields: dict[str, object], expected: tuple[str | None, str | None]
) -> None:
    assert identify_server(fields) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7.0.15", (7, 0, 15)),
        ("df-v1.25.1", (1, 25, 1)),
        ("7.2.4-rc1", (7, 2, 4)),
        ("255.255.255", (255, 255, 255)),
        ("unknown", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_version(text: str | None, expected: tuple[int, ...] | None) -> None:
    assert parse_version(text) == expected


def test_usable_brokers_have_no_problem() -> None:
    assert info().problem() is None
    assert info(server="valkey", version="7.2.4").problem() is None
    assert info(server="valkey", version="8.0.1").problem() is None
    assert info(server="redis", version="8.2.1").problem() is None


def test_old_valkey_is_too_old_even_with_functions() -> None:
    problem = info(server="valkey", version="7.0.0").problem()

    assert problem == (
        "the broker at redis://broker:6379/0 is Valkey 7.0.0, too old; "
        "mus needs Redis >= 7 or Valkey >= 7.2."
    )


def test_unreadable_version_of_redis_is_a_problem() -> None:
    problem = info(version="unknown").problem()

    assert problem is not None
    assert "version is unreadable ('unknown')" in problem


def test_unreachable_comes_first_and_carries_the_error() -> None:
    down = info(
        reachable=False, server=None, version=None, has_functions=False, error="Timeout reading"
    )

    assert down.problem() == "cannot reach the broker at redis://broker:6379/0: Timeout reading"
    assert down.version_problem() is None
    assert down.functions_problem() is None


def test_unknown_server_without_functions_is_named() -> None:
    problem = info(server="keydb", version="6.3.4", has_functions=False).problem()

    assert problem == (
        "the broker at redis://broker:6379/0 is keydb 6.3.4, which has no Redis Functions "
        "(FUNCTION LOAD/FCALL); mus needs Redis >= 7 or Valkey >= 7.2."
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://:pw@host:6379/1", "redis://:***@host:6379/1"),
        ("rediss://user:p%40ss@host:6380", "rediss://user:***@host:6380"),
        (
            "redis://host/0?password=pw&socket_timeout=3",
            "redis://host/0?password=***&socket_timeout=3",
        ),
        ("unix:///run/redis.sock?db=2", "unix:///run/redis.sock?db=2"),
        ("redis://user@host:6379", "redis://user@host:6379"),
    ],
)
def test_mask_url(url: str, expected: str) -> None:
    assert mask_url(url) == expected
