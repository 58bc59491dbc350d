"""`mus demo-library` writes a small, complete, playable library and never overwrites."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import mutagen
import pytest

from mus.demo.demo_library import DEMO_SPECS, create_demo_library


def test_demo_library_is_small_complete_and_playable(
    tmp_path: Path, ffprobe: Callable[[Path], Any]
) -> None:
    root = tmp_path / "music"
    paths = create_demo_library(root)
    assert 10 <= len(paths) <= 14
    assert all(path.is_file() for path in paths)
    assert {path.suffix for path in paths} == {".mp3", ".flac", ".ogg", ".m4a", ".wav"}
    for path in paths:
        assert ffprobe(path).ok, path
    easy = {p.relative_to(root).as_posix(): mutagen.File(p, easy=True) for p in paths}
    artists = {a for f in easy.values() if f.tags for a in f.tags.get("artist", [])}
    assert "雨の音" in artists
    assert any(spec.cover is not None for spec in DEMO_SPECS)
    assert any(not spec.is_tagged for spec in DEMO_SPECS)


def test_demo_library_refuses_to_overwrite_and_loses_nothing(tmp_path: Path) -> None:
    mine = tmp_path / DEMO_SPECS[3].relative_path
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"my own recording")
    with pytest.raises(FileExistsError, match="already exist"):
        create_demo_library(tmp_path)
    assert mine.read_bytes() == b"my own recording"
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [mine]
