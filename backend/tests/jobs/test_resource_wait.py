"""Jobs as the backends run them (`jobs.registry.JOBS`) meet real resource faults and wait.

A second SQLite connection holds BEGIN EXCLUSIVE past a short busy timeout; the database
folder or the covers folder is a small tmpfs filled for real (needs root: CI runs as root).
Each job must wait, record no ERROR, and finish as asked once the resource is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from mus.adapters.persistence.track_repository import TrackRepository
from mus.adapters.queue.streaq_job_queue import StreaqConnection
from mus.core.config import Settings
from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AudioSpec, CoverSpec
from mus.domain.track import ProcessingStatus, Track
from mus.jobs.registry import JOBS
from mus.jobs.runtime import JobRuntime, install_job_runtime

from tests.real_faults import database_held, empty_write_ahead_log, fill, remount, tmpfs

SONG = AudioSpec(
    "Nina Simone/Feeling Good.mp3",
    "mp3",
    title="Feeling Good",
    artist="Nina Simone",
    cover=CoverSpec(width=300, height=300),
)
BUSY_TIMEOUT_SECONDS = 0.3
FAULT_SECONDS = 2.0
BOUND_SECONDS = 30.0


@pytest.fixture
def quick_settings(settings: Settings) -> Settings:
    """The test settings with a busy timeout of 0.3 s, so a held lock is felt at once."""
    return settings.model_copy(update={"database_busy_timeout_seconds": BUSY_TIMEOUT_SECONDS})


async def _open_runtime(settings: Settings) -> tuple[JobRuntime, StreaqConnection]:
    connection = StreaqConnection(settings)
    await connection.start()
    assert connection.connected, f"no streaq connection to the test Redis {settings.redis_url}"
    runtime = await JobRuntime.open(settings, connection)
    install_job_runtime(runtime)
    return runtime, connection


@pytest.fixture
async def runtime(quick_settings: Settings) -> AsyncIterator[JobRuntime]:
    job_runtime, connection = await _open_runtime(quick_settings)
    try:
        yield job_runtime
    finally:
        install_job_runtime(None)
        await job_runtime.close()
        await connection.close()


@pytest.fixture
def small_database_folder(quick_settings: Settings) -> Iterator[Path]:
    """The database folder as a 2 MiB tmpfs (mounted before the runtime creates the file)."""
    with tmpfs(quick_settings.database_dir_path, "2m") as folder:
        yield folder


async def _track(runtime: JobRuntime, file_path: str) -> Track | None:
    async with runtime.database.session() as session:
        return await TrackRepository(session).get_by_path(file_path)


async def test_indexing_waits_for_a_full_database_folder_and_indexes_once_there_is_room(
    small_database_folder: Path,
    quick_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Before: "database or disk is full" failed the job at once and it was never retried."""
    job_runtime, connection = await _open_runtime(quick_settings)
    try:
        write_audio(SONG, quick_settings.music_dir_path)
        await empty_write_ahead_log(job_runtime.database.engine)
        filler = fill(small_database_folder)
        caplog.set_level(logging.INFO, logger="mus")
        job = asyncio.create_task(JOBS["handle_file_created"](file_path=SONG.relative_path))
        await asyncio.sleep(FAULT_SECONDS)
        assert not job.done(), f"the job ended on a full disk: {job.result()!r}"
        filler.unlink()
        async with asyncio.timeout(BOUND_SECONDS):
            result = await job
        track = await _track(job_runtime, SONG.relative_path)
        assert track is not None and track.processing_status is ProcessingStatus.PENDING
        assert result == {"outcome": "added", "track_id": track.id}
        waits = [
            r
            for r in caplog.records
            if r.name == "mus.jobs.resource_wait"
            and "waits: no space left in the data" in r.message
        ]
        assert len(waits) == 1, [r.message for r in caplog.records]
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    finally:
        install_job_runtime(None)
        await job_runtime.close()
        await connection.close()


async def test_a_user_deletion_under_a_locked_database_removes_the_row_once_it_is_free(
    runtime: JobRuntime, quick_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: the file went, then "database is locked" failed the job and the row stayed."""
    path = write_audio(SONG, quick_settings.music_dir_path)
    await JOBS["handle_file_created"](file_path=SONG.relative_path)
    track = await _track(runtime, SONG.relative_path)
    assert track is not None
    caplog.set_level(logging.INFO, logger="mus")
    async with database_held(quick_settings.database_dir_path / "mus.db") as holder:
        job = asyncio.create_task(JOBS["delete_track_with_files"](track_id=track.id))
        await asyncio.sleep(FAULT_SECONDS)
        assert not job.done(), f"the job ended under a held lock: {job.result()!r}"
        await asyncio.to_thread(holder.release)
        async with asyncio.timeout(BOUND_SECONDS):
            result = await job
    assert result == {"outcome": "deleted", "track_id": track.id}
    assert not path.exists()
    assert await _track(runtime, SONG.relative_path) is None
    waits = [
        r
        for r in caplog.records
        if r.name == "mus.jobs.resource_wait" and "waits: the database is busy" in r.message
    ]
    assert len(waits) == 1, [r.message for r in caplog.records]
    assert any("carries on" in r.message for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_cover_that_meets_a_full_covers_folder_waits_instead_of_an_error(
    runtime: JobRuntime, quick_settings: Settings
) -> None:
    """Before: the analysis marked the track ERROR "unexpected error analysing …: [Errno 28]"."""
    write_audio(SONG, quick_settings.music_dir_path)
    await JOBS["handle_file_created"](file_path=SONG.relative_path)
    track = await _track(runtime, SONG.relative_path)
    assert track is not None
    with tmpfs(quick_settings.covers_dir_path, "1m") as covers:
        filler = fill(covers)
        job = asyncio.create_task(
            JOBS["process_slow_metadata"](track_id=track.id, revision=track.revision)
        )
        await asyncio.sleep(FAULT_SECONDS)
        assert not job.done(), f"the analysis ended on a full covers folder: {job.result()!r}"
        now = await _track(runtime, SONG.relative_path)
        assert now is not None and now.processing_status is ProcessingStatus.PENDING
        filler.unlink()
        async with asyncio.timeout(BOUND_SECONDS):
            result = await job
        analysed = await _track(runtime, SONG.relative_path)
        assert result == {"outcome": "complete", "track_id": track.id}
        assert analysed is not None and analysed.processing_status is ProcessingStatus.COMPLETE
        assert analysed.has_cover and any(covers.iterdir())


async def test_a_permanent_error_is_not_retried(
    runtime: JobRuntime, quick_settings: Settings
) -> None:
    """A corrupt file is ERROR at once, with ffprobe's sentence: no waiting, no retry."""
    corrupt = quick_settings.music_dir_path / "broken.mp3"
    corrupt.write_bytes(b"\xff\xfb\x90\x00" + b"not audio at all" * 64)
    await JOBS["handle_file_created"](file_path="broken.mp3")
    track = await _track(runtime, "broken.mp3")
    assert track is not None
    async with asyncio.timeout(FAULT_SECONDS * 5):
        result = await JOBS["process_slow_metadata"](track_id=track.id, revision=track.revision)
    assert result == {"outcome": "error", "track_id": track.id}
    failed = await _track(runtime, "broken.mp3")
    assert failed is not None and failed.processing_status is ProcessingStatus.ERROR


async def test_a_deletion_and_a_rename_in_a_read_only_music_folder_wait_for_it(
    runtime: JobRuntime, quick_settings: Settings
) -> None:
    """Before: both ended ERROR ("cannot delete/rename: Read-only file system"). Now each
    waits for the folder and does what the user asked once it is writable again."""
    with tmpfs(quick_settings.music_dir_path, "8m") as music:
        write_audio(SONG, music)
        other = AudioSpec("Other/Song.ogg", "ogg", title="Song")
        write_audio(other, music)
        await JOBS["handle_file_created"](file_path=SONG.relative_path)
        await JOBS["handle_file_created"](file_path=other.relative_path)
        doomed, renamed = (
            await _track(runtime, SONG.relative_path),
            await _track(runtime, other.relative_path),
        )
        assert doomed is not None and renamed is not None
        remount(music, "ro")
        try:
            deletion = asyncio.create_task(JOBS["delete_track_with_files"](track_id=doomed.id))
            rename = asyncio.create_task(
                JOBS["update_track_path_by_id"](
                    track_id=renamed.id, new_file_path="Other/Renamed.ogg"
                )
            )
            await asyncio.sleep(FAULT_SECONDS)
            assert not deletion.done(), deletion.result()
            assert not rename.done(), rename.result()
            for track in (doomed, renamed):
                now = await runtime_track(runtime, track.id)
                assert now is not None and now.processing_status is ProcessingStatus.PENDING
        finally:
            remount(music, "rw")
        async with asyncio.timeout(BOUND_SECONDS):
            deleted, moved = await deletion, await rename
        assert deleted == {"outcome": "deleted", "track_id": doomed.id}
        assert moved == {"outcome": "renamed", "track_id": renamed.id}
        assert not (music / SONG.relative_path).exists()
        assert (music / "Other/Renamed.ogg").is_file()
        assert await runtime_track(runtime, doomed.id) is None
        after = await runtime_track(runtime, renamed.id)
        assert after is not None and after.file_path == "Other/Renamed.ogg"


async def runtime_track(runtime: JobRuntime, track_id: int) -> Track | None:
    async with runtime.database.session() as session:
        return await TrackRepository(session).get(track_id)
