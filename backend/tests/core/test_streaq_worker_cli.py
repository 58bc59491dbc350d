"""The real `streaq run mus.worker:worker`: preflight sentences and subset workers."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from mus.adapters.persistence.database import Database
from mus.adapters.persistence.track_repository import TrackRepository
from mus.adapters.queue.streaq_job_queue import StreaqConnection
from mus.core.config import Settings
from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AudioSpec
from mus.worker import create_worker

from tests.process_probes import free_port
from tests.queued_jobs import queued_jobs
from tests.stub_broker import DRAGONFLY_INFO, REDIS6_INFO, StartStub

STREAQ = Path(sys.executable).with_name("streaq")
WORKER = "mus.worker:worker"
REQUIREMENT = "mus needs Redis >= 7 or Valkey >= 7.2."


async def streaq_run(
    settings: Settings,
    *args: str,
    timeout_seconds: float = 60,
    target: str = WORKER,
    **env: str,
) -> tuple[int, str]:
    """Run the CLI to its end; (exit code, stdout and stderr together)."""
    environment = {
        **os.environ,
        "REDIS_URL": settings.redis_url,
        "DATA_DIR_PATH": str(settings.data_dir_path),
        "MUSIC_DIR_PATH": str(settings.music_dir_path),
        **env,
    }
    process = await asyncio.create_subprocess_exec(
        str(STREAQ), "run", *args, target,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout_seconds)
    except TimeoutError:
        process.kill()
        await process.wait()
        pytest.fail(f"`streaq run {target}` did not exit within {timeout_seconds:.0f}s")
    assert process.returncode is not None
    return process.returncode, output.decode()


@pytest.mark.parametrize(
    ("info", "product"),
    [
        (DRAGONFLY_INFO, "is DragonflyDB 1.25.1, which has no Redis Functions"),
        (REDIS6_INFO, "is Redis 6.2.14, too old"),
    ],
    ids=["dragonfly", "redis-6"],
)
async def test_an_unfit_broker_stops_the_worker_with_one_sentence(
    settings: Settings, stub_broker: StartStub, info: str, product: str
) -> None:
    stub = await stub_broker(info)

    code, output = await streaq_run(settings.model_copy(update={"redis_url": stub.url}))

    assert code == 1
    assert output.strip().startswith(f"mus worker not started: the broker at {stub.url} {product}")
    assert output.strip().endswith(REQUIREMENT)
    assert len(output.strip().splitlines()) == 1
    assert not any(command.startswith(("FUNCTION LOAD", "FCALL")) for command in stub.commands)


async def test_no_broker_stops_the_worker_with_one_sentence(settings: Settings) -> None:
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"

    code, output = await streaq_run(settings.model_copy(update={"redis_url": url}))

    assert code == 1
    masked = url.replace("hunter2", "***")
    assert output.strip() == (
        f"mus worker not started: cannot reach the broker at {masked}: Connection refused"
    )


async def test_a_misspelt_queue_is_named(settings: Settings) -> None:
    code, output = await streaq_run(settings, MUS_WORKER_QUEUES="high_priority,urgent")

    assert code == 1
    assert output.strip().startswith(
        "mus worker not started: MUS_WORKER_QUEUES: unknown queue(s) ['urgent']"
    )


async def test_the_old_entry_name_says_where_the_worker_went(settings: Settings) -> None:
    """A stale compose override still runs `mus.core.streaq_broker:worker`: one sentence."""
    code, output = await streaq_run(settings, target="mus.core.streaq_broker:worker")

    assert code == 1
    assert output.strip() == (
        "mus worker not started: mus.core.streaq_broker:worker moved; "
        "run `streaq run mus.worker:worker`"
    )


async def test_the_api_does_not_build_the_cli_worker(settings: Settings) -> None:
    """MUS_WORKER_QUEUES is the worker's setting: a typo in it must not stop the api."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import mus.main, mus.worker as w; print(w.PRIORITIES)",
        env={**os.environ, "MUS_WORKER_QUEUES": "urgent"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, output.decode()


async def test_a_dedicated_worker_runs_only_its_queues(
    settings: Settings, database: Database
) -> None:
    write_audio(AudioSpec("new.wav", "wav", title="New"), settings.music_dir_path)
    connection = StreaqConnection(settings)
    await connection.start()
    try:
        await connection.enqueue("handle_file_created", file_path="new.wav")
        await connection.enqueue("process_slow_metadata", track_id=424242)
    finally:
        await connection.close()

    code, output = await streaq_run(settings, "--burst", MUS_WORKER_QUEUES="high_priority")

    assert code == 0, output
    async with database.session() as session:
        track = await TrackRepository(session).get_by_path("new.wav")
    assert track is not None, output
    # handle_file_created chained its own slow job; both low-priority jobs still wait.
    waiting = await queued_jobs(settings, "low_priority")
    assert sorted(kwargs["track_id"] for _, kwargs in waiting) == sorted([424242, track.id])
    assert {task for task, _ in waiting} == {"process_slow_metadata"}


async def appears(path: Path, within_seconds: float) -> None:
    async with asyncio.timeout(within_seconds):
        while True:
            if path.exists():
                return
            await asyncio.sleep(0.02)


GRACEFUL_WORKER = """
import asyncio, sys
from pathlib import Path
from mus.core.config import get_settings
from mus.worker import worker_from_settings

marks = Path(sys.argv[1])
worker = worker_from_settings(get_settings())


@worker.task(name="test_slow_job")
async def test_slow_job() -> None:
    (marks / "started").touch()
    await asyncio.sleep(1.5)
    (marks / "finished").touch()


worker.run_sync()
"""


@pytest.mark.parametrize(("grace", "finishes"), [("20", True), ("0", False)])
async def test_a_running_job_gets_the_grace_period_on_sigterm(
    settings: Settings, tmp_path: Path, grace: str, finishes: bool
) -> None:
    async with create_worker(settings) as client:
        await client.enqueue_unsafe("test_slow_job").start(priority="high_priority")
    environment = {
        **os.environ,
        "REDIS_URL": settings.redis_url,
        "DATA_DIR_PATH": str(settings.data_dir_path),
        "MUS_WORKER_GRACE_SECONDS": grace,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", GRACEFUL_WORKER, str(tmp_path),
        env=environment, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        await appears(tmp_path / "started", within_seconds=30)
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert (tmp_path / "finished").exists() is finishes, output.decode()
