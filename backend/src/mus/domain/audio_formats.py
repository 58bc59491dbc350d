"""Which files are audio: the one list the scanner, watcher and upload all consult."""

from __future__ import annotations

from pathlib import PurePath

AUDIO_EXTENSIONS: frozenset[str] = frozenset({".mp3", ".flac", ".ogg", ".m4a", ".wav"})

# Editors, browsers and sync tools write through these before renaming into place.
TEMPORARY_SUFFIXES: tuple[str, ...] = (".part", ".tmp", ".crdownload", ".swp", "~")


def is_audio_path(path: PurePath) -> bool:
    """True for a supported audio extension that is not a hidden or temporary file."""
    name = path.name
    if name.startswith((".", "~$")) or name.endswith(TEMPORARY_SUFFIXES):
        return False
    return path.suffix.lower() in AUDIO_EXTENSIONS
