"""Queries on `file_operations`: the intents of changes to users' files, in the caller's
transaction (record, reserve a target, fail, reopen, finish)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mus.adapters.persistence.models import FileOperationRow, utc_now
from mus.domain.file_operation import FileOperation, FileOperationKind, FileOperationState


class TargetTakenError(Exception):
    """Another unfinished operation was promised this target path."""


def _operation(row: FileOperationRow) -> FileOperation:
    return FileOperation(
        id=row.id,
        kind=FileOperationKind(row.kind),
        track_id=row.track_id,
        source_path=row.source_path,
        target_path=row.target_path,
        state=FileOperationState(row.state),
        # SQLite keeps no zone: stored in UTC, read back naive.
        created_at=row.created_at.replace(tzinfo=row.created_at.tzinfo or UTC),
        details=dict(row.details or {}),
        error=row.error,
    )


class FileOperationRepository:
    """One session's view of the unfinished file operations (the caller commits)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self,
        kind: FileOperationKind,
        *,
        track_id: int | None,
        source_path: str | None,
        target_path: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> FileOperation:
        """Record the intent; TargetTakenError when the target is promised elsewhere.

        The insert runs in a savepoint, so a taken target leaves the caller's transaction
        usable for the next candidate name.
        """
        row = FileOperationRow(
            kind=kind.value,
            track_id=track_id,
            source_path=source_path,
            target_path=target_path,
            details=details or {},
            state=FileOperationState.OPEN.value,
        )
        try:
            async with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError as exc:
            raise TargetTakenError(target_path) from exc
        return _operation(row)

    async def get(self, operation_id: int) -> FileOperation | None:
        row = await self.session.get(FileOperationRow, operation_id)
        return None if row is None else _operation(row)

    async def for_track(
        self, track_id: int, kind: FileOperationKind | None = None
    ) -> list[FileOperation]:
        query = select(FileOperationRow).where(FileOperationRow.track_id == track_id)
        if kind is not None:
            query = query.where(FileOperationRow.kind == kind.value)
        rows = await self.session.scalars(query.order_by(FileOperationRow.id))
        return [_operation(row) for row in rows]

    async def open_before(self, before: datetime) -> list[FileOperation]:
        """Open operations recorded before `before` (older ones first)."""
        rows = await self.session.scalars(
            select(FileOperationRow)
            .where(
                FileOperationRow.state == FileOperationState.OPEN.value,
                FileOperationRow.updated_at < before,
            )
            .order_by(FileOperationRow.id)
        )
        return [_operation(row) for row in rows]

    async def is_reserved(self, target_path: str) -> bool:
        found = await self.session.scalar(
            select(FileOperationRow.id).where(FileOperationRow.target_path == target_path)
        )
        return found is not None

    async def fail(self, operation_id: int, error: str) -> None:
        """Stopped with an error: kept, so a requeue can redo it."""
        await self.session.execute(
            update(FileOperationRow)
            .where(FileOperationRow.id == operation_id)
            .values(state=FileOperationState.FAILED.value, error=error, updated_at=utc_now())
        )

    async def reopen(self, operation_id: int, **details: Any) -> None:
        """A requeue: open again, with `details` merged in."""
        row = await self.session.get(FileOperationRow, operation_id)
        if row is None:
            return
        row.state = FileOperationState.OPEN.value
        row.error = None
        row.details = {**(row.details or {}), **details}
        row.updated_at = utc_now()
        await self.session.flush()

    async def touch(self, operation_id: int) -> None:
        """The operation is being worked on now (the reconciler waits a quiet period)."""
        await self.session.execute(
            update(FileOperationRow)
            .where(FileOperationRow.id == operation_id)
            .values(updated_at=utc_now())
        )

    async def finish(self, operation_id: int) -> None:
        """Done (or undone): the row goes, in the transaction that records the outcome."""
        await self.session.execute(
            delete(FileOperationRow).where(FileOperationRow.id == operation_id)
        )

    async def forget_target(self, track_id: int, target_path: str) -> None:
        """The track is at `target_path` already: an intent to move it there is done."""
        await self.session.execute(
            delete(FileOperationRow).where(
                FileOperationRow.track_id == track_id,
                FileOperationRow.target_path == target_path,
            )
        )

    async def forget_track(self, track_id: int, kind: FileOperationKind | None = None) -> None:
        query = delete(FileOperationRow).where(FileOperationRow.track_id == track_id)
        if kind is not None:
            query = query.where(FileOperationRow.kind == kind.value)
        await self.session.execute(query)
