"""Untagged sine-tone audio rendered by ffmpeg once and reused, so fixtures cost a copy, not a run.

Two cache levels: a dict in this process and a folder on disk. The folder is named for the
ffmpeg version line and each file for a digest of its exact ffmpeg arguments, so a different
ffmpeg or a changed recipe never reuses stale bytes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from mus.demo.audio_spec import FILE_EXTENSIONS, SAMPLE_RATE, AudioFormat

# ffprobe and mutagen report an mp3 made of n samples as ceil(n / 1152) + 1 whole frames
# (the extra frame is the Xing/Info header), not its gapless length.
MP3_FRAME_SAMPLES = 1152

INSTALL_HINT = (
    "ffmpeg is needed to generate audio fixtures; install it with `apt-get install ffmpeg`"
)

ENCODER_ARGUMENTS: dict[AudioFormat, tuple[str, ...]] = {
    "mp3": ("-c:a", "libmp3lame", "-b:a", "128k", "-ac", "2", "-id3v2_version", "0", "-f", "mp3"),
    "flac": ("-c:a", "flac", "-ac", "1", "-f", "flac"),
    "ogg": ("-c:a", "libvorbis", "-q:a", "2", "-ac", "2", "-f", "ogg"),
    "m4a": ("-c:a", "aac", "-b:a", "96k", "-ac", "2", "-f", "ipod"),
    "wav": ("-c:a", "pcm_s16le", "-ac", "1", "-f", "wav"),
}


class FfmpegError(RuntimeError):
    """ffmpeg ran but did not produce the template; the message names the command."""


@dataclass(frozen=True, slots=True)
class TemplateKey:
    """What makes two templates byte-identical: format, length in samples and tone."""

    audio_format: AudioFormat
    samples: int
    tone_hz: float

    @classmethod
    def for_audio(
        cls, audio_format: AudioFormat, duration_seconds: float, tone_hz: float
    ) -> TemplateKey:
        """Key for a wanted duration, rounded to whole samples."""
        return cls(audio_format, round(duration_seconds * SAMPLE_RATE), float(tone_hz))

    @property
    def file_name(self) -> str:
        """Cache file name: readable key plus a digest of the arguments that make the bytes."""
        recipe = "\0".join(ffmpeg_command("ffmpeg", self, Path("out")))
        digest = hashlib.sha256(recipe.encode()).hexdigest()[:12]
        extension = FILE_EXTENSIONS[self.audio_format]
        return f"{self.audio_format}-{self.samples}-{self.tone_hz!r}-{digest}{extension}"

    @property
    def encoded_samples(self) -> int:
        """Samples to feed the encoder so readers report a length near the wanted one.

        For mp3 the count is chosen so the whole-frame length readers report is the frame
        boundary closest to the wanted length (within half a frame, 13 ms); the audio itself
        is then one header frame (26 ms) shorter. Every other format is exact.
        """
        if self.audio_format != "mp3":
            return self.samples
        frames = max(2, round(self.samples / MP3_FRAME_SAMPLES))
        return (frames - 1) * MP3_FRAME_SAMPLES


def ffmpeg_command(ffmpeg: str, key: TemplateKey, output: Path) -> list[str]:
    """The full bit-exact ffmpeg command that renders one template."""
    return [
        ffmpeg,
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency={key.tone_hz!r}:sample_rate={SAMPLE_RATE}",
        "-af",
        f"atrim=end_sample={key.encoded_samples}",
        "-map_metadata",
        "-1",
        "-fflags",
        "+bitexact",
        "-flags:a",
        "+bitexact",
        "-ar",
        str(SAMPLE_RATE),
        *ENCODER_ARGUMENTS[key.audio_format],
        str(output),
    ]


def default_cache_root() -> Path:
    """`$XDG_CACHE_HOME/mus/audio-templates`, else `~/.cache/mus/audio-templates`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mus" / "audio-templates"


class AudioTemplates:
    """Renders and caches templates; safe to share between threads and processes."""

    def __init__(self, ffmpeg: str | None = None, cache_root: Path | None = None) -> None:
        self._ffmpeg_override = ffmpeg
        self._cache_root = cache_root
        self._memory: dict[TemplateKey, bytes] = {}
        self._lock = threading.Lock()
        self._resolved: tuple[str, Path | None] | None = None

    def get(self, key: TemplateKey) -> bytes:
        """The template's bytes, rendering it on first use."""
        cached = self._memory.get(key)
        if cached is not None:
            return cached
        data = self._load_or_render(key)
        with self._lock:
            return self._memory.setdefault(key, data)

    def prepare(self, keys: Iterable[TemplateKey]) -> None:
        """Make all keys available, rendering the missing ones in parallel."""
        missing = sorted(
            {key for key in keys if key not in self._memory},
            key=lambda key: (key.audio_format, key.samples, key.tone_hz),
        )
        if not missing:
            return
        workers = max(1, min(len(missing), os.cpu_count() or 1))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for _ in pool.map(self.get, missing):
                pass

    def _resolve(self) -> tuple[str, Path | None]:
        """ffmpeg's path and this ffmpeg's cache folder (None when the cache is unusable)."""
        with self._lock:
            if self._resolved is None:
                ffmpeg = self._find_ffmpeg()
                version = ffmpeg_version_line(ffmpeg)
                digest = hashlib.sha256(version.encode()).hexdigest()[:16]
                folder = (self._cache_root or default_cache_root()) / digest
                self._resolved = (ffmpeg, folder if usable_cache_folder(folder) else None)
            return self._resolved

    def _find_ffmpeg(self) -> str:
        if self._ffmpeg_override is not None:
            if not Path(self._ffmpeg_override).is_file():
                raise RuntimeError(f"{INSTALL_HINT} (not found: {self._ffmpeg_override})")
            return self._ffmpeg_override
        found = shutil.which("ffmpeg")
        if found is None:
            raise RuntimeError(f"{INSTALL_HINT} (no ffmpeg on PATH)")
        return found

    def _load_or_render(self, key: TemplateKey) -> bytes:
        ffmpeg, folder = self._resolve()
        if folder is not None:
            cached_file = folder / key.file_name
            try:
                data = cached_file.read_bytes()
            except OSError:
                data = b""
            if data:
                return data
        with tempfile.TemporaryDirectory(prefix="mus-template-", dir=folder) as scratch:
            output = Path(scratch) / key.file_name
            run_ffmpeg(ffmpeg_command(ffmpeg, key, output))
            data = output.read_bytes()
            if not data:
                raise FfmpegError(f"ffmpeg wrote an empty file for {key.file_name}")
            if folder is not None:
                # Rename is atomic: a concurrent process sees the whole file or none.
                output.replace(folder / key.file_name)
        return data


def usable_cache_folder(folder: Path) -> bool:
    """Create the folder; False when it cannot be written (the cache is then in memory only)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK)


def run_ffmpeg(command: list[str]) -> None:
    """Run ffmpeg; any failure names the full command and ffmpeg's own message."""
    try:
        completed = subprocess.run(command, capture_output=True, check=False, timeout=120)
    except FileNotFoundError as error:
        raise RuntimeError(f"{INSTALL_HINT} (could not run {command[0]})") from error
    except subprocess.TimeoutExpired as error:
        raise FfmpegError(f"ffmpeg timed out after 120 s: {' '.join(command)}") from error
    if completed.returncode != 0:
        stderr = completed.stderr.decode(errors="replace").strip()
        raise FfmpegError(
            f"ffmpeg failed with exit code {completed.returncode}: {' '.join(command)}\n{stderr}"
        )


def ffmpeg_version_line(ffmpeg: str) -> str:
    """First line of `ffmpeg -version`: part of the cache key, since encoders change bytes."""
    command = [ffmpeg, "-version"]
    try:
        completed = subprocess.run(command, capture_output=True, check=False, timeout=30)
    except (FileNotFoundError, PermissionError) as error:
        raise RuntimeError(f"{INSTALL_HINT} (could not run {ffmpeg})") from error
    if completed.returncode != 0:
        raise FfmpegError(
            f"ffmpeg failed with exit code {completed.returncode}: {' '.join(command)}\n"
            f"{completed.stderr.decode(errors='replace').strip()}"
        )
    lines = completed.stdout.decode(errors="replace").splitlines()
    return lines[0] if lines else ""


DEFAULT_TEMPLATES = AudioTemplates()
