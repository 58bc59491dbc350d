"""MP3 tags become ID3v2.3 with every character kept; everything else is left byte-identical."""

# mutagen ships partial annotations (untyped constructors, Optional tags).
# mypy: disable-error-code="no-untyped-call,index"

from __future__ import annotations

from pathlib import Path

import pytest
from mutagen.id3 import ID3, TDRC, TSOP, Encoding

from mus.adapters.scanner.duration_probe import probe_duration
from mus.adapters.scanner.tag_normaliser import TagNormalisationError, normalise_tags
from mus.demo.audio_generator import cover_image_bytes, write_audio
from mus.demo.audio_spec import AudioFormat, AudioSpec, CoverSpec

TITLE, ARTIST, ALBUM = "坂本龍一", "Мумий Тролль", "Sigur Rós"


def tagged_mp3(tmp_path: Path, cover: CoverSpec | None = None) -> Path:
    return write_audio(
        AudioSpec("a.mp3", "mp3", title=TITLE, artist=ARTIST, album=ALBUM, cover=cover), tmp_path
    )


def header_version(path: Path) -> tuple[int, int]:
    raw = path.read_bytes()[:5]
    assert raw[:3] == b"ID3"
    return raw[3], raw[4]


async def test_v24_becomes_v23_keeping_every_character(tmp_path: Path) -> None:
    cover = CoverSpec(width=64, height=48)
    path = tagged_mp3(tmp_path, cover)
    assert ID3(path).version == (2, 4, 0)
    assert normalise_tags(path) is True
    tags = ID3(path)
    assert tags.version == (2, 3, 0)
    assert header_version(path) == (3, 0)
    assert tags["TIT2"].text == [TITLE]
    assert tags["TPE1"].text == [ARTIST]
    assert tags["TALB"].text == [ALBUM]
    # v2.3 has no UTF-8: non-Latin-1 text is stored as UTF-16.
    assert tags["TIT2"].encoding == Encoding.UTF16
    assert tags.getall("APIC")[0].data == cover_image_bytes(cover)
    assert await probe_duration(path) == pytest.approx(2.0, abs=0.05)


def test_second_run_changes_nothing(tmp_path: Path) -> None:
    path = tagged_mp3(tmp_path)
    assert normalise_tags(path) is True
    once = path.read_bytes()
    assert normalise_tags(path) is False
    assert path.read_bytes() == once


def test_clean_v23_is_left_alone(tmp_path: Path) -> None:
    path = write_audio(AudioSpec("a.mp3", "mp3", title="Plain"), tmp_path)
    tags = ID3(path)
    tags.update_to_v23()
    tags.save(path, v2_version=3)
    before = path.read_bytes()
    assert normalise_tags(path) is False
    assert path.read_bytes() == before


def syncsafe(size: int) -> bytes:
    return bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))


def test_v23_with_utf8_frames_is_rewritten(tmp_path: Path) -> None:
    # Some taggers write UTF-8 (a v2.4-only encoding) into v2.3 tags; mutagen never would,
    # so the tag is assembled by hand in front of real audio.
    audio = write_audio(AudioSpec("u.mp3", "mp3"), tmp_path).read_bytes()
    body = b"\x03" + TITLE.encode("utf-8")
    frame = b"TIT2" + len(body).to_bytes(4, "big") + b"\x00\x00" + body
    path = tmp_path / "a.mp3"
    path.write_bytes(b"ID3\x03\x00\x00" + syncsafe(len(frame)) + frame + audio)
    tags = ID3(path)
    assert tags.version == (2, 3, 0)
    assert tags["TIT2"].encoding == Encoding.UTF8
    assert normalise_tags(path) is True
    tags = ID3(path)
    assert tags["TIT2"].encoding == Encoding.UTF16
    assert tags["TIT2"].text == [TITLE]


def test_sort_names_and_year_survive(tmp_path: Path) -> None:
    path = tagged_mp3(tmp_path)
    tags = ID3(path)
    tags.add(TSOP(encoding=Encoding.UTF8, text=["Sakamoto, Ryuichi"]))
    tags.add(TDRC(encoding=Encoding.UTF8, text=["1983-05-21"]))
    tags.save(path)
    assert normalise_tags(path) is True
    tags = ID3(path, translate=False)
    assert tags["TSOP"].text == ["Sakamoto, Ryuichi"]
    assert tags["TYER"].text == ["1983"]
    assert tags["TDAT"].text == ["2105"]


def test_untagged_mp3_is_left_alone(tmp_path: Path) -> None:
    path = write_audio(AudioSpec("u.mp3", "mp3"), tmp_path)
    before = path.read_bytes()
    assert normalise_tags(path) is False
    assert path.read_bytes() == before


@pytest.mark.parametrize("audio_format", ["flac", "ogg", "m4a", "wav"])
def test_other_formats_are_left_alone(tmp_path: Path, audio_format: AudioFormat) -> None:
    path = write_audio(
        AudioSpec(f"a.{audio_format}", audio_format, title=TITLE, artist=ARTIST), tmp_path
    )
    before = path.read_bytes()
    assert normalise_tags(path) is False
    assert path.read_bytes() == before


def test_unreadable_tag_raises_and_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bad-tag.mp3"
    # A v2.4 header announcing a tag far larger than the file.
    path.write_bytes(b"ID3\x04\x00\x00\x7f\x7f\x7f\x7f" + b"\x00" * 100)
    before = path.read_bytes()
    with pytest.raises(TagNormalisationError, match=r"cannot read the ID3 tag of 'bad-tag\.mp3'"):
        normalise_tags(path)
    assert path.read_bytes() == before


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(TagNormalisationError, match=r"gone\.mp3"):
        normalise_tags(tmp_path / "gone.mp3")
