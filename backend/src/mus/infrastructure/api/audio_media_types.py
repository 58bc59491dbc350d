"""The Content-Type a browser's <audio> needs for each library format."""

from __future__ import annotations

from pathlib import PurePath

AUDIO_MEDIA_TYPES: dict[str, str] = {
    ".mp3": "audio/mpeg",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".m4a": "audio/mp4",
    ".wav": "audio/wav",
}

FALLBACK_MEDIA_TYPE = "application/octet-stream"


def audio_media_type(path: PurePath) -> str:
    """Media type by extension (case-insensitive); unknown ones are served as bytes."""
    return AUDIO_MEDIA_TYPES.get(path.suffix.lower(), FALLBACK_MEDIA_TYPE)
