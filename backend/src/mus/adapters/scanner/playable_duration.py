"""When a reader's duration is the audio that plays, and when it must be checked by decoding.

A header states a length; the file may not hold it (a partial download, a file cut short, a
compressed WAV whose length mutagen computes as if it were PCM, an MP4 whose header claims 34
hours in 2 KB). The truth is what decodes. Decoding every file costs a subprocess and the
whole file's decode, so the in-process reading (mutagen's parse, plus a look at the file's
size and, for FLAC, its last bytes) is trusted where the format makes it reliable:

mutagen's length is trusted (by content, never by file name):
- WAV of PCM or float samples: when the `data` chunk fits in the file.
- WAV of any other codec (IMA ADPCM, GSM 6.10, MP3 inside WAV, ...): never; mutagen divides
  by a PCM block size (0.003 s for 12 s of audio).
- MP3 with a Xing/VBRI header: when the audio bytes the header states fit in the file.
- MP3 without one: never; its length is a guess from the first frame's bitrate.
- FLAC: when the last frame in the file ends at STREAMINFO's sample count.
- Ogg Vorbis, Opus, FLAC, Speex: always; it is the last page's position, the audio there is.
- MP4 (m4a: AAC, ALAC): when the sound track's sample table ends inside the file.
- anything else (a Theora-only Ogg, ...): never.

Everything else is decoded (`audio_decoding`). A file whose decoded audio falls short of
what its header claims by more than max(2 %, 0.1 s) is cut short: ERROR with both figures.
Otherwise the decoded length is the duration. The checks read at most a few tens of KB more
than the parse did, so a whole file costs no subprocess.
"""

# mutagen ships partial annotations (untyped `File` and info classes).
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO

from mutagen.flac import FLAC
from mutagen.id3 import ID3
from mutagen.mp3 import MP3, BitrateMode
from mutagen.mp4 import MP4
from mutagen.mp4._atom import Atom, Atoms
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggspeex import OggSpeex
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

MICROSECOND_DIGITS = 6
CUT_SHORT_SHARE = 0.02
CUT_SHORT_SECONDS = 0.1
# An MP3's Xing byte count covers the whole stream; slack for a trailing tag's rounding.
MP3_SLACK_BYTES = 2048
# WAVE format tags whose samples mutagen's block-size arithmetic measures right.
PCM_FORMAT_TAGS = (0x0001, 0x0003)
EXTENSIBLE_FORMAT_TAG = 0xFFFE
UNKNOWN_WAV_DATA_SIZES = (0, 0xFFFFFFFF)  # a streamed WAV's "size not known yet"
FLAC_TAIL_MIN_BYTES = 16 * 1024
FLAC_TAIL_MAX_BYTES = 1024 * 1024
OGG_TYPES = (OggVorbis, OggOpus, OggFLAC, OggSpeex)


@dataclass(frozen=True, slots=True)
class DurationVerdict:
    """`duration` when the reading can be trusted; else None, with what the header claims
    (None if nothing it says is a length) and why it must be decoded."""

    duration: float | None
    claimed: float | None = None
    reason: str | None = None


class CutShortError(Exception):
    """Less audio decodes than the header claims; the message is fit to show a user."""


def judge_duration(audio: Any, file: BinaryIO, size: int) -> DurationVerdict:
    """The rule of this module's table for a file mutagen parsed as `audio` (None: it could
    not); `file` is the open file (read here, position not kept), `size` its size."""
    if audio is None:
        return DurationVerdict(None, None, "not parsed by mutagen")
    length = _length(audio)
    try:
        if isinstance(audio, WAVE):
            return _judge_wav(file, size)
        if isinstance(audio, MP3):
            return _judge_mp3(audio, length, size)
        if isinstance(audio, FLAC):
            return _judge_flac(audio, length, file, size)
        if isinstance(audio, OGG_TYPES):
            if length is None:
                return DurationVerdict(None, None, "ogg stream without a valid last position")
            return DurationVerdict(length)
        if isinstance(audio, MP4):
            return _judge_mp4(length, file, size)
    except Exception as exc:
        # A header this code cannot walk (mutagen's atom errors, struct errors on odd sizes,
        # an unreadable tail): not trusted, so decoded; never an analysis failure.
        return DurationVerdict(None, length, f"header not checkable: {exc!r}")
    return DurationVerdict(None, None, f"{type(audio).__name__}: no rule trusts its length")


def settle(decoded: float, claimed: float | None) -> float:
    """The duration to record once decoded; raises CutShortError when it falls short."""
    if decoded <= 0 and claimed is None:
        raise CutShortError("the file is cut short: it holds no audio after its headers")
    if claimed is not None and claimed - decoded > max(
        CUT_SHORT_SHARE * claimed, CUT_SHORT_SECONDS
    ):
        raise CutShortError(
            f"the file is cut short: {_seconds(decoded)} s of audio of the "
            f"{_seconds(claimed)} s its header claims"
        )
    return round(decoded, MICROSECOND_DIGITS)


def _seconds(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def _length(audio: Any) -> float | None:
    length = getattr(getattr(audio, "info", None), "length", None)
    if not isinstance(length, int | float) or not math.isfinite(length) or length <= 0:
        return None
    return round(float(length), MICROSECOND_DIGITS)


def _judge_mp3(audio: Any, length: float | None, size: int) -> DurationVerdict:
    info = audio.info
    if length is None:
        return DurationVerdict(None, None, "mp3 without a valid length")
    if getattr(info, "sketchy", False) or info.bitrate_mode is BitrateMode.UNKNOWN:
        return DurationVerdict(
            None, None, "mp3 without a Xing/VBRI header: length would be a bitrate estimate"
        )
    tags = audio.tags
    available = size - (tags.size if isinstance(tags, ID3) else 0)
    stated = info.bitrate / 8 * length
    if stated > available + MP3_SLACK_BYTES:
        return DurationVerdict(
            None, length, f"header states {stated:.0f} audio bytes, file holds {available}"
        )
    return DurationVerdict(length)


def _judge_wav(file: BinaryIO, size: int) -> DurationVerdict:
    chunks = _wav_chunks(file, size)
    if chunks is None:
        return DurationVerdict(None, None, "no fmt and data chunks found")
    format_tag, rate, byte_rate, block_align, data_offset, data_size, fact = chunks
    if format_tag not in PCM_FORMAT_TAGS:
        # Its claim is the fact chunk's sample count; the byte rate of a compressed WAV's
        # header is an average (8.3 s for 12 s of IMA ADPCM written by ffmpeg).
        claimed = round(fact / rate, MICROSECOND_DIGITS) if fact and rate > 0 else None
        return DurationVerdict(None, claimed, f"compressed WAV (format 0x{format_tag:04x})")
    claimed = None
    if data_size not in UNKNOWN_WAV_DATA_SIZES and byte_rate > 0:
        claimed = round(data_size / byte_rate, MICROSECOND_DIGITS)
    if claimed is None or data_offset + data_size > size or block_align <= 0 or rate <= 0:
        return DurationVerdict(
            None, claimed, f"data chunk of {data_size} bytes does not fit in {size}"
        )
    return DurationVerdict(round(data_size // block_align / rate, MICROSECOND_DIGITS))


def _wav_chunks(file: BinaryIO, size: int) -> tuple[int, int, int, int, int, int, int] | None:
    """(format tag, sample rate, byte rate, block align, data offset, data size, fact sample
    count or 0) or None."""
    file.seek(0)
    header = file.read(12)
    if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
        return None
    position = 12
    fmt: tuple[int, int, int, int] | None = None
    fact = 0
    while position + 8 <= size:
        file.seek(position)
        chunk_id, chunk_size = struct.unpack("<4sI", file.read(8))
        if chunk_id == b"fmt ":
            body = file.read(min(chunk_size, 40))
            format_tag, _channels, rate, byte_rate, block_align = struct.unpack("<HHIIH", body[:14])
            if format_tag == EXTENSIBLE_FORMAT_TAG and len(body) >= 26:
                format_tag = struct.unpack("<H", body[24:26])[0]
            fmt = (format_tag, rate, byte_rate, block_align)
        elif chunk_id == b"fact" and chunk_size >= 4:
            fact = struct.unpack("<I", file.read(4))[0]
        elif chunk_id == b"data":
            if fmt is None:
                return None
            return (*fmt, position + 8, chunk_size, fact)
        position += 8 + chunk_size + (chunk_size & 1)
    return None


def _judge_flac(audio: Any, length: float | None, file: BinaryIO, size: int) -> DurationVerdict:
    info = audio.info
    if length is None or not info.total_samples:
        return DurationVerdict(None, None, "FLAC without a sample count")
    tail_size = min(max(2 * info.max_framesize + 16, FLAC_TAIL_MIN_BYTES), FLAC_TAIL_MAX_BYTES)
    file.seek(max(0, size - tail_size))
    tail = file.read(tail_size)
    if _flac_ends_at(tail, info.total_samples, info.max_blocksize):
        return DurationVerdict(length)
    return DurationVerdict(
        None, length, f"no frame ending at sample {info.total_samples} in the last bytes"
    )


def _flac_ends_at(tail: bytes, total_samples: int, fixed_blocksize: int) -> bool:
    """Whether a valid frame header in `tail` starts the block that ends the stream.

    Searched from the end: in a whole file the last frame header is a few KB back, so only a
    file that is not whole pays for the full search."""
    start = tail.rfind(b"\xff")
    while start != -1:
        if _flac_frame_end(tail, start, fixed_blocksize) == total_samples:
            return True
        start = tail.rfind(b"\xff", 0, start)
    return False


def _flac_frame_end(data: bytes, at: int, fixed_blocksize: int) -> int | None:
    """The sample a frame whose header starts at `at` ends on; None unless a valid header."""
    header = data[at : at + 16]
    if len(header) < 6 or header[1] not in (0xF8, 0xF9):
        return None
    variable = header[1] == 0xF9
    block_code, rate_code = header[2] >> 4, header[2] & 0x0F
    channels, sample_bits, reserved = header[3] >> 4, (header[3] >> 1) & 0x07, header[3] & 1
    if block_code == 0 or rate_code == 0x0F or channels > 10 or sample_bits == 3 or reserved:
        return None
    number, used = _flac_coded_number(header, 4)
    if number is None:
        return None
    position = 4 + used
    if block_code == 1:
        blocksize = 192
    elif block_code <= 5:
        blocksize = 576 << (block_code - 2)
    elif block_code in (6, 7):
        width = 1 if block_code == 6 else 2
        if position + width > len(header):
            return None
        blocksize = int.from_bytes(header[position : position + width], "big") + 1
        position += width
    else:
        blocksize = 256 << (block_code - 8)
    position += {12: 1, 13: 2, 14: 2}.get(rate_code, 0)
    if position >= len(header) or _crc8(header[:position]) != header[position]:
        return None
    first = number if variable else number * fixed_blocksize
    return first + blocksize


def _flac_coded_number(data: bytes, at: int) -> tuple[int | None, int]:
    """FLAC's UTF-8-like coded frame or sample number: (value, bytes used)."""
    lead = data[at]
    if lead < 0x80:
        return lead, 1
    extra = next((n for n in range(1, 7) if lead & (0x80 >> (n + 1)) == 0), None)
    if extra is None or lead & 0x40 == 0 or at + 1 + extra > len(data):
        return None, 0
    value = lead & (0x3F >> extra)
    for byte in data[at + 1 : at + 1 + extra]:
        if byte & 0xC0 != 0x80:
            return None, 0
        value = (value << 6) | (byte & 0x3F)
    return value, 1 + extra


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _judge_mp4(length: float | None, file: BinaryIO, size: int) -> DurationVerdict:
    file.seek(0)
    atoms = Atoms(file)
    claimed = _mp4_movie_duration(atoms, file) or length
    track = _mp4_sound_track(atoms, file)
    if track is None:
        return DurationVerdict(None, claimed, "no sound track in the movie")
    end = _mp4_samples_end(track, file)
    if claimed is None or end is None or end > size:
        return DurationVerdict(None, claimed, f"sample table ends at byte {end}, file holds {size}")
    return DurationVerdict(claimed)


def _mp4_movie_duration(atoms: Atoms, file: BinaryIO) -> float | None:
    """The movie header's duration, which honours the edit list (encoder priming cut).

    mutagen reports the audio track's media duration, 1024 priming samples (23 ms at
    44.1 kHz) longer than what plays; ffprobe and players use the movie's.
    """
    ok, data = atoms.path(b"moov", b"mvhd")[-1].read(file)
    if not ok:
        return None
    if data[0] == 1:
        timescale, duration = struct.unpack(">IQ", data[20:32])
    else:
        timescale, duration = struct.unpack(">II", data[12:20])
    if timescale <= 0 or duration <= 0:
        return None
    return round(float(duration) / float(timescale), MICROSECOND_DIGITS)


def _mp4_sound_track(atoms: Atoms, file: BinaryIO) -> Atom | None:
    for trak in atoms.path(b"moov")[-1].findall(b"trak"):
        try:
            ok, handler = trak[(b"mdia", b"hdlr")].read(file)
        except KeyError:
            continue
        if ok and handler[8:12] == b"soun":
            sound: Atom = trak
            return sound
    return None


def _mp4_samples_end(trak: Atom, file: BinaryIO) -> int | None:
    """The byte after the sound track's last sample, from its sample table."""
    stbl = trak[(b"mdia", b"minf", b"stbl")]
    offsets = _mp4_chunk_offsets(stbl, file)
    ok, stsz = stbl[(b"stsz",)].read(file)
    ok_stsc, stsc = stbl[(b"stsc",)].read(file)
    if not (ok and ok_stsc) or not offsets:
        return None
    uniform, count = struct.unpack(">II", stsz[4:12])
    sizes = (
        [uniform] * count
        if uniform
        else list(struct.unpack(f">{count}I", stsz[12 : 12 + 4 * count]))
    )
    entries = struct.unpack(">I", stsc[4:8])[0]
    runs = [struct.unpack(">III", stsc[8 + 12 * i : 20 + 12 * i]) for i in range(entries)]
    sample = 0
    end = 0
    for index, (first_chunk, per_chunk, _description) in enumerate(runs):
        last_chunk = runs[index + 1][0] - 1 if index + 1 < len(runs) else len(offsets)
        for chunk in range(first_chunk, last_chunk + 1):
            chunk_bytes = sum(sizes[sample : sample + per_chunk])
            if chunk_bytes and chunk - 1 < len(offsets):
                end = max(end, offsets[chunk - 1] + chunk_bytes)
            sample += per_chunk
    return end if sample >= count else None


def _mp4_chunk_offsets(stbl: Atom, file: BinaryIO) -> list[int]:
    for name, width in ((b"stco", "I"), (b"co64", "Q")):
        try:
            ok, data = stbl[(name,)].read(file)
        except KeyError:
            continue
        if ok:
            count = struct.unpack(">I", data[4:8])[0]
            end = 8 + count * struct.calcsize(width)
            return list(struct.unpack(f">{count}{width}", data[8:end]))
    return []
