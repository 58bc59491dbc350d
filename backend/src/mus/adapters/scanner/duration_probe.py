"""ffprobe's duration, for the files the in-process reader (audio_reading) cannot measure.

Slow analysis measures with mutagen first (one parse, no subprocess: ffprobe's start-up alone
cost ~120 ms a file); ffprobe is the fallback because it decodes every supported format the
way the browser will, and its error messages are what a user sees for a broken file. When
ffprobe is absent, mutagen's reading (or its reason for having none) is all there is.
"""

# mutagen ships without annotations for `File`.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import mutagen

logger = logging.getLogger(__name__)

FFPROBE_PATH_ENV = "FFPROBE_PATH"
DEFAULT_FFPROBE = "ffprobe"
DEFAULT_TIMEOUT_SECONDS = 30.0

# "[mp3 @ 0x55d5aa1c3400] " prefixes carry a heap address that differs on every run.
_CONTEXT_PREFIX = re.compile(r"^\[[^\]]* @ 0x[0-9a-fA-F]+\]\s*")


class AudioProbeError(Exception):
    """The file could not be read as audio; the message is fit to show a user."""


class _MissingFfprobeWarning:
    """Warns once per process: a missing ffprobe is a deployment fact, not a per-file event."""

    def __init__(self) -> None:
        self.emitted = False

    def emit(self, binary: str) -> None:
        if self.emitted:
            return
        self.emitted = True
        logger.warning(
            "ffprobe not found (%r): durations come from mutagen and may be approximate; "
            "install ffmpeg or set %s",
            binary,
            FFPROBE_PATH_ENV,
        )


MISSING_FFPROBE_WARNING = _MissingFfprobeWarning()


def reset_missing_ffprobe_warning() -> None:
    """Let the next missing-ffprobe fallback warn again (tests start from a clean process)."""
    MISSING_FFPROBE_WARNING.emitted = False


def resolve_ffprobe(ffprobe_path: str | None = None) -> str | None:
    """The ffprobe executable to run (argument, then `FFPROBE_PATH`, then PATH), or None."""
    binary = ffprobe_path or os.environ.get(FFPROBE_PATH_ENV) or DEFAULT_FFPROBE
    return shutil.which(binary)


async def probe_duration(
    path: Path,
    *,
    ffprobe_path: str | None = None,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    display_name: str | None = None,
) -> float:
    """Duration of `path` in seconds; raises `AudioProbeError` when it is not readable audio.

    `display_name` names the file in error messages (default: its file name), so messages
    stay the same wherever the library is mounted.
    """
    return await asyncio.to_thread(
        probe_duration_blocking,
        path,
        ffprobe_path=ffprobe_path,
        timeout_seconds=timeout_seconds,
        display_name=display_name,
    )


def probe_duration_blocking(
    path: Path,
    *,
    ffprobe_path: str | None = None,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    display_name: str | None = None,
) -> float:
    """`probe_duration` for a worker thread or process: ffprobe, else mutagen if it is absent."""
    name = display_name or path.name
    binary = resolve_ffprobe(ffprobe_path)
    if binary is None:
        MISSING_FFPROBE_WARNING.emit(
            ffprobe_path or os.environ.get(FFPROBE_PATH_ENV) or DEFAULT_FFPROBE
        )
        return mutagen_duration(path, name)
    return ffprobe_duration(binary, path, name, timeout_seconds)


def ffprobe_target(path: Path) -> str:
    """The file as ffprobe is told it: "file:" keeps a name like "a:b.mp3" or "-x.mp3" from
    reading as a protocol or an option (and ffprobe's messages name it so)."""
    return f"file:{path}"


def run_ffprobe(
    binary: str, arguments: list[str], path: Path, name: str, timeout_seconds: float
) -> subprocess.CompletedProcess[bytes]:
    """ffprobe on one file with a deadline; a hang or a crash becomes `AudioProbeError`."""
    command = [binary, "-v", "error", *arguments, ffprobe_target(path)]
    try:
        completed = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout_seconds,
            check=False,
        )
    except subprocess.TimeoutExpired:
        # subprocess.run has killed and reaped ffprobe already.
        raise AudioProbeError(
            f"ffprobe could not read '{name}': no answer within {timeout_seconds:g} s"
        ) from None
    if completed.returncode < 0:
        # Killed by a signal: a crash (or the OOM killer), not something the file said.
        raise AudioProbeError(
            f"ffprobe could not read '{name}': it crashed ({signal_name(-completed.returncode)})"
        )
    return completed


def ffprobe_duration(binary: str, path: Path, name: str, timeout_seconds: float) -> float:
    """Run ffprobe on one file with a deadline; its failures become `AudioProbeError`."""
    arguments = ["-show_entries", "format=duration", "-of", "json"]
    completed = run_ffprobe(binary, arguments, path, name, timeout_seconds)
    if completed.returncode != 0:
        stderr = completed.stderr.decode("utf-8", "replace")
        reason = condense_ffprobe_errors(stderr, ffprobe_target(path))
        raise AudioProbeError(f"ffprobe could not read '{name}': {reason}")
    return parse_ffprobe_duration(completed.stdout, name)


def signal_name(number: int) -> str:
    """`SIGSEGV` for 11; the bare number for a signal Python does not name."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def parse_ffprobe_duration(stdout: bytes, name: str) -> float:
    """The `format.duration` of ffprobe's JSON; anything else means no playable audio."""
    try:
        raw = json.loads(stdout.decode("utf-8", "replace"))["format"]["duration"]
        duration = float(raw)
    except (ValueError, KeyError, TypeError):
        raise AudioProbeError(f"ffprobe found no duration in '{name}'") from None
    if not math.isfinite(duration) or duration < 0:
        raise AudioProbeError(f"ffprobe found no valid duration in '{name}' ({raw!r})")
    return duration


def condense_ffprobe_errors(stderr: str, target: str) -> str:
    """ffprobe's stderr as one line: the final verdict first, the demuxer's details after.

    Paths and heap addresses are dropped so the same broken file gives the same message.
    """
    lines: list[str] = []
    for raw_line in stderr.splitlines():
        line = _CONTEXT_PREFIX.sub("", raw_line.strip())
        line = line.replace(f"{target}: ", "").replace(target, "<file>").strip()
        if line and line not in lines:
            lines.append(line)
    if not lines:
        return "unknown error"
    verdict, details = lines[-1], lines[:-1]
    return f"{verdict} ({'; '.join(details)})" if details else verdict


def mutagen_duration(path: Path, name: str) -> float:
    """Duration from the file's headers, for when ffprobe is not installed."""
    try:
        audio = mutagen.File(path)
    except Exception as exc:
        # mutagen raises its own errors and, on some garbage, plain struct/index errors.
        if isinstance(exc, FileNotFoundError) or isinstance(exc.__context__, FileNotFoundError):
            raise AudioProbeError(f"could not read '{name}': file not found") from None
        raise AudioProbeError(f"mutagen could not read '{name}': {exc}") from None
    length = getattr(getattr(audio, "info", None), "length", None)
    if audio is None or not isinstance(length, int | float) or not math.isfinite(length):
        raise AudioProbeError(f"mutagen could not read '{name}': not a recognised audio file")
    return float(length)
