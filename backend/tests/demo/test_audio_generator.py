"""Generated files are real audio: ffprobe decodes them, mutagen reads their tags and covers."""
# mutagen ships partial annotations (untyped constructors, Optional tags).
# mypy: disable-error-code="no-untyped-call,index"

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mutagen
import pytest
from mutagen.flac import FLAC, Picture
from mutagen.id3 import ID3, Encoding, PictureType
from mutagen.mp4 import MP4, MP4Cover
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE
from PIL import Image

from mus.demo.audio_generator import cover_image_bytes, generate_library, write_audio
from mus.demo.audio_spec import AUDIO_FORMATS, AudioFormat, AudioSpec, CoverSpec

# The `ffprobe` fixture (conftest.py) returns a Probe; typed loosely to avoid importing conftest.
Prober = Callable[[Path], Any]

ARTIST = "Мумий Тролль"
TITLE = "坂本龍一: Merry Christmas"
ALBUM = "Ágætis byrjun"


def read_text_tags(path: Path, audio_format: AudioFormat) -> dict[str, str]:
    """title/artist/album as each format stores them natively."""
    if audio_format in ("mp3", "wav"):
        tags: Any = ID3(path) if audio_format == "mp3" else WAVE(path).tags
        names = {"TIT2": "title", "TPE1": "artist", "TALB": "album"}
        return {names[f.FrameID]: str(f.text[0]) for f in tags.values() if f.FrameID in names}
    if audio_format == "m4a":
        atoms = {"\xa9nam": "title", "\xa9ART": "artist", "\xa9alb": "album"}
        atoms_found: Any = MP4(path).tags or {}
        return {atoms[k]: str(v[0]) for k, v in atoms_found.items() if k in atoms}
    comments: Any = (FLAC if audio_format == "flac" else OggVorbis)(path).tags
    return {k: comments[k][0] for k in ("title", "artist", "album") if k in comments}


def read_cover(path: Path, audio_format: AudioFormat) -> tuple[bytes, str]:
    """(image bytes, declared mime or format) of the embedded front cover."""
    if audio_format in ("mp3", "wav"):
        id3: Any = ID3(path) if audio_format == "mp3" else WAVE(path).tags
        (apic,) = id3.getall("APIC")
        assert apic.type == PictureType.COVER_FRONT
        return apic.data, apic.mime
    if audio_format == "flac":
        (picture,) = FLAC(path).pictures
    elif audio_format == "ogg":
        (block,) = OggVorbis(path).tags["metadata_block_picture"]
        picture = Picture(base64.b64decode(block))
    else:
        (cover,) = MP4(path).tags["covr"]
        mime = {MP4Cover.FORMAT_JPEG: "image/jpeg", MP4Cover.FORMAT_PNG: "image/png"}
        return bytes(cover), mime[cover.imageformat]
    assert picture.type == PictureType.COVER_FRONT
    return picture.data, picture.mime


def digest_tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("audio_format", AUDIO_FORMATS)
def test_every_format_decodes_with_the_requested_duration(
    tmp_path: Path, ffprobe: Prober, audio_format: AudioFormat
) -> None:
    for duration in (1.02, 3.0):
        spec = AudioSpec(f"a/{duration}.{audio_format}", audio_format, duration_seconds=duration)
        path = write_audio(spec, tmp_path)
        assert path == tmp_path / spec.relative_path
        probe = ffprobe(path)
        assert probe.ok, probe.stderr
        audio = probe.stream("audio")
        assert audio["sample_rate"] == "44100"
        assert probe.duration is not None
        assert abs(probe.duration - duration) <= 0.05
        assert abs(mutagen.File(path).info.length - duration) <= 0.05


@pytest.mark.parametrize("audio_format", AUDIO_FORMATS)
def test_tags_and_cover_read_back(
    tmp_path: Path, ffprobe: Prober, audio_format: AudioFormat
) -> None:
    cover = CoverSpec(width=320, height=200, seed=7)
    spec = AudioSpec(
        f"{ARTIST}/{ALBUM}/01 {TITLE.replace(':', '')}.{audio_format}",
        audio_format,
        title=TITLE,
        artist=ARTIST,
        album=ALBUM,
        cover=cover,
    )
    path = write_audio(spec, tmp_path)

    assert read_text_tags(path, audio_format) == {"title": TITLE, "artist": ARTIST, "album": ALBUM}
    image, mime = read_cover(path, audio_format)
    assert image == cover_image_bytes(cover)
    assert mime == "image/jpeg"
    with Image.open(io.BytesIO(image)) as picture:
        assert (picture.format, picture.size) == ("JPEG", (320, 200))

    probe = ffprobe(path)
    assert probe.ok, probe.stderr
    assert (probe.tags["title"], probe.tags["artist"], probe.tags["album"]) == (
        TITLE,
        ARTIST,
        ALBUM,
    )
    if audio_format != "wav":  # ffmpeg does not expose pictures from a WAV's ID3 chunk
        attached = probe.stream("video")
        assert attached["disposition"]["attached_pic"] == 1
        assert (attached["width"], attached["height"]) == (320, 200)


@pytest.mark.parametrize("audio_format", ["mp3", "flac", "ogg", "m4a"])
def test_png_cover_keeps_its_format_and_size(tmp_path: Path, audio_format: AudioFormat) -> None:
    cover = CoverSpec(width=64, height=48, seed=3, image_format="PNG")
    spec = AudioSpec(f"png.{audio_format}", audio_format, title="P", cover=cover)
    image, mime = read_cover(write_audio(spec, tmp_path), audio_format)
    assert mime == "image/png"
    with Image.open(io.BytesIO(image)) as picture:
        assert (picture.format, picture.size) == ("PNG", (64, 48))


def test_mp3_tags_are_id3v24_utf8(tmp_path: Path) -> None:
    path = write_audio(AudioSpec("x.mp3", "mp3", title=TITLE, artist=ARTIST), tmp_path)
    tags = ID3(path)
    assert tags.version == (2, 4, 0)
    assert tags["TIT2"].encoding == Encoding.UTF8
    assert path.read_bytes()[:5] == b"ID3\x04\x00"


@pytest.mark.parametrize("audio_format", AUDIO_FORMATS)
def test_untagged_files_carry_no_tags(tmp_path: Path, audio_format: AudioFormat) -> None:
    path = write_audio(AudioSpec(f"Artist - Title.{audio_format}", audio_format), tmp_path)
    audio = mutagen.File(path)
    assert audio is not None
    if audio_format == "ogg":  # a Vorbis stream always has a comment header; ffmpeg's is bare
        assert {k for k, _ in audio.tags.items()} <= {"encoder"}
    elif audio_format == "flac":
        assert list(audio.tags or []) == []
        assert audio.pictures == []
    else:
        assert not audio.tags


@pytest.mark.parametrize("audio_format", AUDIO_FORMATS)
def test_corrupt_files_fail_ffprobe_and_mutagen(
    tmp_path: Path, ffprobe: Prober, audio_format: AudioFormat
) -> None:
    for name in ("broken", "also broken", "третий"):
        spec = AudioSpec(f"{name}.{audio_format}", audio_format, title="ignored", corrupt=True)
        path = write_audio(spec, tmp_path)
        assert path.stat().st_size == 4096
        probe = ffprobe(path)
        assert not probe.ok, f"ffprobe read corrupt {path.name}: {probe}"
        try:
            parsed = mutagen.File(path)
        except mutagen.MutagenError:
            parsed = None
        assert parsed is None


def test_same_spec_gives_same_bytes(tmp_path: Path) -> None:
    for audio_format in AUDIO_FORMATS:
        spec = AudioSpec(
            f"d.{audio_format}", audio_format, title="T", artist="Björk", cover=CoverSpec(50, 50)
        )
        first = write_audio(spec, tmp_path / "one").read_bytes()
        second = write_audio(spec, tmp_path / "two").read_bytes()
        assert first == second
        corrupt = AudioSpec(spec.relative_path, audio_format, corrupt=True)
        assert write_audio(corrupt, tmp_path / "one").read_bytes() == (
            write_audio(corrupt, tmp_path / "two").read_bytes()
        )


def test_write_audio_replaces_an_existing_file(tmp_path: Path) -> None:
    write_audio(AudioSpec("song.flac", "flac", title="Old"), tmp_path)
    path = write_audio(AudioSpec("song.flac", "flac", title="New"), tmp_path)
    assert read_text_tags(path, "flac") == {"title": "New"}


def test_cover_image_bytes_are_deterministic_and_seeded() -> None:
    cover = CoverSpec(100, 80, seed=5)
    assert cover_image_bytes(cover) == cover_image_bytes(CoverSpec(100, 80, seed=5))
    assert cover_image_bytes(cover) != cover_image_bytes(CoverSpec(100, 80, seed=6))
    with Image.open(io.BytesIO(cover_image_bytes(CoverSpec(31, 17, image_format="PNG")))) as img:
        assert (img.format, img.size, img.mode) == ("PNG", (31, 17), "RGB")


def test_generate_library_is_varied_and_playable(tmp_path: Path, ffprobe: Prober) -> None:
    paths = generate_library(tmp_path, 40, seed=1)
    assert len(paths) == len(set(paths)) == 40
    assert all(p.is_file() and p.is_relative_to(tmp_path) for p in paths)
    assert {p.suffix for p in paths} == {".mp3", ".flac", ".ogg", ".m4a", ".wav"}
    tagged = [p for p in paths if mutagen.File(p, easy=True).tags]
    untagged = [p for p in paths if p not in tagged and " - " in p.name]
    assert tagged
    assert untagged
    assert any(len(p.relative_to(tmp_path).parts) >= 3 for p in tagged)
    for path in paths[:: len(paths) // 8]:
        probe = ffprobe(path)
        assert probe.ok, f"{path}: {probe.stderr}"


def test_generate_library_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    generate_library(tmp_path / "a", 25, seed=9)
    generate_library(tmp_path / "b", 25, seed=9)
    generate_library(tmp_path / "c", 25, seed=10)
    assert digest_tree(tmp_path / "a") == digest_tree(tmp_path / "b")
    assert digest_tree(tmp_path / "a") != digest_tree(tmp_path / "c")
