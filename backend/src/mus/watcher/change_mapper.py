"""Turn one batch of file-system changes into job requests: every rule the watcher applies.

The contract suite drives `map_changes` directly, acting as the OS, so nothing here needs
watchfiles running. The rules, decided per library-relative path from the set of change
kinds seen in the batch plus what is on disk *now* and what the database knows:

* Ignored: paths outside the music root, the root itself, anything under a hidden
  directory, and files that `is_audio_path` refuses (hidden, temporary, not audio).
* The batch is a set (watchfiles gives no order within a batch), so the final state on
  disk decides, never the order of the events:
  - file present, unknown to the database -> `handle_file_created`;
  - file present, known to the database -> `handle_file_modified`, also when it was
    deleted and re-added (an editor's save-by-rename gives a new inode: still the same
    track, its content changed; a "deleted" job would find the file there and do nothing);
  - file gone, known to the database -> `handle_file_deleted`;
  - file gone, unknown, and added in this batch -> nothing (born and gone in one batch);
  - file gone, unknown, only deleted/modified -> `handle_file_deleted` (the database may
    not have caught up with an earlier batch yet; the job is a no-op for an unknown path).
* Moves: a gone path whose known inode equals the inode of a file added in this batch
  becomes one `handle_file_moved(src_path, dest_path)` instead of deleted + created. A
  file replaced in place (both paths still present, e.g. a swap) is modified, never moved.
  Caveat: a file created while another is deleted may get the freed inode number; such a
  false move is only safe if `handle_file_moved` re-reads a file whose mtime changed.
* Directories: an added directory (created, or moved in) is walked and each audio file in
  it counts as added, because the OS reports the directory only. A deleted directory
  becomes a deletion of every known track under it when `known_tracks_under` is given
  (nothing otherwise); with the walk, a directory renamed inside the library pairs into
  one move per track. Modified directories are ignored (their mtime follows their entries).
* Order of the result: moves (by source path), then deletions, creations and
  modifications, each sorted by path; the same batch always gives the same list.
"""

from __future__ import annotations

import asyncio
import logging
import stat
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any

from watchfiles import Change

from mus.adapters.scanner.library_path import (
    PathOutsideLibraryError,
    SymlinkLoopError,
    relative_library_path,
)
from mus.adapters.scanner.library_walker import LibraryWalk
from mus.application.job_queue import JobRequest
from mus.domain.audio_formats import is_audio_path

logger = logging.getLogger(__name__)

KnownInode = Callable[[str], Awaitable[int | None]]
"""Inode the database holds for a relative path, or None when the path is not a track."""

KnownTracksUnder = Callable[[str], Awaitable[Mapping[str, int | None]]]
"""Relative path -> known inode of every track under a relative directory."""

KnownInodes = Callable[[Sequence[str]], Awaitable[Mapping[str, int | None]]]
"""The stored inodes of many paths at once (a path with no track may be left out)."""


class ChangeKind(StrEnum):
    """What happened to a path, independent of the library that reported it."""

    ADDED = "added"
    MODIFIED = "modified"
    DELETED = "deleted"

    @classmethod
    def of(cls, change: ChangeKind | Change | str) -> ChangeKind:
        """Accept our kind, a `watchfiles.Change`, or its name; anything else is a clear error."""
        if isinstance(change, ChangeKind):
            return change
        if isinstance(change, Change):
            return cls(change.name)
        if isinstance(change, str):
            try:
                return cls(change.lower())
            except ValueError:
                pass
        known = ", ".join(kind.value for kind in cls)
        raise ValueError(f"unknown change kind {change!r} (known: {known})")


def touched_paths(request: JobRequest) -> tuple[str, ...]:
    """Every library path a file job touches (the write-lock check looks at all of them)."""
    if "src_path" in request.kwargs:
        return (str(request.kwargs["src_path"]), str(request.kwargs["dest_path"]))
    return (str(request.kwargs["file_path"]),)


def job_request(task_name: str, **kwargs: Any) -> JobRequest:
    """A request for one job; the port's catalogue decides its queue."""
    return JobRequest(task_name, kwargs)


@dataclass(frozen=True, slots=True)
class _OnDisk:
    """What a path is right now: a file (with its inode), a directory, or gone."""

    inode: int | None = None
    is_directory: bool = False
    is_special: bool = False
    """A FIFO, socket or device: never indexed, never opened."""

    @property
    def is_file(self) -> bool:
        return self.inode is not None


_GONE = _OnDisk()


def _library_relative(
    raw: str | Path, music_root: Path, skipped: dict[str, str] | None = None
) -> str | None:
    """Relative POSIX path of a reported path, or None when it is not a library entry.

    A symlink loop, or a path under a link that leads out of the library, goes into
    `skipped` (named by the link) so the batch can warn about it once.
    """
    candidate = Path(raw)
    if not candidate.is_absolute():
        candidate = music_root / candidate
    try:
        relative = relative_library_path(candidate, music_root)
    except SymlinkLoopError:
        if skipped is not None:
            skipped[str(candidate)] = "symlink loop"
        return None
    except PathOutsideLibraryError:
        link = _link_leaving(candidate, music_root)
        if link is not None and skipped is not None:
            skipped[str(link)] = "symlink points outside the music folder"
        return None
    if relative in ("", "."):
        return None
    if any(part.startswith(".") for part in PurePosixPath(relative).parts[:-1]):
        return None  # under a hidden directory: trash, sync-tool state, version folders
    return relative


def _link_leaving(candidate: Path, music_root: Path) -> Path | None:
    """The first symlink on the way from the root to `candidate`, if it is spelled inside."""
    try:
        parts = candidate.relative_to(music_root).parts
    except ValueError:
        return None  # reported outside the root (its parent, another watch): not ours
    current = music_root
    for part in parts:
        current = current / part
        if current.is_symlink():
            return current
    return None


def _look(music_root: Path, relative: str) -> _OnDisk:
    try:
        status = (music_root / relative).stat()
    except OSError:
        return _GONE
    if stat.S_ISDIR(status.st_mode):
        return _OnDisk(is_directory=True)
    if not stat.S_ISREG(status.st_mode):
        return _OnDisk(is_special=True)
    return _OnDisk(inode=status.st_ino)


def _audio_files_under(music_root: Path, relative_dir: str) -> dict[str, _OnDisk]:
    """Audio files inside a directory the OS reported as one event, by the scanner's rules."""
    found: dict[str, _OnDisk] = {}
    try:
        for absolute in LibraryWalk(music_root / relative_dir):
            relative = _library_relative(absolute, music_root)
            if relative is not None:
                state = _look(music_root, relative)
                if state.is_file:
                    found[relative] = state
    except OSError:
        pass  # gone again already: its own deletion event follows
    return found


@dataclass(slots=True)
class _Batch:
    """The facts of one batch, gathered before any decision."""

    kinds: dict[str, set[ChangeKind]] = field(default_factory=dict)
    audio: dict[str, _OnDisk] = field(default_factory=dict)
    maybe_directories: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    """Path -> why it was left out (loop, link out of the library, special file)."""


def _inspect(music_root: Path, changes: list[tuple[ChangeKind, str | Path]]) -> _Batch:
    """Blocking part, run in a thread: normalise paths, stat them, walk added directories."""
    batch = _Batch()
    for kind, raw_path in changes:
        relative = _library_relative(raw_path, music_root, batch.skipped)
        if relative is not None:
            batch.kinds.setdefault(relative, set()).add(kind)
    walked: dict[str, _OnDisk] = {}
    for relative, seen in batch.kinds.items():
        state = _look(music_root, relative)
        if state.is_directory:
            if ChangeKind.ADDED in seen:
                walked.update(_audio_files_under(music_root, relative))
        elif state.is_special:
            if is_audio_path(PurePosixPath(relative)):
                batch.skipped[str(music_root / relative)] = "not a regular file"
        elif is_audio_path(PurePosixPath(relative)):
            batch.audio[relative] = state
        elif not state.is_file and ChangeKind.DELETED in seen:
            batch.maybe_directories.append(relative)
    for relative, state in walked.items():
        batch.kinds.setdefault(relative, set()).add(ChangeKind.ADDED)
        batch.audio[relative] = state
    batch.maybe_directories.sort()
    return batch


def _inspect_known(music_root: Path, paths: Iterable[str]) -> dict[str, _OnDisk]:
    """Blocking part for tracks found under a deleted directory: where are they now."""
    found: dict[str, _OnDisk] = {}
    for path in paths:
        relative = _library_relative(path, music_root)
        if relative is not None:
            found[relative] = _look(music_root, relative)
    return found


async def map_changes(
    changes: Iterable[tuple[ChangeKind | Change | str, str | Path]],
    *,
    music_root: Path,
    known_inode: KnownInode,
    known_tracks_under: KnownTracksUnder | None = None,
    known_inodes: KnownInodes | None = None,
) -> list[JobRequest]:
    """Map one batch of changes (absolute, or relative to `music_root`) to job requests.

    `known_inodes`, when given, answers for every path of the batch at once (else
    `known_inode` is asked path by path).

    See the module docstring for the rules; raises ValueError for an unknown change kind.
    """
    typed = [(ChangeKind.of(change), raw_path) for change, raw_path in changes]
    if not typed:
        return []
    batch = await asyncio.to_thread(_inspect, music_root, typed)
    for path, reason in sorted(batch.skipped.items()):
        logger.warning("file watcher: skipped %s: %s", path, reason)
    known: dict[str, int | None] = {}
    known_paths: set[str] = set()
    if known_tracks_under is not None:
        for directory in batch.maybe_directories:
            tracks = {
                path: inode
                for path, inode in (await known_tracks_under(directory)).items()
                if path not in batch.audio
            }
            located = await asyncio.to_thread(_inspect_known, music_root, tracks)
            for relative, state in located.items():
                batch.kinds.setdefault(relative, set()).add(ChangeKind.DELETED)
                batch.audio[relative] = state
                known[relative] = tracks.get(relative)
                known_paths.add(relative)
    unknown = [relative for relative in sorted(batch.audio) if relative not in known_paths]
    if known_inodes is not None:
        stored = await known_inodes(unknown)
        inodes = {relative: stored.get(relative) for relative in unknown}
    else:
        inodes = {relative: await known_inode(relative) for relative in unknown}
    for relative, inode in inodes.items():
        known[relative] = inode
        if inode is not None:
            known_paths.add(relative)
    return _decide(batch.kinds, batch.audio, known, known_paths)


def _decide(
    kinds: Mapping[str, set[ChangeKind]],
    audio: Mapping[str, _OnDisk],
    known: Mapping[str, int | None],
    known_paths: set[str],
) -> list[JobRequest]:
    """Apply the rules of the module docstring to the collected facts."""
    gone_by_inode: dict[int, str] = {}
    deleted: list[str] = []
    for relative in sorted(audio):
        if audio[relative].is_file:
            continue
        if relative in known_paths:
            deleted.append(relative)
            inode = known[relative]
            if inode is not None:
                gone_by_inode.setdefault(inode, relative)
        elif ChangeKind.ADDED not in kinds[relative]:
            deleted.append(relative)

    moves: list[tuple[str, str]] = []
    created: list[str] = []
    modified: list[str] = []
    for relative in sorted(audio):
        state = audio[relative]
        if state.inode is None:
            continue
        if ChangeKind.ADDED in kinds[relative] and known.get(relative) != state.inode:
            source = gone_by_inode.pop(state.inode, None)
            if source is not None:
                moves.append((source, relative))
                continue
        if relative in known_paths:
            modified.append(relative)
        else:
            created.append(relative)

    moved_sources = {source for source, _ in moves}
    requests = [
        job_request("handle_file_moved", src_path=source, dest_path=destination)
        for source, destination in sorted(moves)
    ]
    requests += [
        job_request("handle_file_deleted", file_path=path)
        for path in deleted
        if path not in moved_sources
    ]
    requests += [job_request("handle_file_created", file_path=path) for path in created]
    requests += [job_request("handle_file_modified", file_path=path) for path in modified]
    return requests
