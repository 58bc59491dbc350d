"""Request and response bodies of the HTTP API: the OpenAPI schema is generated from these."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from mus.adapters.folder_space import FolderState
from mus.domain.player_state import PlayerState
from mus.domain.track import ProcessingStatus, Track, TrackError

MAX_TAG_LENGTH = 500
INT64_MAX = 2**63 - 1
"""SQLite integers are signed 64-bit: a larger id or offset is refused at the schema."""
INT64_MIN = -(2**63)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back the stored UTC times without their zone: put it back."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
"""A time in the API: always with its zone, so it is an RFC 3339 `date-time`."""


class ErrorDetail(BaseModel):
    """Body of every 4xx/5xx answer, validation errors and 500s included: one shape."""

    detail: str = Field(examples=["track 42 not found"])


class ValidationIssue(BaseModel):
    """One reason a request was refused; the offending value is never echoed back."""

    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorDetail(ErrorDetail):
    """A 422 from request validation: `detail` sums it up, `errors` lists each problem."""

    errors: list[ValidationIssue]


class TrackErrorRead(BaseModel):
    """Why the last job on a track failed."""

    job_name: str
    error_message: str
    timestamp: UtcDatetime

    @classmethod
    def from_domain(cls, error: TrackError) -> TrackErrorRead:
        return cls(
            job_name=error.job_name, error_message=error.error_message, timestamp=error.timestamp
        )


class TrackRead(BaseModel):
    """A library entry; `file_path` is relative to the music folder."""

    id: int
    file_path: str
    title: str
    artist: str | None
    duration: float | None = Field(description="Seconds; accurate once processing is COMPLETE")
    has_cover: bool
    processing_status: ProcessingStatus
    revision: int
    added_at: UtcDatetime
    updated_at: UtcDatetime
    last_error: TrackErrorRead | None

    @classmethod
    def from_domain(cls, track: Track) -> TrackRead:
        return cls(**track_fields(track))


def track_fields(track: Track) -> dict[str, object]:
    """The TrackRead fields of a domain track (shared by the subclasses)."""
    return {
        "id": track.id,
        "file_path": track.file_path,
        "title": track.title,
        "artist": track.artist,
        "duration": track.duration,
        "has_cover": track.has_cover,
        "processing_status": track.processing_status,
        "revision": track.revision,
        "added_at": track.added_at,
        "updated_at": track.updated_at,
        "last_error": TrackErrorRead.from_domain(track.last_error) if track.last_error else None,
    }


class SortOrder(StrEnum):
    """Direction of a sorted list."""

    ASC = "asc"
    DESC = "desc"


class TrackPage(BaseModel):
    """One page of tracks and the total matching count."""

    items: list[TrackRead]
    total: int
    offset: int
    limit: int


def clean_tag_text(value: str | None) -> str | None:
    """Trimmed tag text; control characters (newlines, NUL...) are refused, not stored."""
    if value is None:
        return None
    value = unicodedata.normalize("NFC", value.strip())
    if not value:
        raise ValueError("must not be empty")
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in value):
        raise ValueError("must not contain control characters or lone surrogates")
    return value


class TrackEdit(BaseModel):
    """Tag edit: new title and/or artist, and whether to rename the file to `Artist - Title`."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=MAX_TAG_LENGTH)
    artist: str | None = Field(default=None, min_length=1, max_length=MAX_TAG_LENGTH)
    rename: bool = False

    @field_validator("title", "artist")
    @classmethod
    def _clean(cls, value: str | None) -> str | None:
        return clean_tag_text(value)

    @model_validator(mode="after")
    def _something_to_do(self) -> TrackEdit:
        if self.title is None and self.artist is None and not self.rename:
            raise ValueError("nothing to change: give title, artist or rename")
        return self


class TrackEdited(TrackRead):
    """The edited track; `pending_rename` is the path a queued rename job will move it to."""

    pending_rename: str | None = None

    @classmethod
    def from_edit(cls, track: Track, pending_rename: str | None) -> TrackEdited:
        return cls(**track_fields(track), pending_rename=pending_rename)


class JobAccepted(BaseModel):
    """A background job was queued; its effect shows up as an SSE event."""

    track_id: int | None = None
    job_id: str
    queue: str
    job: str


class UploadAccepted(BaseModel):
    """The upload is in the library; indexing runs as a queued job."""

    file_path: str = Field(description="Where the file was stored, relative to the music folder")
    size: int
    job_id: str


class RequeueAccepted(BaseModel):
    """A failed track is PENDING again, with its slow analysis queued at `revision`."""

    track_id: int
    revision: int
    job_id: str


class RequeueSummary(BaseModel):
    """What `POST /errors/requeue` queued."""

    requeued: list[RequeueAccepted]


class PlayerStateRead(BaseModel):
    """What the household player was doing."""

    current_track_id: int | None
    progress_seconds: float
    volume: float
    is_muted: bool

    @classmethod
    def from_domain(cls, state: PlayerState) -> PlayerStateRead:
        return cls(
            current_track_id=state.current_track_id,
            progress_seconds=state.progress_seconds,
            volume=state.volume,
            is_muted=state.is_muted,
        )


class PlayerStateWrite(BaseModel):
    """The whole player state, replaced at once."""

    model_config = ConfigDict(extra="forbid")

    current_track_id: int | None = Field(default=None, ge=INT64_MIN, le=INT64_MAX)
    progress_seconds: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    volume: float = Field(default=1.0, ge=0, le=1, allow_inf_nan=False)
    is_muted: bool = False

    def to_domain(self) -> PlayerState:
        return PlayerState(
            current_track_id=self.current_track_id,
            progress_seconds=self.progress_seconds,
            volume=self.volume,
            is_muted=self.is_muted,
        )


class PathAccess(BaseModel):
    """What this process may do with one folder or file."""

    path: str
    exists: bool
    readable: bool
    writable: bool


class PermissionReport(BaseModel):
    """Whether mus can read the music and write its data; `problems` says what to fix."""

    music_dir: PathAccess
    data_dir: PathAccess
    covers_dir: PathAccess
    database_dir: PathAccess
    database_file: PathAccess
    ok: bool
    problems: list[str]


class ComponentHealth(StrEnum):
    OK = "ok"
    ERROR = "error"


class DatabaseHealth(StrEnum):
    OK = "ok"
    BUSY = "busy"
    """Another process holds the write lock: writes wait, then answer 503 and are retried."""
    ERROR = "error"


class LibraryHealth(StrEnum):
    OK = "ok"
    UNMOUNTED = "library root looks unmounted"


class WatcherHealth(StrEnum):
    OK = "ok"
    RESTARTING = "restarting"
    DOWN = "down"
    OFF = "off"


class HealthReport(BaseModel):
    """Liveness of what every request depends on, and of the music folder's follow-up."""

    database: DatabaseHealth
    broker: ComponentHealth
    library: LibraryHealth = Field(
        default=LibraryHealth.OK,
        description="'library root looks unmounted' when the last scan found no audio file "
        "and kept the rows it would have pruned",
    )
    watcher: WatcherHealth = Field(
        default=WatcherHealth.OFF,
        description="The file watcher; 503 when it is not ok for longer than "
        "MUS_WATCHER_GRACE_SECONDS",
    )
    data_folder: FolderState = Field(
        default=FolderState.OK,
        description="Database and covers: 'low on space' below MUS_FREE_SPACE_WARNING_MB, "
        "'full', 'read-only' (200 still: reads are served, writes wait and are retried)",
    )
    music_folder: FolderState = Field(
        default=FolderState.OK,
        description="The library: 'low on space', 'full', 'read-only' as for the data folder",
    )
