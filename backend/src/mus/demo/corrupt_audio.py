"""Bytes that carry an audio extension but decode as nothing, the same every time."""

from __future__ import annotations

import random
import zlib

from mus.demo.audio_spec import AudioFormat

CORRUPT_SIZE = 4096
# Plain text first, so no demuxer sees a magic number (ID3, OggS, RIFF, ftyp).
CORRUPT_PREFIX = b"mus corrupt audio fixture\n"
# ffmpeg opens any bytes named .flac as headerless "raw FLAC" and ffprobe then exits 0 with an
# empty stream; a fLaC marker followed by a STREAMINFO block of impossible size (1 byte instead
# of 34) makes both ffprobe and mutagen reject the file.
BROKEN_FLAC_PREFIX = b"fLaC\x80\x00\x00\x01"


def corrupt_bytes(relative_path: str, audio_format: AudioFormat) -> bytes:
    """Seeded garbage without 0xFF, so no MPEG/ADTS frame sync can be found in it."""
    prefix = BROKEN_FLAC_PREFIX if audio_format == "flac" else CORRUPT_PREFIX
    rng = random.Random(zlib.crc32(relative_path.encode()))
    body = rng.randbytes(CORRUPT_SIZE - len(prefix)).replace(b"\xff", b"\x7f")
    return prefix + body
