"""MP3 tags rewritten as ID3v2.3, the one ID3 version every player reads.

Why v2.3: Windows Explorer and Media Player, many car stereos and older iTunes versions
ignore ID3v2.4 (and its UTF-8 text), while everything that reads v2.4 also reads v2.3.
v2.3 has no UTF-8, so mutagen stores non-Latin-1 text as UTF-16: no character is lost.
"""

# mutagen ships partial annotations (untyped constructors and methods).
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

from pathlib import Path
from typing import Any

import mutagen
from mutagen.id3 import ID3, Encoding, ID3NoHeaderError
from mutagen.mp3 import MP3

ID3_V23 = (2, 3, 0)
# v2.4-only sort-order frames that v2.3 readers (iTunes, foobar2000, Picard) accept anyway;
# mutagen's strict v2.3 conversion would drop them, losing the user's sort names.
KEPT_SORT_FRAMES = ("TSOA", "TSOP", "TSOT")


class TagNormalisationError(Exception):
    """The tags could not be read or rewritten; the audio itself is untouched."""


def normalise_tags(path: Path) -> bool:
    """Rewrite an MP3's ID3v2 tag as v2.3; True when the file was rewritten.

    Other formats, MP3s without an ID3v2 tag (none, or ID3v1 only) and tags that are already
    clean v2.3 are left alone, so running this twice rewrites at most once.
    """
    if path.suffix.lower() != ".mp3":
        return False
    try:
        tags = ID3(path)
    except ID3NoHeaderError:
        return False
    except Exception as exc:
        # mutagen raises its own errors and, on some garbage, plain struct/index errors.
        raise TagNormalisationError(f"cannot read the ID3 tag of '{path.name}': {exc}") from exc
    return _rewrite_if_needed(tags, path)


def normalise_parsed_tags(audio: Any, path: Path) -> bool:
    """`normalise_tags` on a file already parsed by `mutagen.File` (no second parse).

    Only an MP3 with an ID3v2 tag at its start qualifies, as in `normalise_tags`: an ID3
    chunk inside a WAV (or an MP3 name on another format) is left alone.
    """
    if path.suffix.lower() != ".mp3" or not isinstance(audio, MP3):
        return False
    tags = audio.tags
    if not isinstance(tags, ID3):
        return False
    return _rewrite_if_needed(tags, path)


def _rewrite_if_needed(tags: ID3, path: Path) -> bool:
    """Save `tags` (read from `path`) as v2.3 unless they already are clean v2.3."""
    if tags.version[0] != 2 or not needs_rewrite(tags):
        return False
    kept = [frame for key in KEPT_SORT_FRAMES for frame in tags.getall(key)]
    tags.update_to_v23()
    for frame in kept:
        tags.add(frame)
    try:
        tags.save(path, v2_version=3)
    except (mutagen.MutagenError, OSError) as exc:
        raise TagNormalisationError(f"cannot rewrite the ID3 tag of '{path.name}': {exc}") from exc
    return True


def needs_rewrite(tags: ID3) -> bool:
    """Not v2.3, or v2.3 carrying encodings only v2.4 defines (UTF-8, UTF-16BE)."""
    if tuple(tags.version) != ID3_V23:
        return True
    return any(
        getattr(frame, "encoding", Encoding.LATIN1) in (Encoding.UTF8, Encoding.UTF16BE)
        for frame in tags.values()
    )
