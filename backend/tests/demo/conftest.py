"""Real ffprobe for the demo tests: what a generated file really is, not what we meant."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass(frozen=True)
class Probe:
    """What ffprobe made of a file; `ok` is False when it could not read it."""

    ok: bool
    duration: float | None
    streams: list[dict[str, Any]]
    tags: dict[str, str]
    stderr: str

    def stream(self, codec_type: str) -> dict[str, Any]:
        """The first stream of a type (audio, video for attached pictures)."""
        return next(s for s in self.streams if s.get("codec_type") == codec_type)


def run_ffprobe(path: Path) -> Probe:
    """ffprobe -show_format -show_streams, parsed."""
    completed = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    if completed.returncode != 0:
        return Probe(False, None, [], {}, completed.stderr)
    data = json.loads(completed.stdout)
    fmt = data.get("format", {})
    duration = fmt.get("duration")
    tags = {key.lower(): value for key, value in fmt.get("tags", {}).items()}
    for stream in data.get("streams", []):
        if stream.get("codec_type") == "audio":
            tags.update({k.lower(): v for k, v in stream.get("tags", {}).items()})
    return Probe(
        True, float(duration) if duration else None, data.get("streams", []), tags, completed.stderr
    )


@pytest.fixture
def ffprobe() -> Callable[[Path], Probe]:
    """The real ffprobe, as a function of a path."""
    return run_ffprobe
