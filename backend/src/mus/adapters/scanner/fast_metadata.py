"""Fast metadata: what one open, one fstat and a tag parse tell about a file, no subprocess.

A file mutagen cannot parse is still indexed (title from an ID3 tag in front of it if one
reads, else from its name; no duration): slow analysis then marks it ERROR with the reason.
"""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import mutagen
from mutagen.id3 import ID3

from mus.adapters.scanner.fingerprint import fingerprint_open_file
from mus.adapters.scanner.library_path import relative_library_path
from mus.adapters.scanner.non_blocking_open import open_non_blocking
from mus.adapters.scanner.title_from_filename import title_and_artist_from_filename
from mus.domain.track import FastMetadata


class EmptyAudioFileError(ValueError):
    """A zero-byte file: usually one still being written; its next write brings it back."""


class NotARegularFileError(ValueError):
    """A FIFO, socket or device behind an audio name: reading it could block or never end."""


class FileReplacedError(ValueError):
    """The file opened is not the one the caller had checked (another device or inode)."""


def read_fast_metadata(path: Path, music_root: Path) -> FastMetadata:
    """Title, artist, duration, inode, mtime, size and fingerprint of one library file.

    Raises PathOutsideLibraryError, FileNotFoundError (vanished), EmptyAudioFileError,
    NotARegularFileError, or another OSError (e.g. PermissionError) when it cannot be read.
    """
    return read_checked_file(path, relative_library_path(path, music_root))


def read_checked_file(
    path: Path | str, file_path: str, *, identity: tuple[int, int] | None = None
) -> FastMetadata:
    """`read_fast_metadata` of a file whose library form `file_path` the caller already knows.

    The scan's walk has checked the file is inside the library; `identity` (device, inode)
    makes sure the file opened is that file (FileReplacedError otherwise), so no path needs
    resolving again. Raises as `read_fast_metadata` does.
    """
    # O_NONBLOCK (hence open(), not Path.open): a FIFO would otherwise block the open forever.
    with open(path, "rb", opener=open_non_blocking) as file:
        status = os.fstat(file.fileno())
        if identity is not None and identity != (status.st_dev, status.st_ino):
            raise FileReplacedError(f"{file_path} was replaced since it was listed")
        if not stat.S_ISREG(status.st_mode):
            raise NotARegularFileError(f"{file_path} is not a regular file")
        if status.st_size == 0:
            raise EmptyAudioFileError(f"{file_path} is empty")
        content_hash = fingerprint_open_file(file, status.st_size)
        file.seek(0)
        title, artist, duration = _read_tags(file)
    if title is None or artist is None:
        guessed_title, guessed_artist = title_and_artist_from_filename(Path(path))
        title = title or guessed_title
        artist = artist or guessed_artist
    return FastMetadata(
        file_path=file_path,
        title=title,
        artist=artist,
        duration=duration,
        inode=status.st_ino,
        mtime=status.st_mtime,
        size=status.st_size,
        content_hash=content_hash,
    )


def _read_tags(file: Any) -> tuple[str | None, str | None, float | None]:
    """(title, artist, duration) from the tags; all None when mutagen cannot make sense of it."""
    try:
        audio = mutagen.File(file, easy=True)
    except Exception:
        # mutagen raises its own errors and, on some garbage, plain struct/index errors;
        # either way slow analysis reports the cause, and the tags are read if they can be.
        audio = None
    if audio is None:
        title, artist = _id3_alone(file)
        return title, artist, None
    tags = audio.tags
    if tags is None:
        title = artist = None
    elif isinstance(tags, ID3):
        # WAVE has no "easy" wrapper: its ID3 tag is read by frame id.
        id3: Any = tags
        title = first_tag_text(text for frame in id3.getall("TIT2") for text in frame.text)
        artist = first_tag_text(text for frame in id3.getall("TPE1") for text in frame.text)
    else:
        title = first_tag_text(tags.get("title") or ())
        artist = first_tag_text(tags.get("artist") or ())
    return title, artist, _duration(audio)


def _id3_alone(file: Any) -> tuple[str | None, str | None]:
    """Title and artist of an ID3v2 tag in front of audio mutagen cannot parse (a file cut
    short after its tag): an ERROR track then shows its title, not its file name."""
    try:
        file.seek(0)
        if file.read(3) != b"ID3":
            return None, None
        file.seek(0)
        id3: Any = ID3(file)  # type: ignore[no-untyped-call]
    except Exception:
        # A damaged tag as well: the file name stands in.
        return None, None
    return (
        first_tag_text(text for frame in id3.getall("TIT2") for text in frame.text),
        first_tag_text(text for frame in id3.getall("TPE1") for text in frame.text),
    )


def first_tag_text(values: Iterable[Any]) -> str | None:
    """The first non-blank text among a tag's values (multi-valued tags keep only the first)."""
    for value in values:
        cleaned = str(value).replace("\x00", "").strip()
        if cleaned:
            return cleaned
    return None


def _duration(audio: Any) -> float | None:
    length = getattr(getattr(audio, "info", None), "length", None)
    if isinstance(length, int | float) and math.isfinite(length) and length > 0:
        return float(length)
    return None
