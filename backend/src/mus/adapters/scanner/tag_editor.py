"""Title and artist written into an audio file, each format its native way, with mutagen.

mp3 and wav carry ID3 v2.3 (what most players and car stereos read), FLAC and Ogg Vorbis
carry Vorbis comments, m4a carries iTunes atoms. Blocking: call it in a thread.
"""

# mutagen ships partial annotations (untyped constructors, Optional tags).
# mypy: disable-error-code="no-untyped-call,index,union-attr"

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mutagen import MutagenError
from mutagen.flac import FLAC
from mutagen.id3 import TIT2, TPE1, Encoding
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from mus.adapters.resource_faults import Place, writing_in

ID3_VERSION = 3


class TagWriteError(ValueError):
    """The file is not a readable file of its format, or its tags could not be saved."""


def _set_id3(tags: Any, title: str | None, artist: str | None) -> None:
    # UTF-16 is the Unicode encoding ID3 v2.3 allows (UTF-8 arrived with v2.4).
    if title is not None:
        tags.setall("TIT2", [TIT2(encoding=Encoding.UTF16, text=[title])])
    if artist is not None:
        tags.setall("TPE1", [TPE1(encoding=Encoding.UTF16, text=[artist])])


def _write_mp3(path: Path, title: str | None, artist: str | None) -> None:
    audio = MP3(path)
    if audio.tags is None:
        audio.add_tags()
    _set_id3(audio.tags, title, artist)
    audio.save(v2_version=ID3_VERSION)


def _write_wav(path: Path, title: str | None, artist: str | None) -> None:
    audio = WAVE(path)
    if audio.tags is None:
        audio.add_tags()
    _set_id3(audio.tags, title, artist)
    audio.save(v2_version=ID3_VERSION)


def _write_vorbis(opener: Callable[[Path], FLAC | OggVorbis]) -> Callable[..., None]:
    def write(path: Path, title: str | None, artist: str | None) -> None:
        audio = opener(path)
        if audio.tags is None:
            audio.add_tags()
        if title is not None:
            audio.tags["title"] = [title]
        if artist is not None:
            audio.tags["artist"] = [artist]
        audio.save()

    return write


def _write_m4a(path: Path, title: str | None, artist: str | None) -> None:
    audio = MP4(path)
    if audio.tags is None:
        audio.add_tags()
    if title is not None:
        audio.tags["\xa9nam"] = [title]
    if artist is not None:
        audio.tags["\xa9ART"] = [artist]
    audio.save()


WRITERS: dict[str, Callable[[Path, str | None, str | None], None]] = {
    ".mp3": _write_mp3,
    ".wav": _write_wav,
    ".flac": _write_vorbis(FLAC),
    ".ogg": _write_vorbis(OggVorbis),
    ".m4a": _write_m4a,
}


def write_tags(
    path: Path, *, title: str | None, artist: str | None, extension: str | None = None
) -> None:
    """Set the given fields (None leaves a field as it is); raises TagWriteError, or
    ResourceUnavailableError when the music folder is full or read-only.

    `extension` names the format when the file's own name does not (an upload's temp file).
    """
    suffix = (extension or path.suffix).lower()
    writer = WRITERS.get(suffix)
    if writer is None:
        raise TagWriteError(f"cannot write tags to {suffix or 'extension-less'} files")
    try:
        with writing_in(Place.MUSIC):  # a full or read-only folder is not the file's fault
            writer(path, title, artist)
    except (MutagenError, OSError, ValueError) as exc:
        raise TagWriteError(f"not a readable {suffix.lstrip('.')} file: {exc}") from exc
