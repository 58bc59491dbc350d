"""What a generated audio file should be: the single description tests and demos write from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal, get_args

AudioFormat = Literal["mp3", "flac", "ogg", "m4a", "wav"]
ImageFormat = Literal["JPEG", "PNG"]

AUDIO_FORMATS: tuple[AudioFormat, ...] = get_args(AudioFormat)
FILE_EXTENSIONS: dict[AudioFormat, str] = {fmt: f".{fmt}" for fmt in AUDIO_FORMATS}
IMAGE_MIME_TYPES: dict[ImageFormat, str] = {"JPEG": "image/jpeg", "PNG": "image/png"}

SAMPLE_RATE = 44100
MIN_DURATION_SECONDS = 0.1
MAX_DURATION_SECONDS = 3600.0
MAX_COVER_SIDE = 4096


@dataclass(frozen=True, slots=True)
class CoverSpec:
    """An embedded front cover; the same spec always yields the same image bytes."""

    width: int = 600
    height: int = 600
    seed: int = 0
    image_format: ImageFormat = "JPEG"

    def __post_init__(self) -> None:
        for side_name, side in (("width", self.width), ("height", self.height)):
            if not 1 <= side <= MAX_COVER_SIDE:
                raise ValueError(f"cover {side_name} must be 1..{MAX_COVER_SIDE}, got {side}")
        if self.image_format not in IMAGE_MIME_TYPES:
            raise ValueError(f"cover image_format must be JPEG or PNG, got {self.image_format!r}")

    @property
    def mime_type(self) -> str:
        """MIME type written next to the picture in the tag."""
        return IMAGE_MIME_TYPES[self.image_format]


@dataclass(frozen=True, slots=True)
class AudioSpec:
    """One file to generate, relative to a library root.

    Untagged means title, artist, album and cover are all None. A corrupt file ignores the
    tag fields: it is garbage bytes behind a valid audio extension.
    """

    relative_path: str
    audio_format: AudioFormat
    title: str | None = None
    artist: str | None = None
    album: str | None = None
    duration_seconds: float = 2.0
    cover: CoverSpec | None = None
    corrupt: bool = False
    tone_hz: float = 440.0

    def __post_init__(self) -> None:
        if self.audio_format not in FILE_EXTENSIONS:
            raise ValueError(
                f"audio_format must be one of {', '.join(AUDIO_FORMATS)}, got {self.audio_format!r}"
            )
        path = PurePosixPath(self.relative_path)
        if not self.relative_path or path.is_absolute() or ".." in path.parts:
            raise ValueError(
                f"relative_path must be a relative path inside the library, "
                f"got {self.relative_path!r}"
            )
        expected = FILE_EXTENSIONS[self.audio_format]
        if path.suffix.lower() != expected:
            raise ValueError(
                f"relative_path {self.relative_path!r} must end with {expected} "
                f"for audio_format {self.audio_format!r}"
            )
        if not MIN_DURATION_SECONDS <= self.duration_seconds <= MAX_DURATION_SECONDS:
            raise ValueError(
                f"duration_seconds must be {MIN_DURATION_SECONDS}..{MAX_DURATION_SECONDS}, "
                f"got {self.duration_seconds}"
            )
        if not 0 < self.tone_hz < SAMPLE_RATE / 2:
            raise ValueError(f"tone_hz must be between 0 and {SAMPLE_RATE / 2}, got {self.tone_hz}")

    @property
    def is_tagged(self) -> bool:
        """True when the file carries any tag (text or picture)."""
        return any(value is not None for value in (self.title, self.artist, self.album, self.cover))
