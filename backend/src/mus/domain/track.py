"""The track: one audio file of the library and where its background analysis stands."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class ProcessingStatus(StrEnum):
    """Life cycle of a track; see backend/STATE_MACHINE.md."""

    PENDING = "PENDING"
    COMPLETE = "COMPLETE"
    ERROR = "ERROR"


@dataclass(frozen=True, slots=True)
class TrackError:
    """Why the last job on a track failed; kept as JSON on the row."""

    job_name: str
    error_message: str
    timestamp: datetime

    def to_json(self) -> dict[str, Any]:
        """JSON form stored in `last_error` and shown by the errors view."""
        return {
            "job_name": self.job_name,
            "error_message": self.error_message,
            "timestamp": self.timestamp.isoformat(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrackError:
        """Inverse of `to_json`."""
        return cls(
            job_name=str(data["job_name"]),
            error_message=str(data["error_message"]),
            timestamp=datetime.fromisoformat(str(data["timestamp"])),
        )


@dataclass(frozen=True, slots=True)
class FastMetadata:
    """What can be read from a file cheaply, on every file event."""

    file_path: str
    title: str
    artist: str | None
    duration: float | None
    inode: int
    mtime: float
    size: int
    content_hash: str


@dataclass(frozen=True, slots=True)
class Track:
    """A library entry as the application sees it; `file_path` is relative to the music root."""

    id: int
    file_path: str
    title: str
    artist: str | None
    duration: float | None
    added_at: datetime
    updated_at: datetime
    has_cover: bool
    inode: int | None
    content_hash: str | None
    file_mtime: float | None
    processing_status: ProcessingStatus
    revision: int
    last_error: TrackError | None = field(default=None)
