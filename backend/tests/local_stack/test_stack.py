"""`mus run` for real: its own Redis, api, three workers, demo library, and a clean Ctrl-C."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import redis

from mus.core.config import Settings
from mus.demo.demo_library import DEMO_SPECS
from mus.local_stack.managed_process import ManagedProcess
from mus.local_stack.redis_server import broker_answers, find_redis_server
from mus.local_stack.stack import (
    DEMO_MARKER_NAME,
    ChildExitedError,
    LocalStack,
    LocalStackError,
    http_base_url,
    music_folder_is_empty,
    run_local_stack,
)

from tests.process_probes import (
    children_of,
    free_port,
    get_json,
    gone,
    status_of,
    stop_process_and_children,
    wait_until,
)
from tests.stub_broker import DRAGONFLY_INFO, StartStub

RUN_STACK = (
    "import sys\n"
    "from mus.core.config import get_settings\n"
    "from mus.local_stack.stack import run_local_stack\n"
    "sys.exit(run_local_stack(get_settings()))\n"
)


def quiet_settings(tmp_path: Path, **values: Any) -> Settings:
    """Settings from arguments only, so the tests' environment cannot leak in."""
    return Settings(
        data_dir_path=tmp_path / "data",
        music_dir_override=None,
        redis_url=values.pop("redis_url", "redis://127.0.0.1:6379/13"),
        port=values.pop("port", free_port()),
        **values,
    )


# -- the pieces ------------------------------------------------------------------------------


def test_hidden_entries_do_not_make_a_music_folder_non_empty(tmp_path: Path) -> None:
    (tmp_path / ".uploads").mkdir()
    (tmp_path / ".DS_Store").write_bytes(b"")
    assert music_folder_is_empty(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    assert not music_folder_is_empty(tmp_path)


def test_urls_shown_to_the_user() -> None:
    assert http_base_url("127.0.0.1", 8000) == "http://127.0.0.1:8000"
    assert http_base_url("0.0.0.0", 8001) == "http://127.0.0.1:8001"
    assert http_base_url("::", 8002) == "http://[::1]:8002"


def test_an_empty_music_folder_gets_the_demo_library_once(tmp_path: Path) -> None:
    settings = quiet_settings(tmp_path)
    out = io.StringIO()
    stack = LocalStack(settings, out=out, err=out)

    stack.prepare_folders()
    music = settings.music_dir_path
    written = sorted(p.relative_to(music).as_posix() for p in music.rglob("*") if p.is_file())
    assert written == sorted(spec.relative_path for spec in DEMO_SPECS)
    assert "created the demo library (12 tracks)" in out.getvalue()
    assert settings.covers_dir_path.is_dir() and settings.database_dir_path.is_dir()

    # Emptied by its owner: mus run does not bring the demo back on its own.
    for path in sorted(music.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    stack.prepare_folders()
    assert list(music.iterdir()) == []
    assert f"delete {settings.data_dir_path / DEMO_MARKER_NAME}" in out.getvalue()


def test_a_music_folder_with_content_is_left_alone(tmp_path: Path) -> None:
    settings = quiet_settings(tmp_path)
    settings.music_dir_path.mkdir(parents=True)
    (settings.music_dir_path / "mine.txt").write_text("not music, still mine")
    out = io.StringIO()
    LocalStack(settings, out=out, err=out).prepare_folders()
    assert [p.name for p in settings.music_dir_path.iterdir()] == ["mine.txt"]
    assert out.getvalue() == ""


def test_a_taken_port_fails_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        settings = quiet_settings(tmp_path, port=squatter.getsockname()[1])
        settings.music_dir_path.mkdir(parents=True)
        (settings.music_dir_path / "mine.txt").write_text("skip the demo")
        stack = LocalStack(settings, out=io.StringIO(), err=io.StringIO())
        with pytest.raises(LocalStackError, match=r"cannot listen on 127\.0\.0\.1:\d+.*PORT"):
            stack.start()
    assert stack.processes == []


def test_an_unreachable_broker_that_is_not_local_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    socket_path = tmp_path / "no-such-redis.sock"
    settings = quiet_settings(tmp_path, redis_url=f"unix://{socket_path}")
    settings.music_dir_path.mkdir(parents=True)
    (settings.music_dir_path / "mine.txt").write_text("skip the demo")

    assert run_local_stack(settings) == 1

    err = capsys.readouterr().err
    assert f"cannot reach the Redis at unix://{socket_path}" in err
    assert "only for a redis:// URL on localhost" in err
    assert "Traceback" not in err
    assert not (settings.data_dir_path / "redis").exists()


def test_a_local_broker_without_redis_server_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No redis-server and no apt-get on PATH: one sentence on installing it, no traceback."""
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    assert find_redis_server() is None, "precondition: redis-server must be off PATH"
    settings = quiet_settings(tmp_path, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    settings.music_dir_path.mkdir(parents=True)
    (settings.music_dir_path / "mine.txt").write_text("skip the demo")

    assert run_local_stack(settings) == 1

    err = capsys.readouterr().err
    assert "redis-server is not installed" in err
    assert "apt-get install redis-server" in err
    assert "Traceback" not in err


async def test_a_broker_without_functions_stops_mus_run_before_any_child(
    tmp_path: Path, stub_broker: StartStub
) -> None:
    stub = await stub_broker(DRAGONFLY_INFO)
    settings = quiet_settings(tmp_path, redis_url=stub.url, port=free_port())
    settings.music_dir_path.mkdir(parents=True)
    (settings.music_dir_path / "mine.txt").write_text("skip the demo")
    stack = LocalStack(settings, out=io.StringIO(), err=io.StringIO())

    with pytest.raises(LocalStackError) as raised:
        await asyncio.to_thread(stack.start)  # in a thread: the stub answers from this loop

    assert str(raised.value) == (
        f"the broker at {stub.url} is DragonflyDB 1.25.1, which has no Redis Functions "
        "(FUNCTION LOAD/FCALL); mus needs Redis >= 7 or Valkey >= 7.2."
    )
    assert stack.processes == []
    assert not any(command.startswith(("FUNCTION LOAD", "FCALL")) for command in stub.commands)


# -- the whole stack -------------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.timeout(180)
def test_mus_run_serves_the_demo_and_stops_everything_on_ctrl_c(
    tmp_path: Path, redis_server_url: str
) -> None:
    port, redis_port = free_port(), free_port()
    data = tmp_path / "data"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"MUSIC_DIR_PATH", "DRAGONFLY_URL", "HOST", "SECRET_KEY", "APP_ENV"}
    }
    env.update(
        DATA_DIR_PATH=str(data),
        PORT=str(port),
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        LOG_LEVEL="INFO",
        MUS_EVENT_CHANNEL=f"mus:test-stack:{port}",
        MUS_WORKER_PROCESSES="2",
    )
    log = tmp_path / "stack.log"
    base = f"http://127.0.0.1:{port}"
    with log.open("ab") as sink:
        stack = subprocess.Popen(
            [sys.executable, "-c", RUN_STACK], env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    children: dict[int, str] = {}
    try:
        wait_until(
            lambda: stack.poll() is not None or status_of(f"{base}/api/v1/healthcheck") == 200,
            90,
            "a healthy api",
            log,
        )
        assert stack.poll() is None, f"mus run exited early:\n{log.read_text()[-4000:]}"
        children = children_of(stack.pid)
        kinds = sorted(
            "redis" if "redis-server" in cmd else "api" if "uvicorn" in cmd else cmd.split()[-1]
            for cmd in children.values()
        )
        worker = "mus.worker:worker"
        assert kinds == ["api", worker, worker, "redis"]
        assert any(f"127.0.0.1:{redis_port}" in cmd for cmd in children.values())

        def listed_paths() -> list[str]:
            page = get_json(f"{base}/api/v1/tracks?limit=100")
            return sorted(item["file_path"] for item in page["items"])

        # The api is healthy before its initial scan (a background task) has listed the demo.
        demo_paths = sorted(spec.relative_path for spec in DEMO_SPECS)
        wait_until(lambda: listed_paths() == demo_paths, 30, "the demo library listed", log)
        assert listed_paths() == demo_paths

        def all_complete() -> bool:
            items = get_json(f"{base}/api/v1/tracks?limit=100")["items"]
            return {item["processing_status"] for item in items} == {"COMPLETE"}

        wait_until(all_complete, 90, "every demo track to reach COMPLETE", log)

        output = log.read_text()
        ready = output[output.index("mus is running") :].splitlines()
        assert ready[:2] == [
            f"mus is running: play your library at {base}/",
            f"  operator's view: {base}/admin, API docs: {base}/docs",
        ]
        assert status_of(f"{base}/") == 200
        assert "created the demo library (12 tracks)" in output
        assert f"started redis-server on 127.0.0.1:{redis_port}" in output

        stack.send_signal(signal.SIGINT)
        assert stack.wait(timeout=60) == 0, log.read_text()[-4000:]
    finally:
        stop_process_and_children(stack, signal.SIGINT)
    leftovers = {pid: cmd for pid, cmd in children.items() if not gone(pid)}
    assert leftovers == {}
    assert status_of(f"{base}/api/v1/healthcheck") is None
    assert not broker_answers(f"redis://127.0.0.1:{redis_port}/0", timeout=0.5)
    assert (data / "redis" / "appendonlydir").is_dir()
    assert "mus: stopped" in log.read_text()
    # Only the Redis it started was stopped: the shared one still answers.
    assert redis.Redis.from_url(redis_server_url).ping()


@pytest.mark.e2e
@pytest.mark.timeout(120)
def test_a_dead_worker_is_restarted_while_the_others_run_on(settings: Settings) -> None:
    (settings.music_dir_path / "mine.txt").write_text("skip the demo")
    settings = settings.model_copy(update={"port": free_port(), "worker_processes": 3})
    out, err = io.StringIO(), io.StringIO()
    stack = LocalStack(settings, out=out, err=err, stop_timeout=15, restart_delays=(0.2, 1.0))
    try:
        stack.start()
        assert stack.redis is None  # REDIS_URL answered: nothing of ours to start
        assert f"using the Redis at {settings.redis_url}" in out.getvalue()
        workers = {p.name: p for p in stack.services if p.name != "api"}
        assert sorted(workers) == ["streaq-worker-1", "streaq-worker-2", "streaq-worker-3"]
        others = {name: workers[name].pid for name in ("streaq-worker-1", "streaq-worker-3")}
        victim = workers["streaq-worker-2"]
        killed = victim.pid
        assert killed is not None
        os.kill(killed, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while not (victim.is_running() and victim.pid != killed):
            assert time.monotonic() < deadline, err.getvalue()
            stack.supervise()
            assert all(workers[name].is_running() for name in others)
            time.sleep(0.1)
        assert all(p.is_running() for p in stack.services)
        assert {name: workers[name].pid for name in others} == others  # never restarted
    finally:
        stack.stop()
    assert stack.exited is None
    assert "streaq-worker-2 exited with code -9" in err.getvalue()
    assert "restarting it in 0.2s" in err.getvalue()
    assert f"restarted streaq-worker-2 (restart 1, pid {victim.pid})" in out.getvalue()
    assert "streaq-worker-1 exited" not in err.getvalue()
    assert "streaq-worker-3 exited" not in err.getvalue()
    assert [p.name for p in stack.processes if p.is_running()] == []


def test_a_child_that_keeps_dying_young_is_given_up_on(settings: Settings) -> None:
    out, err = io.StringIO(), io.StringIO()
    stack = LocalStack(settings, out=out, err=err, restart_delays=(0.0, 0.0))
    crasher = ManagedProcess("crasher", [sys.executable, "-c", "raise SystemExit(3)"])
    stack.services.append(crasher)
    crasher.start()
    with pytest.raises(ChildExitedError) as gave_up:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            crasher.wait(5)
            stack.supervise()
    assert (gave_up.value.code, stack.exited) == (3, gave_up.value)
    assert "crasher died 6 times within 10s of starting, last with code 3" in str(gave_up.value)
    assert stack.restarts["crasher"].restarts == 5
    assert err.getvalue().count("crasher exited with code 3") == 5
