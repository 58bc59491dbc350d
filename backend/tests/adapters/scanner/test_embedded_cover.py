"""Covers come out of every tag kind exactly as they were embedded."""

# mutagen ships partial annotations (untyped constructors, Optional tags).
# mypy: disable-error-code="no-untyped-call,index"

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from mutagen.id3 import APIC, ID3, Encoding, PictureType
from mutagen.oggvorbis import OggVorbis

from mus.adapters.scanner.embedded_cover import UnreadableAudioError, extract_embedded_cover
from mus.demo.audio_generator import cover_image_bytes, write_audio
from mus.demo.audio_spec import AUDIO_FORMATS, AudioFormat, AudioSpec, CoverSpec


@pytest.mark.parametrize("audio_format", AUDIO_FORMATS)
def test_embedded_cover_is_returned_byte_for_byte(
    tmp_path: Path, audio_format: AudioFormat
) -> None:
    cover = CoverSpec(width=120, height=80, seed=7)
    path = write_audio(
        AudioSpec(f"a.{audio_format}", audio_format, title="T", cover=cover), tmp_path
    )
    assert extract_embedded_cover(path) == cover_image_bytes(cover)


@pytest.mark.parametrize("audio_format", AUDIO_FORMATS)
def test_no_cover_gives_none(tmp_path: Path, audio_format: AudioFormat) -> None:
    tagged = write_audio(AudioSpec(f"t.{audio_format}", audio_format, title="T"), tmp_path)
    untagged = write_audio(AudioSpec(f"u.{audio_format}", audio_format), tmp_path)
    assert extract_embedded_cover(tagged) is None
    assert extract_embedded_cover(untagged) is None


def test_png_cover_in_m4a(tmp_path: Path) -> None:
    cover = CoverSpec(width=64, height=64, seed=3, image_format="PNG")
    path = write_audio(AudioSpec("a.m4a", "m4a", cover=cover), tmp_path)
    data = extract_embedded_cover(path)
    assert data == cover_image_bytes(cover)
    assert data is not None and data.startswith(b"\x89PNG")


def test_front_cover_wins_over_an_earlier_picture(tmp_path: Path) -> None:
    path = write_audio(AudioSpec("a.mp3", "mp3", title="T"), tmp_path)
    back = cover_image_bytes(CoverSpec(width=10, height=10, seed=1))
    front = cover_image_bytes(CoverSpec(width=20, height=20, seed=2))
    tags = ID3(path)
    for kind, data, desc in (
        (PictureType.COVER_BACK, back, "b"),
        (PictureType.COVER_FRONT, front, "f"),
    ):
        tags.add(APIC(encoding=Encoding.UTF8, mime="image/jpeg", type=kind, desc=desc, data=data))
    tags.save(path)
    assert extract_embedded_cover(path) == front


def test_first_picture_when_there_is_no_front_cover(tmp_path: Path) -> None:
    path = write_audio(AudioSpec("a.mp3", "mp3", title="T"), tmp_path)
    artist = cover_image_bytes(CoverSpec(width=10, height=10, seed=1))
    tags = ID3(path)
    tags.add(APIC(encoding=Encoding.UTF8, mime="image/jpeg", type=PictureType.ARTIST, data=artist))
    tags.save(path)
    assert extract_embedded_cover(path) == artist


def test_malformed_ogg_picture_block_is_skipped(tmp_path: Path) -> None:
    path = write_audio(AudioSpec("a.ogg", "ogg", title="T"), tmp_path)
    audio = OggVorbis(path)
    audio.tags["metadata_block_picture"] = [base64.b64encode(b"not a picture block").decode()]
    audio.save()
    assert extract_embedded_cover(path) is None


def test_malformed_block_does_not_hide_a_good_one(tmp_path: Path) -> None:
    cover = CoverSpec(width=30, height=30, seed=5)
    path = write_audio(AudioSpec("a.ogg", "ogg", cover=cover), tmp_path)
    audio = OggVorbis(path)
    good = audio.tags["metadata_block_picture"]
    audio.tags["metadata_block_picture"] = ["!!not base64!!", *good]
    audio.save()
    assert extract_embedded_cover(path) == cover_image_bytes(cover)


@pytest.mark.parametrize("audio_format", ["mp3", "flac", "wav"])
def test_unreadable_audio_is_left_to_the_caller(tmp_path: Path, audio_format: AudioFormat) -> None:
    path = write_audio(AudioSpec(f"broken.{audio_format}", audio_format, corrupt=True), tmp_path)
    with pytest.raises(UnreadableAudioError, match=rf"broken\.{audio_format}"):
        extract_embedded_cover(path)


@pytest.mark.parametrize("audio_format", ["ogg", "m4a"])
def test_garbage_that_no_reader_claims_has_no_cover(
    tmp_path: Path, audio_format: AudioFormat
) -> None:
    path = write_audio(AudioSpec(f"broken.{audio_format}", audio_format, corrupt=True), tmp_path)
    assert extract_embedded_cover(path) is None


def test_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        extract_embedded_cover(tmp_path / "gone.flac")
