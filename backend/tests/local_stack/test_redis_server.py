"""The broker side of `mus run`: which URLs it may serve itself, and a real redis-server."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import redis

from mus.core.broker_preflight import mask_url
from mus.local_stack.managed_process import stop_processes
from mus.local_stack.redis_server import (
    BrokerError,
    RedisTarget,
    broker_answers,
    find_redis_server,
    local_redis_process,
    wait_until_reachable,
)

from tests.process_probes import free_port


@pytest.fixture
def redis_binary() -> Path:
    binary = find_redis_server()
    if binary is None:
        pytest.fail("these tests need redis-server (apt-get install redis-server)", pytrace=False)
    return binary


@pytest.mark.parametrize(
    ("url", "is_local", "port"),
    [
        ("redis://127.0.0.1:6379/0", True, 6379),
        ("redis://localhost/3", True, 6379),
        ("redis://127.0.0.5:7000", True, 7000),
        ("redis://[::1]:6390/0", True, 6390),
        ("redis://:pw@localhost:6400/1", True, 6400),
        ("rediss://localhost:6380", True, 6380),
        ("redis://redis:6379/0", False, 6379),
        ("redis://cache.example.org:6379/0", False, 6379),
        ("redis://10.1.2.3:6379/0", False, 6379),
        ("unix:///run/redis/redis.sock", False, 6379),
    ],
)
def test_only_loopback_tcp_urls_count_as_local(url: str, is_local: bool, port: int) -> None:
    target = RedisTarget.parse(url)
    assert target.is_local is is_local
    assert target.port == port


def test_a_url_we_cannot_use_is_a_clear_error() -> None:
    with pytest.raises(BrokerError, match=r"must start with redis://"):
        RedisTarget.parse("http://127.0.0.1:6379")
    with pytest.raises(BrokerError, match="not a valid URL"):
        RedisTarget.parse("redis://127.0.0.1:notaport/0")


def test_passwords_never_reach_messages() -> None:
    assert mask_url("redis://:hunter2@localhost:6379/0") == "redis://:***@localhost:6379/0"
    assert mask_url("redis://bob:hunter2@localhost/0") == "redis://bob:***@localhost/0"
    assert mask_url("redis://localhost:6379/0") == "redis://localhost:6379/0"
    with pytest.raises(BrokerError) as caught:
        RedisTarget.parse("http://:hunter2@localhost")
    assert "hunter2" not in str(caught.value)


def test_reachability_of_a_real_and_a_closed_port(redis_server_url: str) -> None:
    assert broker_answers(redis_server_url)
    assert not broker_answers(f"redis://127.0.0.1:{free_port()}/0", timeout=0.5)


def test_local_server_has_aof_the_password_and_a_data_dir_with_spaces(
    tmp_path: Path, redis_binary: Path
) -> None:
    port = free_port()
    url = f"redis://:s3cr%20t%22x@127.0.0.1:{port}/0"
    data_dir = tmp_path / "data dir" / "ré dis"
    process = local_redis_process(redis_binary, RedisTarget.parse(url), data_dir)
    process.start()
    try:
        wait_until_reachable(url, process, timeout=10)
        client = redis.Redis.from_url(url)
        try:
            assert client.config_get("appendonly") == {"appendonly": "yes"}
            assert client.config_get("dir") == {"dir": str(data_dir)}
            assert client.config_get("bind") == {"bind": "127.0.0.1"}
            client.set("k", "v")
        finally:
            client.close()
        anonymous = redis.Redis(host="127.0.0.1", port=port)
        with pytest.raises(redis.AuthenticationError):
            anonymous.ping()
        anonymous.close()
        # Up, though it refuses us: mus run must not start a second server on its port.
        assert broker_answers(f"redis://127.0.0.1:{port}/0")
    finally:
        assert stop_processes([process], timeout=10) == []
    assert not broker_answers(url, timeout=0.5)
    assert (data_dir / "appendonlydir").is_dir()
    assert (data_dir / "redis.conf").stat().st_mode & 0o777 == 0o600


def test_a_server_that_cannot_bind_is_reported_not_waited_for(
    tmp_path: Path, redis_binary: Path
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        url = f"redis://127.0.0.1:{port}/0"
        process = local_redis_process(redis_binary, RedisTarget.parse(url), tmp_path / "redis")
        process.start()
        try:
            with pytest.raises(BrokerError, match="redis-server exited with code"):
                wait_until_reachable(url, process, timeout=10)
        finally:
            stop_processes([process], timeout=5)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("rediss://127.0.0.1:6390/0", "only for a plain redis:// URL"),
        ("redis://alice:pw@127.0.0.1:6390/0", "ACL user 'alice'"),
    ],
)
def test_urls_mus_run_cannot_serve_itself_start_nothing(
    tmp_path: Path, redis_binary: Path, url: str, message: str
) -> None:
    with pytest.raises(BrokerError, match=message):
        local_redis_process(redis_binary, RedisTarget.parse(url), tmp_path / "redis")
    assert not (tmp_path / "redis").exists()
