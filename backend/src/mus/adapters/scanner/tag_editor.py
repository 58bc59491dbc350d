"""Title and artist written into an audio file, each format its native way, with mutagen.

The writer is chosen by what the file contains, not by its name: an `.ogg` may hold Vorbis,
Opus, FLAC or Speex (messengers' voice notes are Opus), an `.mp3` name may hide a FLAC.
ID3 (mp3, wav) is edited in the version the file already has, and only the frames asked for
change: every other frame stays as it was read (no v1 merge, no v2.4 -> v2.3 translation),
and an ID3v1 tag at the end keeps its bytes but for the changed title or artist. A file with
no ID3 tag gets v2.3 (what most players and car stereos read). FLAC and Ogg carry Vorbis
comments, m4a iTunes atoms. Blocking: call it in a thread.
"""

# mutagen ships partial annotations (untyped constructors, Optional tags).
# mypy: disable-error-code="no-untyped-call,index,union-attr"

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mutagen
from mutagen import MutagenError
from mutagen.flac import FLAC
from mutagen.id3 import ID3, TIT2, TPE1, Encoding, ID3NoHeaderError
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggspeex import OggSpeex
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from mus.adapters.resource_faults import Place, writing_in
from mus.domain.audio_formats import AUDIO_EXTENSIONS

NEW_ID3_VERSION = 3
ID3V1_SIZE = 128
# Offsets of the 30-byte title and artist fields in an ID3v1 tag ("TAG" + title + artist + ...).
ID3V1_TITLE = slice(3, 33)
ID3V1_ARTIST = slice(33, 63)

Writer = Callable[[Any, Path, str | None, str | None], None]


class TagWriteError(ValueError):
    """The file is not a readable file of its format, or its tags could not be saved."""


def _text_frames(version: int, title: str | None, artist: str | None) -> list[Any]:
    # v2.4 has UTF-8; v2.3's Unicode encoding is UTF-16.
    encoding = Encoding.UTF8 if version == 4 else Encoding.UTF16
    frames: list[Any] = []
    if title is not None:
        frames.append(TIT2(encoding=encoding, text=[title]))
    if artist is not None:
        frames.append(TPE1(encoding=encoding, text=[artist]))
    return frames


def _load_id3(path: Path) -> tuple[ID3, int]:
    """The MP3's ID3v2 tag as stored (v2.2 upgraded to v2.3: mutagen writes no v2.2)."""
    try:
        probe = ID3(path, translate=False, load_v1=False)
    except ID3NoHeaderError:
        return ID3(), NEW_ID3_VERSION
    version = probe.version[1]
    if version in (3, 4):
        return probe, version
    return ID3(path, v2_version=3, load_v1=False), 3


def _write_mp3(_audio: Any, path: Path, title: str | None, artist: str | None) -> None:
    tags, version = _load_id3(path)
    for frame in _text_frames(version, title, artist):
        tags.setall(frame.FrameID, [frame])
    old_v1 = _id3v1_bytes(path)
    # v1=1: an ID3v1 tag is rewritten (from the v2 frames) only where there was one; it is
    # then put back as it was, with only the edited fields changed.
    tags.save(path, v1=1, v2_version=version)
    if old_v1 is not None:
        _restore_id3v1(path, _patched_id3v1(old_v1, title, artist))


def _id3v1_bytes(path: Path) -> bytes | None:
    """The file's last 128 bytes when they are an ID3v1 tag."""
    with path.open("rb") as file:
        file.seek(0, os.SEEK_END)
        if file.tell() < ID3V1_SIZE:
            return None
        file.seek(-ID3V1_SIZE, os.SEEK_END)
        tail = file.read(ID3V1_SIZE)
    return tail if tail.startswith(b"TAG") else None


def _patched_id3v1(tag: bytes, title: str | None, artist: str | None) -> bytes:
    data = bytearray(tag)
    for field, value in ((ID3V1_TITLE, title), (ID3V1_ARTIST, artist)):
        if value is not None:
            width = field.stop - field.start
            data[field] = value.encode("latin-1", "replace")[:width].ljust(width, b"\0")
    return bytes(data)


def _restore_id3v1(path: Path, tag: bytes) -> None:
    with path.open("r+b") as file:
        file.seek(-ID3V1_SIZE, os.SEEK_END)
        if file.read(3) == b"TAG":
            file.seek(-ID3V1_SIZE, os.SEEK_END)
            file.write(tag)


def _write_wav(_audio: Any, path: Path, title: str | None, artist: str | None) -> None:
    # Read again untranslated: mutagen.File's parse turned a v2.3 TYER into v2.4's TDRC.
    audio = WAVE(path, translate=False)
    if audio.tags is None:
        audio.add_tags()
        version = NEW_ID3_VERSION
    elif audio.tags.version[1] in (3, 4):
        version = audio.tags.version[1]
    else:  # v2.2: mutagen writes none; its frames upgraded to v2.3
        audio = WAVE(path, v2_version=3)
        version = NEW_ID3_VERSION
    tags: Any = audio.tags
    for frame in _text_frames(version, title, artist):
        tags.setall(frame.FrameID, [frame])
    audio.save(v2_version=version)


def _write_vorbis_comments(audio: Any, _path: Path, title: str | None, artist: str | None) -> None:
    if audio.tags is None:
        audio.add_tags()
    if title is not None:
        audio.tags["title"] = [title]
    if artist is not None:
        audio.tags["artist"] = [artist]
    audio.save()


def _write_m4a(audio: Any, _path: Path, title: str | None, artist: str | None) -> None:
    if audio.tags is None:
        audio.add_tags()
    if title is not None:
        audio.tags["\xa9nam"] = [title]
    if artist is not None:
        audio.tags["\xa9ART"] = [artist]
    audio.save()


# By mutagen's reading of the content. Speex's comment header is rewritten like Vorbis's.
WRITERS: dict[type, Writer] = {
    MP3: _write_mp3,
    WAVE: _write_wav,
    FLAC: _write_vorbis_comments,
    OggVorbis: _write_vorbis_comments,
    OggOpus: _write_vorbis_comments,
    OggFLAC: _write_vorbis_comments,
    OggSpeex: _write_vorbis_comments,
    MP4: _write_m4a,
}


def write_tags(
    path: Path, *, title: str | None, artist: str | None, extension: str | None = None
) -> None:
    """Set the given fields (None leaves a field as it is); raises TagWriteError, or
    ResourceUnavailableError when the music folder is full or read-only.

    `extension` names the format when the file's own name does not (an upload's temp file);
    it must be one mus serves, but the content decides how the tags are written.
    """
    suffix = (extension or path.suffix).lower()
    if suffix not in AUDIO_EXTENSIONS:
        raise TagWriteError(f"cannot write tags to {suffix or 'extension-less'} files")
    kind = suffix.lstrip(".")
    try:
        audio = mutagen.File(path)
    except (MutagenError, OSError, ValueError) as exc:
        raise TagWriteError(f"not a readable {kind} file: {exc}") from exc
    except Exception as exc:
        # mutagen raises plain struct/index errors on some garbage.
        raise TagWriteError(f"not a readable {kind} file: {exc!r}") from exc
    if audio is None:
        raise TagWriteError(f"not a readable {kind} file: no audio format recognised")
    writer = WRITERS.get(type(audio))
    if writer is None:
        raise TagWriteError(
            f"cannot write tags to this {kind} file: it holds {type(audio).__name__}, "
            "which mus does not edit"
        )
    try:
        with writing_in(Place.MUSIC):  # a full or read-only folder is not the file's fault
            writer(audio, path, title, artist)
    except (MutagenError, OSError, ValueError) as exc:
        raise TagWriteError(f"not a readable {kind} file: {exc}") from exc
