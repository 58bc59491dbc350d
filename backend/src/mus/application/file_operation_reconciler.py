"""Finishing or undoing the changes to users' files that a crash or a failure interrupted.

Every tag edit, rename, delete and upload placement records its intent before it touches
the file and removes it with the outcome (`file_operations`). An intent still open after a
quiet period was cut short; what the disk holds says how far it got:

- tag edit (the api's own): the copy left beside the file is removed; a file that already
  holds the new tags (its fingerprint moved on) is indexed again (`handle_file_modified`
  reads its tags back), else nothing changed and the intent is dropped;
- upload placement: a placed file without a row is indexed (`handle_file_created`),
  nothing placed drops the intent;
- rename and delete (a job's): the job is kept and relayed again once the broker is idle.
  Both jobs check the disk first, so a rename done before the crash only moves the row,
  and a file already deleted only takes the row with it.

A failed intent (`failed`) is left for the user: a requeue redoes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from datetime import timedelta
from pathlib import Path

from mus.adapters.file_replacement import remove_leftover
from mus.adapters.persistence.database import Database
from mus.adapters.persistence.file_operation_repository import FileOperationRepository
from mus.adapters.persistence.models import utc_now
from mus.adapters.persistence.outbox_repository import OutboxEntry
from mus.adapters.persistence.track_repository import TrackRepository
from mus.adapters.scanner.fingerprint import content_fingerprint
from mus.application.job_outbox import OutboxRelay, keep_job
from mus.core.broker_preflight import BrokerUnavailableError
from mus.domain.file_operation import FileOperation, FileOperationKind

logger = logging.getLogger(__name__)

QUIET_SECONDS = 60.0
"""An intent younger than this may still be under way (a large file's copy, a queued job)."""


def _fingerprint(path: Path) -> str | None:
    try:
        return content_fingerprint(path)
    except FileNotFoundError:
        return None


async def _settle_tag_edit(
    database: Database, music_root: Path, operation: FileOperation
) -> OutboxEntry | None:
    """Remove the copy; the outbox entry of the re-indexing a changed file needs, if any.

    A changed file is indexed as it is (its tags read back), not as the intent said: an
    edit by another program in between must not be overwritten in the row.
    """
    assert operation.source_path is not None
    path = music_root / operation.source_path
    temp = operation.details.get("temp")
    if isinstance(temp, str):
        await asyncio.to_thread(remove_leftover, path.parent, temp)
    now = await asyncio.to_thread(_fingerprint, path)
    async with database.session() as session:
        kept = None
        if now is not None and now != operation.details.get("before"):
            kept = await keep_job(session, "handle_file_modified", file_path=operation.source_path)
            logger.warning(
                "file operations: the tag edit of %s reached the file before a failure; "
                "the file is indexed again",
                operation.source_path,
            )
        await FileOperationRepository(session).finish(operation.id)
    return kept


async def _settle_placement(
    database: Database, music_root: Path, operation: FileOperation
) -> OutboxEntry | None:
    """The outbox entry of the indexing a placed file still needs, if any."""
    assert operation.target_path is not None
    placed = await asyncio.to_thread(os.path.lexists, music_root / operation.target_path)
    async with database.session() as session:
        kept = None
        if placed and await TrackRepository(session).get_by_path(operation.target_path) is None:
            kept = await keep_job(session, "handle_file_created", file_path=operation.target_path)
        await FileOperationRepository(session).finish(operation.id)
    return kept


async def _keep_job_again(database: Database, operation: FileOperation) -> OutboxEntry:
    async with database.session() as session:
        await FileOperationRepository(session).touch(operation.id)
        if operation.kind is FileOperationKind.DELETE:
            return await keep_job(session, "delete_track_with_files", track_id=operation.track_id)
        return await keep_job(
            session,
            "update_track_path_by_id",
            track_id=operation.track_id,
            new_file_path=operation.target_path,
        )


async def _broker_idle(relay: OutboxRelay) -> bool:
    try:
        return await relay.job_queue.backlog() == 0
    except BrokerUnavailableError:
        return False


async def reconcile_file_operations(
    database: Database,
    relay: OutboxRelay,
    music_root: Path,
    *,
    quiet_seconds: float = QUIET_SECONDS,
) -> int:
    """Settle every open intent older than `quiet_seconds`; returns how many were settled."""
    async with database.session() as session:
        stale = await FileOperationRepository(session).open_before(
            utc_now() - timedelta(seconds=quiet_seconds)
        )
    if not stale:
        return 0
    kept: list[OutboxEntry] = []
    settled = 0
    idle: bool | None = None
    for operation in stale:
        if operation.kind in (FileOperationKind.TAG_EDIT, FileOperationKind.PLACE):
            settle = (
                _settle_tag_edit
                if operation.kind is FileOperationKind.TAG_EDIT
                else _settle_placement
            )
            indexing = await settle(database, music_root, operation)
            kept.extend([] if indexing is None else [indexing])
        else:
            if idle is None:
                idle = await _broker_idle(relay)
            if not idle:  # its job may still be queued: never doubled behind a backlog
                continue
            kept.append(await _keep_job_again(database, operation))
        settled += 1
    if settled:
        logger.warning(
            "file operations: %d change(s) to users' files were cut short and are settled "
            "(first: %s of %s)",
            settled,
            stale[0].kind.value,
            stale[0].source_path or stale[0].target_path,
        )
    await relay.send(kept)
    return settled


async def run_file_operation_reconciler(
    database: Database,
    relay: OutboxRelay,
    music_root: Path,
    stop: asyncio.Event,
    interval_seconds: float,
) -> None:
    """Settle what a previous run left at once (quiet 0: the api that recorded a tag edit or
    a placement is gone), then `reconcile_file_operations` every `interval_seconds`."""
    quiet = 0.0
    while not stop.is_set():
        try:
            await reconcile_file_operations(database, relay, music_root, quiet_seconds=quiet)
        except Exception:
            logger.exception("file operations: reconciler round failed; trying again")
        quiet = QUIET_SECONDS
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(interval_seconds):
                await stop.wait()
