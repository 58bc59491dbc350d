"""A change to a user's file that mus decided on: what it is, where it stands."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class FileOperationKind(StrEnum):
    """The four ways mus changes a file in the music folder, each for a user's action."""

    TAG_EDIT = "tag_edit"  # tags rewritten (PATCH): temp copy, fsync, rename over
    RENAME = "rename"  # `Artist - Title.ext` (PATCH with rename), done by a job
    DELETE = "delete"  # DELETE of a track, done by a job
    PLACE = "place"  # an upload moved into the library


class FileOperationState(StrEnum):
    """`open`: decided, maybe under way; `failed`: stopped with an error a requeue redoes."""

    OPEN = "open"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class FileOperation:
    """One unfinished change; finished ones are not kept."""

    id: int
    kind: FileOperationKind
    track_id: int | None
    source_path: str | None
    target_path: str | None
    state: FileOperationState
    created_at: datetime
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
