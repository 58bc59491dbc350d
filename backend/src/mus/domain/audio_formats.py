"""Which files are audio, and the media type each is served as: the one formats table.

The scanner, the watcher, upload and streaming all consult it.
"""

from __future__ import annotations

from pathlib import PurePath

# Extension -> the Content-Type a browser's <audio> needs.
AUDIO_MEDIA_TYPES: dict[str, str] = {
    ".mp3": "audio/mpeg",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".m4a": "audio/mp4",
    ".wav": "audio/wav",
}
AUDIO_EXTENSIONS: frozenset[str] = frozenset(AUDIO_MEDIA_TYPES)
FALLBACK_MEDIA_TYPE = "application/octet-stream"

# Editors, browsers and sync tools write through these before renaming into place.
TEMPORARY_SUFFIXES: tuple[str, ...] = (".part", ".tmp", ".crdownload", ".swp", "~")


def is_audio_path(path: PurePath) -> bool:
    """True for a supported audio extension that is not a hidden or temporary file."""
    return is_audio_name(path.name)


def is_audio_name(name: str) -> bool:
    """`is_audio_path` on a bare file name: the walk asks it per entry, without a Path."""
    if name.startswith((".", "~$")) or name.endswith(TEMPORARY_SUFFIXES):
        return False
    dot = name.rfind(".")
    return dot > 0 and name[dot:].lower() in AUDIO_EXTENSIONS


def audio_media_type(path: PurePath) -> str:
    """Media type by extension (case-insensitive); unknown ones are served as bytes."""
    return AUDIO_MEDIA_TYPES.get(path.suffix.lower(), FALLBACK_MEDIA_TYPE)
