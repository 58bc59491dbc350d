"""The job outbox's queries: add an intent in the caller's transaction, claim, forget."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mus.adapters.persistence.models import OutboxRow


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One job to hand to the broker."""

    id: int
    task_name: str
    kwargs: dict[str, Any]
    attempts: int


def _entry(row: OutboxRow) -> OutboxEntry:
    return OutboxEntry(row.id, row.task_name, dict(row.kwargs), row.attempts)


class OutboxRepository:
    """Queries on `job_outbox` within one session (the caller owns the transaction)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, task_name: str, kwargs: dict[str, Any], *, due_in: float) -> OutboxEntry:
        """Keep one job, held by its writer: another relay may send it `due_in` seconds from
        now, the writer sends it as soon as its transaction commits (no claim needed)."""
        due_at = time.time() + due_in
        entry_id = await self.session.scalar(
            insert(OutboxRow)
            .values(task_name=task_name, kwargs=kwargs, due_at=due_at, attempts=1)
            .returning(OutboxRow.id)
        )
        assert entry_id is not None
        return OutboxEntry(int(entry_id), task_name, dict(kwargs), 1)

    async def claim(
        self, *, lease_seconds: float, ids: Sequence[int] | None = None, limit: int = 100
    ) -> list[OutboxEntry]:
        """Take entries for `lease_seconds`: the given ids, else the due ones, oldest first.

        One UPDATE ... RETURNING: SQLite serialises writers, so an entry is claimed by one
        relay at a time; an entry whose claimer died becomes due again when its lease ends.
        """
        now = time.time()
        chosen = select(OutboxRow.id).order_by(OutboxRow.id).limit(limit)
        chosen = (
            chosen.where(OutboxRow.id.in_(ids))
            if ids is not None
            else chosen.where(OutboxRow.due_at <= now)
        )
        result = await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(chosen.scalar_subquery()))
            .values(due_at=now + lease_seconds, attempts=OutboxRow.attempts + 1)
            .returning(OutboxRow)
            .execution_options(synchronize_session=False)
        )
        return sorted((_entry(row) for row in result.scalars()), key=lambda entry: entry.id)

    async def release(self, ids: Sequence[int], *, due_in: float) -> None:
        """Give claimed entries back (the broker was away): due again in `due_in` seconds."""
        await self.session.execute(
            update(OutboxRow).where(OutboxRow.id.in_(ids)).values(due_at=time.time() + due_in)
        )

    async def forget(self, ids: Sequence[int]) -> None:
        """The broker has these jobs now."""
        await self.session.execute(delete(OutboxRow).where(OutboxRow.id.in_(ids)))

    async def count(self) -> int:
        return int(await self.session.scalar(select(func.count(OutboxRow.id))) or 0)

    async def all_entries(self) -> list[OutboxEntry]:
        rows = await self.session.scalars(select(OutboxRow).order_by(OutboxRow.id))
        return [_entry(row) for row in rows]
