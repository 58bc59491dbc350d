"""A change to a user's file cut short by a real SIGKILL, then settled by the reconciler.

Each test runs the real route or job in a child process (`tests/crash_point.py`) that
kills itself at one point; what it left on disk and in SQLite is what the reconciler sees.
Real files, SQLite, Redis and worker.
"""

# mutagen ships partial annotations (untyped constructors, Optional tags).
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from mutagen.id3 import ID3

from mus.adapters.file_replacement import TEMP_PREFIX
from mus.adapters.persistence.database import Database
from mus.adapters.persistence.file_operation_repository import FileOperationRepository
from mus.adapters.persistence.track_repository import TrackRepository
from mus.adapters.queue.streaq_job_queue import StreaqJobQueue, create_producer
from mus.adapters.scanner.fast_metadata import read_fast_metadata
from mus.adapters.scanner.fingerprint import content_fingerprint
from mus.application.file_operation_reconciler import reconcile_file_operations
from mus.application.job_outbox import OutboxRelay
from mus.core.config import Settings
from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AudioSpec
from mus.domain.file_operation import FileOperation, FileOperationKind
from mus.domain.track import ProcessingStatus, Track
from mus.worker import create_worker

BACKEND = Path(__file__).resolve().parents[2]
CRASH_TIMEOUT_SECONDS = 60


def crash(*arguments: str) -> None:
    """Run a crash point in a child process; it must die by SIGKILL, nothing else."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.crash_point", *arguments],
        cwd=BACKEND,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=CRASH_TIMEOUT_SECONDS,
        check=False,
    )
    assert result.returncode == -signal.SIGKILL, (result.returncode, result.stderr[-3000:])


async def indexed(database: Database, settings: Settings, spec: AudioSpec) -> Track:
    path = await asyncio.to_thread(write_audio, spec, settings.music_dir_path)
    metadata = await asyncio.to_thread(read_fast_metadata, path, settings.music_dir_path)
    async with database.session() as session:
        track, _ = await TrackRepository(session).upsert_fast(metadata)
    return track


async def row(database: Database, track_id: int) -> Track | None:
    async with database.session() as session:
        return await TrackRepository(session).get(track_id)


async def intents(database: Database, track_id: int) -> list[FileOperation]:
    async with database.session() as session:
        return await FileOperationRepository(session).for_track(track_id)


async def reconcile(settings: Settings, database: Database) -> int:
    async with create_producer(settings) as client:
        relay = OutboxRelay(database, StreaqJobQueue(client))
        return await reconcile_file_operations(
            database, relay, settings.music_dir_path, quiet_seconds=0
        )


async def run_jobs(settings: Settings) -> None:
    worker = create_worker(settings)
    worker.burst = True
    await worker.run_async()


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.startswith(TEMP_PREFIX))


SONG = AudioSpec("song.mp3", "mp3", title="Old", artist="Ann")


async def test_a_tag_edit_killed_before_its_rename_leaves_the_file_and_is_undone(
    settings: Settings, database: Database
) -> None:
    track = await indexed(database, settings, SONG)
    path = settings.music_dir_path / SONG.relative_path
    before = path.read_bytes()

    crash("tag-edit-before-rename", str(track.id), "New")

    assert path.read_bytes() == before  # the new tags only ever reached the copy
    assert len(leftovers(settings.music_dir_path)) == 1
    assert [op.kind for op in await intents(database, track.id)] == [FileOperationKind.TAG_EDIT]
    assert await reconcile(settings, database) == 1
    assert leftovers(settings.music_dir_path) == []
    assert await intents(database, track.id) == []
    after = await row(database, track.id)
    assert after is not None and (after.title, after.content_hash) == ("Old", track.content_hash)


async def test_a_tag_edit_killed_after_its_rename_gets_its_row_brought_up_to_the_file(
    settings: Settings, database: Database
) -> None:
    track = await indexed(database, settings, SONG)
    path = settings.music_dir_path / SONG.relative_path

    crash("tag-edit-after-rename", str(track.id), "New")

    assert str(ID3(path)["TIT2"]) == "New"
    stale = await row(database, track.id)
    assert stale is not None and stale.title == "Old"  # the row was never written
    assert await reconcile(settings, database) == 1
    await run_jobs(settings)
    after = await row(database, track.id)
    assert after is not None
    assert (after.title, after.artist) == ("New", "Ann")
    assert after.content_hash == content_fingerprint(path)
    assert after.inode == path.stat().st_ino
    assert await intents(database, track.id) == []


async def test_a_delete_killed_between_file_and_row_is_finished(
    settings: Settings, database: Database
) -> None:
    """The file was gone and the row still COMPLETE (its stream a 404); the intent says
    the user asked for the deletion, so the reconciler has the job finish it."""
    track = await indexed(database, settings, SONG)
    path = settings.music_dir_path / SONG.relative_path

    crash("delete-after-unlink", str(track.id))

    assert not path.exists()
    assert await row(database, track.id) is not None
    assert [op.kind for op in await intents(database, track.id)] == [FileOperationKind.DELETE]
    assert await reconcile(settings, database) == 1
    await run_jobs(settings)
    assert await row(database, track.id) is None
    assert await intents(database, track.id) == []


async def test_a_rename_killed_between_file_and_row_is_finished(
    settings: Settings, database: Database
) -> None:
    track = await indexed(database, settings, SONG)
    new_path = "Ann - Old.mp3"

    crash("rename-after-rename", str(track.id), new_path)

    assert (settings.music_dir_path / new_path).exists()
    assert not (settings.music_dir_path / SONG.relative_path).exists()
    stale = await row(database, track.id)
    assert stale is not None and stale.file_path == SONG.relative_path
    assert await reconcile(settings, database) == 1
    await run_jobs(settings)
    after = await row(database, track.id)
    assert after is not None
    assert after.file_path == new_path
    assert after.processing_status is not ProcessingStatus.ERROR, after.last_error
    assert await intents(database, track.id) == []


async def test_a_young_intent_is_left_to_the_action_that_is_still_under_way(
    settings: Settings, database: Database
) -> None:
    track = await indexed(database, settings, SONG)
    async with database.session() as session:
        await FileOperationRepository(session).record(
            FileOperationKind.DELETE, track_id=track.id, source_path=track.file_path
        )
    async with create_producer(settings) as client:
        relay = OutboxRelay(database, StreaqJobQueue(client))
        settled = await reconcile_file_operations(
            database, relay, settings.music_dir_path, quiet_seconds=60
        )
    assert settled == 0
    assert len(await intents(database, track.id)) == 1


async def test_an_upload_placed_before_a_crash_is_indexed(
    settings: Settings, database: Database
) -> None:
    """The api died between moving an upload into place and queueing its indexing."""
    await asyncio.to_thread(write_audio, SONG, settings.music_dir_path)
    async with database.session() as session:
        await FileOperationRepository(session).record(
            FileOperationKind.PLACE, track_id=None, source_path=None, target_path="song.mp3"
        )
    assert await reconcile(settings, database) == 1
    await run_jobs(settings)
    async with database.session() as session:
        track = await TrackRepository(session).get_by_path("song.mp3")
        assert await FileOperationRepository(session).is_reserved("song.mp3") is False
    assert track is not None and track.title == "Old"
