"""Explicit rules that turn volatile values into stable labels, so two runs can be compared.

Every rule is keyed by field name. A value that still differs between two runs of one
backend is a gap in these rules: `--determinism` finds it and names the field.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

TRACK_ID_FIELDS = frozenset({"track_id", "current_track_id"})
TRACK_ID_LIST_FIELDS = frozenset({"track_ids"})
TIMESTAMP_FIELDS = frozenset({"added_at", "updated_at", "timestamp", "enqueue_time"})
OPAQUE_FIELDS = {"inode": "<inode>", "file_mtime": "<mtime>", "job_id": "<job id>"}
# tempfile's random part of an atomic write's name (`.<name>.<8 random>.tmp`), e.g. in errors.
TEMP_NAME = re.compile(r"(?P<stem>/\.[^/'\s]+)\.[A-Za-z0-9_]{8}\.tmp\b")


class Normaliser:
    """Knows the run's temp folders and which file path each track id stood for."""

    def __init__(self, data_dir: Path, music_dir: Path, track_paths: dict[int, str]) -> None:
        # Longest first: the music folder usually lies inside the data folder.
        self._folders = sorted(
            ((str(music_dir), "<music>"), (str(data_dir), "<data>")),
            key=lambda pair: -len(pair[0]),
        )
        self._track_paths = track_paths

    def track_label(self, track_id: Any) -> str | None:
        """A track id becomes the path it was first known by: stable across runs."""
        if track_id is None:
            return None
        path = self._track_paths.get(int(track_id))
        return f"<track {path}>" if path is not None else "<track never seen>"

    def text(self, value: str) -> str:
        for folder, label in self._folders:
            value = value.replace(folder, label)
        return TEMP_NAME.sub(r"\g<stem>.<random>.tmp", value)

    def value(self, value: Any, field: str | None = None) -> Any:
        """Normalise one value found under `field` (recursively for dicts and lists)."""
        if field in TRACK_ID_FIELDS:
            return self.track_label(value)
        if field in TRACK_ID_LIST_FIELDS and isinstance(value, list):
            return [self.track_label(item) for item in value]
        if field in TIMESTAMP_FIELDS:
            return None if value is None else "<timestamp>"
        if field in OPAQUE_FIELDS:
            return None if value is None else OPAQUE_FIELDS[field]
        if isinstance(value, dict):
            return {key: self.value(item, key) for key, item in sorted(value.items())}
        if isinstance(value, (list, tuple)):
            return [self.value(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value
