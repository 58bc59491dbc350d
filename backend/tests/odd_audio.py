"""Odd real-world audio, made at test time with the real ffmpeg and mutagen (nothing committed).

Compressed WAV codecs, MP3 inside WAV, every Ogg codec, cut-short and header-only files, a
video-only Ogg, and MP3s with ID3 v2.2/v2.3/v2.4, APE, Lyrics3 and ID3v1 tags. The truth about
a file is measured here by decoding it with ffmpeg to PCM and counting samples, never with
the code under test.
"""

# mutagen ships partial annotations (untyped constructors).
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import shutil
import struct
import subprocess
import wave
from pathlib import Path

from mutagen.id3 import ID3, TDRC, TIT2, TPE1, TXXX, TYER, Encoding

SECONDS = 12.0
SINE = "sine=frequency=440:duration={seconds}:sample_rate={rate}"

# name -> (ffmpeg output options, sample rate of the source); the extension is the name's.
ENCODINGS: dict[str, tuple[list[str], int]] = {
    "pcm.wav": (["-c:a", "pcm_s16le"], 22050),
    "ima-adpcm.wav": (["-c:a", "adpcm_ima_wav"], 22050),
    "gsm.wav": (["-c:a", "libgsm_ms"], 8000),
    "mp3-in.wav": (["-c:a", "libmp3lame", "-b:a", "64k"], 22050),
    "vorbis.ogg": (["-c:a", "libvorbis"], 22050),
    "opus.ogg": (["-c:a", "libopus"], 48000),
    "flac-in.ogg": (["-c:a", "flac"], 22050),
    "speex.ogg": (["-c:a", "libspeex"], 16000),
    "cbr.mp3": (["-c:a", "libmp3lame", "-b:a", "64k"], 22050),
    "vbr.mp3": (["-c:a", "libmp3lame", "-q:a", "4"], 22050),
    "vbr-no-xing.mp3": (["-c:a", "libmp3lame", "-q:a", "4", "-write_xing", "0"], 22050),
    "plain.flac": (["-c:a", "flac"], 22050),
    "aac.m4a": (["-c:a", "aac", "-b:a", "64k"], 22050),
    "aac-faststart.m4a": (["-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart"], 22050),
    "alac.m4a": (["-c:a", "alac"], 22050),
}


def need(tool: str) -> str:
    """The tool's path; a clear failure (never a skip) when it is missing."""
    found = shutil.which(tool)
    assert found, f"{tool} is needed by this test (apt-get install ffmpeg)"
    return found


def encoder_available(name: str) -> bool:
    """Whether this ffmpeg has the encoder (GSM, Speex are optional builds)."""
    listing = subprocess.run(
        [need("ffmpeg"), "-hide_banner", "-encoders"], capture_output=True, text=True, check=True
    ).stdout
    return any(line.split()[1:2] == [name] for line in listing.splitlines() if line.strip())


def encode(folder: Path, name: str, seconds: float = SECONDS) -> Path:
    """`name` from ENCODINGS, `seconds` of a sine, written by the real ffmpeg."""
    options, rate = ENCODINGS[name]
    path = folder / name
    subprocess.run(
        [
            need("ffmpeg"),
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            SINE.format(seconds=seconds, rate=rate),
            *options,
            str(path),
        ],
        check=True,
        timeout=60,
    )
    return path


def video_only_ogg(folder: Path) -> Path:
    path = folder / "video-only.ogg"
    subprocess.run(
        [
            need("ffmpeg"),
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=5:size=64x48:rate=10",
            "-c:v",
            "libtheora",
            str(path),
        ],
        check=True,
        timeout=60,
    )
    return path


def cut(path: Path, keep_share: float, name: str) -> Path:
    """A copy of `path` holding only its first `keep_share` of bytes (a partial download)."""
    data = path.read_bytes()
    target = path.with_name(name)
    target.write_bytes(data[: int(len(data) * keep_share)])
    return target


def header_only(path: Path, name: str, header_bytes: int) -> Path:
    target = path.with_name(name)
    target.write_bytes(path.read_bytes()[:header_bytes])
    return target


def decoded_seconds(path: Path) -> float:
    """What ffmpeg decodes from the first audio stream: samples of a PCM WAV it writes, / rate.

    0.0 when nothing decodes. Independent of mus: ffmpeg writes, Python's `wave` counts.
    """
    out = path.with_name(path.name + ".decoded.wav")
    try:
        subprocess.run(
            [
                need("ffmpeg"),
                "-v",
                "quiet",
                "-y",
                "-i",
                f"file:{path}",
                "-map",
                "0:a:0?",
                "-c:a",
                "pcm_s16le",
                "-f",
                "wav",
                str(out),
            ],
            check=False,
            timeout=120,
        )
        if not out.exists() or out.stat().st_size <= 44:
            return 0.0
        # ffmpeg writes the RIFF sizes after the last sample; wave trusts them.
        with wave.open(str(out), "rb") as decoded:
            return decoded.getnframes() / decoded.getframerate()
    except (wave.Error, EOFError, struct.error):
        return 0.0
    finally:
        out.unlink(missing_ok=True)


def within_tolerance(measured: float, truth: float) -> bool:
    """The issue's bound: max(2 %, 0.1 s)."""
    return abs(measured - truth) <= max(0.02 * truth, 0.1)


def tag_v23(path: Path) -> None:
    tags = ID3()
    tags.add(TIT2(encoding=Encoding.UTF16, text=["Title 2.3"]))
    tags.add(TPE1(encoding=Encoding.UTF16, text=["Artist 2.3"]))
    tags.add(TYER(encoding=Encoding.LATIN1, text=["1999"]))
    tags.add(TXXX(encoding=Encoding.UTF16, desc="kept", text=["x" * 70_000]))  # a huge frame
    tags.save(path, v2_version=3)


def tag_v24(path: Path) -> None:
    tags = ID3()
    tags.add(TIT2(encoding=Encoding.UTF8, text=["Title 2.4 ✓"]))
    tags.add(TPE1(encoding=Encoding.UTF8, text=["Artist 2.4"]))
    tags.add(TDRC(encoding=Encoding.UTF8, text=["2001-02-03"]))
    tags.save(path, v2_version=4)


def tag_v22(path: Path) -> None:
    """An ID3v2.2 tag (mutagen writes none): three-letter frames TT2, TP1, by hand."""

    def frame(frame_id: bytes, text: str) -> bytes:
        body = b"\x00" + text.encode("latin-1")
        return frame_id + len(body).to_bytes(3, "big") + body

    # TAL holds only its encoding byte: an empty frame, as some taggers leave them.
    frames = frame(b"TT2", "Title 2.2") + frame(b"TP1", "Artist 2.2") + frame(b"TAL", "")
    size = len(frames)
    syncsafe = bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    path.write_bytes(b"ID3\x02\x00\x00" + syncsafe + frames + path.read_bytes())


def append_id3v1(path: Path, title: str, artist: str, album: str) -> None:
    def field(text: str) -> bytes:
        return text.encode("latin-1")[:30].ljust(30, b"\0")

    tag = b"TAG" + field(title) + field(artist) + field(album) + b"2002" + b"\0" * 30 + b"\x0c"
    with path.open("ab") as file:
        file.write(tag)


def append_ape(path: Path, items: dict[str, str]) -> None:
    """An APEv2 tag (footer only) at the end, as foobar2000 writes them on MP3s."""
    body = b"".join(
        len(value.encode()).to_bytes(4, "little")
        + b"\0\0\0\0"
        + key.encode()
        + b"\0"
        + value.encode()
        for key, value in items.items()
    )
    footer = (
        b"APETAGEX"
        + (2000).to_bytes(4, "little")
        + (len(body) + 32).to_bytes(4, "little")
        + len(items).to_bytes(4, "little")
        + b"\0\0\0\0"
        + b"\0" * 8
    )
    with path.open("ab") as file:
        file.write(body + footer)


def append_lyrics3(path: Path, lyrics: str) -> None:
    """A Lyrics3v2 block (it sits before an ID3v1 tag when there is one)."""
    field = b"LYR" + f"{len(lyrics):05d}".encode() + lyrics.encode("latin-1")
    block = b"LYRICSBEGIN" + field
    with path.open("ab") as file:
        file.write(block + f"{len(block):06d}".encode() + b"LYRICS200")
