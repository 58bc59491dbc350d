"""One open and one mutagen parse of an audio file: everything slow analysis reads from it.

Slow analysis used to parse each file four times (ffprobe, the tag normaliser, the cover
reader, the fast-metadata re-read). This reads duration, codec, bitrate, title, artist,
fingerprint and the parsed tags once; the cover reader and the tag normaliser then work on
the parsed object. A file mutagen cannot measure keeps `duration` None with the reason, and
the caller asks ffprobe (see duration_probe).

Whether mutagen's length is the audio that plays is decided by `playable_duration` (the rule,
per format); where it is not, `duration` is None with the reason and what the header claims,
and the caller decodes the file (see audio_decoding). mutagen agrees with ffprobe to the
microsecond on every format the generator makes; m4a takes the movie header's duration, which
honours the edit list (mutagen's media duration is 23.2 ms longer: the AAC priming samples).
"""

# mutagen ships partial annotations (untyped `File` and info classes).
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mutagen
from mutagen.id3 import ID3
from mutagen.mp4 import MP4Tags

from mus.adapters.scanner.fast_metadata import first_tag_text
from mus.adapters.scanner.fingerprint import fingerprint_open_file
from mus.adapters.scanner.non_blocking_open import open_non_blocking
from mus.adapters.scanner.playable_duration import judge_duration


@dataclass(frozen=True, slots=True)
class AudioReading:
    """What one parse found; `audio` is mutagen's object (None when it could not parse).

    `duration` is set only where it can be trusted; else `unmeasured_reason` says why and
    `claimed_duration` is what the header states (None if it states nothing usable)."""

    audio: Any
    duration: float | None
    unmeasured_reason: str | None
    claimed_duration: float | None
    codec: str | None
    bitrate: int | None
    title: str | None
    artist: str | None
    size: int
    mtime: float
    inode: int
    content_hash: str


class NotAFileError(Exception):
    """The path is gone or is not a regular file (a FIFO would block the read)."""


def read_audio(path: Path) -> AudioReading:
    """Open, fstat, fingerprint and parse `path` once; a parse failure is data, not an error.

    Raises FileNotFoundError when the file is gone and `NotAFileError` for a non-regular file.
    """
    # O_NONBLOCK (hence open(), not Path.open): a FIFO would otherwise block the open forever.
    with open(path, "rb", opener=open_non_blocking) as file:
        status = os.fstat(file.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise NotAFileError(f"{path.name} is not a regular file")
        content_hash = fingerprint_open_file(file, status.st_size)
        file.seek(0)
        audio, failure = _parse(file)
        verdict = judge_duration(audio, file, status.st_size)
    title, artist = _title_and_artist(audio)
    info = getattr(audio, "info", None)
    bitrate = getattr(info, "bitrate", None)
    return AudioReading(
        audio=audio,
        duration=verdict.duration,
        unmeasured_reason=failure or verdict.reason,
        claimed_duration=verdict.claimed,
        codec=_codec(audio),
        bitrate=bitrate if isinstance(bitrate, int) and bitrate > 0 else None,
        title=title,
        artist=artist,
        size=status.st_size,
        mtime=status.st_mtime,
        inode=status.st_ino,
        content_hash=content_hash,
    )


def _parse(file: Any) -> tuple[Any, str | None]:
    """(mutagen object, None) or (None, why not); never raises for a file's content."""
    try:
        audio = mutagen.File(file)
    except Exception as exc:
        # mutagen raises its own errors and, on some garbage, plain struct/index errors.
        return None, str(exc) or type(exc).__name__
    if audio is None:
        return None, "not a recognised audio file"
    return audio, None


def _codec(audio: Any) -> str | None:
    """A short codec name: mp4's own codec string, else the mutagen type's name."""
    if audio is None:
        return None
    codec = getattr(getattr(audio, "info", None), "codec", None)
    return codec if isinstance(codec, str) and codec else type(audio).__name__.lower()


def _title_and_artist(audio: Any) -> tuple[str | None, str | None]:
    """Title and artist as read_fast_metadata reads them (its "easy" keys, by frame here)."""
    tags = getattr(audio, "tags", None)
    if tags is None:
        return None, None
    if isinstance(tags, ID3):
        id3: Any = tags
        return (
            first_tag_text(text for frame in id3.getall("TIT2") for text in frame.text),
            first_tag_text(text for frame in id3.getall("TPE1") for text in frame.text),
        )
    if isinstance(tags, MP4Tags):
        return first_tag_text(tags.get("\xa9nam") or ()), first_tag_text(tags.get("\xa9ART") or ())
    if not hasattr(tags, "get"):
        return None, None
    return first_tag_text(tags.get("title") or ()), first_tag_text(tags.get("artist") or ())
