"""Safe library file names built from tags: `Artist - Title.ext`, never from a client's path.

The name is one path component on every filesystem a library may live on (ext4, NTFS,
SMB shares): no separators, control or reserved characters, no leading dot (hidden, or
`..`), no trailing dot or space, no Windows device names, at most 200 UTF-8 bytes.
Letters of any script are kept.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import PurePosixPath

MAX_STEM_BYTES = 200
UNTITLED = "Untitled"
RESERVED_CHARACTERS = frozenset('<>:"/\\|?*')
WINDOWS_DEVICE_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)
_WHITESPACE = re.compile(r"\s+")
MAX_DUPLICATES = 10_000


def _clean_character(char: str) -> str:
    if char in RESERVED_CHARACTERS:
        return "_"
    category = unicodedata.category(char)
    if category in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}:
        return " "
    return char


def _truncate_utf8(text: str, max_bytes: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode("utf-8", errors="ignore")


def safe_stem(text: str, max_bytes: int = MAX_STEM_BYTES) -> str:
    """`text` as a file name without extension; never empty, never a path."""
    cleaned = "".join(_clean_character(char) for char in unicodedata.normalize("NFC", text))
    cleaned = _WHITESPACE.sub(" ", cleaned).strip().lstrip(". ")
    cleaned = _truncate_utf8(cleaned, max_bytes).rstrip(". ")
    if not cleaned:
        return UNTITLED
    if cleaned.split(".")[0].upper() in WINDOWS_DEVICE_NAMES:
        cleaned = f"_{cleaned}"
    return cleaned


def track_file_stem(artist: str | None, title: str) -> str:
    """`Artist - Title`, or just `Title` for a track without artist, made safe."""
    label = f"{artist} - {title}" if artist else title
    return safe_stem(label)


def candidate_paths(folder: PurePosixPath, stem: str, extension: str) -> Iterator[str]:
    """`folder/stem.ext`, then `folder/stem (2).ext`, ... as relative POSIX paths."""
    suffix = extension.lower()
    for index in range(1, MAX_DUPLICATES + 1):
        name = stem if index == 1 else f"{stem} ({index})"
        yield (folder / f"{name}{suffix}").as_posix()
