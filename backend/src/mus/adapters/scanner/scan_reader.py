"""One scan read: a listed file's fast metadata, or why it has none, in a form a pool can ship.

Everything here is picklable and importable without the database, so a worker process of the
reader pool loads only this, mutagen and the domain.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from mus.adapters.scanner.fast_metadata import (
    EmptyAudioFileError,
    FileReplacedError,
    NotARegularFileError,
    read_checked_file,
    read_fast_metadata,
)
from mus.adapters.scanner.library_path import (
    PathOutsideLibraryError,
    SymlinkLoopError,
    relative_library_path,
)
from mus.domain.track import FastMetadata

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ScanTarget:
    """A file the walk listed: path, library form, and the (device, inode) it saw there."""

    path: str
    file_path: str
    device: int
    inode: int


@dataclass(frozen=True, slots=True)
class UnreadFile:
    """A file the walk found but whose metadata could not be read.

    `still_there` says whether its row must survive pruning.
    """

    file_path: str
    reason: str
    still_there: bool


ReadResult = FastMetadata | UnreadFile


def read_targets(targets: list[ScanTarget], music_root: Path) -> list[ReadResult]:
    """`read_target` of each, in order: the unit of work a pool worker runs."""
    return [read_target(target, music_root) for target in targets]


def read_target(target: ScanTarget, music_root: Path) -> ReadResult:
    """Fast metadata, or why not.

    The walk already skipped (and logged) what it could see; what changed since it looked
    (a file swapped for a FIFO, a link or a loop) is logged here, once. A file replaced
    since the walk is read the careful way, with its path resolved again.
    """
    try:
        try:
            return read_checked_file(
                target.path, target.file_path, identity=(target.device, target.inode)
            )
        except FileReplacedError:
            return read_fast_metadata(Path(target.path), music_root)
    except FileNotFoundError:
        return UnreadFile(target.file_path, "vanished during the scan", False)
    except EmptyAudioFileError:
        return UnreadFile(target.file_path, "empty file", True)
    except NotARegularFileError:
        return _skipped(target, music_root, "not a regular file")
    except SymlinkLoopError:
        return _skipped(target, music_root, "symlink loop")
    except PathOutsideLibraryError:
        return _skipped(target, music_root, "outside the music folder")
    except OSError as exc:
        return UnreadFile(target.file_path, f"unreadable: {exc.strerror or exc}", True)
    except Exception as exc:
        # One odd file must not cost the whole scan; its row, if any, is left as it was.
        logger.warning("fast scan: cannot read %s", target.path, exc_info=True)
        return UnreadFile(target.file_path, f"cannot read: {exc!r}", True)


def _skipped(target: ScanTarget, music_root: Path, reason: str) -> UnreadFile:
    logger.warning("fast scan: skipped %s: %s", target.path, reason)
    return UnreadFile(library_form(Path(target.path), music_root), reason, False)


def library_form(path: Path, music_root: Path) -> str:
    """The library-relative form of a path for reports; the path itself if it has none."""
    try:
        return relative_library_path(path, music_root)
    except (PathOutsideLibraryError, OSError):
        pass
    try:
        return path.relative_to(music_root).as_posix()
    except ValueError:
        return str(path)
