"""Slow analysis end to end on real files, real ffprobe and a real SQLite database."""

# mutagen ships partial annotations (untyped constructors, Optional tags).
# mypy: disable-error-code="no-untyped-call,index"

from __future__ import annotations

import asyncio
import io
import logging
import threading
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mutagen.id3 import APIC, ID3, Encoding, PictureType
from PIL import Image
from redis.asyncio import Redis

from mus.adapters.path_locks import WriteLock
from mus.adapters.persistence.database import Database
from mus.adapters.persistence.track_repository import TrackRepository
from mus.adapters.scanner.audio_reading import AudioReading
from mus.adapters.scanner.cover_store import CoverStore
from mus.adapters.scanner.duration_probe import (
    FFPROBE_PATH_ENV,
)
from mus.adapters.scanner.fast_metadata import read_fast_metadata
from mus.adapters.scanner.fingerprint import content_fingerprint
from mus.adapters.track_writer import track_mutex
from mus.application import slow_analysis
from mus.application.slow_analysis import AnalysisOutcome, DurationReader, analyse_track
from mus.core.config import Settings
from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AudioFormat, AudioSpec, CoverSpec
from mus.domain.track import ProcessingStatus, Track

from tests.scan_fixtures import large_png, write_mp3_without_xing

TOLERANCE_SECONDS = 0.05


@pytest.fixture
def library_settings(tmp_path: Path) -> Settings:
    value = Settings(DATA_DIR_PATH=tmp_path / "data", MUSIC_DIR_PATH=tmp_path / "music")
    value.ensure_directories()
    return value


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 't.db'}")
    await database.create_tables()
    try:
        yield database
    finally:
        await database.dispose()


async def index(db: Database, settings: Settings, spec: AudioSpec) -> Track:
    """Write the file and insert its row PENDING, as a scan would."""
    return await register(db, settings, write_audio(spec, settings.music_dir_path))


async def register(db: Database, settings: Settings, path: Path) -> Track:
    """Insert the row of a file already in the library, PENDING with its fast metadata."""
    metadata = await asyncio.to_thread(read_fast_metadata, path, settings.music_dir_path)
    async with db.session() as session:
        track, _ = await TrackRepository(session).upsert_fast(metadata)
    assert track.processing_status is ProcessingStatus.PENDING
    return track


async def load(db: Database, track_id: int) -> Track | None:
    async with db.session() as session:
        return await TrackRepository(session).get(track_id)


def covers(settings: Settings) -> CoverStore:
    return CoverStore(settings.covers_dir_path)


async def test_complete_records_duration_cover_and_the_rewritten_fingerprint(
    db: Database, library_settings: Settings
) -> None:
    spec = AudioSpec(
        "Ryuichi/坂本龍一.mp3",
        "mp3",
        title="坂本龍一",
        artist="Мумий Тролль",
        album="Sigur Rós",
        duration_seconds=2.5,
        cover=CoverSpec(width=600, height=400),
    )
    before = await index(db, library_settings, spec)
    path = library_settings.music_dir_path / spec.relative_path

    result = await analyse_track(db, library_settings, before.id, revision=before.revision)

    assert result.outcome is AnalysisOutcome.COMPLETE
    assert result.error is None
    track = result.track
    assert track is not None and track == await load(db, before.id)
    assert track.processing_status is ProcessingStatus.COMPLETE
    assert track.duration == pytest.approx(2.5, abs=TOLERANCE_SECONDS)
    assert track.has_cover is True
    assert track.last_error is None
    assert track.revision == before.revision
    # By default a scan only reads: the file's bytes are as they were, its ID3 version too.
    assert ID3(path).version == (2, 4, 0)
    assert ID3(path)["TIT2"].text == ["坂本龍一"]
    assert track.content_hash == content_fingerprint(path) == before.content_hash
    assert track.file_mtime == path.stat().st_mtime
    store = covers(library_settings)
    assert Image.open(store.path(track.id, "original")).size == (600, 400)
    assert Image.open(store.path(track.id, "small")).size == (200, 133)


async def test_opted_in_normaliser_write_is_v23_and_recognised_as_an_echo(
    db: Database, library_settings: Settings
) -> None:
    opted_in = library_settings.model_copy(update={"normalise_id3": True})
    spec = AudioSpec("a.mp3", "mp3", title="Echo", artist="Test")
    track = await index(db, opted_in, spec)
    await analyse_track(db, opted_in, track.id, revision=track.revision)
    # What the watcher's handle_file_modified would read after our rewrite.
    path = library_settings.music_dir_path / spec.relative_path
    metadata = await asyncio.to_thread(read_fast_metadata, path, library_settings.music_dir_path)
    after = await load(db, track.id)
    assert after is not None and after.processing_status is ProcessingStatus.COMPLETE
    assert after.content_hash != track.content_hash  # the file really was rewritten
    assert ID3(path).version == (2, 3, 0)
    assert ID3(path)["TIT2"].text == ["Echo"]
    # The upsert compares exactly these: equal means "unchanged", no new PENDING round.
    assert (metadata.content_hash, metadata.mtime) == (after.content_hash, after.file_mtime)


@pytest.mark.parametrize("audio_format", ["flac", "ogg", "m4a", "wav"])
async def test_each_format_completes_with_its_cover(
    db: Database, library_settings: Settings, audio_format: AudioFormat
) -> None:
    spec = AudioSpec(
        f"a.{audio_format}",
        audio_format,
        title="T",
        duration_seconds=1.5,
        cover=CoverSpec(width=300, height=300, image_format="PNG"),
    )
    before = await index(db, library_settings, spec)
    result = await analyse_track(db, library_settings, before.id)
    assert result.outcome is AnalysisOutcome.COMPLETE
    assert result.track is not None
    assert result.track.duration == pytest.approx(1.5, abs=TOLERANCE_SECONDS)
    assert result.track.has_cover is True
    # Nothing to normalise outside MP3: the file and its fingerprint are untouched.
    assert result.track.content_hash == before.content_hash
    with Image.open(covers(library_settings).path(before.id, "small")) as small:
        assert (small.format, small.size) == ("WEBP", (200, 200))


async def test_no_cover_clears_old_cover_files(db: Database, library_settings: Settings) -> None:
    track = await index(db, library_settings, AudioSpec("plain.flac", "flac", title="Plain"))
    store = covers(library_settings)
    await asyncio.to_thread(store.save, track.id, png_bytes())  # left by an earlier version
    assert store.exists(track.id)
    result = await analyse_track(db, library_settings, track.id)
    assert result.outcome is AnalysisOutcome.COMPLETE
    assert result.track is not None and result.track.has_cover is False
    assert not store.path(track.id, "original").exists()
    assert not store.path(track.id, "small").exists()


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10), (1, 2, 3)).save(buffer, format="PNG")
    return buffer.getvalue()


async def test_broken_embedded_image_completes_without_cover(
    db: Database, library_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    spec = AudioSpec("bad-art.mp3", "mp3", title="Bad art")
    path = write_audio(spec, library_settings.music_dir_path)
    tags = ID3(path)
    tags.add(
        APIC(
            encoding=Encoding.UTF8,
            mime="image/jpeg",
            type=PictureType.COVER_FRONT,
            data=b"these bytes are no jpeg",
        )
    )
    tags.save(path)
    track = await register(db, library_settings, path)
    with caplog.at_level(logging.WARNING):
        result = await analyse_track(db, library_settings, track.id)
    assert result.outcome is AnalysisOutcome.COMPLETE
    assert result.track is not None and result.track.has_cover is False
    assert not covers(library_settings).exists(track.id)
    assert any("embedded cover of bad-art.mp3 ignored" in r.getMessage() for r in caplog.records)


async def test_a_cover_over_the_pixel_limit_is_skipped_with_a_log_line_not_an_error(
    db: Database, library_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A 9400x9400 PNG (a few KB) under Pillow's own limit but over MUS_COVER_MAX_PIXELS."""
    spec = AudioSpec("huge-art.mp3", "mp3", title="Huge art")
    path = write_audio(spec, library_settings.music_dir_path)
    tags = ID3(path)
    tags.add(
        APIC(
            encoding=Encoding.UTF8,
            mime="image/png",
            type=PictureType.COVER_FRONT,
            data=large_png(9400, 0),
        )
    )
    tags.save(path)
    track = await register(db, library_settings, path)
    with caplog.at_level(logging.WARNING):
        result = await analyse_track(db, library_settings, track.id)
    assert result.outcome is AnalysisOutcome.COMPLETE
    assert result.track is not None and result.track.has_cover is False
    assert result.track.last_error is None
    assert not covers(library_settings).exists(track.id)
    assert [
        r.getMessage() for r in caplog.records if "embedded cover of huge-art.mp3" in r.getMessage()
    ] == [
        "embedded cover of huge-art.mp3 ignored: cover image of 9400x9400 pixels is over the "
        "limit of 40,000,000 (MUS_COVER_MAX_PIXELS)"
    ]


async def test_corrupt_audio_ends_in_error_with_a_readable_message(
    db: Database, library_settings: Settings
) -> None:
    track = await index(db, library_settings, AudioSpec("Album/broken.m4a", "m4a", corrupt=True))
    started = datetime.now(UTC)
    result = await analyse_track(db, library_settings, track.id, revision=track.revision)
    assert result.outcome is AnalysisOutcome.ERROR
    stored = await load(db, track.id)
    assert stored is not None and stored == result.track
    assert stored.processing_status is ProcessingStatus.ERROR
    assert stored.last_error is not None
    assert stored.last_error == result.error
    assert stored.last_error.job_name == "process_slow_metadata"
    # In words a person understands; ffprobe's own ("moov atom not found") goes to the log.
    # Bytes that do not even start like an MP4 are not audio, not "cut short".
    assert stored.last_error.error_message == "not an audio file (or damaged beyond reading)"
    assert started - timedelta(seconds=1) <= stored.last_error.timestamp <= datetime.now(UTC)


async def test_vanished_file_ends_in_error(db: Database, library_settings: Settings) -> None:
    spec = AudioSpec("sub/gone.ogg", "ogg", title="Gone")
    track = await index(db, library_settings, spec)
    (library_settings.music_dir_path / spec.relative_path).unlink()
    result = await analyse_track(db, library_settings, track.id, job_name="mus scan")
    assert result.outcome is AnalysisOutcome.ERROR
    assert result.error is not None
    assert result.error.error_message == "file not found: sub/gone.ogg"
    assert result.error.job_name == "mus scan"
    stored = await load(db, track.id)
    assert stored is not None and stored.processing_status is ProcessingStatus.ERROR


async def test_stale_revision_does_nothing(db: Database, library_settings: Settings) -> None:
    spec = AudioSpec("a.mp3", "mp3", title="Stale", cover=CoverSpec(width=50, height=50))
    track = await index(db, library_settings, spec)
    async with db.session() as session:
        current = await TrackRepository(session).mark_pending(track.id)
    before = await load(db, track.id)
    path = library_settings.music_dir_path / spec.relative_path
    file_before = path.read_bytes()

    result = await analyse_track(db, library_settings, track.id, revision=current - 1)

    assert result.outcome is AnalysisOutcome.STALE
    assert result.error is None
    assert result.track == before
    assert await load(db, track.id) == before
    assert path.read_bytes() == file_before
    assert not covers(library_settings).exists(track.id)


async def test_missing_row(db: Database, library_settings: Settings) -> None:
    result = await analyse_track(db, library_settings, 4242, revision=0)
    assert (result.track_id, result.outcome, result.track, result.error) == (
        4242,
        AnalysisOutcome.MISSING,
        None,
        None,
    )


async def test_running_twice_gives_the_same_state(db: Database, library_settings: Settings) -> None:
    spec = AudioSpec("twice.mp3", "mp3", title="Twice", cover=CoverSpec(width=320, height=240))
    track = await index(db, library_settings, spec)
    path = library_settings.music_dir_path / spec.relative_path
    store = covers(library_settings)

    first = await analyse_track(db, library_settings, track.id, revision=track.revision)
    file_after_first = path.read_bytes()
    covers_after_first = store.path(track.id, "original").read_bytes()
    second = await analyse_track(db, library_settings, track.id, revision=track.revision)

    assert first.outcome is second.outcome is AnalysisOutcome.COMPLETE
    assert first.track is not None and second.track is not None
    assert replace(second.track, updated_at=first.track.updated_at) == first.track
    assert path.read_bytes() == file_after_first
    assert store.path(track.id, "original").read_bytes() == covers_after_first


async def test_without_ffprobe_mutagen_measures_and_unreadable_audio_errors_clearly(
    db: Database,
    library_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(FFPROBE_PATH_ENV, str(tmp_path / "not-installed" / "ffprobe"))
    first = await index(db, library_settings, AudioSpec("a.flac", "flac", duration_seconds=2.0))
    second = await index(db, library_settings, AudioSpec("b.wav", "wav", duration_seconds=1.0))
    broken = await index(db, library_settings, AudioSpec("c.m4a", "m4a", corrupt=True))
    with caplog.at_level(logging.WARNING):
        results = [await analyse_track(db, library_settings, t.id) for t in (first, second, broken)]
    assert [r.outcome for r in results] == [
        AnalysisOutcome.COMPLETE,
        AnalysisOutcome.COMPLETE,
        AnalysisOutcome.ERROR,
    ]
    assert results[0].track is not None and results[1].track is not None
    assert results[0].track.duration == 2.0
    assert results[1].track.duration == 1.0
    assert results[2].error is not None
    assert results[2].error.error_message.startswith("mutagen could not read 'c.m4a': ")
    # Only the file that needed the fallback found ffprobe missing, and said so once.
    warnings = [r for r in caplog.records if "ffprobe not found" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING


async def test_unexpected_failure_is_recorded_not_raised(
    db: Database, library_settings: Settings
) -> None:
    # The covers folder is a file: saving the cover fails in a way nobody planned for.
    library_settings.covers_dir_path.rmdir()
    library_settings.covers_dir_path.write_text("not a folder")
    spec = AudioSpec("a.flac", "flac", cover=CoverSpec(width=40, height=40))
    track = await index(db, library_settings, spec)
    result = await analyse_track(db, library_settings, track.id)
    assert result.outcome is AnalysisOutcome.ERROR
    assert result.error is not None
    assert result.error.error_message.startswith("unexpected error analysing 'a.flac': ")
    stored = await load(db, track.id)
    assert stored is not None and stored.last_error == result.error


class GatedReader:
    """The real file reader behind a gate: the test acts while the analysis is mid-flight."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        real = slow_analysis.read_audio

        def gated(path: Path) -> AudioReading:
            self.started.set()
            if not self.release.wait(10):
                raise TimeoutError("the test never opened the gate")
            return real(path)

        monkeypatch.setattr(slow_analysis, "read_audio", gated)

    async def wait_started(self) -> None:
        async with asyncio.timeout(10):
            while not self.started.is_set():  # noqa: ASYNC110 - set from a worker thread
                await asyncio.sleep(0.01)

    def open(self) -> None:
        self.release.set()


async def test_modification_during_analysis_makes_it_stale(
    db: Database, library_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = GatedReader(monkeypatch)
    spec = AudioSpec("a.mp3", "mp3", title="Raced", cover=CoverSpec(width=40, height=40))
    track = await index(db, library_settings, spec)
    path = library_settings.music_dir_path / spec.relative_path
    file_before = path.read_bytes()

    analysis = asyncio.create_task(
        analyse_track(db, library_settings, track.id, revision=track.revision)
    )
    await gate.wait_started()
    async with db.session() as session:
        await TrackRepository(session).mark_pending(track.id)
    superseding = await load(db, track.id)
    gate.open()
    result = await analysis

    assert result.outcome is AnalysisOutcome.STALE
    assert result.track == superseding
    assert await load(db, track.id) == superseding
    assert path.read_bytes() == file_before
    assert not covers(library_settings).exists(track.id)


async def test_row_deleted_during_analysis_is_missing(
    db: Database, library_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = GatedReader(monkeypatch)
    track = await index(db, library_settings, AudioSpec("a.ogg", "ogg", title="Deleted"))
    analysis = asyncio.create_task(analyse_track(db, library_settings, track.id))
    await gate.wait_started()
    async with db.session() as session:
        await TrackRepository(session).delete(track.id)
    gate.open()
    result = await analysis
    assert (result.outcome, result.track) == (AnalysisOutcome.MISSING, None)
    assert await load(db, track.id) is None


async def test_the_analysis_waits_for_the_tracks_other_writer_and_follows_its_rename(
    db: Database, library_settings: Settings, redis_url: str
) -> None:
    """An analysis used to rewrite tags while an api edit or a rename had the file; it now
    waits for the track's mutex and then works on the row as that writer left it."""
    track = await index(db, library_settings, AudioSpec("old name.mp3", "mp3", title="Song"))
    client = Redis.from_url(redis_url)
    lock = WriteLock(client, prefix="test-slow-lock")
    try:
        async with track_mutex(client, track.id):
            analysis = asyncio.create_task(
                analyse_track(db, library_settings, track.id, write_lock=lock)
            )
            await asyncio.sleep(0.5)
            assert not analysis.done()  # waiting for the writer
            music = library_settings.music_dir_path
            (music / "old name.mp3").rename(music / "Song.mp3")
            async with db.session() as session:
                await TrackRepository(session).update_fields(track.id, file_path="Song.mp3")
        result = await asyncio.wait_for(analysis, 30)
    finally:
        await client.aclose()
    assert result.outcome is AnalysisOutcome.COMPLETE, result.error
    assert result.track is not None
    assert result.track.file_path == "Song.mp3"


async def test_mutagen_measures_and_ffprobe_only_takes_what_mutagen_cannot(
    db: Database, library_settings: Settings
) -> None:
    tagged = await index(db, library_settings, AudioSpec("a.m4a", "m4a", title="A"))
    bare = library_settings.music_dir_path / "bare.mp3"
    await asyncio.to_thread(write_mp3_without_xing, bare)
    untrusted = await register(db, library_settings, bare)
    results = [await analyse_track(db, library_settings, t.id) for t in (tagged, untrusted)]
    assert [r.outcome for r in results] == [AnalysisOutcome.COMPLETE] * 2
    assert [r.findings.reader if r.findings else None for r in results] == [
        DurationReader.MUTAGEN,
        DurationReader.FFPROBE,
    ]
    assert results[1].track is not None
    assert results[1].track.duration == pytest.approx(1.0, abs=TOLERANCE_SECONDS)


async def test_an_albums_shared_cover_is_encoded_once_and_shared(
    db: Database, library_settings: Settings
) -> None:
    cover = CoverSpec(width=300, height=300, seed=77)
    tracks = [
        await index(db, library_settings, AudioSpec(f"Album/{n}.{fmt}", fmt, title=n, cover=cover))
        for n, fmt in (("one", "flac"), ("two", "mp3"), ("three", "ogg"))
    ]
    results = [await analyse_track(db, library_settings, t.id) for t in tracks]
    assert [r.findings.cover_encoded if r.findings else None for r in results] == [
        True,
        False,
        False,
    ]
    store = covers(library_settings)
    inodes = {store.path(t.id, "original").stat().st_ino for t in tracks}
    assert len(inodes) == 1
    assert all(r.track is not None and r.track.has_cover for r in results)
