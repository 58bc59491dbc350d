"""The cover picture embedded in an audio file, whichever tag format carries it.

Dispatches on the tag container mutagen found, not on the extension, so an ID3 tag inside a
WAV and a Vorbis comment inside Ogg are both handled by the one reader for that tag kind.
"""

# mutagen ships partial annotations (untyped constructors and `File`).
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import mutagen
from mutagen.flac import Picture
from mutagen.id3 import ID3, PictureType
from mutagen.mp4 import MP4Tags

logger = logging.getLogger(__name__)


class UnreadableAudioError(Exception):
    """mutagen cannot open the file as audio at all; whether that is fatal is the caller's call."""


def extract_embedded_cover(path: Path) -> bytes | None:
    """The front cover (else the first picture) as stored, or None when there is none.

    A malformed picture block or a format without pictures gives None. A file mutagen cannot
    parse as audio raises `UnreadableAudioError`; a missing file raises `FileNotFoundError`.
    """
    try:
        audio = mutagen.File(path)
    except FileNotFoundError:
        raise
    except Exception as exc:
        # mutagen raises its own errors and, on some garbage, plain struct/index errors.
        if isinstance(exc.__context__, FileNotFoundError):
            raise FileNotFoundError(f"no such file: '{path.name}'") from exc
        raise UnreadableAudioError(f"cannot read tags of '{path.name}': {exc}") from exc
    return cover_of(audio, path.name)


def cover_of(audio: Any, name: str) -> bytes | None:
    """The front cover (else the first picture) of an already parsed file, or None.

    `audio` is what `mutagen.File` returned (None included); `name` labels log lines.
    """
    if audio is None:
        return None
    tags = getattr(audio, "tags", None)
    pictures: list[tuple[int | None, bytes]] = []
    if isinstance(tags, ID3):
        pictures = [(int(frame.type), bytes(frame.data)) for frame in tags.getall("APIC")]
    elif isinstance(tags, MP4Tags):
        # MP4 has no picture types: the first `covr` item is the cover by convention.
        pictures = [(None, bytes(cover)) for cover in tags.get("covr", [])]
    elif getattr(audio, "pictures", None):
        pictures = [(int(picture.type), bytes(picture.data)) for picture in audio.pictures]
    elif tags is not None and hasattr(tags, "get"):
        pictures = list(_vorbis_pictures(tags, name))
    return _choose(pictures)


def _vorbis_pictures(tags: Any, name: str) -> Iterable[tuple[int | None, bytes]]:
    """Pictures of a Vorbis comment: base64 FLAC picture blocks, or the legacy raw COVERART."""
    for encoded in tags.get("metadata_block_picture", []):
        try:
            picture = Picture(base64.b64decode(encoded, validate=False))
        except Exception as exc:  # any malformed block is skipped, whatever mutagen raises
            logger.info("skipping a malformed picture block in %s: %s", name, exc)
            continue
        yield int(picture.type), bytes(picture.data)
    for encoded in tags.get("coverart", []):
        try:
            yield None, base64.b64decode(encoded, validate=False)
        except (binascii.Error, ValueError) as exc:
            logger.info("skipping a malformed COVERART field in %s: %s", name, exc)


def _choose(pictures: list[tuple[int | None, bytes]]) -> bytes | None:
    """The first non-empty front cover, else the first non-empty picture."""
    usable = [(kind, data) for kind, data in pictures if data]
    for kind, data in usable:
        if kind == PictureType.COVER_FRONT:
            return data
    return usable[0][1] if usable else None
