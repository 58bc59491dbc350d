"""Library-relative paths: the form stored in the database, and the one gate against escapes.

Symlinks may be used inside the music folder, but whatever a path finally points to must be
inside it too: a `..` or a symlink must never let the API read or write elsewhere.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath


class PathOutsideLibraryError(ValueError):
    """A path that is not, or does not lead to, a place inside the music folder."""


def relative_library_path(path: Path, music_root: Path) -> str:
    """`path` relative to `music_root` as a POSIX string; refuses anything that escapes it.

    The check is made on the real location (symlinks and `..` resolved by the OS rules). The
    returned form keeps the names the user sees (a symlinked folder inside the library stays
    under its link name) unless the path spells `..` or names the root another way; then the
    real location inside the library is returned, since that is the file the OS would open.
    """
    real_root = music_root.resolve()
    real_path = path.resolve()
    if real_path == real_root or not real_path.is_relative_to(real_root):
        raise PathOutsideLibraryError(f"{path} is outside the music folder {music_root}")
    spelled, spelled_root = path.absolute(), music_root.absolute()
    if ".." not in spelled.parts and spelled.is_relative_to(spelled_root):
        relative = spelled.relative_to(spelled_root)
    else:
        relative = real_path.relative_to(real_root)
    return PurePosixPath(*relative.parts).as_posix()
