"""Track persistence: the queries the scanner, jobs and API need, and nothing else."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Select, Table, case, delete, func, or_, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from mus.adapters.persistence.models import TrackRow, utc_now
from mus.domain.track import FastMetadata, ProcessingStatus, Track, TrackError


@dataclass(frozen=True, slots=True)
class UpsertOutcome:
    """Counts of one batch upsert, for the scan summary."""

    inserted: int
    changed: int
    unchanged: int


@dataclass(frozen=True, slots=True)
class IndexedFile:
    """What a rescan compares with one stat of the file: the row is trusted if all match."""

    track_id: int
    size: int | None
    mtime: float | None
    inode: int | None


class TrackSort(StrEnum):
    """The orders a track list can be read in; ties always fall back to the id."""

    ARTIST = "artist"
    TITLE = "title"
    DURATION = "duration"
    ADDED = "added"
    STATUS = "status"


SORT_COLUMNS: dict[TrackSort, tuple[InstrumentedAttribute[Any], ...]] = {
    TrackSort.ARTIST: (TrackRow.artist, TrackRow.title),
    TrackSort.TITLE: (TrackRow.title, TrackRow.artist),
    TrackSort.DURATION: (TrackRow.duration,),
    TrackSort.ADDED: (TrackRow.added_at,),
    TrackSort.STATUS: (TrackRow.processing_status, TrackRow.artist, TrackRow.title),
}


def like_pattern(word: str) -> str:
    """`%word%` for LIKE, with the wildcards a person may type taken literally."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filtered(
    query: Select[Any], status: ProcessingStatus | None, search: str | None
) -> Select[Any]:
    """`query` restricted to a status and to rows whose title, artist or path hold `search`."""
    if status is not None:
        query = query.where(TrackRow.processing_status == status.value)
    for word in (search or "").split():
        pattern = like_pattern(word)
        query = query.where(
            or_(
                TrackRow.title.ilike(pattern, escape="\\"),
                TrackRow.artist.ilike(pattern, escape="\\"),
                TrackRow.file_path.ilike(pattern, escape="\\"),
            )
        )
    return query


def to_track(row: TrackRow) -> Track:
    """Map a row to the domain entity."""
    return Track(
        id=row.id,
        file_path=row.file_path,
        title=row.title,
        artist=row.artist,
        duration=row.duration,
        added_at=row.added_at,
        updated_at=row.updated_at,
        has_cover=row.has_cover,
        inode=row.inode,
        content_hash=row.content_hash,
        file_mtime=row.file_mtime,
        processing_status=ProcessingStatus(row.processing_status),
        revision=row.revision,
        last_error=TrackError.from_json(row.last_error) if row.last_error else None,
    )


def _upsert_fast_statement() -> Any:
    """INSERT ... ON CONFLICT(file_path) DO UPDATE for fast metadata, run with many rows."""
    table = Table(TrackRow.__tablename__, TrackRow.metadata)
    stmt = sqlite_insert(table)
    excluded = stmt.excluded
    row = table.c
    hash_changed = row.content_hash.is_distinct_from(excluded.content_hash)
    return stmt.on_conflict_do_update(
        index_elements=[row.file_path],
        set_={
            "title": case((hash_changed, excluded.title), else_=row.title),
            "artist": case((hash_changed, excluded.artist), else_=row.artist),
            "duration": case((hash_changed, excluded.duration), else_=row.duration),
            "inode": excluded.inode,
            "file_mtime": excluded.file_mtime,
            "file_size": excluded.file_size,
            "content_hash": excluded.content_hash,
            "processing_status": case(
                (hash_changed, ProcessingStatus.PENDING.value), else_=row.processing_status
            ),
            "last_error": case((hash_changed, None), else_=row.last_error),
            "revision": case((hash_changed, row.revision + 1), else_=row.revision),
            "updated_at": case((hash_changed, excluded.updated_at), else_=row.updated_at),
        },
        where=(
            hash_changed
            | row.inode.is_distinct_from(excluded.inode)
            | row.file_mtime.is_distinct_from(excluded.file_mtime)
            | row.file_size.is_distinct_from(excluded.file_size)
        ),
    )


_UPSERT_FAST = _upsert_fast_statement()
_TRACKS = cast(Table, TrackRow.__table__)
_UPSERT_FAST_RETURNING = _upsert_fast_statement().returning(*_TRACKS.c)


def _fast_values(metadata: FastMetadata, now: datetime) -> dict[str, Any]:
    """The row a new file gets, and the columns a changed one takes from it."""
    return {
        "file_path": metadata.file_path,
        "title": metadata.title,
        "artist": metadata.artist,
        "duration": metadata.duration,
        "inode": metadata.inode,
        "file_mtime": metadata.mtime,
        "file_size": metadata.size,
        "content_hash": metadata.content_hash,
        "processing_status": ProcessingStatus.PENDING.value,
        "revision": 0,
        "has_cover": False,
        "added_at": now,
        "updated_at": now,
    }


class TrackRepository:
    """Queries on `tracks` within one session (the caller owns the transaction)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, track_id: int) -> Track | None:
        row = await self.session.get(TrackRow, track_id, populate_existing=True)
        return to_track(row) if row else None

    async def get_many(self, track_ids: Sequence[int]) -> dict[int, Track]:
        """The tracks of these ids that exist, by id, in one query per 500."""
        found: dict[int, Track] = {}
        wanted = list(dict.fromkeys(track_ids))
        for start in range(0, len(wanted), 500):
            rows = await self.session.scalars(
                select(TrackRow)
                .where(TrackRow.id.in_(wanted[start : start + 500]))
                .execution_options(populate_existing=True)
            )
            found.update((row.id, to_track(row)) for row in rows)
        return found

    async def revisions_of(self, track_ids: Sequence[int]) -> dict[int, int]:
        """The current revision of each of these tracks that exists, in one query per 500."""
        found: dict[int, int] = {}
        wanted = list(dict.fromkeys(track_ids))
        for start in range(0, len(wanted), 500):
            result = await self.session.execute(
                select(TrackRow.id, TrackRow.revision).where(
                    TrackRow.id.in_(wanted[start : start + 500])
                )
            )
            found.update((int(row[0]), int(row[1])) for row in result.all())
        return found

    async def get_by_path(self, file_path: str) -> Track | None:
        row = await self.session.scalar(select(TrackRow).where(TrackRow.file_path == file_path))
        return to_track(row) if row else None

    async def get_by_inode(self, inode: int) -> Track | None:
        row = await self.session.scalar(
            select(TrackRow).where(TrackRow.inode == inode).order_by(TrackRow.id).limit(1)
        )
        return to_track(row) if row else None

    async def list_tracks(
        self,
        *,
        status: ProcessingStatus | None = None,
        offset: int = 0,
        limit: int | None = None,
        search: str | None = None,
        sort: TrackSort = TrackSort.ARTIST,
        descending: bool = False,
    ) -> list[Track]:
        """One page of tracks, filtered by status and by `search` in title, artist or path."""
        keys = [*SORT_COLUMNS[sort], TrackRow.id]
        query = select(TrackRow).order_by(*(key.desc() if descending else key for key in keys))
        query = _filtered(query, status, search).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        rows = await self.session.scalars(query)
        return [to_track(row) for row in rows]

    async def count(
        self, *, status: ProcessingStatus | None = None, search: str | None = None
    ) -> int:
        query = _filtered(select(func.count()).select_from(TrackRow), status, search)
        return int(await self.session.scalar(query) or 0)

    async def count_by_status(self) -> dict[str, int]:
        """How many tracks are in each processing status (absent: none)."""
        result = await self.session.execute(
            select(TrackRow.processing_status, func.count()).group_by(TrackRow.processing_status)
        )
        return {str(row[0]): int(row[1]) for row in result.all()}

    async def all_paths(self) -> dict[str, int]:
        """Every indexed path with its track id (prune and scan bookkeeping)."""
        result = await self.session.execute(select(TrackRow.file_path, TrackRow.id))
        return {row[0]: row[1] for row in result.all()}

    async def scan_index(self) -> dict[str, IndexedFile]:
        """Every indexed path with its id, size, mtime and inode, in one query (rescan)."""
        result = await self.session.execute(
            select(
                TrackRow.file_path,
                TrackRow.id,
                TrackRow.file_size,
                TrackRow.file_mtime,
                TrackRow.inode,
            )
        )
        return {
            path: IndexedFile(track_id, size, mtime, inode)
            for path, track_id, size, mtime, inode in result.all()
        }

    async def upsert_fast(self, metadata: FastMetadata) -> tuple[Track, bool]:
        """Insert or refresh one track; returns it and whether its content is new or changed."""
        after, before = await self.upsert_one(metadata)
        changed = before is None or before.content_hash != metadata.content_hash
        return after, changed

    async def upsert_one(self, metadata: FastMetadata) -> tuple[Track, Track | None]:
        """Insert or refresh one track in two statements: (the row now, the row before).

        The upsert returns the row it wrote; it writes nothing (and returns nothing) when
        the file's hash, inode, mtime and size are all as recorded, so the row before is the
        row now.
        """
        before = await self.get_by_path(metadata.file_path)
        result = await self.session.execute(
            _UPSERT_FAST_RETURNING, _fast_values(metadata, utc_now())
        )
        written = result.first()
        if written is None:
            assert before is not None
            return before, before
        return to_track(cast(TrackRow, written)), before

    async def upsert_many(self, batch: Sequence[FastMetadata]) -> UpsertOutcome:
        """One statement per batch: new paths inserted PENDING; a changed hash resets to PENDING.

        A row whose hash is unchanged keeps its status, title and covers, so a rescan
        is idempotent and never undoes slow analysis. The statement is the same for every
        batch (the rows are its parameters), so it is compiled once, not per batch.
        """
        if not batch:
            return UpsertOutcome(0, 0, 0)
        existing = await self._hashes_of(m.file_path for m in batch)
        now = utc_now()
        values = [_fast_values(m, now) for m in batch]
        await self.session.execute(_UPSERT_FAST, values)
        inserted = sum(1 for m in batch if m.file_path not in existing)
        changed = sum(
            1 for m in batch if m.file_path in existing and existing[m.file_path] != m.content_hash
        )
        return UpsertOutcome(inserted, changed, len(batch) - inserted - changed)

    async def inodes_of(self, paths: Iterable[str]) -> dict[str, int | None]:
        """The stored inode of every given path a track lives at, in one query per 500."""
        wanted = list(paths)
        found: dict[str, int | None] = {}
        for start in range(0, len(wanted), 500):
            result = await self.session.execute(
                select(TrackRow.file_path, TrackRow.inode).where(
                    TrackRow.file_path.in_(wanted[start : start + 500])
                )
            )
            found.update((row[0], row[1]) for row in result.all())
        return found

    async def _hashes_of(self, paths: Iterable[str]) -> dict[str, str | None]:
        wanted = list(paths)
        found: dict[str, str | None] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            result = await self.session.execute(
                select(TrackRow.file_path, TrackRow.content_hash).where(
                    TrackRow.file_path.in_(chunk)
                )
            )
            found.update((row[0], row[1]) for row in result.all())
        return found

    async def pending_since(self, before: datetime) -> list[tuple[int, int]]:
        """(id, revision) of PENDING tracks not touched since `before`, in id order."""
        result = await self.session.execute(
            select(TrackRow.id, TrackRow.revision)
            .where(
                TrackRow.processing_status == ProcessingStatus.PENDING.value,
                TrackRow.updated_at < before,
            )
            .order_by(TrackRow.id)
        )
        return [(int(row[0]), int(row[1])) for row in result.all()]

    async def mark_pending(self, track_id: int) -> int:
        """Back to PENDING with a new revision; returns the revision a slow job must carry."""
        await self.session.execute(
            update(TrackRow)
            .where(TrackRow.id == track_id)
            .values(
                processing_status=ProcessingStatus.PENDING.value,
                revision=TrackRow.revision + 1,
                last_error=None,
                updated_at=utc_now(),
            )
        )
        revision = await self.session.scalar(
            select(TrackRow.revision).where(TrackRow.id == track_id)
        )
        return int(revision or 0)

    async def finish_analysis(
        self, track_id: int, revision: int, values: dict[str, Any]
    ) -> Track | None:
        """Write an analysis's outcome if the track is still at `revision`, in one statement;
        the row as written, or None when it changed or went meanwhile (nothing written)."""
        values = {**values, "updated_at": utc_now()}
        result = await self.session.execute(
            update(_TRACKS)
            .where(_TRACKS.c.id == track_id, _TRACKS.c.revision == revision)
            .values(values)
            .returning(*_TRACKS.c)
        )
        written = result.first()
        return None if written is None else to_track(cast(TrackRow, written))

    async def complete_if_current(
        self,
        track_id: int,
        revision: int,
        *,
        duration: float | None,
        has_cover: bool,
        content_hash: str | None,
        file_mtime: float | None,
        title: str | None = None,
        artist: str | None = None,
    ) -> Track | None:
        """COMPLETE with the analysis's findings, only if still at `revision` (see
        `finish_analysis`)."""
        values: dict[str, Any] = {
            "processing_status": ProcessingStatus.COMPLETE.value,
            "duration": duration,
            "has_cover": has_cover,
            "content_hash": content_hash,
            "file_mtime": file_mtime,
            "last_error": None,
        }
        if title is not None:  # names re-read from the file come as a pair
            values["title"] = title
            values["artist"] = artist
        return await self.finish_analysis(track_id, revision, values)

    async def error_if_current(
        self, track_id: int, revision: int, error: TrackError
    ) -> Track | None:
        """ERROR with the reason, only if still at `revision` (see `finish_analysis`)."""
        values = {
            "processing_status": ProcessingStatus.ERROR.value,
            "last_error": error.to_json(),
        }
        return await self.finish_analysis(track_id, revision, values)

    async def mark_error(self, track_id: int, error: TrackError) -> None:
        """ERROR with the reason kept for the errors view and requeue."""
        await self.session.execute(
            update(TrackRow)
            .where(TrackRow.id == track_id)
            .values(
                processing_status=ProcessingStatus.ERROR.value,
                last_error=error.to_json(),
                updated_at=utc_now(),
            )
        )

    async def update_fields(self, track_id: int, **values: Any) -> None:
        """Set the given columns (path, title, artist, inode, hash...) and bump `updated_at`."""
        values["updated_at"] = utc_now()
        await self.session.execute(update(TrackRow).where(TrackRow.id == track_id).values(values))

    async def delete(self, track_id: int) -> bool:
        result = await self.session.execute(delete(TrackRow).where(TrackRow.id == track_id))
        return bool(getattr(result, "rowcount", 0))

    async def delete_paths(self, paths: Iterable[str]) -> int:
        """Remove rows for files that are gone; returns how many."""
        wanted = list(paths)
        removed = 0
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            result = await self.session.execute(
                delete(TrackRow).where(TrackRow.file_path.in_(chunk))
            )
            removed += int(getattr(result, "rowcount", 0) or 0)
        return removed
