"""Which folders the watcher watches: the ones mus's walk enters, each once."""

from __future__ import annotations

import os
from pathlib import Path

from mus.watcher.watched_folders import watched_folders


def test_every_real_folder_once_hidden_ones_and_links_leaving_left_out(tmp_path: Path) -> None:
    root = tmp_path / "music"
    (root / "Artist" / "Album").mkdir(parents=True)
    (root / ".Trash" / "old").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (root / "to-root").symlink_to("/")
    (root / "to-elsewhere").symlink_to(tmp_path / "elsewhere")
    (root / "Artist" / "again").symlink_to(root / "Artist" / "Album")  # a second way in
    (root / "Artist" / "Album" / "loop").symlink_to(root / "Artist")  # back up: a loop
    (root / "self-loop-a").symlink_to(root / "self-loop-b")
    (root / "self-loop-b").symlink_to(root / "self-loop-a")
    real = root.resolve()
    assert watched_folders(root) == [real, real / "Artist", real / "Artist" / "Album"]


def test_a_linked_folder_inside_the_library_is_watched_at_its_real_place(tmp_path: Path) -> None:
    root = tmp_path / "music"
    (root / "Real").mkdir(parents=True)
    (root / "Shortcut").symlink_to(root / "Real")
    assert watched_folders(root) == [root.resolve(), root.resolve() / "Real"]


def test_an_unreadable_folder_is_skipped_not_fatal(tmp_path: Path) -> None:
    root = tmp_path / "music"
    (root / "Gone").mkdir(parents=True)
    fifo = root / "pipe"
    os.mkfifo(fifo)  # not a folder: ignored, never opened
    assert watched_folders(root) == [root.resolve(), root.resolve() / "Gone"]
