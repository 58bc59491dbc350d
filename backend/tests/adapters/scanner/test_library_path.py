"""The gate between library-relative paths and the disk: what passes, what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from mus.adapters.scanner.library_path import PathOutsideLibraryError, relative_library_path


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "music"
    (root / "Artist" / "Album").mkdir(parents=True)
    (root / "Artist" / "Album" / "song.mp3").write_bytes(b"x")
    return root


def test_paths_inside_are_relative_posix_strings(library: Path) -> None:
    assert relative_library_path(library / "Artist/Album/song.mp3", library) == (
        "Artist/Album/song.mp3"
    )
    # Files that do not exist yet (upload or rename targets) are checked the same way.
    assert relative_library_path(library / "新しい/曲.flac", library) == ("新しい/曲.flac")


def test_dot_dot_that_stays_inside_gives_the_real_place(library: Path) -> None:
    assert relative_library_path(library / "Artist/../Artist/Album/song.mp3", library) == (
        "Artist/Album/song.mp3"
    )


@pytest.mark.parametrize(
    "candidate",
    ["../outside.mp3", "Artist/../../outside.mp3", "/etc/passwd", "", "."],
)
def test_escapes_and_the_root_itself_are_refused(library: Path, candidate: str) -> None:
    with pytest.raises(PathOutsideLibraryError, match="outside the music folder"):
        relative_library_path(library / candidate, library)


def test_symlinks_may_be_used_inside_but_not_to_leave(library: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (library / "Favourites").symlink_to(library / "Artist" / "Album", target_is_directory=True)
    (library / "Escape").symlink_to(outside, target_is_directory=True)

    assert relative_library_path(library / "Favourites/song.mp3", library) == (
        "Favourites/song.mp3"
    )
    with pytest.raises(PathOutsideLibraryError):
        relative_library_path(library / "Escape/new.mp3", library)
    # ".." after a link is resolved the way the OS would: textually this is music/outside/...
    with pytest.raises(PathOutsideLibraryError):
        relative_library_path(library / "Escape/../outside/new.mp3", library)
    # ... and the same way when it leads back inside.
    assert relative_library_path(library / "Escape/../music/Artist/Album/song.mp3", library) == (
        "Artist/Album/song.mp3"
    )


def test_root_reached_through_a_link_still_gives_library_paths(
    library: Path, tmp_path: Path
) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(library, target_is_directory=True)

    assert relative_library_path(library / "Artist/Album/song.mp3", alias) == (
        "Artist/Album/song.mp3"
    )
    assert relative_library_path(alias / "Artist/Album/song.mp3", library) == (
        "Artist/Album/song.mp3"
    )
