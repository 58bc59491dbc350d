"""Writes a spec's tags and cover into audio bytes with mutagen, each format its native way.

Works on an in-memory copy of the template, so each generated file is written to disk once.
"""

# mutagen ships partial annotations (untyped constructors, Optional tags): checked by tests.
# mypy: disable-error-code="no-untyped-call,index"

from __future__ import annotations

import base64
import functools
import io
from collections.abc import Callable
from typing import Any

from mutagen.flac import FLAC, Picture
from mutagen.id3 import APIC, TALB, TIT2, TPE1, Encoding, PictureType
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4, MP4Cover
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from mus.demo.audio_spec import AudioFormat, AudioSpec, CoverSpec
from mus.demo.cover_image import render_cover

COLOUR_DEPTH = 24  # covers are RGB, 8 bits a channel


def tag_audio(audio: bytes, spec: AudioSpec) -> bytes:
    """`audio` with the spec's tags added; untagged specs get the bytes back unchanged."""
    if not spec.is_tagged:
        return audio
    buffer = io.BytesIO(audio)
    WRITERS[spec.audio_format](buffer, spec)
    return buffer.getvalue()


def _text_fields(spec: AudioSpec) -> list[tuple[str, str]]:
    """(field, value) for the text tags present, in a fixed order for stable bytes."""
    named = (("title", spec.title), ("artist", spec.artist), ("album", spec.album))
    return [(name, value) for name, value in named if value is not None]


def flac_picture(cover: CoverSpec) -> Picture:
    """A FLAC picture block for the front cover (shared by FLAC and Ogg Vorbis)."""
    picture = Picture()
    picture.type = PictureType.COVER_FRONT
    picture.mime = cover.mime_type
    picture.desc = ""
    picture.width = cover.width
    picture.height = cover.height
    picture.depth = COLOUR_DEPTH
    picture.colors = 0
    picture.data = render_cover(cover)
    return picture


ID3_FRAMES: dict[str, Callable[..., Any]] = {"title": TIT2, "artist": TPE1, "album": TALB}


def _fill_id3(tags: Any, spec: AudioSpec) -> None:
    for name, value in _text_fields(spec):
        tags.add(ID3_FRAMES[name](encoding=Encoding.UTF8, text=[value]))
    if spec.cover is not None:
        tags.add(
            APIC(
                encoding=Encoding.UTF8,
                mime=spec.cover.mime_type,
                type=PictureType.COVER_FRONT,
                desc="",
                data=render_cover(spec.cover),
            )
        )


def _write_id3(container: Any, buffer: io.BytesIO, spec: AudioSpec) -> None:
    """An ID3 tag in an MP3 stream or a WAV chunk: the same frames either way."""
    audio = container(buffer)
    audio.add_tags()
    _fill_id3(audio.tags, spec)
    buffer.seek(0)
    # ID3 v2.4 with UTF-8 text: the app's later v2.3 normalisation then has work to do.
    audio.save(buffer, v2_version=4)


def _write_flac(buffer: io.BytesIO, spec: AudioSpec) -> None:
    audio = FLAC(buffer)
    if audio.tags is None:
        audio.add_tags()
    for name, value in _text_fields(spec):
        audio.tags[name] = [value]
    if spec.cover is not None:
        audio.add_picture(flac_picture(spec.cover))
    buffer.seek(0)
    audio.save(buffer)


def _write_ogg(buffer: io.BytesIO, spec: AudioSpec) -> None:
    audio = OggVorbis(buffer)
    for name, value in _text_fields(spec):
        audio.tags[name] = [value]
    if spec.cover is not None:
        block = flac_picture(spec.cover).write()
        audio.tags["metadata_block_picture"] = [base64.b64encode(block).decode("ascii")]
    buffer.seek(0)
    audio.save(buffer)


MP4_ATOMS = {"title": "\xa9nam", "artist": "\xa9ART", "album": "\xa9alb"}
MP4_IMAGE_FORMATS = {"JPEG": MP4Cover.FORMAT_JPEG, "PNG": MP4Cover.FORMAT_PNG}


def _write_m4a(buffer: io.BytesIO, spec: AudioSpec) -> None:
    audio = MP4(buffer)
    if audio.tags is None:
        audio.add_tags()
    for name, value in _text_fields(spec):
        audio.tags[MP4_ATOMS[name]] = [value]
    if spec.cover is not None:
        image_format = MP4_IMAGE_FORMATS[spec.cover.image_format]
        audio.tags["covr"] = [MP4Cover(render_cover(spec.cover), imageformat=image_format)]
    buffer.seek(0)
    audio.save(buffer)


WRITERS: dict[AudioFormat, Callable[[io.BytesIO, AudioSpec], None]] = {
    "mp3": functools.partial(_write_id3, MP3),
    "wav": functools.partial(_write_id3, WAVE),
    "flac": _write_flac,
    "ogg": _write_ogg,
    "m4a": _write_m4a,
}
