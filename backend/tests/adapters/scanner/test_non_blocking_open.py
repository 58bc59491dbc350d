"""The non-blocking opener: a FIFO with no writer opens at once instead of hanging."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from mus.adapters.scanner.non_blocking_open import open_non_blocking


def test_a_fifo_without_a_writer_opens_at_once_and_shows_what_it_is(tmp_path: Path) -> None:
    fifo = tmp_path / "song.mp3"
    os.mkfifo(fifo)
    # A plain open() would wait here for a writer that never comes (pytest-timeout ends it).
    with open(fifo, "rb", opener=open_non_blocking) as file:
        assert stat.S_ISFIFO(os.fstat(file.fileno()).st_mode)


def test_a_regular_file_reads_as_usual(tmp_path: Path) -> None:
    song = tmp_path / "song.mp3"
    song.write_bytes(b"ID3\x03\x00")
    with open(song, "rb", opener=open_non_blocking) as file:
        assert file.read() == b"ID3\x03\x00"
