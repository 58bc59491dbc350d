"""A spec that cannot describe a real file is refused up front, with the reason."""

from __future__ import annotations

import pytest

from mus.demo.audio_spec import AudioSpec, CoverSpec


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"relative_path": "song.mp3", "audio_format": "flac"}, "must end with .flac"),
        ({"relative_path": "song", "audio_format": "wav"}, "must end with .wav"),
        ({"relative_path": "/abs/song.mp3", "audio_format": "mp3"}, "relative path"),
        ({"relative_path": "../song.mp3", "audio_format": "mp3"}, "relative path"),
        ({"relative_path": "", "audio_format": "mp3"}, "relative path"),
        ({"relative_path": "a.aiff", "audio_format": "aiff"}, "audio_format must be one of"),
        ({"relative_path": "a.ogg", "audio_format": "ogg", "duration_seconds": 0}, "duration"),
        ({"relative_path": "a.ogg", "audio_format": "ogg", "tone_hz": 30000.0}, "tone_hz"),
    ],
)
def test_invalid_audio_specs_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AudioSpec(**kwargs)  # type: ignore[arg-type]


def test_extension_case_does_not_matter() -> None:
    assert AudioSpec("LOUD.MP3", "mp3").relative_path == "LOUD.MP3"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"width": 0}, "width"), ({"height": 5000}, "height"), ({"image_format": "GIF"}, "JPEG")],
)
def test_invalid_cover_specs_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CoverSpec(**kwargs)  # type: ignore[arg-type]


def test_tagged_means_any_tag_or_cover() -> None:
    assert not AudioSpec("a.mp3", "mp3").is_tagged
    assert AudioSpec("a.mp3", "mp3", album="X").is_tagged
    assert AudioSpec("a.mp3", "mp3", cover=CoverSpec()).is_tagged
    assert CoverSpec(image_format="PNG").mime_type == "image/png"
