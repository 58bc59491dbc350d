"""docker/production/supervisord.conf run for real: a dropped file is indexed, SIGTERM ends all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from docker_files import SUPERVISORD_CONF

from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AudioSpec, CoverSpec
from mus.local_stack.redis_server import broker_answers, find_redis_server

from tests.process_probes import (
    children_of,
    free_port,
    get_json,
    gone,
    status_of,
    stop_process_and_children,
    wait_until,
)

BACKEND_DIR = Path(__file__).resolve().parents[2]
SUPERVISORD = Path(sys.executable).with_name("supervisord")
SUPERVISORCTL = Path(sys.executable).with_name("supervisorctl")
E2E_REDIS_DB = int(os.environ.get("MUS_E2E_REDIS_DB", "9"))
"""The database of the shared test Redis these tests use (MUS_E2E_REDIS_DB, default 9)."""
SONG = AudioSpec(
    "Sine Quartet/Test Pressing/01 Dropped In.flac",
    "flac",
    "Dropped In",
    "Sine Quartet",
    "Test Pressing",
    2.0,
    CoverSpec(300, 300, seed=5),
)


@pytest.fixture
def e2e_redis_url(redis_server_url: str) -> Iterator[str]:
    """Database E2E_REDIS_DB of the shared test Redis, flushed before and after."""
    url = f"{redis_server_url.rsplit('/', 1)[0]}/{E2E_REDIS_DB}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


def supervisord_env(tmp_path: Path, port: int, redis_url: str, embedded: bool) -> dict[str, str]:
    redis_server = find_redis_server()
    assert redis_server is not None, "redis-server is needed (apt-get install redis-server)"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"MUSIC_DIR_PATH", "DRAGONFLY_URL", "SECRET_KEY"}
    }
    (tmp_path / "run").mkdir()
    (tmp_path / "music").mkdir()
    env.update(
        MUS_PYTHON=sys.executable,
        MUS_APP_DIR=str(BACKEND_DIR),
        MUS_RUN_DIR=str(tmp_path / "run"),
        HOST="127.0.0.1",
        PORT=str(port),
        DATA_DIR_PATH=str(tmp_path / "data"),
        MUSIC_DIR_PATH=str(tmp_path / "music"),
        REDIS_URL=redis_url,
        MUS_EMBEDDED_REDIS="true" if embedded else "false",
        MUS_EMBEDDED_REDIS_PORT=redis_url.rsplit(":", 1)[1].split("/", maxsplit=1)[0],
        MUS_REDIS_SERVER=str(redis_server),
        MUS_EVENT_CHANNEL=f"mus:test-supervisord:{port}",
        APP_ENV="production",
        LOG_LEVEL="INFO",
        MUS_WORKER_PROCESSES="2",
    )
    return env


def program_states(env: dict[str, str]) -> dict[str, str]:
    result = subprocess.run(
        [str(SUPERVISORCTL), "-c", str(SUPERVISORD_CONF), "status"],
        env=env,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    return dict(line.split()[:2] for line in result.stdout.splitlines() if line.strip())


def run_supervisord_until_a_dropped_file_is_complete(
    tmp_path: Path, redis_url: str, *, embedded: bool
) -> dict[int, str]:
    """Start supervisord, index one dropped file, SIGTERM it; returns the children it had."""
    port = free_port()
    env = supervisord_env(tmp_path, port, redis_url, embedded)
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "supervisord.log"
    with log.open("ab") as sink:  # append mode: supervisord reopens /dev/stdout itself
        supervisord = subprocess.Popen(
            [str(SUPERVISORD), "-n", "-c", str(SUPERVISORD_CONF)],
            env=env,
            cwd=tmp_path,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    children: dict[int, str] = {}
    try:
        wait_until(lambda: status_of(f"{base}/api/v1/healthcheck") == 200, 60, "the api", log)
        expected = {
            "api": "RUNNING",
            "streaq-worker:streaq-worker-1": "RUNNING",
            "streaq-worker:streaq-worker-2": "RUNNING",
        }
        expected["redis"] = "RUNNING" if embedded else "STOPPED"
        wait_until(lambda: program_states(env) == expected, 30, f"programs {expected}", log)

        write_audio(SONG, tmp_path / "music")

        def dropped_file_is_complete() -> bool:
            items = get_json(f"{base}/api/v1/tracks")["items"]
            return [(i["file_path"], i["processing_status"]) for i in items] == [
                (SONG.relative_path, "COMPLETE")
            ]

        wait_until(dropped_file_is_complete, 60, "the dropped file to reach COMPLETE", log)
        (track,) = get_json(f"{base}/api/v1/tracks")["items"]
        assert (track["title"], track["artist"], track["has_cover"]) == (
            "Dropped In",
            "Sine Quartet",
            True,
        )
        assert track["duration"] == pytest.approx(2.0, abs=0.1)

        children = children_of(supervisord.pid)
        supervisord.send_signal(signal.SIGTERM)
        assert supervisord.wait(timeout=60) == 0, log.read_text()[-5000:]
    finally:
        stop_process_and_children(supervisord, signal.SIGTERM)
    leftovers = {pid: cmd for pid, cmd in children.items() if not gone(pid)}
    assert leftovers == {}
    assert status_of(f"{base}/api/v1/healthcheck") is None
    return children


@pytest.mark.e2e
@pytest.mark.timeout(180)
def test_supervisord_with_an_external_redis(tmp_path: Path, e2e_redis_url: str) -> None:
    children = run_supervisord_until_a_dropped_file_is_complete(
        tmp_path, e2e_redis_url, embedded=False
    )
    commands = sorted(children.values())
    assert len(commands) == 3
    assert commands[0].endswith("-m streaq run mus.worker:worker")
    assert commands[1] == commands[0]  # MUS_WORKER_PROCESSES=2
    assert "-m uvicorn mus.main:app" in commands[2]
    assert redis.Redis.from_url(e2e_redis_url).ping()  # not ours to stop


@pytest.mark.e2e
@pytest.mark.timeout(180)
def test_supervisord_with_its_embedded_redis(tmp_path: Path) -> None:
    redis_port = free_port()
    url = f"redis://127.0.0.1:{redis_port}/0"
    children = run_supervisord_until_a_dropped_file_is_complete(tmp_path, url, embedded=True)
    assert len(children) == 4  # api, two workers, redis
    assert any(f"redis-server 127.0.0.1:{redis_port}" in cmd for cmd in children.values())
    assert (tmp_path / "data" / "redis" / "appendonlydir").is_dir()
    assert not broker_answers(url, timeout=0.5)
