"""The mapping rules on a real folder: real files, real inodes, real renames."""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest
from watchfiles import Change

from mus.application.job_catalogue import JOB_QUEUES
from mus.application.job_queue import JobRequest
from mus.watcher.change_mapper import (
    ChangeKind,
    map_changes,
    touched_paths,
)


def write_file(root: Path, relative: str, data: bytes = b"not parsed by the watcher") -> Path:
    """A real file on disk; neither mapper nor watcher parses audio, so bytes are enough."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


class KnownInodes:
    """The database side of the mapper's port, as a dict of relative path -> inode."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.inodes: dict[str, int | None] = {}
        self.asked: list[str] = []
        self.asked_together: list[list[str]] = []

    def know(self, relative: str, inode: int | None = None) -> None:
        """Record a track at `relative` with its real inode (or the one given)."""
        self.inodes[relative] = inode if inode is not None else (self.root / relative).stat().st_ino

    async def inode_of(self, relative: str) -> int | None:
        self.asked.append(relative)
        return self.inodes.get(relative)

    async def inodes_of(self, relatives: Sequence[str]) -> dict[str, int | None]:
        self.asked_together.append(list(relatives))
        return {path: self.inodes[path] for path in relatives if path in self.inodes}

    async def inodes_under(self, directory: str) -> dict[str, int | None]:
        prefix = directory + "/"
        return {path: inode for path, inode in self.inodes.items() if path.startswith(prefix)}


@pytest.fixture
def known(music_root: Path) -> KnownInodes:
    return KnownInodes(music_root)


ADDED, MODIFIED, DELETED = ChangeKind.ADDED, ChangeKind.MODIFIED, ChangeKind.DELETED


async def mapped(
    changes: Iterable[tuple[ChangeKind | Change | str, str | Path]],
    root: Path,
    known: KnownInodes,
    *,
    with_directories: bool = True,
) -> list[tuple[str, str, dict[str, object]]]:
    requests = await map_changes(
        changes,
        music_root=root,
        known_inode=known.inode_of,
        known_tracks_under=known.inodes_under if with_directories else None,
    )
    return [(JOB_QUEUES[r.task_name].value, r.task_name, r.kwargs) for r in requests]


def created(path: str) -> tuple[str, str, dict[str, object]]:
    return ("high_priority", "handle_file_created", {"file_path": path})


def modified(path: str) -> tuple[str, str, dict[str, object]]:
    return ("medium_priority", "handle_file_modified", {"file_path": path})


def deleted(path: str) -> tuple[str, str, dict[str, object]]:
    return ("high_priority", "handle_file_deleted", {"file_path": path})


def moved(src: str, dest: str) -> tuple[str, str, dict[str, object]]:
    return ("medium_priority", "handle_file_moved", {"src_path": src, "dest_path": dest})


async def test_new_file_is_created_on_the_high_queue(music_root: Path, known: KnownInodes) -> None:
    path = write_file(music_root, "Artist/Album/01 Song.mp3")
    assert await mapped([(ADDED, path)], music_root, known) == [created("Artist/Album/01 Song.mp3")]


async def test_watchfiles_changes_and_relative_paths_are_accepted(
    music_root: Path, known: KnownInodes
) -> None:
    write_file(music_root, "a.flac")
    requests = await map_changes(
        [(Change.added, "a.flac")], music_root=music_root, known_inode=known.inode_of
    )
    assert requests == [JobRequest("handle_file_created", {"file_path": "a.flac"})]
    assert touched_paths(requests[0]) == ("a.flac",)
    moved = JobRequest("handle_file_moved", {"src_path": "a.flac", "dest_path": "b/a.flac"})
    assert touched_paths(moved) == ("a.flac", "b/a.flac")


async def test_added_then_modified_collapses_to_one_created(
    music_root: Path, known: KnownInodes
) -> None:
    path = write_file(music_root, "song.ogg")
    changes = [(ADDED, path), (MODIFIED, path), (MODIFIED, str(path)), (ADDED, "song.ogg")]
    assert await mapped(changes, music_root, known) == [created("song.ogg")]


async def test_modified_known_file_is_modified_on_the_medium_queue(
    music_root: Path, known: KnownInodes
) -> None:
    path = write_file(music_root, "song.m4a")
    known.know("song.m4a")
    path.write_bytes(b"new content")
    assert await mapped([(MODIFIED, path)], music_root, known) == [modified("song.m4a")]


async def test_modified_file_the_database_does_not_know_is_created(
    music_root: Path, known: KnownInodes
) -> None:
    # e.g. the created job saw an empty file still being copied and stored nothing.
    path = write_file(music_root, "late.wav")
    assert await mapped([(MODIFIED, path)], music_root, known) == [created("late.wav")]


async def test_deleted_known_file_is_deleted_on_the_high_queue(
    music_root: Path, known: KnownInodes
) -> None:
    path = write_file(music_root, "gone.mp3")
    known.know("gone.mp3")
    path.unlink()
    assert await mapped([(DELETED, path)], music_root, known) == [deleted("gone.mp3")]


async def test_deleted_unknown_file_is_still_reported(music_root: Path, known: KnownInodes) -> None:
    # The database may lag an earlier batch's created job; the deleted job is a no-op if not.
    assert await mapped([(DELETED, music_root / "x.mp3")], music_root, known) == [deleted("x.mp3")]


async def test_added_then_deleted_in_one_batch_is_nothing(
    music_root: Path, known: KnownInodes
) -> None:
    path = write_file(music_root, "flash.mp3")
    path.unlink()
    changes = [(ADDED, path), (MODIFIED, path), (DELETED, path)]
    assert await mapped(changes, music_root, known) == []


async def test_deleted_then_added_known_path_is_modified(
    music_root: Path, known: KnownInodes
) -> None:
    path = write_file(music_root, "song.mp3")
    known.know("song.mp3")
    path.unlink()
    write_file(music_root, "song.mp3", b"rewritten")
    assert await mapped([(DELETED, path), (ADDED, path)], music_root, known) == [
        modified("song.mp3")
    ]


async def test_save_by_rename_over_a_known_file_is_modified(
    music_root: Path, known: KnownInodes
) -> None:
    # A tag editor writes a temp file and renames it over the original: a new inode.
    target = write_file(music_root, "song.mp3")
    known.know("song.mp3")
    temporary = write_file(music_root, "song.mp3.tmp", b"edited tags")
    temporary.replace(target)
    assert target.stat().st_ino != known.inodes["song.mp3"]
    changes = [(ADDED, temporary), (DELETED, temporary), (ADDED, target)]
    assert await mapped(changes, music_root, known) == [modified("song.mp3")]


async def test_temporary_hidden_and_non_audio_files_are_ignored(
    music_root: Path, known: KnownInodes
) -> None:
    paths = [
        write_file(music_root, name)
        for name in (
            "song.mp3.part",
            "song.flac.crdownload",
            "song.mp3~",
            ".hidden.mp3",
            "~$lock.mp3",
            "cover.jpg",
            "notes.txt",
            ".stversions/old.mp3",
            ".Trash-1000/files/thrown.flac",
        )
    ]
    changes = [(kind, path) for path in paths for kind in (ADDED, MODIFIED)]
    changes.append((DELETED, music_root / "removed.jpg"))
    changes.append((ADDED, music_root / ".stversions"))
    assert await mapped(changes, music_root, known) == []
    assert known.asked == []  # nothing irrelevant reaches the database


async def test_paths_outside_the_music_root_are_ignored(
    music_root: Path, known: KnownInodes, tmp_path: Path
) -> None:
    outside = write_file(tmp_path, "elsewhere.mp3")
    sibling = write_file(tmp_path, "music-other/x.mp3")  # shares the root's name as prefix
    changes = [
        (ADDED, outside),
        (ADDED, "../elsewhere.mp3"),
        (ADDED, sibling),
        (DELETED, tmp_path / "nowhere.mp3"),
        (MODIFIED, music_root),
    ]
    assert await mapped(changes, music_root, known) == []


async def test_rename_pairs_by_inode_into_one_move(music_root: Path, known: KnownInodes) -> None:
    old = write_file(music_root, "Artist/old name.mp3")
    known.know("Artist/old name.mp3")
    new = music_root / "Artist/new name.mp3"
    old.rename(new)
    assert await mapped([(DELETED, old), (ADDED, new)], music_root, known) == [
        moved("Artist/old name.mp3", "Artist/new name.mp3")
    ]


async def test_move_into_a_subfolder_is_a_move(music_root: Path, known: KnownInodes) -> None:
    old = write_file(music_root, "loose.flac")
    known.know("loose.flac")
    (music_root / "Sorted/Album").mkdir(parents=True)
    new = music_root / "Sorted/Album/loose.flac"
    old.rename(new)
    changes = [(DELETED, old), (ADDED, new), (MODIFIED, music_root / "Sorted/Album")]
    assert await mapped(changes, music_root, known) == [
        moved("loose.flac", "Sorted/Album/loose.flac")
    ]


async def test_move_over_a_known_file_is_one_move(music_root: Path, known: KnownInodes) -> None:
    source = write_file(music_root, "b.mp3", b"b")
    target = write_file(music_root, "a.mp3", b"a")
    known.know("a.mp3")
    known.know("b.mp3")
    source.replace(target)
    assert await mapped([(DELETED, source), (ADDED, target)], music_root, known) == [
        moved("b.mp3", "a.mp3")
    ]


async def test_rename_whose_inode_does_not_match_is_deleted_and_created(
    music_root: Path, known: KnownInodes
) -> None:
    old = write_file(music_root, "old.mp3")
    known.know("old.mp3", inode=old.stat().st_ino + 1_000_003)  # the database holds another file
    new = music_root / "new.mp3"
    old.rename(new)
    assert await mapped([(DELETED, old), (ADDED, new)], music_root, known) == [
        deleted("old.mp3"),
        created("new.mp3"),
    ]


async def test_created_directory_is_scanned_for_audio_files(
    music_root: Path, known: KnownInodes, tmp_path: Path
) -> None:
    # A folder moved in from outside: the OS reports the folder only.
    outside = tmp_path / "download"
    for name in ("Album/01.mp3", "Album/02.flac", "Album/cover.jpg", "Album/CD2/03.ogg"):
        write_file(outside, name)
    write_file(outside, "Album/.hidden/04.mp3")
    (outside / "Album").rename(music_root / "Album")
    assert await mapped([(ADDED, music_root / "Album")], music_root, known) == [
        created("Album/01.mp3"),
        created("Album/02.flac"),
        created("Album/CD2/03.ogg"),
    ]


async def test_modified_directory_alone_is_nothing(music_root: Path, known: KnownInodes) -> None:
    (music_root / "Album").mkdir()
    write_file(music_root, "Album/01.mp3")
    known.know("Album/01.mp3")
    assert await mapped([(MODIFIED, music_root / "Album")], music_root, known) == []


async def test_deleted_directory_deletes_every_known_track_under_it(
    music_root: Path, known: KnownInodes
) -> None:
    for name in ("Album/01.mp3", "Album/CD2/02.mp3", "Album 2/03.mp3"):
        write_file(music_root, name)
        known.know(name)
    for name in ("Album/01.mp3", "Album/CD2/02.mp3"):
        (music_root / name).unlink()
    (music_root / "Album/CD2").rmdir()
    (music_root / "Album").rmdir()
    changes = [(DELETED, music_root / "Album"), (DELETED, music_root / "Album/01.mp3")]
    assert await mapped(changes, music_root, known) == [
        deleted("Album/01.mp3"),
        deleted("Album/CD2/02.mp3"),
    ]
    # Without the directory lookup only the files the OS named are deleted.
    assert await mapped(changes, music_root, known, with_directories=False) == [
        deleted("Album/01.mp3")
    ]


async def test_renamed_directory_becomes_one_move_per_track(
    music_root: Path, known: KnownInodes
) -> None:
    for name in ("Old/01.mp3", "Old/02.mp3"):
        write_file(music_root, name)
        known.know(name)
    (music_root / "Old").rename(music_root / "New")
    changes = [(DELETED, music_root / "Old"), (ADDED, music_root / "New")]
    assert await mapped(changes, music_root, known) == [
        moved("Old/01.mp3", "New/01.mp3"),
        moved("Old/02.mp3", "New/02.mp3"),
    ]


async def test_result_order_is_deterministic_moves_first(
    music_root: Path, known: KnownInodes
) -> None:
    for name in ("z-moved.mp3", "m-deleted.mp3", "b-deleted.mp3", "c-modified.mp3"):
        write_file(music_root, name)
        known.know(name)
    # Created before the deletions so that no new file reuses a deleted file's inode.
    write_file(music_root, "y-created.mp3")
    write_file(music_root, "d-created.mp3")
    (music_root / "z-moved.mp3").rename(music_root / "a-moved.mp3")
    (music_root / "m-deleted.mp3").unlink()
    (music_root / "b-deleted.mp3").unlink()
    (music_root / "c-modified.mp3").write_bytes(b"changed")
    changes: list[tuple[ChangeKind, str | Path]] = [
        (DELETED, music_root / "z-moved.mp3"),
        (ADDED, music_root / "a-moved.mp3"),
        (DELETED, music_root / "m-deleted.mp3"),
        (DELETED, "b-deleted.mp3"),
        (MODIFIED, music_root / "c-modified.mp3"),
        (ADDED, music_root / "y-created.mp3"),
        (ADDED, music_root / "d-created.mp3"),
        (MODIFIED, music_root / "d-created.mp3"),
    ]
    expected = [
        moved("z-moved.mp3", "a-moved.mp3"),
        deleted("b-deleted.mp3"),
        deleted("m-deleted.mp3"),
        created("d-created.mp3"),
        created("y-created.mp3"),
        modified("c-modified.mp3"),
    ]
    shuffler = random.Random(7)
    for _ in range(5):
        shuffler.shuffle(changes)
        assert await mapped(changes, music_root, known) == expected


def test_change_kind_converts_from_watchfiles_and_names() -> None:
    assert ChangeKind.of(Change.added) is ChangeKind.ADDED
    assert ChangeKind.of(Change.modified) is ChangeKind.MODIFIED
    assert ChangeKind.of(Change.deleted) is ChangeKind.DELETED
    assert ChangeKind.of("Deleted") is ChangeKind.DELETED
    assert ChangeKind.of(ChangeKind.ADDED) is ChangeKind.ADDED


async def test_unknown_change_kind_is_a_clear_error(music_root: Path, known: KnownInodes) -> None:
    with pytest.raises(ValueError, match=r"unknown change kind 'renamed' \(known: added"):
        await mapped([("renamed", music_root / "a.mp3")], music_root, known)
    with pytest.raises(ValueError, match="unknown change kind 7"):
        ChangeKind.of(7)  # type: ignore[arg-type]


def watcher_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "mus.watcher.change_mapper"]


async def test_a_symlink_loop_is_skipped_and_the_rest_of_the_batch_kept(
    music_root: Path, known: KnownInodes, caplog: pytest.LogCaptureFixture
) -> None:
    """A loop made `Path.resolve` raise RuntimeError: the whole batch was dropped, and a real
    file moved in at the same time was never indexed."""
    (music_root / "a.mp3").symlink_to(music_root / "b.mp3")
    (music_root / "b.mp3").symlink_to(music_root / "a.mp3")
    write_file(music_root, "real.ogg")
    changes = [(ADDED, "a.mp3"), (ADDED, "b.mp3"), (ADDED, "real.ogg")]
    with caplog.at_level(logging.WARNING):
        assert await mapped(changes, music_root, known) == [created("real.ogg")]
    assert watcher_warnings(caplog) == [
        f"file watcher: skipped {music_root / 'a.mp3'}: symlink loop",
        f"file watcher: skipped {music_root / 'b.mp3'}: symlink loop",
    ]


async def test_a_link_leaving_the_library_is_skipped_with_one_warning(
    music_root: Path, known: KnownInodes, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outside = tmp_path / "elsewhere"
    write_file(outside, "deep/stolen.mp3")
    write_file(outside, "other.flac")
    (music_root / "out").symlink_to(outside, target_is_directory=True)
    (music_root / "escape.mp3").symlink_to(outside / "other.flac")
    write_file(music_root, "kept.mp3")
    changes = [
        (ADDED, "out"),
        (ADDED, "out/deep/stolen.mp3"),
        (MODIFIED, "out/deep/stolen.mp3"),
        (ADDED, "escape.mp3"),
        (ADDED, "kept.mp3"),
    ]
    with caplog.at_level(logging.WARNING):
        assert await mapped(changes, music_root, known) == [created("kept.mp3")]
    assert watcher_warnings(caplog) == [
        f"file watcher: skipped {music_root / 'escape.mp3'}: symlink points outside the music "
        "folder",
        f"file watcher: skipped {music_root / 'out'}: symlink points outside the music folder",
    ]


async def test_a_fifo_is_skipped_with_one_warning(
    music_root: Path, known: KnownInodes, caplog: pytest.LogCaptureFixture
) -> None:
    os.mkfifo(music_root / "pipe.mp3")
    write_file(music_root, "kept.wav")
    changes = [(ADDED, "pipe.mp3"), (MODIFIED, "pipe.mp3"), (ADDED, "kept.wav")]
    with caplog.at_level(logging.WARNING):
        assert await mapped(changes, music_root, known) == [created("kept.wav")]
    assert watcher_warnings(caplog) == [
        f"file watcher: skipped {music_root / 'pipe.mp3'}: not a regular file"
    ]


async def test_a_batch_asks_for_every_inode_at_once_and_maps_the_same(
    music_root: Path, known: KnownInodes
) -> None:
    for name in ("new1.mp3", "new2.mp3", "kept.mp3"):
        write_file(music_root, name)
    known.know("kept.mp3")
    changes = [(ADDED, "new1.mp3"), (ADDED, "new2.mp3"), (MODIFIED, "kept.mp3")]
    one_by_one = await mapped(changes, music_root, known)
    asked_one_by_one = list(known.asked)
    known.asked.clear()
    together = await map_changes(
        changes, music_root=music_root, known_inode=known.inode_of, known_inodes=known.inodes_of
    )
    assert [(JOB_QUEUES[r.task_name].value, r.task_name, r.kwargs) for r in together] == one_by_one
    assert one_by_one == [created("new1.mp3"), created("new2.mp3"), modified("kept.mp3")]
    assert known.asked == []  # never path by path
    assert known.asked_together == [sorted(asked_one_by_one)]
