"""Tag writing refuses what it cannot do with a clear error, picks the writer by content, and
changes only the frames it is asked to (other frames, versions and ID3v1 as they were)."""

# mutagen ships partial annotations (untyped constructors, Optional tags).
# mypy: disable-error-code="no-untyped-call,union-attr,index"

from __future__ import annotations

from pathlib import Path

import mutagen
import pytest
from mutagen.id3 import ID3, TIT2, TYER, Encoding
from mutagen.mp4 import MP4
from mutagen.wave import WAVE

from mus.adapters.scanner.tag_editor import TagWriteError, write_tags
from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AudioSpec

from tests.odd_audio import (
    append_ape,
    append_id3v1,
    append_lyrics3,
    decoded_seconds,
    encode,
    encoder_available,
    tag_v22,
    tag_v23,
    tag_v24,
    video_only_ogg,
    within_tolerance,
)


def test_untagged_file_gets_tags(tmp_path: Path) -> None:
    path = write_audio(AudioSpec("u.mp3", "mp3"), tmp_path)
    write_tags(path, title="Titled", artist=None)
    tags = ID3(path)
    assert str(tags["TIT2"].text[0]) == "Titled"
    assert "TPE1" not in tags
    assert tags.version == (2, 3, 0)


def test_other_fields_survive(tmp_path: Path) -> None:
    path = write_audio(AudioSpec("a.m4a", "m4a", title="T", artist="A", album="Kept"), tmp_path)
    write_tags(path, title=None, artist="New")
    tags = MP4(path).tags
    assert tags is not None
    assert (tags["\xa9nam"], tags["\xa9ART"], tags["\xa9alb"]) == (["T"], ["New"], ["Kept"])


def test_extension_override_for_temp_names(tmp_path: Path) -> None:
    path = write_audio(AudioSpec("x.flac", "flac"), tmp_path)
    temp = path.rename(tmp_path / ".upload-1.flac.part")
    write_tags(temp, title="Uploaded", artist="Me", extension=".flac")
    with pytest.raises(TagWriteError, match=r"cannot write tags to \.part files"):
        write_tags(temp, title="x", artist=None)


def test_garbage_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.ogg"
    path.write_bytes(b"not ogg at all" * 50)
    with pytest.raises(TagWriteError, match="not a readable ogg file"):
        write_tags(path, title="x", artist=None)
    assert path.read_bytes() == b"not ogg at all" * 50


@pytest.mark.parametrize("name", ["vorbis.ogg", "opus.ogg", "flac-in.ogg", "speex.ogg"])
def test_every_ogg_codec_is_edited_by_its_content(tmp_path: Path, name: str) -> None:
    if name == "speex.ogg" and not encoder_available("libspeex"):
        pytest.fail("this ffmpeg cannot encode Speex: install an ffmpeg built with libspeex")
    path = encode(tmp_path, name, seconds=2)
    write_tags(path, title="Voice note", artist="Ana")
    audio = mutagen.File(path)
    assert audio is not None and audio.tags is not None
    assert (audio.tags["title"], audio.tags["artist"]) == (["Voice note"], ["Ana"])
    assert within_tolerance(decoded_seconds(path), 2.0)


def test_theora_in_ogg_is_refused_in_words(tmp_path: Path) -> None:
    path = video_only_ogg(tmp_path)
    before = path.read_bytes()
    with pytest.raises(TagWriteError, match="it holds OggTheora, which mus does not edit"):
        write_tags(path, title="x", artist=None)
    assert path.read_bytes() == before


def test_id3v24_edit_keeps_every_other_frame_and_its_version(tmp_path: Path) -> None:
    path = encode(tmp_path, "cbr.mp3", seconds=1)
    tag_v24(path)
    append_id3v1(path, "Old v1 title", "V1 artist", "V1 album")
    write_tags(path, title="New", artist=None)
    tags = ID3(path, translate=False, load_v1=False)
    assert tags.version == (2, 4, 0)
    assert str(tags["TIT2"]) == "New"
    assert str(tags["TPE1"]) == "Artist 2.4"
    assert str(tags["TDRC"]) == "2001-02-03"
    v1 = path.read_bytes()[-128:]
    assert v1[:3] == b"TAG"
    assert v1[3:33].rstrip(b"\0") == b"New"
    assert v1[33:63].rstrip(b"\0") == b"V1 artist"
    assert v1[63:93].rstrip(b"\0") == b"V1 album"
    assert v1[93:] == b"2002" + b"\0" * 30 + b"\x0c"


def test_id3v23_edit_keeps_its_frames_untranslated(tmp_path: Path) -> None:
    path = encode(tmp_path, "cbr.mp3", seconds=1)
    tag_v23(path)
    write_tags(path, title=None, artist="Other")
    tags = ID3(path, translate=False, load_v1=False)
    assert tags.version == (2, 3, 0)
    assert str(tags["TYER"]) == "1999"
    assert "TDRC" not in tags
    assert str(tags["TIT2"]) == "Title 2.3"
    assert str(tags["TPE1"]) == "Other"
    assert len(tags.getall("TXXX:kept")[0].text[0]) == 70_000


def test_id3v22_is_upgraded_to_v23_with_its_frames(tmp_path: Path) -> None:
    path = encode(tmp_path, "cbr.mp3", seconds=1)
    tag_v22(path)
    write_tags(path, title="Edited", artist=None)
    tags = ID3(path, translate=False, load_v1=False)
    assert tags.version == (2, 3, 0)
    assert (str(tags["TIT2"]), str(tags["TPE1"])) == ("Edited", "Artist 2.2")


def test_ape_and_lyrics3_at_the_end_survive_an_edit(tmp_path: Path) -> None:
    path = encode(tmp_path, "cbr.mp3", seconds=1)
    tag_v24(path)
    append_lyrics3(path, "la la la")
    append_ape(path, {"Comment": "from foobar"})
    tail = path.read_bytes()[-200:]
    write_tags(path, title="Edited", artist=None)
    assert path.read_bytes()[-200:] == tail
    assert str(ID3(path)["TIT2"]) == "Edited"


def test_wav_id3v23_edit_keeps_its_year_frame(tmp_path: Path) -> None:
    """A WAV's v2.3 tag was translated on load (TYER -> TDRC) and saved so: a v2.4 frame in a
    v2.3 tag, which v2.3 readers skip."""
    path = encode(tmp_path, "pcm.wav", seconds=1)
    wav = WAVE(path)
    wav.add_tags()
    wav.tags.add(TYER(encoding=Encoding.LATIN1, text=["1999"]))
    wav.tags.add(TIT2(encoding=Encoding.UTF16, text=["Old"]))
    wav.save(v2_version=3)
    write_tags(path, title="New", artist=None)
    tags = WAVE(path, translate=False).tags
    assert tags.version[:2] == (2, 3)
    assert str(tags["TYER"]) == "1999" and "TDRC" not in tags
    assert str(tags["TIT2"]) == "New"
