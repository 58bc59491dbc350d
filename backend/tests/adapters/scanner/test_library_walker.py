"""The walk over a real folder tree: what it yields, what it skips and why, and that it ends."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mus.adapters.scanner.library_walker import (
    LibraryWalk,
    MusicFolderUnavailableError,
    SkippedFile,
    iter_audio_files,
)
from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AudioSpec


def touch_audio(root: Path, relative_path: str) -> Path:
    """A small non-empty file with an audio name (the walker never parses content)."""
    path = root / relative_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not parsed by the walker")
    return path


def relative(paths: list[Path], root: Path) -> list[str]:
    return [path.relative_to(root).as_posix() for path in paths]


def reasons(walk: LibraryWalk, root: Path) -> dict[str, SkippedFile]:
    return {skip.path.relative_to(root).as_posix(): skip for skip in walk.skipped}


def test_yields_audio_files_recursively_in_sorted_order(scan_library_root: Path) -> None:
    root = scan_library_root
    for name in ["b/2.flac", "a.mp3", "b/1.ogg", "b/c/deep.m4a", "Z.wav", "b/10.MP3"]:
        touch_audio(root, name)
    write_audio(AudioSpec("a/real.mp3", "mp3", title="Real"), root)

    walk = LibraryWalk(root)
    found = relative(list(walk), root)

    assert found == [
        "Z.wav",
        "a/real.mp3",
        "a.mp3",
        "b/1.ogg",
        "b/10.MP3",
        "b/2.flac",
        "b/c/deep.m4a",
    ]
    assert walk.skipped == []
    assert relative(list(iter_audio_files(root)), root) == found


def test_ignores_non_audio_hidden_and_temporary_files_silently(scan_library_root: Path) -> None:
    root = scan_library_root
    touch_audio(root, "keep.mp3")
    for ignored in [
        "cover.jpg",
        "notes.txt",
        "noextension",
        ".hidden.mp3",
        ".uploads/.upload-1.mp3.part",
        ".git/objects/x.flac",
        "song.mp3.part",
        "song.flac.tmp",
        "song.ogg.crdownload",
        "song.wav~",
        "~$song.m4a",
    ]:
        touch_audio(root, ignored)

    walk = LibraryWalk(root)

    assert relative(list(walk), root) == ["keep.mp3"]
    assert walk.skipped == []


def test_zero_byte_file_is_skipped_as_empty_and_kept_indexed(scan_library_root: Path) -> None:
    root = scan_library_root
    touch_audio(root, "full.mp3")
    (root / "empty.mp3").touch()

    walk = LibraryWalk(root)

    assert relative(list(walk), root) == ["full.mp3"]
    skip = reasons(walk, root)["empty.mp3"]
    assert skip.reason == "empty file"
    assert skip.keep_indexed and not skip.is_directory


def test_symlink_to_parent_folder_terminates_and_yields_each_file_once(
    scan_library_root: Path,
) -> None:
    root = scan_library_root
    touch_audio(root, "album/song.mp3")
    (root / "album" / "loop").symlink_to(root / "album", target_is_directory=True)
    (root / "album" / "to_root").symlink_to(root, target_is_directory=True)

    walk = LibraryWalk(root)

    assert relative(list(walk), root) == ["album/song.mp3"]
    skipped = reasons(walk, root)
    assert set(skipped) == {"album/loop", "album/to_root"}
    for skip in skipped.values():
        assert skip.reason == "folder already visited (symlink loop or second link)"
        assert skip.is_directory and not skip.keep_indexed


def test_linked_folder_inside_library_is_indexed_under_its_real_name(
    scan_library_root: Path,
) -> None:
    root = scan_library_root
    touch_audio(root, "Artist/Album/song.mp3")
    # "A Favourites" sorts before "Artist", yet the real folder wins.
    (root / "A Favourites").symlink_to(root / "Artist" / "Album", target_is_directory=True)
    (root / "Z linked file.mp3").symlink_to(root / "Artist" / "Album" / "song.mp3")

    walk = LibraryWalk(root)

    assert relative(list(walk), root) == ["Artist/Album/song.mp3", "Z linked file.mp3"]
    assert [skip.path.name for skip in walk.skipped] == ["A Favourites"]


def test_symlinks_leading_outside_the_library_are_skipped(
    scan_library_root: Path, tmp_path: Path
) -> None:
    root = scan_library_root
    outside = tmp_path / "elsewhere"
    touch_audio(outside, "stolen.mp3")
    touch_audio(root, "inside.mp3")
    (root / "external").symlink_to(outside, target_is_directory=True)
    (root / "escape.mp3").symlink_to(outside / "stolen.mp3")

    walk = LibraryWalk(root)

    assert relative(list(walk), root) == ["inside.mp3"]
    skipped = reasons(walk, root)
    assert skipped["external"].reason == "symlink points outside the music folder"
    assert skipped["external"].is_directory
    assert skipped["escape.mp3"].reason == "symlink points outside the music folder"


def test_subfolder_walk_judges_symlinks_against_the_whole_library(
    scan_library_root: Path,
) -> None:
    root = scan_library_root
    touch_audio(root, "Artist/song.mp3")
    touch_audio(root, "Inbox/new.mp3")
    (root / "Inbox" / "linked.mp3").symlink_to(root / "Artist" / "song.mp3")

    alone = LibraryWalk(root / "Inbox")
    within = LibraryWalk(root / "Inbox", library_root=root)

    assert relative(list(alone), root) == ["Inbox/new.mp3"]
    assert [skip.reason for skip in alone.skipped] == ["symlink points outside the music folder"]
    assert relative(list(within), root) == ["Inbox/linked.mp3", "Inbox/new.mp3"]
    assert within.skipped == []


def test_broken_and_looping_file_symlinks_are_skipped_with_a_reason(
    scan_library_root: Path,
) -> None:
    root = scan_library_root
    touch_audio(root, "ok.mp3")
    (root / "dangling.mp3").symlink_to(root / "deleted long ago.mp3")
    (root / "ping.mp3").symlink_to(root / "pong.mp3")
    (root / "pong.mp3").symlink_to(root / "ping.mp3")

    walk = LibraryWalk(root)

    assert relative(list(walk), root) == ["ok.mp3"]
    skipped = reasons(walk, root)
    assert skipped["dangling.mp3"].reason == "broken symlink"
    assert not skipped["dangling.mp3"].keep_indexed
    assert skipped["ping.mp3"].reason == "symlink loop"
    assert skipped["ping.mp3"].keep_indexed


def test_fifo_and_socket_with_audio_names_are_skipped_without_blocking(
    scan_library_root: Path,
) -> None:
    root = scan_library_root
    touch_audio(root, "ok.flac")
    os.mkfifo(root / "pipe.mp3")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(root / "socket.ogg"))
        walk = LibraryWalk(root)
        found = relative(list(walk), root)

    assert found == ["ok.flac"]
    skipped = reasons(walk, root)
    assert skipped["pipe.mp3"].reason == "not a regular file"
    assert skipped["socket.ogg"].reason == "not a regular file"


def test_unreadable_folder_is_skipped_and_its_rows_kept(
    shared_scan_dir: Path, run_unprivileged: Callable[[Callable[[], Any]], Any]
) -> None:
    root = shared_scan_dir / "music"
    touch_audio(root, "a.mp3")
    touch_audio(root, "locked/b.mp3")
    touch_audio(root, "z.mp3")
    (root / "locked").chmod(0)

    def walk_it() -> tuple[list[Path], list[SkippedFile]]:
        walk = LibraryWalk(root)
        return list(walk), walk.skipped

    found, skipped = run_unprivileged(walk_it)

    assert relative(found, root) == ["a.mp3", "z.mp3"]
    assert skipped == [
        SkippedFile(root / "locked", "unreadable: Permission denied", True, keep_indexed=True)
    ]


def test_file_vanishing_during_the_walk_is_skipped_as_vanished(scan_library_root: Path) -> None:
    root = scan_library_root
    for name in ["1.mp3", "2.mp3", "3.mp3"]:
        touch_audio(root, name)

    walk = LibraryWalk(root)
    files = iter(walk)
    first = next(files)
    (root / "2.mp3").unlink()  # listed with the folder already, gone before it is looked at
    rest = list(files)

    assert relative([first, *rest], root) == ["1.mp3", "3.mp3"]
    assert walk.skipped == [SkippedFile(root / "2.mp3", "vanished during the scan")]


@pytest.mark.parametrize("problem", ["missing", "a file"])
def test_music_folder_that_cannot_be_listed_is_an_error(tmp_path: Path, problem: str) -> None:
    root = tmp_path / "music"
    if problem == "a file":
        root.write_bytes(b"not a folder")

    with pytest.raises(MusicFolderUnavailableError, match="cannot list the music folder"):
        list(LibraryWalk(root))


def test_loops_links_out_and_special_files_each_log_one_warning_naming_the_path(
    scan_library_root: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = scan_library_root
    touch_audio(root, "ok.mp3")
    (root / "ping.mp3").symlink_to(root / "pong.mp3")
    (root / "pong.mp3").symlink_to(root / "ping.mp3")
    touch_audio(tmp_path / "elsewhere", "stolen.mp3")
    (root / "escape.mp3").symlink_to(tmp_path / "elsewhere" / "stolen.mp3")
    os.mkfifo(root / "pipe.mp3")

    with caplog.at_level(logging.WARNING, logger="mus.adapters.scanner.library_walker"):
        found = relative(list(LibraryWalk(root)), root)

    assert found == ["ok.mp3"]
    warned = [record.getMessage() for record in caplog.records]
    for name, reason in [
        ("ping.mp3", "symlink loop"),
        ("pong.mp3", "symlink loop"),
        ("escape.mp3", "symlink points outside the music folder"),
        ("pipe.mp3", "not a regular file"),
    ]:
        lines = [line for line in warned if str(root / name) in line]
        assert lines == [f"library walk: skipped {root / name}: {reason}"]
