"""Normalisation rules, field by field."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from harness.determinism import first_difference
from harness.normaliser import Normaliser


def make() -> Normaliser:
    return Normaliser(Path("/tmp/run1/data"), Path("/tmp/run1/data/music"), {7: "A/b.mp3"})


def test_volatile_fields_become_labels() -> None:
    value = make().value(
        {
            "track_id": 7,
            "track_ids": [7, 99],
            "added_at": datetime.now(UTC),
            "inode": 1234,
            "file_mtime": 1.5,
            "message": "ffprobe failed on /tmp/run1/data/music/A/b.mp3 (log /tmp/run1/data/x)",
            "nested": {"current_track_id": None, "timestamp": None},
        }
    )
    assert value == {
        "added_at": "<timestamp>",
        "file_mtime": "<mtime>",
        "inode": "<inode>",
        "message": "ffprobe failed on <music>/A/b.mp3 (log <data>/x)",
        "nested": {"current_track_id": None, "timestamp": None},
        "track_id": "<track A/b.mp3>",
        "track_ids": ["<track A/b.mp3>", "<track never seen>"],
    }


def test_first_difference_names_the_field() -> None:
    left = {"tracks": [{"title": "A", "duration": 2.0}], "events": {}}
    right = {"tracks": [{"title": "A", "duration": 2.01}], "events": {}}
    assert first_difference(left, right) == "recording.tracks[0].duration: 2.0 != 2.01"
    assert first_difference(left, left) is None
    assert (
        first_difference({"a": [1, 2]}, {"a": [1]})
        == "recording.a: 2 items in one run, 1 in the other"
    )
    assert first_difference({"a": 1}, {"b": 1}) == "recording.a: present in only one run"


def test_the_random_part_of_a_temporary_file_name_becomes_a_label() -> None:
    message = "[Errno 21] Is a directory: '/tmp/run1/data/covers/.1_original.webp.nz4qoiir.tmp'"
    assert make().text(message) == (
        "[Errno 21] Is a directory: '<data>/covers/.1_original.webp.<random>.tmp'"
    )
