"""Bodies of the operator's view (`/admin/...`): what `/admin` shows beside streaq's own UI."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from mus.adapters.folder_space import FolderState
from mus.core.queue_figures import QueueFigures


class WatcherState(StrEnum):
    """The file watcher: watching the folder, starting (no OS watch yet) or turned off."""

    WATCHING = "watching"
    STARTING = "starting"
    OFF = "off"


class BrokerFigures(BaseModel):
    """The broker as the api sees it right now."""

    url: str = Field(description="Credentials masked")
    reachable: bool
    product: str | None = Field(description="e.g. `Redis 7.0.15`; None when unreachable")
    problem: str | None = Field(description="Why mus cannot use it, in one sentence")


class ParityReport(BaseModel):
    """The contract suite's latest parity page (`MUS_PARITY_REPORT_PATH`)."""

    path: str
    exists: bool
    modified_at: datetime | None


class FolderFigures(BaseModel):
    """One folder mus writes into: free space and state (`MUS_FREE_SPACE_WARNING_MB`)."""

    path: str
    free_mb: float | None = Field(description="None when the folder cannot be measured")
    total_mb: float | None
    state: FolderState


class StorageFigures(BaseModel):
    """The data folder (database, covers), the music folder, and the database's lock."""

    data: FolderFigures
    music: FolderFigures
    warning_mb: int = Field(description="Below this many MiB free a folder is 'low on space'")
    database_busy: bool = Field(description="Another process holds the database's write lock")


class AdminFigures(BaseModel):
    """mus's own figures for the operator: version, broker, queue, watcher, library, parity."""

    version: str
    broker: BrokerFigures
    queue: QueueFigures | None = Field(description="None when the broker cannot be read")
    queue_problem: str | None
    watcher: WatcherState
    tracks_by_status: dict[str, int]
    storage: StorageFigures
    parity_report: ParityReport
