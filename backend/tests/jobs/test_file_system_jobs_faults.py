"""The user's delete and rename jobs under a database locked past its timeout: a real
second SQLite connection holds BEGIN EXCLUSIVE; real files and Redis."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from mus.adapters.persistence.file_operation_repository import FileOperationRepository
from mus.adapters.persistence.track_repository import TrackRepository
from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AudioSpec
from mus.jobs.file_system_jobs import (
    delete_track_with_files,
    handle_file_created,
    update_track_path_by_id,
)
from mus.jobs.runtime import JobRuntime

from tests.database_lock import database_locked

SONG = AudioSpec("song.mp3", "mp3", title="Song", artist="Ann")


async def _indexed(runtime: JobRuntime) -> int:
    write_audio(SONG, runtime.settings.music_dir_path)
    created = await handle_file_created(file_path=SONG.relative_path)
    return int(created["track_id"])


async def test_a_delete_with_the_database_locked_leaves_file_and_row_together(
    short_busy_timeout: int, runtime: JobRuntime
) -> None:
    """Reported: the job deleted the file, then failed "database is locked": the row stayed
    COMPLETE and its stream answered 404. Now nothing goes until the intent is written."""
    track_id = await _indexed(runtime)
    path = runtime.settings.music_dir_path / SONG.relative_path

    with database_locked(runtime.settings), pytest.raises(OperationalError, match="locked"):
        await delete_track_with_files(track_id=track_id)

    assert path.exists()
    async with runtime.database.session() as session:
        assert await TrackRepository(session).get(track_id) is not None
    # Run again once the database answers (a retry, or the reconciler): both go.
    assert await delete_track_with_files(track_id=track_id) == {
        "outcome": "deleted",
        "track_id": track_id,
    }
    assert not path.exists()
    async with runtime.database.session() as session:
        assert await TrackRepository(session).get(track_id) is None
        assert await FileOperationRepository(session).for_track(track_id) == []


async def test_a_rename_with_the_database_locked_leaves_the_file_where_the_row_says(
    short_busy_timeout: int, runtime: JobRuntime
) -> None:
    track_id = await _indexed(runtime)
    root = runtime.settings.music_dir_path

    with database_locked(runtime.settings), pytest.raises(OperationalError, match="locked"):
        await update_track_path_by_id(track_id=track_id, new_file_path="Ann - Song.mp3")

    assert (root / SONG.relative_path).exists()
    assert not (root / "Ann - Song.mp3").exists()
    result = await update_track_path_by_id(track_id=track_id, new_file_path="Ann - Song.mp3")
    assert result == {"outcome": "renamed", "track_id": track_id}
    async with runtime.database.session() as session:
        track = await TrackRepository(session).get(track_id)
        assert track is not None and track.file_path == "Ann - Song.mp3"
        assert await FileOperationRepository(session).for_track(track_id) == []
    assert (root / "Ann - Song.mp3").exists()
