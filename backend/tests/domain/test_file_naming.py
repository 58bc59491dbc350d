"""Names built from tags stay one safe path component, whatever the tags say."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest

from mus.domain.file_naming import (
    MAX_STEM_BYTES,
    UNTITLED,
    candidate_paths,
    safe_stem,
    track_file_stem,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Plain Title", "Plain Title"),
        ("../../etc/passwd", "_.._etc_passwd"),
        ("..\\..\\windows", "_.._windows"),
        ('a<b>c:d"e/f\\g|h?i*j', "a_b_c_d_e_f_g_h_i_j"),
        ("tab\there\nnewline\x00nul\u200bzw", "tab here newline nul zw"),
        ("...hidden", "hidden"),
        (" . spaced . ", "spaced"),
        ("trailing dots...", "trailing dots"),
        ("..", UNTITLED),
        ("", UNTITLED),
        ("\x01\x02", UNTITLED),
        ("CON", "_CON"),
        ("nul.txt", "_nul.txt"),
        ("Sigur Rós \u2013 Ágætis", "Sigur Rós \u2013 Ágætis"),
        ("坂本龍一", "坂本龍一"),
        ("Cafe\u0301", "Café"),  # NFC: one code point, as macOS and Linux agree on
    ],
)
def test_safe_stem(text: str, expected: str) -> None:
    assert safe_stem(text) == expected


def test_long_names_are_cut_on_a_character_boundary() -> None:
    stem = safe_stem("é" * 300)
    assert len(stem.encode("utf-8")) <= MAX_STEM_BYTES
    assert set(stem) == {"é"}
    assert len(safe_stem("a" * 1000)) == MAX_STEM_BYTES


def test_track_file_stem() -> None:
    assert track_file_stem("AC/DC", "Back in Black") == "AC_DC - Back in Black"
    assert track_file_stem(None, "Untagged") == "Untagged"


def test_candidates_number_duplicates_and_keep_the_folder() -> None:
    candidates = candidate_paths(PurePosixPath("Album"), "A - T", ".MP3")
    assert [next(candidates) for _ in range(3)] == [
        "Album/A - T.mp3",
        "Album/A - T (2).mp3",
        "Album/A - T (3).mp3",
    ]
    assert next(candidate_paths(PurePosixPath("."), "x", ".ogg")) == "x.ogg"
