"""File-name guesses for untagged files: artists, titles and track numbers."""

from __future__ import annotations

from pathlib import PurePath

import pytest

from mus.adapters.scanner.title_from_filename import title_and_artist_from_filename


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Nina Simone - Sinnerman.mp3", ("Sinnerman", "Nina Simone")),
        ("  Nina Simone  -  Sinnerman  .mp3", ("Sinnerman", "Nina Simone")),
        ("Sigur Rós - Svefn-g-englar.flac", ("Svefn-g-englar", "Sigur Rós")),
        ("A - B - C.ogg", ("B - C", "A")),
        ("Just a Song.wav", ("Just a Song", None)),
        ("01 - Song.mp3", ("Song", None)),
        ("01. Song.mp3", ("Song", None)),
        ("1. Song.mp3", ("Song", None)),
        ("01-Song.mp3", ("Song", None)),
        ("01 Song.mp3", ("Song", None)),
        ("12 Song.mp3", ("Song", None)),
        ("01 - Miles Davis - So What.m4a", ("So What", "Miles Davis")),
        ("Miles Davis - 02 - Freddie Freeloader.m4a", ("Freddie Freeloader", "Miles Davis")),
        ("7 Seconds.mp3", ("7 Seconds", None)),
        ("1979.mp3", ("1979", None)),
        ("01.mp3", ("01", None)),
        ("- Song.mp3", ("- Song", None)),
        ("Artist - .mp3", ("Artist -", None)),
        ("Артист - Песня.mp3", ("Песня", "Артист")),
    ],
)
def test_title_and_artist_from_filename(name: str, expected: tuple[str, str | None]) -> None:
    assert title_and_artist_from_filename(PurePath("Some Folder") / name) == expected
