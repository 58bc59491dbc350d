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
from mus.domain.audio_formats import is_audio_path

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
        stack = [iter(self._entries(self.music_root))]
        links: deque[os.DirEntry[str]] = deque()
        while stack or links:
            if not stack:
                link = links.popleft()
                if self._enter(Path(link.path), link):
                    stack.append(iter(self._entries(Path(link.path))))
                continue
            entry = next(stack[-1], None)
            if entry is None:
                stack.pop()
                continue
            path = Path(entry.path)
            if entry.name.startswith("."):
                continue
            try:
                is_directory = entry.is_dir()
            except OSError as exc:
                self._skip_error(path, exc, is_directory=False)
                continue
            if is_directory and entry.is_symlink():
                links.append(entry)
            elif is_directory:
                if self._enter(path, entry):
                    stack.append(iter(self._entries(path)))
            elif is_audio_path(path) and self._indexable_file(path, entry):
                yield path

    def _entries(self, directory: Path) -> list[os.DirEntry[str]]:
        """The folder's entries sorted by name; none (and a skip) when it cannot be listed."""
        try:
            with os.scandir(directory) as scan:
                return sorted(scan, key=lambda entry: entry.name)
        except OSError as exc:
            self._skip_error(directory, exc, is_directory=True)
            return []

    def _enter(self, path: Path, entry: os.DirEntry[str]) -> bool:
        """True for a folder not seen yet; links outside the library and loops are skipped."""
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

    def _indexable_file(self, path: Path, entry: os.DirEntry[str]) -> bool:
        try:
            status = entry.stat()
            if entry.is_symlink() and not self._leads_inside(path):
                self._skip(path, "symlink points outside the music folder")
                return False
        except FileNotFoundError:
            gone_link = entry.is_symlink() and path.is_symlink()
            self._skip(path, "broken symlink" if gone_link else "vanished during the scan")
            return False
        except SymlinkLoopError:
            self._skip(path, "symlink loop")
            return False
        except OSError as exc:
            self._skip_error(path, exc, is_directory=False)
            return False
        if not stat.S_ISREG(status.st_mode):
            self._skip(path, "not a regular file")
            return False
        if status.st_size == 0:
            self._skip(path, "empty file", keep_indexed=True)
            return False
        return True

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
