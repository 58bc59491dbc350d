"""Title and artist guessed from a file name, for files whose tags say nothing.

Rules, in order:
- A leading track number is dropped: one to three digits followed by `-`, `.`, `)` or `_`
  ("1. Song", "01 - Song", "3_Song"), or two or three digits followed by a space ("01 Song",
  "12 Song"). A single digit before a space is kept ("7 Seconds"); years stay ("1979").
  Titles that truly start with a two-digit number ("99 Luftballons") lose it; that is rarer
  than numbered file names, and tags, when present, always win over this guess.
- What remains is split at the first " - " into "Artist - Title". A part that would be empty
  means there is no artist ("- Song" is titled "- Song").
- Whatever happens, the title is never empty: the whole stem is the last resort.
"""

from __future__ import annotations

import re
from pathlib import PurePath

ARTIST_SEPARATOR = " - "
_TRACK_NUMBER = re.compile(r"^(?:\d{1,3}\s*[-.)_]|\d{2,3}(?=\s))\s*")


def title_and_artist_from_filename(path: PurePath) -> tuple[str, str | None]:
    """(title, artist) from "Artist - Title.ext"; (stem, None) when there is no artist part."""
    stem = path.stem.strip()
    name = _without_track_number(stem)
    artist, separator, title = name.partition(ARTIST_SEPARATOR)
    artist, title = artist.strip(), _without_track_number(title.strip())
    if separator and artist and title:
        return title, artist
    return name or stem or path.name, None


def _without_track_number(text: str) -> str:
    """`text` without a leading track number, or `text` itself if nothing would be left."""
    rest = _TRACK_NUMBER.sub("", text, count=1).strip()
    return rest or text
