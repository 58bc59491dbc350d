"""The arq baseline's enqueue port: JSON on the right queue key, clear errors."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis

from mus.application.job_queue import JobRejectedError
from mus.core.broker_preflight import BrokerUnavailableError
from mus.core.config import Settings

from harness.arq_wiring import FUNCTIONS, ArqJobQueue, arq_queue_key, open_arq_pool
from harness.queue_backends import ARQ_MISSING


@pytest.fixture
async def settings(contract_redis_url: str) -> AsyncIterator[Settings]:
    client = redis.Redis.from_url(contract_redis_url)
    client.flushdb()
    try:
        yield Settings(redis_url=contract_redis_url)
    finally:
        client.flushdb()
        client.close()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def test_every_job_is_an_arq_function() -> None:
    from mus.jobs.registry import JOBS

    assert sorted(function.name for function in FUNCTIONS) == sorted(JOBS)


async def test_enqueue_puts_a_json_job_on_its_queue_key(settings: Settings) -> None:
    pool = open_arq_pool(settings)
    try:
        job_id = await ArqJobQueue(pool).enqueue("process_slow_metadata", track_id=7, revision=2)
        queued = await pool.zrange(arq_queue_key("low_priority"), 0, -1)
        assert [key.decode() for key in queued] == [job_id]
        raw = await pool.get(f"arq:job:{job_id}")
        job = json.loads(raw)
        assert job["f"] == "process_slow_metadata"
        assert job["k"] == {"track_id": 7, "revision": 2}
        for other in ("high_priority", "medium_priority"):
            assert await pool.zcard(arq_queue_key(other)) == 0
    finally:
        await pool.aclose()


async def test_unknown_job_raises_before_redis_sees_it(settings: Settings) -> None:
    pool = open_arq_pool(settings)
    try:
        with pytest.raises(JobRejectedError):
            await ArqJobQueue(pool).enqueue("no_such_job", track_id=1)
        assert await pool.dbsize() == 0
    finally:
        await pool.aclose()


async def test_broker_down_is_a_clear_error(settings: Settings) -> None:
    pool = open_arq_pool(settings.model_copy(update={"redis_url": closed_port_url()}))
    try:
        with pytest.raises(BrokerUnavailableError, match="broker unavailable"):
            await ArqJobQueue(pool).enqueue("handle_file_created", file_path="a.mp3")
    finally:
        await pool.aclose()


def test_without_arq_the_arq_leg_stops_in_one_line_and_the_streaq_leg_is_unaffected() -> None:
    """arq is test-only: hide it (as if not installed) and run both legs' start-up."""
    hide_arq = "import sys; sys.modules['arq'] = None; import pytest; "
    contract_root = Path(__file__).resolve().parents[1]

    def pytest_run(*args: str) -> subprocess.CompletedProcess[str]:
        code = hide_arq + f"sys.exit(pytest.main({list(args)!r}))"
        return subprocess.run(
            [sys.executable, "-c", code],
            check=False,
            cwd=contract_root,
            capture_output=True,
            text=True,
            timeout=120,
        )

    arq_leg = pytest_run("--queue-backend=arq", "--collect-only", "-q", "scenarios")
    assert arq_leg.returncode == pytest.ExitCode.USAGE_ERROR
    assert ARQ_MISSING in arq_leg.stderr
    streaq_leg = pytest_run(
        "--queue-backend=streaq", "--collect-only", "-q", "--snapshot-warn-unused", "scenarios"
    )
    assert streaq_leg.returncode == pytest.ExitCode.OK, streaq_leg.stdout + streaq_leg.stderr
