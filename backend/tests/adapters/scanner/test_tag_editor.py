"""Tag writing refuses what it cannot do with a clear error, and leaves other fields alone."""

# mutagen ships partial annotations (untyped constructors, Optional tags).
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

from pathlib import Path

import pytest
from mutagen.id3 import ID3
from mutagen.mp4 import MP4

from mus.adapters.scanner.tag_editor import TagWriteError, write_tags
from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AudioSpec


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
