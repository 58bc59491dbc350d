"""The generated library's plan: distinct paths, every format, tagged and untagged, varied."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

import pytest

from mus.demo.library_plan import library_specs
from mus.domain.audio_formats import is_audio_path


def test_plan_is_varied() -> None:
    specs = library_specs(300, seed=4)
    paths = [spec.relative_path for spec in specs]
    assert len(set(paths)) == 300
    assert {spec.audio_format for spec in specs} == {"mp3", "flac", "ogg", "m4a", "wav"}
    assert not any(spec.corrupt for spec in specs)
    untagged = [spec for spec in specs if not spec.is_tagged]
    assert 30 <= len(untagged) <= 90
    assert all(re.fullmatch(r"(Downloads/)?[^/]+ - [^/]+", s.relative_path) for s in untagged)
    tagged = [spec for spec in specs if spec.is_tagged]
    assert all(spec.relative_path.count("/") == 2 for spec in tagged)  # artist/album/track
    artists = {spec.artist for spec in tagged}
    assert {"Мумий Тролль", "坂本龍一", "Sigur Rós"} <= artists
    assert any(spec.cover is not None for spec in specs)
    assert any(spec.cover is None and spec.is_tagged for spec in specs)
    assert {s.cover.image_format for s in specs if s.cover} == {"JPEG", "PNG"}
    assert any(spec.album is None and spec.title for spec in tagged)
    assert any(spec.title is None for spec in tagged)
    assert all(is_audio_path(PurePosixPath(p)) for p in paths)


def test_plan_depends_only_on_count_and_seed() -> None:
    assert library_specs(50, seed=1) == library_specs(50, seed=1)
    assert library_specs(50, seed=1) != library_specs(50, seed=2)
    assert library_specs(20, seed=1) == library_specs(50, seed=1)[:20]


def test_small_plans_have_both_tagged_and_untagged() -> None:
    assert library_specs(0) == []
    first, second = library_specs(2, seed=123)
    assert first.is_tagged
    assert not second.is_tagged


def test_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="count must be >= 0"):
        library_specs(-1)
