"""File-system jobs on real files, SQLite and Redis: each outcome, each side effect."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mus.adapters.persistence.player_state_repository import PlayerStateRepository
from mus.adapters.persistence.track_repository import TrackRepository
from mus.application.job_outbox import OutboxRelay
from mus.application.job_queue import JobQueue, JobRequest
from mus.core.config import Settings
from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AudioSpec, CoverSpec
from mus.domain.player_state import PlayerState
from mus.domain.track import ProcessingStatus
from mus.jobs.file_system_jobs import (
    delete_track_with_files,
    handle_file_created,
    handle_file_deleted,
    handle_file_modified,
    handle_file_moved,
    handle_files_created,
    update_track_path_by_id,
)
from mus.jobs.metadata_jobs import process_slow_metadata
from mus.jobs.runtime import JobRuntime

from tests.jobs.conftest import EventTap
from tests.queued_jobs import queued_jobs
from tests.track_writes import TrackWrites

SONG = AudioSpec(
    "Nina Simone/Feeling Good.mp3",
    "mp3",
    title="Feeling Good",
    artist="Nina Simone",
    cover=CoverSpec(width=300, height=300),
)


async def track_at(runtime: JobRuntime, file_path: str):  # type: ignore[no-untyped-def]
    async with runtime.database.session() as session:
        return await TrackRepository(session).get_by_path(file_path)


def library(runtime: JobRuntime) -> Path:
    return runtime.settings.music_dir_path


async def test_created_file_is_indexed_pending_and_chains_slow_metadata(
    runtime: JobRuntime, settings: Settings, events: EventTap
) -> None:
    write_audio(SONG, library(runtime))
    result = await handle_file_created(file_path=SONG.relative_path)
    track = await track_at(runtime, SONG.relative_path)
    assert track is not None
    assert result == {"outcome": "added", "track_id": track.id}
    assert (track.title, track.artist) == ("Feeling Good", "Nina Simone")
    assert track.processing_status is ProcessingStatus.PENDING
    assert await queued_jobs(settings, "low_priority") == [
        ("process_slow_metadata", {"track_id": track.id, "revision": track.revision})
    ]
    assert await events.types() == ["track_added"]


async def test_duplicate_created_event_does_nothing_more(
    runtime: JobRuntime, settings: Settings, events: EventTap
) -> None:
    write_audio(SONG, library(runtime))
    first = await handle_file_created(file_path=SONG.relative_path)
    second = await handle_file_created(file_path=SONG.relative_path)
    assert second == {"outcome": "unchanged", "track_id": first["track_id"]}
    assert len(await queued_jobs(settings, "low_priority")) == 1
    assert await events.types() == ["track_added"]


async def test_vanished_or_escaping_files_change_nothing(
    runtime: JobRuntime, settings: Settings
) -> None:
    assert await handle_file_created(file_path="gone.mp3") == {"outcome": "missing"}
    outside = await handle_file_created(file_path="../../etc/passwd.mp3")
    assert outside["outcome"] == "rejected"
    async with runtime.database.session() as session:
        assert await TrackRepository(session).count() == 0
    assert await queued_jobs(settings, "low_priority") == []


async def test_modified_file_goes_back_to_pending_and_stale_slow_job_does_nothing(
    runtime: JobRuntime, settings: Settings, events: EventTap
) -> None:
    path = write_audio(SONG, library(runtime))
    created = await handle_file_created(file_path=SONG.relative_path)
    old = await track_at(runtime, SONG.relative_path)
    assert old is not None
    write_audio(
        AudioSpec(SONG.relative_path, "mp3", title="Feeling Better", artist="Nina"),
        library(runtime),
    )
    assert path.exists()
    modified = await handle_file_modified(file_path=SONG.relative_path)
    assert modified == {"outcome": "updated", "track_id": created["track_id"]}
    new = await track_at(runtime, SONG.relative_path)
    assert new is not None
    assert new.revision == old.revision + 1
    assert new.title == "Feeling Better"
    stale = await process_slow_metadata(track_id=old.id, revision=old.revision)
    assert stale == {"outcome": "stale", "track_id": old.id}
    still = await track_at(runtime, SONG.relative_path)
    assert still is not None and still.processing_status is ProcessingStatus.PENDING
    fresh = await process_slow_metadata(track_id=new.id, revision=new.revision)
    assert fresh["outcome"] == "complete"
    assert (await events.types()) == ["track_added", "track_updated", "track_updated"]


async def test_modified_event_with_unchanged_content_is_an_echo(runtime: JobRuntime) -> None:
    write_audio(SONG, library(runtime))
    created = await handle_file_created(file_path=SONG.relative_path)
    indexed = await track_at(runtime, SONG.relative_path)
    assert indexed is not None
    completed = await process_slow_metadata(track_id=indexed.id, revision=indexed.revision)
    assert completed["outcome"] == "complete"
    # The tag normaliser rewrote the file; its new fingerprint was recorded with COMPLETE.
    echo = await handle_file_modified(file_path=SONG.relative_path)
    assert echo == {"outcome": "unchanged", "track_id": created["track_id"]}
    track = await track_at(runtime, SONG.relative_path)
    assert track is not None and track.processing_status is ProcessingStatus.COMPLETE


async def test_deleted_file_removes_row_covers_and_player_reference(
    runtime: JobRuntime, events: EventTap
) -> None:
    path = write_audio(SONG, library(runtime))
    created = await handle_file_created(file_path=SONG.relative_path)
    track_id = created["track_id"]
    await process_slow_metadata(track_id=track_id, revision=0)
    assert runtime.covers.exists(track_id)
    async with runtime.database.session() as session:
        await PlayerStateRepository(session).save(PlayerState(current_track_id=track_id))
    present = await handle_file_deleted(file_path=SONG.relative_path)
    assert present == {"outcome": "still_present", "track_id": track_id}
    path.unlink()
    assert await handle_file_deleted(file_path=SONG.relative_path) == {
        "outcome": "deleted",
        "track_id": track_id,
    }
    assert await track_at(runtime, SONG.relative_path) is None
    assert not runtime.covers.exists(track_id)
    async with runtime.database.session() as session:
        assert (await PlayerStateRepository(session).get()).current_track_id is None
    assert (await events.types())[-1] == "track_deleted"
    assert await handle_file_deleted(file_path=SONG.relative_path) == {"outcome": "unknown"}


async def test_moved_file_keeps_id_status_and_covers(
    runtime: JobRuntime, settings: Settings
) -> None:
    path = write_audio(SONG, library(runtime))
    created = await handle_file_created(file_path=SONG.relative_path)
    track_id = created["track_id"]
    await process_slow_metadata(track_id=track_id, revision=0)
    before_jobs = await queued_jobs(settings, "low_priority")
    destination = library(runtime) / "Jazz" / "Feeling Good.mp3"
    destination.parent.mkdir()
    path.rename(destination)
    moved = await handle_file_moved(src_path=SONG.relative_path, dest_path="Jazz/Feeling Good.mp3")
    assert moved == {"outcome": "moved", "track_id": track_id}
    track = await track_at(runtime, "Jazz/Feeling Good.mp3")
    assert track is not None
    assert track.id == track_id
    assert track.processing_status is ProcessingStatus.COMPLETE
    assert track.has_cover and runtime.covers.exists(track_id)
    assert await queued_jobs(settings, "low_priority") == before_jobs  # no reprocessing


async def test_a_move_whose_file_left_the_library_forgets_the_track(runtime: JobRuntime) -> None:
    """Moved, then deleted before the move job ran: the destination's deletion ran first
    (high before medium) and found no track there; the move job must not leave a row
    without a file (found by make contract-fuzz)."""
    path = write_audio(SONG, library(runtime))
    created = await handle_file_created(file_path=SONG.relative_path)
    path.unlink()
    gone = await handle_file_deleted(file_path="Jazz/Feeling Good.mp3")
    assert gone == {"outcome": "unknown"}
    moved = await handle_file_moved(src_path=SONG.relative_path, dest_path="Jazz/Feeling Good.mp3")
    assert moved == {"outcome": "deleted", "track_id": created["track_id"]}
    assert await track_at(runtime, SONG.relative_path) is None


async def test_a_move_whose_destination_is_gone_but_source_is_back_keeps_the_track(
    runtime: JobRuntime,
) -> None:
    write_audio(SONG, library(runtime))
    created = await handle_file_created(file_path=SONG.relative_path)
    moved = await handle_file_moved(src_path=SONG.relative_path, dest_path="Jazz/Feeling Good.mp3")
    assert moved == {"outcome": "missing", "track_id": created["track_id"]}
    assert await track_at(runtime, SONG.relative_path) is not None


async def test_move_of_an_unknown_file_indexes_the_destination(runtime: JobRuntime) -> None:
    write_audio(AudioSpec("new.flac", "flac", title="New", artist="A"), library(runtime))
    result = await handle_file_moved(src_path="old.flac", dest_path="new.flac")
    assert result["outcome"] == "added"


async def test_user_deletion_removes_the_file_under_the_write_lock(
    runtime: JobRuntime, events: EventTap
) -> None:
    path = write_audio(SONG, library(runtime))
    created = await handle_file_created(file_path=SONG.relative_path)
    result = await delete_track_with_files(track_id=created["track_id"])
    assert result == {"outcome": "deleted", "track_id": created["track_id"]}
    assert not path.exists()
    assert await runtime.write_lock.is_locked(SONG.relative_path)  # the watcher's echo is muted
    assert await track_at(runtime, SONG.relative_path) is None
    assert "track_deleted" in await events.types()
    assert await delete_track_with_files(track_id=created["track_id"]) == {"outcome": "unknown"}


async def test_rename_by_id_moves_file_and_row(runtime: JobRuntime) -> None:
    path = write_audio(SONG, library(runtime))
    created = await handle_file_created(file_path=SONG.relative_path)
    new_path = "Nina Simone/Nina Simone - Feeling Good.mp3"
    result = await update_track_path_by_id(track_id=created["track_id"], new_file_path=new_path)
    assert result == {"outcome": "renamed", "track_id": created["track_id"]}
    assert not path.exists()
    assert (library(runtime) / new_path).exists()
    assert await runtime.write_lock.is_locked(new_path)
    track = await track_at(runtime, new_path)
    assert track is not None and track.id == created["track_id"]


async def test_rename_onto_an_existing_file_or_outside_is_an_error_and_loses_nothing(
    runtime: JobRuntime, events: EventTap
) -> None:
    path = write_audio(SONG, library(runtime))
    other = write_audio(AudioSpec("other.wav", "wav"), library(runtime))
    created = await handle_file_created(file_path=SONG.relative_path)
    track_id = created["track_id"]
    clash = await update_track_path_by_id(track_id=track_id, new_file_path="other.wav")
    assert clash == {"outcome": "error", "track_id": track_id}
    escape = await update_track_path_by_id(track_id=track_id, new_file_path="../escape.mp3")
    assert escape == {"outcome": "error", "track_id": track_id}
    assert path.exists() and other.exists()
    assert not (library(runtime).parent / "escape.mp3").exists()
    track = await track_at(runtime, SONG.relative_path)
    assert track is not None
    assert track.processing_status is ProcessingStatus.ERROR
    assert track.last_error is not None
    assert track.last_error.job_name == "update_track_path_by_id"
    assert "escape" in track.last_error.error_message or "outside" in track.last_error.error_message
    assert (await events.types()).count("track_error") == 2


async def test_concurrent_events_for_one_path_add_the_track_once(
    runtime: JobRuntime, settings: Settings, events: EventTap
) -> None:
    write_audio(SONG, library(runtime))
    results = await asyncio.gather(
        handle_file_created(file_path=SONG.relative_path),
        handle_file_created(file_path=SONG.relative_path),
        handle_file_modified(file_path=SONG.relative_path),
    )
    assert sorted(result["outcome"] for result in results) == ["added", "unchanged", "unchanged"]
    assert len(await queued_jobs(settings, "low_priority")) == 1
    assert await events.types() == ["track_added"]


async def test_a_move_onto_changed_content_is_reindexed(
    runtime: JobRuntime, settings: Settings
) -> None:
    path = write_audio(SONG, library(runtime))
    created = await handle_file_created(file_path=SONG.relative_path)
    track_id = created["track_id"]
    # Another file with the old one's inode (ext4 reuses freed inodes) or an edited copy.
    new_path = library(runtime) / "Nina Simone" / "Other.mp3"
    path.rename(new_path)
    write_audio(
        AudioSpec("Nina Simone/Other.mp3", "mp3", title="Other", artist="Nina"), library(runtime)
    )
    result = await handle_file_moved(src_path=SONG.relative_path, dest_path="Nina Simone/Other.mp3")
    assert result == {"outcome": "moved", "track_id": track_id, "content": "updated"}
    track = await track_at(runtime, "Nina Simone/Other.mp3")
    assert track is not None
    assert (track.id, track.title, track.processing_status) == (
        track_id,
        "Other",
        ProcessingStatus.PENDING,
    )
    assert len(await queued_jobs(settings, "low_priority")) == 2


async def test_an_outside_retag_and_a_rename_running_together_leave_one_row_with_its_file(
    runtime: JobRuntime,
) -> None:
    """Found by make contract-fuzz: an outside tag edit's modification job and the user's
    rename job ran at once; the modification indexed the old path after the rename had moved
    the row, leaving a second row (ERROR later) for a path with no file. Twenty rounds."""
    for round_number in range(20):
        spec = AudioSpec(f"Race/{round_number:02d}.mp3", "mp3", title="Before", artist="A")
        path = write_audio(spec, library(runtime))
        created = await handle_file_created(file_path=spec.relative_path)
        retagged = AudioSpec(spec.relative_path, "mp3", title="Retagged", artist="A")
        write_audio(retagged, library(runtime))
        target = f"Race/renamed {round_number:02d}.mp3"
        await asyncio.gather(
            handle_file_modified(file_path=spec.relative_path),
            update_track_path_by_id(track_id=created["track_id"], new_file_path=target),
        )
        async with runtime.database.session() as session:
            every = await TrackRepository(session).list_tracks(limit=10_000)
        rows = [t for t in every if f"{round_number:02d}" in t.file_path]
        assert [(t.id, t.file_path) for t in rows] == [(created["track_id"], target)], rows
        assert rows[0].title == "Retagged"  # the outside edit is not lost either way round
        assert not path.exists() and (library(runtime) / target).exists()


async def test_deleting_one_of_an_albums_tracks_keeps_the_others_shared_cover(
    runtime: JobRuntime,
) -> None:
    """Both tracks link one stored image; the deletion job drops only its own track's names,
    and the last deletion removes the stored image too."""
    album_cover = CoverSpec(width=300, height=300, seed=31)
    songs = [
        AudioSpec(f"Album/{n}.{fmt}", fmt, title=n, cover=album_cover)
        for n, fmt in (("one", "flac"), ("two", "ogg"))
    ]
    ids = []
    for song in songs:
        write_audio(song, library(runtime))
        created = await handle_file_created(file_path=song.relative_path)
        ids.append(created["track_id"])
        await process_slow_metadata(track_id=created["track_id"], revision=0)
    kept_bytes = runtime.covers.path(ids[1], "original").read_bytes()
    (library(runtime) / songs[0].relative_path).unlink()
    assert (await handle_file_deleted(file_path=songs[0].relative_path))["outcome"] == "deleted"
    assert not runtime.covers.exists(ids[0])
    assert runtime.covers.exists(ids[1])
    assert runtime.covers.path(ids[1], "original").read_bytes() == kept_bytes
    (library(runtime) / songs[1].relative_path).unlink()
    assert (await handle_file_deleted(file_path=songs[1].relative_path))["outcome"] == "deleted"
    assert list(runtime.covers.store_dir.iterdir()) == []


class AnalysisAtOnce:
    """The job queue of a worker that starts a chained analysis the moment it is queued (streaq
    picks a job up in about 4 ms): the real queue takes the job, and the real analysis runs
    before `enqueue` returns, so it finishes before the job that queued it goes on."""

    def __init__(self, queue: JobQueue) -> None:
        self.queue = queue

    async def enqueue(self, task_name: str, **kwargs: Any) -> str:
        task_id = await self.queue.enqueue(task_name, **kwargs)
        assert task_name == "process_slow_metadata", task_name
        await process_slow_metadata(**kwargs)
        return task_id

    async def enqueue_many(self, jobs: Sequence[JobRequest]) -> list[str]:
        return [await self.enqueue(job.task_name, **job.kwargs) for job in jobs]

    async def backlog(self) -> int:
        return await self.queue.backlog()


async def test_track_added_is_published_before_its_analysis_can_run(
    runtime: JobRuntime, events: EventTap
) -> None:
    # DESIGN.md section 11: the analysis was relayed before `track_added` was published, so a
    # fast worker's `track_updated` (COMPLETE) reached clients first and the track looked
    # PENDING again. Events follow the order of the changes.
    runtime.relay = OutboxRelay(runtime.database, AnalysisAtOnce(runtime.job_queue))
    write_audio(SONG, library(runtime))
    assert (await handle_file_created(file_path=SONG.relative_path))["outcome"] == "added"
    seen = [(event["type"], event["processing_status"]) for event in await events.collect()]
    assert seen == [("track_added", "PENDING"), ("track_updated", "COMPLETE")]


async def test_a_creation_run_again_after_its_analysis_publishes_nothing_new(
    runtime: JobRuntime, events: EventTap
) -> None:
    # A redelivered job (its worker was thought dead) runs again after the analysis it chained
    # has finished, even rewritten the file's tags: the same change is not announced twice,
    # and the track does not go back to PENDING.
    write_audio(SONG, library(runtime))
    first = await handle_file_created(file_path=SONG.relative_path)
    assert (await process_slow_metadata(track_id=first["track_id"], revision=0))[
        "outcome"
    ] == "complete"
    again = await handle_file_created(file_path=SONG.relative_path)
    assert again == {"outcome": "unchanged", "track_id": first["track_id"]}
    track = await track_at(runtime, SONG.relative_path)
    assert track is not None
    assert track.processing_status is ProcessingStatus.COMPLETE
    assert await events.types() == ["track_added", "track_updated"]


async def test_files_created_together_are_indexed_in_one_transaction_and_chain_one_batch(
    runtime: JobRuntime, settings: Settings, events: EventTap
) -> None:
    root = library(runtime)
    new = [
        AudioSpec("Album/01.mp3", "mp3", title="One"),
        AudioSpec("Album/02.flac", "flac", title="Two"),
        AudioSpec("Album/03.ogg", "ogg", title="Three"),
    ]
    for spec in new:
        write_audio(spec, root)
    write_audio(SONG, root)
    known = await handle_file_created(file_path=SONG.relative_path)  # indexed before
    (root / "Album" / "04-still-copying.mp3").write_bytes(b"")
    queued_before = len(await queued_jobs(settings, "low_priority"))
    await events.collect()
    events.seen.clear()
    paths = [
        *(spec.relative_path for spec in new),
        SONG.relative_path,
        "Album/04-still-copying.mp3",
        "Album/gone.mp3",
        "../outside.mp3",
    ]
    with TrackWrites(runtime.database) as writes:
        result = await handle_files_created(file_paths=paths)
    assert result == {
        "outcome": "batch",
        "files": 7,
        "outcomes": {"added": 3, "empty": 1, "missing": 1, "rejected": 1, "unchanged": 1},
    }
    assert writes.transactions == 1
    added = [await track_at(runtime, spec.relative_path) for spec in new]
    assert all(track is not None for track in added)
    assert [track.title for track in added] == ["One", "Two", "Three"]  # type: ignore[union-attr]
    assert (await queued_jobs(settings, "low_priority"))[queued_before:] == [
        (
            "process_slow_metadata_batch",
            {
                "track_ids": [track.id for track in added],  # type: ignore[union-attr]
                "revisions": [track.revision for track in added],  # type: ignore[union-attr]
            },
        )
    ]
    assert await events.types() == ["track_added"] * 3
    assert (await track_at(runtime, SONG.relative_path)).id == known["track_id"]  # type: ignore[union-attr]


async def test_files_created_together_that_are_all_known_queue_nothing(
    runtime: JobRuntime, settings: Settings
) -> None:
    write_audio(SONG, library(runtime))
    await handle_file_created(file_path=SONG.relative_path)
    queued_before = await queued_jobs(settings, "low_priority")
    result = await handle_files_created(file_paths=[SONG.relative_path, SONG.relative_path])
    assert result == {"outcome": "batch", "files": 1, "outcomes": {"unchanged": 1}}
    assert await queued_jobs(settings, "low_priority") == queued_before
