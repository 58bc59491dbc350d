"""How much audio a file really holds: its first audio stream decoded by ffprobe, samples counted.

For the files whose header `playable_duration` does not trust. ffprobe (not ffmpeg) decodes,
so one tool does every probe and `FFPROBE_PATH` still names it; `-show_entries frame=nb_samples`
makes it decode every frame, and the samples it reports over the stream's rate are what a
player can play (a file cut short decodes up to where it ends). Its failures become sentences
a person understands (`AudioProbeError`); ffprobe's own words go to the log.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from mus.adapters.scanner.duration_probe import (
    DEFAULT_FFPROBE,
    FFPROBE_PATH_ENV,
    MISSING_FFPROBE_WARNING,
    AudioProbeError,
    condense_ffprobe_errors,
    ffprobe_target,
    mutagen_duration,
    resolve_ffprobe,
    run_ffprobe,
)

logger = logging.getLogger(__name__)

# Decoding reads the whole file: a long recording on a busy machine needs more than a probe.
DECODE_TIMEOUT_SECONDS = 120.0
UNKNOWN_CODECS = ("", "none", "unknown")

# ffprobe's verdict (its last error line) -> what a person is told.
# ("Could not seek" is also what random bytes named .mp3 give: not a sign of a cut.)
_CUT_SHORT_SIGNS = ("End of file", "partial file", "truncated")
_MISSING_INDEX_SIGNS = ("moov atom not found",)
AUDIO_SIGNATURES = (b"OggS", b"ID3", b"RIFF", b"fLaC")
NOT_AUDIO = "not an audio file (or damaged beyond reading)"
NO_AUDIO_STREAM = "no audio stream (the file holds only video or data)"
CUT_SHORT_BEFORE_AUDIO = "the file is cut short: it ends before any of its audio"
MISSING_INDEX = "the file is cut short or damaged: the index of its audio (moov) is missing"


@dataclass(frozen=True, slots=True)
class DecodedAudio:
    """The first audio stream: its codec, sample rate and the seconds that decoded."""

    codec: str
    sample_rate: int
    seconds: float


def decoded_duration(
    path: Path,
    *,
    display_name: str,
    ffprobe_path: str | None = None,
    timeout_seconds: float = DECODE_TIMEOUT_SECONDS,
) -> float:
    """Seconds of audio that decode (raises AudioProbeError); mutagen's if ffprobe is absent."""
    binary = resolve_ffprobe(ffprobe_path)
    if binary is None:
        MISSING_FFPROBE_WARNING.emit(
            ffprobe_path or os.environ.get(FFPROBE_PATH_ENV) or DEFAULT_FFPROBE
        )
        return mutagen_duration(path, display_name)
    return decode(binary, path, display_name, timeout_seconds).seconds


def decode(binary: str, path: Path, name: str, timeout_seconds: float) -> DecodedAudio:
    """Run ffprobe's decode of the first audio stream; every failure is an AudioProbeError."""
    arguments = ["-select_streams", "a:0"]
    arguments += ["-show_entries", "stream=codec_name,sample_rate:frame=nb_samples"]
    arguments += ["-of", "default=noprint_wrappers=1"]
    completed = run_ffprobe(binary, arguments, path, name, timeout_seconds)
    stderr = completed.stderr.decode("utf-8", "replace")
    if completed.returncode != 0:
        detail = condense_ffprobe_errors(stderr, ffprobe_target(path))
        logger.info("ffprobe could not read %s: %s", name, detail)
        raise AudioProbeError(_in_words(detail) if _has_audio_signature(path) else NOT_AUDIO)
    codec, rate, samples = _parse(completed.stdout.decode("utf-8", "replace"))
    if codec is None:
        raise AudioProbeError(NO_AUDIO_STREAM)
    if codec in UNKNOWN_CODECS or rate <= 0:
        raise AudioProbeError(
            "unsupported codec (none ffmpeg decodes)"
            if codec in UNKNOWN_CODECS
            else f"unsupported codec {codec}"
        )
    if stderr.strip():
        logger.info("decoding %s: %s", name, condense_ffprobe_errors(stderr, ffprobe_target(path)))
    if "Decoder" in stderr and "not found" in stderr:
        raise AudioProbeError(f"unsupported codec {codec}")
    return DecodedAudio(codec, rate, samples / rate)


def _parse(output: str) -> tuple[str | None, int, int]:
    """(codec name or None when no audio stream, sample rate, samples decoded)."""
    codec: str | None = None
    rate = samples = 0
    for line in output.splitlines():
        key, _, value = line.partition("=")
        if key == "codec_name":
            codec = value.strip()
        elif key == "sample_rate":
            rate = int(value) if value.strip().isdigit() else 0
        elif key == "nb_samples" and value.strip().isdigit():
            samples += int(value)
    return codec, rate, samples


def _has_audio_signature(path: Path) -> bool:
    """Whether the file starts as a container or stream mus plays does (Ogg, ID3, RIFF, FLAC,
    MP4, an MPEG frame): only such a file can be "cut short"; other bytes are not audio."""
    try:
        with path.open("rb") as file:
            head = file.read(12)
    except OSError:
        return False
    if head.startswith(AUDIO_SIGNATURES) or head[4:8] == b"ftyp":
        return True
    return len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0


def _in_words(detail: str) -> str:
    """ffprobe's condensed error as a sentence a person understands."""
    if any(sign in detail for sign in _MISSING_INDEX_SIGNS):
        return MISSING_INDEX
    if any(sign in detail for sign in _CUT_SHORT_SIGNS):
        return CUT_SHORT_BEFORE_AUDIO
    return NOT_AUDIO
