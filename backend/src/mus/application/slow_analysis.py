"""Slow analysis of one track: duration, cover art (ID3v2.3 tags if opted in), then COMPLETE.

One open and one mutagen parse give the duration, the tags and the cover (audio_reading);
ffprobe decodes only a file whose header cannot be trusted (playable_duration), and the file
is read again only when its tags were rewritten (opt-in).

The body of the `process_slow_metadata` job, free of queue types, so every backend (and the
inline `mus scan`) runs the same code and decides staleness the same way: a job carrying an
older revision than the track's does nothing, and results are written only if the revision
is still the one the analysis started from.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from mus.adapters.path_locks import WAIT_SECONDS, WriteKind, WriteLock
from mus.adapters.persistence.database import Database
from mus.adapters.persistence.track_repository import TrackRepository
from mus.adapters.resource_faults import is_transient
from mus.adapters.scanner.audio_decoding import decoded_duration
from mus.adapters.scanner.audio_reading import AudioReading, NotAFileError, read_audio
from mus.adapters.scanner.cover_store import CoverImageError, CoverStore
from mus.adapters.scanner.duration_probe import AudioProbeError, resolve_ffprobe
from mus.adapters.scanner.embedded_cover import cover_of
from mus.adapters.scanner.fast_metadata import (
    EmptyAudioFileError,
    NotARegularFileError,
    read_fast_metadata,
)
from mus.adapters.scanner.playable_duration import CutShortError, settle
from mus.adapters.scanner.tag_normaliser import TagNormalisationError, normalise_parsed_tags
from mus.adapters.scanner.title_from_filename import title_and_artist_from_filename
from mus.adapters.track_writer import track_mutex
from mus.core.broker_preflight import BrokerUnavailableError
from mus.core.config import Settings
from mus.domain.track import Track, TrackError

logger = logging.getLogger(__name__)

DEFAULT_JOB_NAME = "process_slow_metadata"


class DurationReader(StrEnum):
    """Which reader measured a duration: mutagen in process, or ffprobe's decoding."""

    MUTAGEN = "mutagen"
    FFPROBE = "ffprobe"


class AnalysisOutcome(StrEnum):
    """What one analysis did; jobs report it and decide which event to publish from it."""

    COMPLETE = "complete"
    ERROR = "error"
    STALE = "stale"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    """The outcome with the track as it now stands (None when the row is gone)."""

    track_id: int
    outcome: AnalysisOutcome
    track: Track | None
    error: TrackError | None
    findings: FileFindings | None = None


class TrackAnalysisError(Exception):
    """A file problem that ends the analysis in ERROR; the message is shown to the user."""


@dataclass(frozen=True, slots=True)
class Measurement:
    """The file as first read, and its duration with the reader that measured it."""

    reading: AudioReading | None
    duration: float
    reader: DurationReader


@dataclass(frozen=True, slots=True)
class FileFindings:
    """What the blocking part of the analysis found and left on disk."""

    duration: float
    reader: DurationReader
    cover_encoded: bool
    has_cover: bool
    content_hash: str
    file_mtime: float
    tags_rewritten: bool
    title: str
    artist: str | None


async def analyse_track(
    database: Database,
    settings: Settings,
    track_id: int,
    *,
    revision: int | None = None,
    job_name: str = DEFAULT_JOB_NAME,
    write_lock: WriteLock | None = None,
    file_processes: Executor | None = None,
) -> AnalysisResult:
    """Analyse one track and record COMPLETE or ERROR; file problems never raise.

    With `file_processes` (`mus scan` only: no watcher, no other writer) the file part runs
    in one call in a worker process, so the database work here and the file work there
    use two cores.

    A broker lost mid-analysis (the write lock) raises BrokerUnavailableError instead of
    recording ERROR: the job is retried, the track stays PENDING meanwhile.

    `revision` is the track revision the job was queued for; None (batch jobs, `mus scan`)
    means "whatever the track is at now". Running it twice gives the same final state.
    With a `write_lock` (jobs have one; `mus scan` runs without a watcher) the file is
    held while its tags are rewritten, so the watcher ignores that echo, and the analysis
    runs as the track's only writer (an api edit or a rename waits, and vice versa).
    """
    async with (
        track_mutex(write_lock.redis, track_id, wait_seconds=WAIT_SECONDS)
        if write_lock
        else contextlib.nullcontext()
    ):
        return await _analyse_in_turn(
            database,
            settings,
            track_id,
            revision=revision,
            job_name=job_name,
            write_lock=write_lock,
            file_processes=file_processes,
        )


async def _analyse_in_turn(
    database: Database,
    settings: Settings,
    track_id: int,
    *,
    revision: int | None,
    job_name: str,
    write_lock: WriteLock | None,
    file_processes: Executor | None,
) -> AnalysisResult:
    """The analysis proper, on the row as it is once we are the track's writer."""
    track = await _load(database, track_id)
    if track is None:
        return AnalysisResult(track_id, AnalysisOutcome.MISSING, None, None)
    if revision is not None and revision != track.revision:
        logger.info(
            "%s: track %d is at revision %d, job was for %d: stale, skipped",
            job_name,
            track_id,
            track.revision,
            revision,
        )
        return AnalysisResult(track_id, AnalysisOutcome.STALE, track, None)
    expected = track.revision
    covers = CoverStore.from_settings(settings)
    path = settings.music_dir_path / track.file_path
    try:
        if file_processes is not None:
            findings = await asyncio.get_running_loop().run_in_executor(
                file_processes,
                analyse_file,
                path,
                settings.music_dir_path,
                track_id,
                covers,
                settings.normalise_id3,
            )
            return await _record_complete(
                database, covers=covers, track_id=track_id, expected=expected, findings=findings
            )
        measurement = await asyncio.to_thread(measure_file, path, track.file_path)
        superseded = await _unless_current(database, track_id, expected)
        if superseded is not None:
            return superseded
        # Only a tag rewrite (opt-in) writes to the user's file: its echo is held off then.
        async with (
            write_lock.hold([track.file_path], WriteKind.CONTENT)
            if write_lock and settings.normalise_id3
            else contextlib.nullcontext()
        ):
            findings = await asyncio.to_thread(
                finish_analysis,
                path,
                settings.music_dir_path,
                track_id,
                covers,
                measurement,
                normalise_id3=settings.normalise_id3,
            )
            if write_lock and findings.tags_rewritten:
                await write_lock.record_content(track.file_path, findings.content_hash)
    except TrackAnalysisError as exc:
        return await _record_error(database, track_id, expected, job_name, str(exc))
    except BrokerUnavailableError:
        # The broker went away under the job: not the track's fault, and not for the user
        # to see. The job fails as a whole and is run again once the broker is back.
        raise
    except Exception as exc:
        if is_transient(exc):
            # A full data folder (a cover), a read-only one: the machine's trouble, not the
            # file's. The job waits it out and runs again; the track stays PENDING meanwhile.
            raise
        logger.exception("%s: unexpected error on track %d", job_name, track_id)
        detail = str(exc) or type(exc).__name__
        message = f"unexpected error analysing '{track.file_path}': {detail}"
        return await _record_error(database, track_id, expected, job_name, message)
    return await _record_complete(
        database,
        covers=covers,
        track_id=track_id,
        expected=expected,
        findings=findings,
    )


async def _load(database: Database, track_id: int) -> Track | None:
    async with database.session() as session:
        return await TrackRepository(session).get(track_id)


async def _unless_current(
    database: Database, track_id: int, expected: int
) -> AnalysisResult | None:
    """None while the track is still at `expected`; else the STALE or MISSING result."""
    track = await _load(database, track_id)
    if track is None:
        return AnalysisResult(track_id, AnalysisOutcome.MISSING, None, None)
    if track.revision != expected:
        return AnalysisResult(track_id, AnalysisOutcome.STALE, track, None)
    return None


def measure_file(path: Path, relative_path: str) -> Measurement:
    """Read the file once; decode it (ffprobe) only where its header cannot be trusted.

    Which headers are trusted is the rule of `playable_duration`. A file that is not readable
    audio, has no audio stream or is cut short raises `TrackAnalysisError` with a sentence a
    person understands; a vanished file is named as such.
    """
    if not path.is_file():
        raise TrackAnalysisError(_missing_message(relative_path))
    try:
        reading: AudioReading | None = read_audio(path)
    except (FileNotFoundError, NotAFileError) as exc:
        raise TrackAnalysisError(_missing_message(relative_path)) from exc
    except OSError:
        reading = None  # unreadable here (permissions...): ffprobe's message will say why
    if reading is not None and reading.duration is not None:
        return Measurement(reading, reading.duration, DurationReader.MUTAGEN)
    try:
        decoded = decoded_duration(path, display_name=relative_path)
        duration = settle(decoded, reading.claimed_duration if reading else None)
    except AudioProbeError as exc:
        if not path.is_file():
            raise TrackAnalysisError(_missing_message(relative_path)) from exc
        raise TrackAnalysisError(str(exc)) from exc
    except CutShortError as exc:
        raise TrackAnalysisError(str(exc)) from exc
    if reading is not None:
        logger.info("%s measured by decoding: %s", relative_path, reading.unmeasured_reason)
    reader = DurationReader.FFPROBE if resolve_ffprobe() else DurationReader.MUTAGEN
    return Measurement(reading, duration, reader)


def _missing_message(relative_path: str) -> str:
    return f"file not found: {relative_path}"


def analyse_file(
    path: Path,
    music_root: Path,
    track_id: int,
    covers: CoverStore,
    normalise_id3: bool = False,
) -> FileFindings:
    """The whole blocking analysis in one call (for a worker process): measure, then finish."""
    measurement = measure_file(path, path.relative_to(music_root).as_posix())
    return finish_analysis(
        path, music_root, track_id, covers, measurement, normalise_id3=normalise_id3
    )


def finish_analysis(
    path: Path,
    music_root: Path,
    track_id: int,
    covers: CoverStore,
    measurement: Measurement,
    *,
    normalise_id3: bool = False,
) -> FileFindings:
    """Store or clear the cover, normalise tags if the operator opted in, and say what the
    file now is (blocking).

    Works on the parse `measure_file` made, unless the file changed since (then it parses
    again). By default the file is only read: a scan never changes a byte of the user's files
    (`MUS_NORMALISE_ID3` opts in to the ID3v2.3 rewrite). A tag that cannot be rewritten
    (read-only library) or a broken embedded image only costs that feature: the track still
    plays, so neither turns it into an ERROR.
    """
    relative_path = path.relative_to(music_root).as_posix()
    reading = _current_reading(path, relative_path, measurement.reading)
    audio = reading.audio if reading is not None else None
    tags_rewritten = False
    if audio is None:
        reason = reading.unmeasured_reason if reading is not None else "file not readable"
        logger.warning("no tags or cover read from %s: %s", relative_path, reason)
    elif normalise_id3:
        try:
            tags_rewritten = normalise_parsed_tags(audio, path)
        except TagNormalisationError as exc:
            logger.warning("tags of %s left as they are: %s", relative_path, exc)
    image = cover_of(audio, relative_path)
    has_cover = cover_encoded = False
    if image is not None:
        try:
            cover_encoded = covers.save(track_id, image)
            has_cover = True
        except CoverImageError as exc:
            logger.warning("embedded cover of %s ignored: %s", relative_path, exc)
    if not has_cover:
        covers.delete(track_id)
    if tags_rewritten or reading is None:
        # Tags, fingerprint and mtime as they are after our own rewrite: the watcher's echo
        # of that rewrite then finds the hash it already knows.
        title, artist, content_hash, mtime = _read_again(path, music_root, relative_path)
    else:
        title, artist = _title_and_artist(path, reading)
        content_hash, mtime = reading.content_hash, reading.mtime
    return FileFindings(
        duration=measurement.duration,
        reader=measurement.reader,
        cover_encoded=cover_encoded,
        has_cover=has_cover,
        content_hash=content_hash,
        file_mtime=mtime,
        tags_rewritten=tags_rewritten,
        title=title,
        artist=artist,
    )


def _current_reading(
    path: Path, relative_path: str, reading: AudioReading | None
) -> AudioReading | None:
    """`reading` if the file is still the one it read, else a fresh parse."""
    try:
        status = path.stat()
        if reading is not None and (status.st_ino, status.st_size, status.st_mtime) == (
            reading.inode,
            reading.size,
            reading.mtime,
        ):
            return reading
        return read_audio(path)
    except (FileNotFoundError, NotAFileError) as exc:
        raise TrackAnalysisError(_missing_message(relative_path)) from exc


def _title_and_artist(path: Path, reading: AudioReading) -> tuple[str, str | None]:
    """The tags' title and artist, completed from the file name as read_fast_metadata does."""
    title, artist = reading.title, reading.artist
    if title is None or artist is None:
        guessed_title, guessed_artist = title_and_artist_from_filename(path)
        title = title or guessed_title
        artist = artist or guessed_artist
    return title, artist


def _read_again(
    path: Path, music_root: Path, relative_path: str
) -> tuple[str, str | None, str, float]:
    """(title, artist, fingerprint, mtime) read afresh, after a rewrite of the tags."""
    try:
        now = read_fast_metadata(path, music_root)
    except FileNotFoundError as exc:
        raise TrackAnalysisError(_missing_message(relative_path)) from exc
    except (EmptyAudioFileError, NotARegularFileError) as exc:
        raise TrackAnalysisError(str(exc)) from exc
    return now.title, now.artist, now.content_hash, now.mtime


async def _record_complete(
    database: Database,
    *,
    covers: CoverStore,
    track_id: int,
    expected: int,
    findings: FileFindings,
) -> AnalysisResult:
    """COMPLETE, written only if the revision is still `expected` (one guarded UPDATE)."""
    async with database.session() as session:
        track = await write_complete(TrackRepository(session), track_id, expected, findings)
    if track is None:
        return await after_superseded(database, covers, track_id)
    return AnalysisResult(track_id, AnalysisOutcome.COMPLETE, track, None, findings)


async def write_complete(
    repo: TrackRepository, track_id: int, revision: int, findings: FileFindings
) -> Track | None:
    """COMPLETE with what the analysis found, if the track is still at `revision` (the row
    as written, or None: it changed or went); one analysis and a batch write it alike."""
    return await repo.complete_if_current(
        track_id,
        revision,
        duration=findings.duration,
        has_cover=findings.has_cover,
        content_hash=findings.content_hash,
        file_mtime=findings.file_mtime,
        title=findings.title,
        artist=findings.artist,
    )


async def _record_error(
    database: Database, track_id: int, expected: int, job_name: str, message: str
) -> AnalysisResult:
    """ERROR with the reason, under the same revision guard as COMPLETE."""
    error = TrackError(job_name=job_name, error_message=message, timestamp=datetime.now(UTC))
    async with database.session() as session:
        track = await TrackRepository(session).error_if_current(track_id, expected, error)
    if track is None:
        return await after_superseded(database, None, track_id)
    logger.warning("%s: track %d failed: %s", job_name, track_id, message)
    return AnalysisResult(track_id, AnalysisOutcome.ERROR, track, error)


async def after_superseded(
    database: Database, covers: CoverStore | None, track_id: int
) -> AnalysisResult:
    """STALE with the track as it now is, or MISSING (and no orphan covers) if it is gone."""
    track = await _load(database, track_id)
    if track is None:
        if covers is not None:
            await asyncio.to_thread(covers.delete, track_id)
        return AnalysisResult(track_id, AnalysisOutcome.MISSING, None, None)
    return AnalysisResult(track_id, AnalysisOutcome.STALE, track, None)
