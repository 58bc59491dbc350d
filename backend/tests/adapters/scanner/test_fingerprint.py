"""The fast fingerprint: which edits it sees, and that it stays cheap on big files."""

from __future__ import annotations

import os
from pathlib import Path

from mus.adapters.scanner.fingerprint import EDGE_BYTES, content_fingerprint


def write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def test_same_content_same_fingerprint_and_it_is_hex(tmp_path: Path) -> None:
    content = os.urandom(300_000)
    first = content_fingerprint(write(tmp_path / "a.mp3", content))
    second = content_fingerprint(write(tmp_path / "b.mp3", content))

    assert first == second
    assert len(first) == 32 and int(first, 16) >= 0


def test_edits_at_either_end_or_in_the_size_change_it(tmp_path: Path) -> None:
    content = bytearray(os.urandom(4 * EDGE_BYTES))
    path = write(tmp_path / "song.flac", bytes(content))
    original = content_fingerprint(path)

    head_edit = bytearray(content)
    head_edit[100] ^= 1
    tail_edit = bytearray(content)
    tail_edit[-10] ^= 1
    variants = [bytes(head_edit), bytes(tail_edit), bytes(content) + b"\0", bytes(content[:-1])]

    fingerprints = {content_fingerprint(write(path, variant)) for variant in variants}
    assert original not in fingerprints
    assert len(fingerprints) == len(variants)


def test_middle_edit_of_same_size_is_not_seen_by_design(tmp_path: Path) -> None:
    content = bytearray(os.urandom(4 * EDGE_BYTES))
    path = write(tmp_path / "song.wav", bytes(content))
    original = content_fingerprint(path)
    content[2 * EDGE_BYTES] ^= 1

    assert content_fingerprint(write(path, bytes(content))) == original


def test_small_files_are_hashed_whole(tmp_path: Path) -> None:
    short = b"x" * (EDGE_BYTES + 10)
    edited = b"x" * EDGE_BYTES + b"y" + b"x" * 9

    assert content_fingerprint(write(tmp_path / "a.ogg", short)) != content_fingerprint(
        write(tmp_path / "b.ogg", edited)
    )
    assert content_fingerprint(write(tmp_path / "c.ogg", b"\0")) != content_fingerprint(
        write(tmp_path / "d.ogg", b"\0\0")
    )
