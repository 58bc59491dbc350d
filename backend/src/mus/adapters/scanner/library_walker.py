"""Walks the music folder and yields the audio files worth indexing, in a stable order.

Nothing found on the way stops the walk: what cannot be indexed is noted in `skipped` with a
reason. `keep_indexed` on a skip tells the scan whether that entry (or, for a folder,
everything under it) is still there, merely unreadable now, so its rows must not be pruned.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mus.adapters.scanner.library_path import SymlinkLoopError, resolve_path
from mus.domain.audio_formats import is_audio_name

logger = logging.getLogger(__name__)
_GONE_ERRNOS = frozenset({errno.ENOENT, errno.ENOTDIR})


class MusicFolderUnavailableError(OSError):
    """The music folder itself cannot be listed: an empty walk would wrongly prune the index."""


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """An audio file or a folder the walk could not index, and why."""

    path: Path
    reason: str
    is_directory: bool = False
    keep_indexed: bool = False


@dataclass(frozen=True, slots=True)
class WalkedFile:
    """A file the walk found: its path as listed, its form relative to the walked folder
    (the form the index stores when that folder is the music folder), and its status."""

    path: str
    relative: str
    status: os.stat_result


class LibraryWalk:
    """One pass over the music folder; iterate it once, then read `skipped`.

    Order: the real folder tree sorted by name, then what linked folders add (sorted too).

    Folder symlinks are followed, but only to places inside the music folder, and a folder
    already visited (a loop, or a second link to the same folder) is walked once only.
    """

    def __init__(self, music_root: Path, *, library_root: Path | None = None) -> None:
        """Walk `music_root`, or a subfolder of the music folder given as `library_root`.

        Symlinks are judged against the music folder, so a link from the subfolder to
        elsewhere in the library still counts as inside.
        """
        self.music_root = music_root
        self.skipped: list[SkippedFile] = []
        self._real_root = resolve_path(library_root or music_root)
        self._visited: set[tuple[int, int]] = set()

    def __iter__(self) -> Iterator[Path]:
        return (Path(found.path) for found in self.files())

    def files(self) -> Iterator[WalkedFile]:
        """The files to index, each with the status the walk already took (one stat a file)."""
        try:
            root_status = self.music_root.stat()
            if not stat.S_ISDIR(root_status.st_mode):
                raise NotADirectoryError(errno.ENOTDIR, "not a directory", str(self.music_root))
            os.scandir(self.music_root).close()
        except OSError as exc:
            raise MusicFolderUnavailableError(
                exc.errno, f"cannot list the music folder {self.music_root}: {exc.strerror}"
            ) from exc
        self._visited.add((root_status.st_dev, root_status.st_ino))
        # An explicit stack rather than recursion: depth of nesting costs nothing. Linked
        # folders wait until the real tree is done, so a folder reachable both ways is
        # indexed under its real name and the link is then skipped as already visited.
        # Each level carries its library-relative prefix, so no file needs a Path to be named.
        stack = [(iter(self._entries(self.music_root)), "")]
        links: deque[tuple[os.DirEntry[str], str]] = deque()
        while stack or links:
            if not stack:
                link, prefix = links.popleft()
                if self._enter(link):
                    stack.append((iter(self._entries(Path(link.path))), f"{prefix}{link.name}/"))
                continue
            entries, prefix = stack[-1]
            entry = next(entries, None)
            if entry is None:
                stack.pop()
                continue
            name = entry.name
            if name.startswith("."):
                continue
            try:
                is_directory = entry.is_dir()
            except OSError as exc:
                self._skip_error(Path(entry.path), exc, is_directory=False)
                continue
            if is_directory and entry.is_symlink():
                links.append((entry, prefix))
            elif is_directory:
                if self._enter(entry):
                    stack.append((iter(self._entries(Path(entry.path))), f"{prefix}{name}/"))
            elif is_audio_name(name):
                status = self._indexable_status(entry)
                if status is not None:
                    yield WalkedFile(entry.path, f"{prefix}{name}", status)

    def _entries(self, directory: Path) -> list[os.DirEntry[str]]:
        """The folder's entries sorted by name; none (and a skip) when it cannot be listed."""
        try:
            with os.scandir(directory) as scan:
                return sorted(scan, key=lambda entry: entry.name)
        except OSError as exc:
            self._skip_error(directory, exc, is_directory=True)
            return []

    def _enter(self, entry: os.DirEntry[str]) -> bool:
        """True for a folder not seen yet; links outside the library and loops are skipped."""
        path = Path(entry.path)
        try:
            status = entry.stat()
            if entry.is_symlink() and not self._leads_inside(path):
                self._skip(path, "symlink points outside the music folder", is_directory=True)
                return False
        except SymlinkLoopError:
            self._skip(path, "symlink loop", is_directory=True)
            return False
        except OSError as exc:
            self._skip_error(path, exc, is_directory=True)
            return False
        key = (status.st_dev, status.st_ino)
        if key in self._visited:
            self._skip(path, "folder already visited (symlink loop or second link)", True)
            return False
        self._visited.add(key)
        return True

    def _indexable_status(self, entry: os.DirEntry[str]) -> os.stat_result | None:
        """The file's status (DirEntry caches it: one stat), or None and a skip."""
        try:
            status = entry.stat()
            if entry.is_symlink() and not self._leads_inside(Path(entry.path)):
                self._skip(Path(entry.path), "symlink points outside the music folder")
                return None
        except FileNotFoundError:
            path = Path(entry.path)
            gone_link = entry.is_symlink() and path.is_symlink()
            self._skip(path, "broken symlink" if gone_link else "vanished during the scan")
            return None
        except SymlinkLoopError:
            self._skip(Path(entry.path), "symlink loop")
            return None
        except OSError as exc:
            self._skip_error(Path(entry.path), exc, is_directory=False)
            return None
        if not stat.S_ISREG(status.st_mode):
            self._skip(Path(entry.path), "not a regular file")
            return None
        if status.st_size == 0:
            self._skip(Path(entry.path), "empty file", keep_indexed=True)
            return None
        return status

    def _leads_inside(self, path: Path) -> bool:
        return resolve_path(path).is_relative_to(self._real_root)

    def _skip(
        self, path: Path, reason: str, is_directory: bool = False, *, keep_indexed: bool = False
    ) -> None:
        """Note the skip, with one log line naming the path (an empty file is routine)."""
        self.skipped.append(SkippedFile(path, reason, is_directory, keep_indexed))
        level = logging.INFO if reason == "empty file" else logging.WARNING
        logger.log(level, "library walk: skipped %s: %s", path, reason)

    def _skip_error(self, path: Path, exc: OSError, *, is_directory: bool) -> None:
        """A vanished entry may be pruned; any other error keeps what is indexed under it."""
        gone = exc.errno in _GONE_ERRNOS
        if exc.errno == errno.ELOOP:
            reason = "symlink loop"
        elif gone:
            reason = "vanished during the scan"
        else:
            reason = f"unreadable: {exc.strerror or exc}"
        self._skip(path, reason, is_directory, keep_indexed=not gone)


def iter_audio_files(music_root: Path) -> Iterator[Path]:
    """The audio files under `music_root`, sorted, without the skip report."""
    return iter(LibraryWalk(music_root))
