"""Fast metadata read from real generated files of every format."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from mus.adapters.scanner.fast_metadata import (
    EmptyAudioFileError,
    NotARegularFileError,
    read_fast_metadata,
)
from mus.adapters.scanner.fingerprint import content_fingerprint
from mus.adapters.scanner.library_path import PathOutsideLibraryError
from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AUDIO_FORMATS, AudioFormat, AudioSpec, CoverSpec


@pytest.mark.parametrize("audio_format", AUDIO_FORMATS)
def test_reads_tags_duration_and_file_facts_of_each_format(
    scan_library_root: Path, audio_format: AudioFormat
) -> None:
    spec = AudioSpec(
        f"Мумий Тролль/Морская/01 Утекай.{audio_format}",
        audio_format,
        title="Утекай 雨",
        artist="Мумий Тролль",
        album="Морская",
        duration_seconds=2.0,
        cover=CoverSpec(300, 300),
    )
    path = write_audio(spec, scan_library_root)
    status = path.stat()

    metadata = read_fast_metadata(path, scan_library_root)

    assert metadata.file_path == f"Мумий Тролль/Морская/01 Утекай.{audio_format}"
    assert (metadata.title, metadata.artist) == ("Утекай 雨", "Мумий Тролль")
    assert metadata.duration == pytest.approx(2.0, abs=0.1)
    assert (metadata.inode, metadata.mtime, metadata.size) == (
        status.st_ino,
        status.st_mtime,
        status.st_size,
    )
    assert metadata.content_hash == content_fingerprint(path)


@pytest.mark.parametrize("audio_format", AUDIO_FORMATS)
def test_untagged_file_takes_title_and_artist_from_its_name(
    scan_library_root: Path, audio_format: AudioFormat
) -> None:
    path = write_audio(
        AudioSpec(f"Downloads/坂本龍一 - 戦場 メリークリスマス.{audio_format}", audio_format),
        scan_library_root,
    )

    metadata = read_fast_metadata(path, scan_library_root)

    assert (metadata.title, metadata.artist) == ("戦場 メリークリスマス", "坂本龍一")
    assert metadata.duration == pytest.approx(2.0, abs=0.1)


def test_untagged_file_without_artist_part_takes_its_stem(scan_library_root: Path) -> None:
    path = write_audio(AudioSpec("Just a Song.wav", "wav"), scan_library_root)

    metadata = read_fast_metadata(path, scan_library_root)

    assert (metadata.title, metadata.artist) == ("Just a Song", None)


def test_track_number_in_the_name_is_not_an_artist(scan_library_root: Path) -> None:
    path = write_audio(AudioSpec("Album/07 - Night Train.flac", "flac"), scan_library_root)

    metadata = read_fast_metadata(path, scan_library_root)

    assert (metadata.title, metadata.artist) == ("Night Train", None)


def test_each_missing_tag_falls_back_to_the_file_name_on_its_own(scan_library_root: Path) -> None:
    title_only = write_audio(AudioSpec("Björk - Joga.mp3", "mp3", title="Jóga"), scan_library_root)
    artist_only = write_audio(
        AudioSpec("Björk/Homogenic/03 Bachelorette.ogg", "ogg", artist="Björk"),
        scan_library_root,
    )

    assert _title_artist(title_only, scan_library_root) == ("Jóga", "Björk")
    assert _title_artist(artist_only, scan_library_root) == ("Bachelorette", "Björk")


@pytest.mark.parametrize("audio_format", AUDIO_FORMATS)
def test_corrupt_file_is_still_read_with_its_file_name_and_no_duration(
    scan_library_root: Path, audio_format: AudioFormat
) -> None:
    path = write_audio(
        AudioSpec(f"Fela Kuti - Zombie.{audio_format}", audio_format, corrupt=True),
        scan_library_root,
    )

    metadata = read_fast_metadata(path, scan_library_root)

    assert (metadata.title, metadata.artist, metadata.duration) == ("Zombie", "Fela Kuti", None)
    assert metadata.size == path.stat().st_size > 0


def test_zero_byte_file_is_refused_as_empty(scan_library_root: Path) -> None:
    path = scan_library_root / "being written.mp3"
    path.touch()

    with pytest.raises(EmptyAudioFileError, match=r"being written\.mp3 is empty"):
        read_fast_metadata(path, scan_library_root)


def test_vanished_file_raises_file_not_found(scan_library_root: Path) -> None:
    path = write_audio(AudioSpec("gone.mp3", "mp3", title="Gone"), scan_library_root)
    path.unlink()

    with pytest.raises(FileNotFoundError):
        read_fast_metadata(path, scan_library_root)


def test_fifo_with_an_audio_name_is_refused_without_blocking(scan_library_root: Path) -> None:
    path = scan_library_root / "pipe.mp3"
    os.mkfifo(path)
    started = time.monotonic()

    with pytest.raises(NotARegularFileError, match=r"pipe\.mp3 is not a regular file"):
        read_fast_metadata(path, scan_library_root)
    assert time.monotonic() - started < 1


def test_paths_outside_the_music_folder_are_refused(
    scan_library_root: Path, tmp_path: Path
) -> None:
    outside = write_audio(AudioSpec("outside.mp3", "mp3", title="Outside"), tmp_path)
    link = scan_library_root / "link.mp3"
    link.symlink_to(outside)

    for path in [outside, link, scan_library_root / ".." / "outside.mp3"]:
        with pytest.raises(PathOutsideLibraryError, match="outside the music folder"):
            read_fast_metadata(path, scan_library_root)


def _title_artist(path: Path, root: Path) -> tuple[str, str | None]:
    metadata = read_fast_metadata(path, root)
    return metadata.title, metadata.artist
