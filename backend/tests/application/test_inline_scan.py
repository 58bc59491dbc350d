"""`mus scan` end to end on a real generated library, real SQLite, real worker processes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mus.adapters.persistence.database import Database
from mus.adapters.persistence.track_repository import TrackRepository
from mus.application.inline_scan import run_inline_scan
from mus.application.parallel_analysis import MIN_TRACKS_FOR_PROCESSES
from mus.core.config import Settings
from mus.demo.audio_generator import generate_library
from mus.domain.track import ProcessingStatus

from tests.scan_fixtures import write_mp3_without_xing


@pytest.mark.parametrize("processes", [1, 2])
async def test_every_file_completes_and_fallbacks_and_encodes_are_counted(
    tmp_path: Path, processes: int
) -> None:
    settings = Settings(DATA_DIR_PATH=tmp_path / "data", MUSIC_DIR_PATH=tmp_path / "music")
    settings.ensure_directories()
    files = MIN_TRACKS_FOR_PROCESSES + 10  # enough for the worker processes to start
    generate_library(settings.music_dir_path, files, seed=7)
    bare = settings.music_dir_path / "no xing.mp3"
    await asyncio.to_thread(write_mp3_without_xing, bare)
    database = Database(settings.database_url)
    try:
        report = await run_inline_scan(database, settings, processes=processes)
        async with database.session() as session:
            tracks = await TrackRepository(session).list_tracks()
    finally:
        await database.dispose()
    assert report.processes == processes
    assert (report.analysed, report.complete, report.errors) == (files + 1, files + 1, 0)
    assert report.ffprobe_fallbacks == ("no xing.mp3",)
    assert all(t.processing_status is ProcessingStatus.COMPLETE for t in tracks)
    # Every track with a cover links a stored image; each stored image was encoded once
    # per process at most (two processes may meet the same album at the same moment).
    store = sorted(p.name for p in settings.covers_dir_path.joinpath("by-hash").iterdir())
    distinct = len(store) // 2
    assert distinct > 0
    assert distinct <= report.covers_encoded <= distinct * processes
    covered = [t for t in tracks if t.has_cover]
    assert covered
    assert all((settings.covers_dir_path / f"{t.id}_small.webp").is_file() for t in covered)
