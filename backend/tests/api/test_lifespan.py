"""Start-up and shutdown: folders, tables, state, background services and clear failures."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from api_harness import Api, eventually, running_api

from mus.api.library_files import UPLOADS_FOLDER
from mus.api.startup_failure import StartupError
from mus.core.config import Settings
from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AudioSpec
from mus.main import create_app

from tests.process_probes import free_port
from tests.stub_broker import DRAGONFLY_INFO, REDIS6_INFO, StartStub


async def test_startup_builds_the_state_and_shutdown_clears_it(settings: Settings) -> None:
    app = create_app(settings)
    assert app.state.mus is None
    async with app.router.lifespan_context(app):
        state = app.state.mus
        assert state is not None
        assert (settings.database_dir_path / "mus.db").is_file()
        assert settings.covers_dir_path.is_dir()
        assert state.startup_permissions.ok
        assert await state.event_hub.wait_connected(5)
    assert app.state.mus is None
    assert not state.event_hub.connected


async def test_stale_upload_temp_files_are_removed_at_startup(settings: Settings) -> None:
    uploads = settings.music_dir_path / UPLOADS_FOLDER
    uploads.mkdir(parents=True)
    stale = uploads / ".upload-dead.mp3.part"
    fresh = uploads / ".upload-live.mp3.part"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"y")
    old = time.time() - 7 * 3600
    os.utime(stale, (old, old))
    async with running_api(settings):
        assert not stale.exists()
        assert fresh.exists()  # maybe another api process is receiving it right now


async def test_data_dir_that_cannot_be_created_is_a_clear_error(
    settings: Settings, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    broken = settings.model_copy(
        update={"data_dir_path": blocker / "data", "music_dir_override": tmp_path / "music"}
    )
    app = create_app(broken)
    with pytest.raises(StartupError, match="cannot create the data folders"):
        async with app.router.lifespan_context(app):
            pass


async def test_a_broker_without_functions_stops_the_api_with_one_sentence(
    settings: Settings, stub_broker: StartStub
) -> None:
    stub = await stub_broker(DRAGONFLY_INFO)
    app = create_app(settings.model_copy(update={"redis_url": stub.url}))
    with pytest.raises(StartupError) as raised:
        async with app.router.lifespan_context(app):
            pass
    assert str(raised.value) == (
        f"mus api not started: the broker at {stub.url} is DragonflyDB 1.25.1, which has no "
        "Redis Functions (FUNCTION LOAD/FCALL); mus needs Redis >= 7 or Valkey >= 7.2."
    )
    assert not (settings.database_dir_path / "mus.db").exists()  # refused before any table


async def test_uvicorn_prints_the_sentence_not_a_traceback(
    settings: Settings, stub_broker: StartStub
) -> None:
    stub = await stub_broker(REDIS6_INFO)
    environment = {
        **os.environ,
        "REDIS_URL": stub.url,
        "DATA_DIR_PATH": str(settings.data_dir_path),
        "MUSIC_DIR_PATH": str(settings.music_dir_path),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uvicorn", "mus.main:app", "--port", str(free_port()),
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        output, _ = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    text = output.decode()
    assert process.returncode != 0
    assert "Traceback" not in text
    assert (
        f"mus api not started: the broker at {stub.url} is Redis 6.2.14, too old; "
        "mus needs Redis >= 7 or Valkey >= 7.2." in text
    )
    assert "Application startup failed" in text


async def test_initial_scan_indexes_the_library_in_the_background(settings: Settings) -> None:
    scanning = settings.model_copy(update={"initial_scan_enabled": True})
    write_audio(AudioSpec("a/one.mp3", "mp3", title="One"), settings.music_dir_path)
    write_audio(AudioSpec("two.flac", "flac", title="Two"), settings.music_dir_path)
    async with running_api(scanning) as api:

        async def indexed() -> bool:
            return bool((await api.client.get("/tracks")).json()["total"] == 2)

        await eventually(indexed)
        await eventually(lambda: api.queued("low_priority"))
        titles = sorted(t["title"] for t in (await api.client.get("/tracks")).json()["items"])
        assert titles == ["One", "Two"]
        jobs = await api.queued("low_priority")
        assert [job for job, _ in jobs] == ["process_slow_metadata_batch"]


async def wait_for_watcher(api: Api) -> None:
    ready = api.state.watcher_ready
    assert ready is not None
    await asyncio.wait_for(ready.wait(), 10)


async def wait_for_jobs(api: Api, queue: str) -> list[tuple[str, dict[str, Any]]]:
    return await eventually(lambda: api.queued(queue))


async def test_watcher_queues_jobs_for_new_files(settings: Settings) -> None:
    watching = settings.model_copy(update={"watcher_enabled": True})
    async with running_api(watching) as api:
        await wait_for_watcher(api)
        await asyncio.to_thread(
            write_audio, AudioSpec("new.ogg", "ogg", title="New"), api.music_dir
        )
        assert await wait_for_jobs(api, "high_priority") == [
            ("handle_file_created", {"file_path": "new.ogg"})
        ]


async def test_api_edits_are_not_echoed_by_the_watcher(settings: Settings) -> None:
    watching = settings.model_copy(update={"watcher_enabled": True})
    write_audio(AudioSpec("edited.mp3", "mp3", title="Before"), settings.music_dir_path)
    async with running_api(watching) as api:
        track = await api.index_file("edited.mp3")
        await wait_for_watcher(api)
        response = await api.client.patch(f"/tracks/{track.id}", json={"title": "After"})
        assert response.status_code == 200
        # A file written after the edit proves the watcher was live all along.
        await asyncio.to_thread(
            write_audio, AudioSpec("witness.wav", "wav", title="W"), api.music_dir
        )
        assert await wait_for_jobs(api, "high_priority") == [
            ("handle_file_created", {"file_path": "witness.wav"})
        ]
        assert await api.queued("medium_priority") == []  # no handle_file_modified echo
