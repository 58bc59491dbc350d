"""SQLAlchemy tables; the only place that knows column names."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utc_now() -> datetime:
    """Timestamps are stored in UTC, always timezone-aware in Python."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of mus tables."""


class TrackRow(Base):
    """Row of `tracks`; `file_path` is relative to the music root and unique.

    AUTOINCREMENT: the id of a deleted track is never given to another one.
    """

    __tablename__ = "tracks"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    file_path: Mapped[str] = mapped_column(String, unique=True, index=True)
    title: Mapped[str] = mapped_column(String)
    artist: Mapped[str | None] = mapped_column(String, nullable=True)
    duration: Mapped[float | None] = mapped_column(Float, nullable=True)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utc_now, onupdate=utc_now
    )
    has_cover: Mapped[bool] = mapped_column(Boolean, default=False)
    inode: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    content_hash: Mapped[str | None] = mapped_column(String, nullable=True)
    file_mtime: Mapped[float | None] = mapped_column(Float, nullable=True)
    # Size in bytes when the fast scan last read the file: with inode and mtime, what lets a
    # rescan trust a row after one stat. Other writers may leave it stale: a mismatch only
    # costs a re-read.
    file_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    processing_status: Mapped[str] = mapped_column(String, default="PENDING", index=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class PlayerStateRow(Base):
    """The single row of `player_state` (id is always 1)."""

    __tablename__ = "player_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    current_track_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    progress_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    volume: Mapped[float] = mapped_column(Float, default=1.0)
    is_muted: Mapped[bool] = mapped_column(Boolean, default=False)


class OutboxRow(Base):
    """Row of `job_outbox`: a job committed with the change that implies it, not yet queued.

    `due_at` (epoch seconds) is when a relay may send it: a writer that sends its own entries
    right after commit sets it a little ahead, and a relay that claims an entry moves it on
    by a lease, so two relays do not send the same entry at once.
    """

    __tablename__ = "job_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_name: Mapped[str] = mapped_column(String)
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    due_at: Mapped[float] = mapped_column(Float, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class FileOperationRow(Base):
    """Row of `file_operations`: a change to a user's file that mus has decided on, not yet
    finished (tag edit, rename, delete, upload placement).

    Written before the file is touched and removed in the transaction that records the
    outcome, so a row left behind is work a crash or a failure interrupted: the reconciler
    finishes or undoes it, and a requeue of a failed one (`state` "failed") redoes it.
    `target_path` is unique: two renames (or uploads) cannot be promised the same name.
    """

    __tablename__ = "file_operations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String)
    track_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    source_path: Mapped[str | None] = mapped_column(String, nullable=True)
    target_path: Mapped[str | None] = mapped_column(String, nullable=True, unique=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String, default="open")
    error: Mapped[str | None] = mapped_column(String, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utc_now, onupdate=utc_now
    )
