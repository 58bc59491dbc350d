"""A batch analysis decides each track exactly as `analyse_track` does, in one transaction.

Two twin libraries (same files, same rows) are analysed, one track by one with
`analyse_track`, the other as one batch: every outcome, status, duration, title, cover and
error sentence must be the same, and the batch must have written `tracks` once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mus.adapters.persistence.database import Database
from mus.adapters.persistence.track_repository import TrackRepository
from mus.adapters.scanner.cover_store import CoverStore
from mus.application.batch_analysis import analyse_tracks
from mus.application.slow_analysis import AnalysisOutcome, analyse_track
from mus.core.config import Settings
from mus.demo.audio_spec import AudioSpec, CoverSpec
from mus.domain.track import Track

from tests.application.test_slow_analysis import index
from tests.track_writes import TrackWrites

SPECS = (
    AudioSpec("a.mp3", "mp3", title="A", artist="X", cover=CoverSpec(width=80, height=60)),
    AudioSpec("b.flac", "flac", title="B"),
    AudioSpec("c.ogg", "ogg", corrupt=True),
    AudioSpec("d.m4a", "m4a", title="D", cover=CoverSpec(width=40, height=40, seed=2)),
    AudioSpec("e.wav", "wav", title="Gone"),
    AudioSpec("f.mp3", "mp3", title="Changed since"),
)


@dataclass
class Twin:
    settings: Settings
    database: Database
    tracks: list[Track]


@pytest.fixture
async def twins(tmp_path: Path) -> AsyncIterator[tuple[Twin, Twin]]:
    made = []
    for name in ("one", "batch"):
        settings = Settings(
            DATA_DIR_PATH=tmp_path / name / "data", MUSIC_DIR_PATH=tmp_path / name / "music"
        )
        settings.ensure_directories()
        database = Database(f"sqlite+aiosqlite:///{tmp_path / name / 't.db'}")
        await database.create_tables()
        tracks = [await index(database, settings, spec) for spec in SPECS]
        (settings.music_dir_path / "e.wav").unlink()  # vanished before its analysis
        made.append(Twin(settings, database, tracks))
    try:
        yield made[0], made[1]
    finally:
        for twin in made:
            await twin.database.dispose()


def seen(track: Track | None) -> tuple[object, ...]:
    if track is None:
        return (None,)
    error = track.last_error.error_message if track.last_error else None
    duration = None if track.duration is None else round(track.duration, 3)
    return (track.file_path, track.processing_status, duration, track.title, track.artist,
            track.has_cover, error)  # fmt: skip


async def test_a_batch_decides_each_track_as_one_analysis_would(
    twins: tuple[Twin, Twin],
) -> None:
    one, batch = twins
    wanted: list[tuple[int, int | None]] = [(track.id, track.revision) for track in one.tracks]
    wanted[-1] = (wanted[-1][0], wanted[-1][1] - 1)  # f.mp3: queued for an older revision
    wanted.append((4242, None))  # a row deleted since
    singles = [
        await analyse_track(one.database, one.settings, track_id, revision=revision)
        for track_id, revision in wanted
    ]
    with TrackWrites(batch.database) as writes:
        batched = await analyse_tracks(
            batch.database, batch.settings, wanted, job_name="process_slow_metadata"
        )
    assert writes.transactions == 1
    assert [result.outcome for result in batched] == [result.outcome for result in singles]
    assert [result.outcome for result in batched] == [
        AnalysisOutcome.COMPLETE,
        AnalysisOutcome.COMPLETE,
        AnalysisOutcome.ERROR,
        AnalysisOutcome.COMPLETE,
        AnalysisOutcome.ERROR,
        AnalysisOutcome.STALE,
        AnalysisOutcome.MISSING,
    ]
    assert [seen(r.track) for r in batched] == [seen(r.track) for r in singles]
    async with one.database.session() as session:
        rows_one = await TrackRepository(session).get_many([t.id for t in one.tracks])
    async with batch.database.session() as session:
        rows_batch = await TrackRepository(session).get_many([t.id for t in batch.tracks])
    assert [seen(rows_batch[t.id]) for t in batch.tracks] == [
        seen(rows_one[t.id]) for t in one.tracks
    ]
    covers_one = CoverStore(one.settings.covers_dir_path)
    covers_batch = CoverStore(batch.settings.covers_dir_path)
    assert [covers_batch.exists(t.id) for t in batch.tracks] == [
        covers_one.exists(t.id) for t in one.tracks
    ]
    assert covers_batch.exists(batch.tracks[0].id)


async def test_a_track_asked_twice_in_a_batch_is_analysed_once(
    twins: tuple[Twin, Twin],
) -> None:
    _, batch = twins
    first = batch.tracks[0]
    results = await analyse_tracks(
        batch.database,
        batch.settings,
        [(first.id, None), (first.id, first.revision)],
        job_name="process_slow_metadata_batch",
    )
    assert [(r.track_id, r.outcome) for r in results] == [(first.id, AnalysisOutcome.COMPLETE)]
