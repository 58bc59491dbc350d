"""One parse of real generated files: durations equal to ffprobe's, tags as the fast scan reads
them, and the files mutagen cannot measure handed back with the reason."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from mus.adapters.scanner.audio_reading import NotAFileError, read_audio
from mus.adapters.scanner.fast_metadata import read_fast_metadata
from mus.adapters.scanner.fingerprint import content_fingerprint
from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AUDIO_FORMATS, AudioFormat, AudioSpec, CoverSpec


def ffprobe_seconds(path: Path) -> float:
    """What ffprobe itself prints: the independent measure mutagen must agree with."""
    completed = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
        capture_output=True,
        check=True,
    )
    return float(json.loads(completed.stdout)["format"]["duration"])


@pytest.mark.parametrize("audio_format", AUDIO_FORMATS)
@pytest.mark.parametrize("seconds", [1.0, 3.0])
def test_duration_equals_ffprobes_to_the_microsecond(
    tmp_path: Path, audio_format: AudioFormat, seconds: float
) -> None:
    spec = AudioSpec(f"a.{audio_format}", audio_format, title="T", duration_seconds=seconds)
    path = write_audio(spec, tmp_path)
    reading = read_audio(path)
    assert reading.unmeasured_reason is None
    assert reading.duration == ffprobe_seconds(path)
    assert reading.codec
    assert reading.bitrate is not None and reading.bitrate > 0


@pytest.mark.parametrize("audio_format", AUDIO_FORMATS)
@pytest.mark.parametrize(
    ("name", "title", "artist"),
    [
        ("Утекай.{ext}", "Утекай", "Мумий Тролль"),
        ("坂本龍一 - 戦場.{ext}", None, None),
        ("07 Only a title.{ext}", "Only a title", None),
    ],
)
def test_title_artist_fingerprint_and_stat_match_the_fast_scan(
    tmp_path: Path, audio_format: AudioFormat, name: str, title: str | None, artist: str | None
) -> None:
    """The analysis reports these instead of re-reading the file: they must be the values
    read_fast_metadata would give, or an analysed track would flip between two titles."""
    relative = name.format(ext=audio_format)
    spec = AudioSpec(relative, audio_format, title=title, artist=artist, cover=CoverSpec(40, 40))
    path = write_audio(spec, tmp_path)
    reading = read_audio(path)
    fast = read_fast_metadata(path, tmp_path)
    assert (reading.title, reading.artist) == (title, artist)
    assert reading.content_hash == fast.content_hash == content_fingerprint(path)
    assert (reading.mtime, reading.size, reading.inode) == (fast.mtime, fast.size, fast.inode)


@pytest.mark.parametrize("audio_format", AUDIO_FORMATS)
def test_garbage_is_not_measured_and_says_why(tmp_path: Path, audio_format: AudioFormat) -> None:
    path = write_audio(AudioSpec(f"bad.{audio_format}", audio_format, corrupt=True), tmp_path)
    reading = read_audio(path)
    assert reading.duration is None
    assert reading.audio is None
    assert reading.unmeasured_reason


def test_empty_file_is_not_measured(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp3"
    path.write_bytes(b"")
    reading = read_audio(path)
    assert (reading.duration, reading.size) == (None, 0)


def test_mp3_without_a_xing_header_goes_to_ffprobe(tmp_path: Path) -> None:
    """Its length would be a bitrate estimate: wrong for VBR, so mutagen's is not trusted."""
    path = tmp_path / "bare.mp3"
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
            "-c:a", "libmp3lame", "-q:a", "4", "-write_xing", "0", str(path),
        ],
        check=True,
    )  # fmt: skip
    reading = read_audio(path)
    assert reading.duration is None
    assert reading.unmeasured_reason is not None and "Xing" in reading.unmeasured_reason


def test_vanished_and_special_files_raise(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_audio(tmp_path / "gone.ogg")
    fifo = tmp_path / "pipe.mp3"
    os.mkfifo(fifo)
    with pytest.raises(NotAFileError, match=r"pipe\.mp3 is not a regular file"):
        read_audio(fifo)
