"""The small library `mus demo-library` and `make run` put in an empty music folder."""

from __future__ import annotations

from pathlib import Path

from mus.demo.audio_generator import write_audios
from mus.demo.audio_spec import AudioSpec, CoverSpec

# Notes of an A major scale, so playing the demo is a tune rather than one beep.
A3, B3, C4S, D4, E4, F4S, G4S, A4 = 220.0, 246.94, 277.18, 293.66, 329.63, 369.99, 415.3, 440.0

MORNING = CoverSpec(600, 600, seed=11)
NIGHT = CoverSpec(600, 600, seed=12, image_format="PNG")
FOREST = CoverSpec(500, 500, seed=13)
RAIN = CoverSpec(600, 600, seed=14)

DEMO_SPECS: tuple[AudioSpec, ...] = (
    AudioSpec(
        "Aurora Sines/Morning Tones/01 First Light.mp3",
        "mp3",
        "First Light",
        "Aurora Sines",
        "Morning Tones",
        4.0,
        MORNING,
        tone_hz=A3,
    ),
    AudioSpec(
        "Aurora Sines/Morning Tones/02 Dew.flac",
        "flac",
        "Dew",
        "Aurora Sines",
        "Morning Tones",
        3.0,
        MORNING,
        tone_hz=C4S,
    ),
    AudioSpec(
        "Aurora Sines/Morning Tones/03 Sunrise.ogg",
        "ogg",
        "Sunrise",
        "Aurora Sines",
        "Morning Tones",
        5.0,
        MORNING,
        tone_hz=E4,
    ),
    AudioSpec(
        "Aurora Sines/Night Tones/01 Moonrise.m4a",
        "m4a",
        "Moonrise",
        "Aurora Sines",
        "Night Tones",
        4.0,
        NIGHT,
        tone_hz=A4,
    ),
    AudioSpec(
        "Aurora Sines/Night Tones/02 Owls.wav",
        "wav",
        "Owls",
        "Aurora Sines",
        "Night Tones",
        3.0,
        NIGHT,
        tone_hz=G4S,
    ),
    AudioSpec(
        "The Oscillators/Forest Hum/01 Pines.flac",
        "flac",
        "Pines",
        "The Oscillators",
        "Forest Hum",
        4.0,
        FOREST,
        tone_hz=B3,
    ),
    AudioSpec(
        "The Oscillators/Forest Hum/02 Moss.mp3",
        "mp3",
        "Moss",
        "The Oscillators",
        "Forest Hum",
        3.0,
        FOREST,
        tone_hz=D4,
    ),
    AudioSpec(
        "The Oscillators/Forest Hum/03 Creek.m4a",
        "m4a",
        "Creek",
        "The Oscillators",
        "Forest Hum",
        5.0,
        FOREST,
        tone_hz=F4S,
    ),
    AudioSpec(
        "雨の音/静かな夜/01 雨.ogg", "ogg", "雨", "雨の音", "静かな夜", 4.0, RAIN, tone_hz=E4
    ),
    AudioSpec(
        "雨の音/静かな夜/02 傘.mp3", "mp3", "傘", "雨の音", "静かな夜", 3.0, RAIN, tone_hz=C4S
    ),
    AudioSpec(
        "Singles/Sigur Sine - Hoppípolla.wav",
        "wav",
        "Hoppípolla",
        "Sigur Sine",
        None,
        3.0,
        tone_hz=A3,
    ),
    AudioSpec("Inbox/Unknown Artist - Untitled Hum.flac", "flac", duration_seconds=3.0, tone_hz=D4),
)


def create_demo_library(root: Path) -> list[Path]:
    """Write the demo files under root; refuses, before writing anything, to replace a file."""
    existing = [spec.relative_path for spec in DEMO_SPECS if (root / spec.relative_path).exists()]
    if existing:
        raise FileExistsError(
            f"demo library not written: {len(existing)} file(s) already exist under {root}, "
            f"e.g. {existing[0]}"
        )
    return write_audios(list(DEMO_SPECS), root)
