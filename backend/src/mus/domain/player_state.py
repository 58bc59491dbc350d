"""Player state: what the single household player was doing, so a reload resumes it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PlayerState:
    """The one player row; `current_track_id` is cleared when that track is deleted."""

    current_track_id: int | None = None
    progress_seconds: float = 0.0
    volume: float = 1.0
    is_muted: bool = False
