"""Slow analysis of a batch of tracks: the files one after another, the outcomes in one
transaction.

A job per track wrote its outcome in a transaction of its own, and on 1,000 new files the
workers spent most of their time in SQLite's small transactions. A batch (the watcher's
files copied in together, the start-up scan's pending tracks) reads its rows in one query,
measures and finishes its files in one call to a thread each, checks their revisions in
one query, and writes every outcome in one transaction. Per track it decides exactly what
`analyse_track` decides (the same reading, the same revision guard, the same sentences).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mus.adapters.path_locks import WAIT_SECONDS, WriteKind, WriteLock
from mus.adapters.persistence.database import Database
from mus.adapters.persistence.track_repository import TrackRepository
from mus.adapters.resource_faults import is_transient
from mus.adapters.scanner.cover_store import CoverStore
from mus.adapters.track_writer import track_mutexes
from mus.application.slow_analysis import (
    AnalysisOutcome,
    AnalysisResult,
    FileFindings,
    Measurement,
    TrackAnalysisError,
    after_superseded,
    finish_analysis,
    measure_file,
    write_complete,
)
from mus.core.broker_preflight import BrokerUnavailableError
from mus.core.config import Settings
from mus.domain.track import Track, TrackError

logger = logging.getLogger(__name__)

Wanted = tuple[int, int | None]
"""A track id and the revision its job was queued for (None: whatever it is now)."""


@dataclass(slots=True)
class _Work:
    """One track of the batch on its way through the steps."""

    track: Track
    measurement: Measurement | None = None
    findings: FileFindings | None = None
    error: str | None = None


async def analyse_tracks(
    database: Database,
    settings: Settings,
    wanted: Sequence[Wanted],
    *,
    job_name: str,
    write_lock: WriteLock | None = None,
) -> list[AnalysisResult]:
    """Analyse every track and record COMPLETE or ERROR for each in one transaction; one
    result per distinct track id, in the order asked.

    The batch holds every track's mutex until its outcomes are written, so an api edit or a
    rename of one of them waits for the batch (as for one `analyse_track`). A broker lost or
    a transient fault (a full or read-only folder, a busy database) raises for the whole
    batch, which is run again; nothing it wrote stands in the way (it is idempotent).
    """
    order = list(dict.fromkeys(track_id for track_id, _ in wanted))
    revisions = dict(wanted)
    async with (
        track_mutexes(write_lock.redis, order, wait_seconds=WAIT_SECONDS)
        if write_lock
        else contextlib.nullcontext()
    ):
        results = await _analyse_held(
            database,
            settings,
            order=order,
            revisions=revisions,
            job_name=job_name,
            write_lock=write_lock,
        )
    return [results[track_id] for track_id in order]


async def _analyse_held(
    database: Database,
    settings: Settings,
    *,
    order: list[int],
    revisions: dict[int, int | None],
    job_name: str,
    write_lock: WriteLock | None,
) -> dict[int, AnalysisResult]:
    results: dict[int, AnalysisResult] = {}
    async with database.session() as session:
        tracks = await TrackRepository(session).get_many(order)
    work: list[_Work] = []
    for track_id in order:
        track = tracks.get(track_id)
        wanted_revision = revisions[track_id]
        if track is None:
            results[track_id] = AnalysisResult(track_id, AnalysisOutcome.MISSING, None, None)
        elif wanted_revision is not None and wanted_revision != track.revision:
            logger.info(
                "%s: track %d is at revision %d, job was for %d: stale, skipped",
                job_name,
                track_id,
                track.revision,
                wanted_revision,
            )
            results[track_id] = AnalysisResult(track_id, AnalysisOutcome.STALE, track, None)
        else:
            work.append(_Work(track))
    if not work:
        return results
    root = settings.music_dir_path
    measured = await asyncio.to_thread(_measure_all, root, [item.track for item in work])
    for item, outcome in zip(work, measured, strict=True):
        _take(item, outcome, job_name)
    work = await _still_current(database, work, results)
    covers = CoverStore.from_settings(settings)
    if settings.normalise_id3:
        for item in work:
            if item.measurement is not None:
                _take(item, await _finish_one(item, root, covers, write_lock), job_name)
    else:
        ready = [item for item in work if item.measurement is not None]
        finished = await asyncio.to_thread(_finish_all, root, covers, ready)
        for item, result in zip(ready, finished, strict=True):
            _take(item, result, job_name)
    results.update(await _record(database, covers, work, job_name))
    return results


def _measure_all(root: Path, tracks: list[Track]) -> list[Measurement | BaseException]:
    """Read every file once (blocking); a failure is returned in its place, not raised."""
    found: list[Measurement | BaseException] = []
    for track in tracks:
        try:
            found.append(measure_file(root / track.file_path, track.file_path))
        except Exception as exc:
            found.append(exc)
    return found


def _finish_all(
    root: Path, covers: CoverStore, work: list[_Work]
) -> list[FileFindings | BaseException]:
    """Store or clear every cover (blocking); a failure is returned in its place."""
    found: list[FileFindings | BaseException] = []
    for item in work:
        assert item.measurement is not None
        try:
            found.append(
                finish_analysis(
                    root / item.track.file_path, root, item.track.id, covers, item.measurement
                )
            )
        except Exception as exc:
            found.append(exc)
    return found


async def _finish_one(
    item: _Work, root: Path, covers: CoverStore, write_lock: WriteLock | None
) -> FileFindings | BaseException:
    """Finish with the tags rewritten (opt-in), the file held so the watcher ignores it."""
    assert item.measurement is not None
    path = item.track.file_path
    try:
        async with (
            write_lock.hold([path], WriteKind.CONTENT) if write_lock else contextlib.nullcontext()
        ):
            findings = await asyncio.to_thread(
                finish_analysis,
                root / path,
                root,
                item.track.id,
                covers,
                item.measurement,
                normalise_id3=True,
            )
            if write_lock and findings.tags_rewritten:
                await write_lock.record_content(path, findings.content_hash)
    except BrokerUnavailableError:
        raise
    except Exception as exc:
        return exc
    return findings


def _take(item: _Work, outcome: Measurement | FileFindings | BaseException, job_name: str) -> None:
    """Keep a step's outcome; a file's problem becomes its ERROR sentence, and the machine's
    trouble (a broker lost, a full or read-only folder) is raised for the whole batch."""
    if isinstance(outcome, Measurement):
        item.measurement = outcome
        return
    if isinstance(outcome, FileFindings):
        item.findings = outcome
        return
    item.measurement = None
    if isinstance(outcome, TrackAnalysisError):
        item.error = str(outcome)
        return
    if isinstance(outcome, BrokerUnavailableError) or is_transient(outcome):
        raise outcome
    logger.error(
        "%s: unexpected error on track %d",
        job_name,
        item.track.id,
        exc_info=(type(outcome), outcome, outcome.__traceback__),
    )
    detail = str(outcome) or type(outcome).__name__
    item.error = f"unexpected error analysing '{item.track.file_path}': {detail}"


async def _still_current(
    database: Database, work: list[_Work], results: dict[int, AnalysisResult]
) -> list[_Work]:
    """The tracks still at the revision they were read at; the others are STALE or MISSING
    now (before any cover of theirs is stored)."""
    async with database.session() as session:
        now = await TrackRepository(session).revisions_of([item.track.id for item in work])
    current: list[_Work] = []
    for item in work:
        revision = now.get(item.track.id)
        if revision == item.track.revision:
            current.append(item)
        else:
            results[item.track.id] = await after_superseded(database, None, item.track.id)
    return current


async def _record(
    database: Database, covers: CoverStore, work: list[_Work], job_name: str
) -> dict[int, AnalysisResult]:
    """Every outcome in one transaction, each under its revision guard."""
    written: dict[int, Track | None] = {}
    errors: dict[int, TrackError] = {}
    async with database.session() as session:
        repo = TrackRepository(session)
        for item in work:
            track, findings = item.track, item.findings
            if findings is not None:
                written[track.id] = await write_complete(repo, track.id, track.revision, findings)
            else:
                message = item.error or "analysis did not finish"
                error = TrackError(
                    job_name=job_name, error_message=message, timestamp=datetime.now(UTC)
                )
                errors[track.id] = error
                written[track.id] = await repo.error_if_current(track.id, track.revision, error)
    results: dict[int, AnalysisResult] = {}
    for item in work:
        track_id = item.track.id
        now = written[track_id]
        if now is None:
            results[track_id] = await after_superseded(
                database, covers if item.findings is not None else None, track_id
            )
        elif item.findings is not None:
            results[track_id] = AnalysisResult(
                track_id, AnalysisOutcome.COMPLETE, now, None, item.findings
            )
        else:
            logger.warning("%s: track %d failed: %s", job_name, track_id, item.error)
            results[track_id] = AnalysisResult(
                track_id, AnalysisOutcome.ERROR, now, errors[track_id]
            )
    return results
