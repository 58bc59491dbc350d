"""Library-relative paths: the form stored in the database, and the one gate against escapes.

Symlinks may be used inside the music folder, but whatever a path finally points to must be
inside it too: a `..` or a symlink must never let the API read or write elsewhere.
"""

from __future__ import annotations

import errno
from pathlib import Path, PurePosixPath


class PathOutsideLibraryError(ValueError):
    """A path that is not, or does not lead to, a place inside the music folder."""


class SymlinkLoopError(PathOutsideLibraryError):
    """A path whose symlinks lead back to themselves: it leads nowhere."""


def resolve_path(path: Path) -> Path:
    """`path.resolve()`, with a symlink loop as SymlinkLoopError.

    Python 3.11 raises RuntimeError for a loop (3.13 an OSError); both would otherwise escape
    every `except OSError` of the scanners and abort a whole scan or watcher batch.
    """
    try:
        return path.resolve()
    except RuntimeError as exc:
        raise SymlinkLoopError(f"{path} is a symlink loop") from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SymlinkLoopError(f"{path} is a symlink loop") from exc
        raise


def relative_library_path(path: Path, music_root: Path) -> str:
    """`path` relative to `music_root` as a POSIX string; refuses anything that escapes it.

    The check is made on the real location (symlinks and `..` resolved by the OS rules). The
    returned form keeps the names the user sees (a symlinked folder inside the library stays
    under its link name) unless the path spells `..` or names the root another way; then the
    real location inside the library is returned, since that is the file the OS would open.
    """
    real_root = resolve_path(music_root)
    real_path = resolve_path(path)
    if real_path == real_root or not real_path.is_relative_to(real_root):
        raise PathOutsideLibraryError(f"{path} is outside the music folder {music_root}")
    spelled, spelled_root = path.absolute(), music_root.absolute()
    if ".." not in spelled.parts and spelled.is_relative_to(spelled_root):
        relative = spelled.relative_to(spelled_root)
    else:
        relative = real_path.relative_to(real_root)
    return PurePosixPath(*relative.parts).as_posix()
