"""Writes real, deterministic audio files for tests, benchmarks and the demo library.

ffmpeg renders each (format, duration, tone) once (see audio_templates); every file is then
a copy of that template with its tags written by mutagen.
"""

from __future__ import annotations

from pathlib import Path

from mus.demo.audio_spec import AudioSpec, CoverSpec
from mus.demo.audio_tags import tag_audio
from mus.demo.audio_templates import DEFAULT_TEMPLATES, AudioTemplates, TemplateKey
from mus.demo.corrupt_audio import corrupt_bytes
from mus.demo.cover_image import render_cover
from mus.demo.library_plan import library_specs

__all__ = ["audio_bytes", "cover_image_bytes", "generate_library", "write_audio", "write_audios"]


def template_key(spec: AudioSpec) -> TemplateKey:
    """The template a spec's audio is copied from."""
    return TemplateKey.for_audio(spec.audio_format, spec.duration_seconds, spec.tone_hz)


def audio_bytes(spec: AudioSpec, templates: AudioTemplates = DEFAULT_TEMPLATES) -> bytes:
    """The complete file content for a spec, without touching the library."""
    if spec.corrupt:
        return corrupt_bytes(spec.relative_path, spec.audio_format)
    return tag_audio(templates.get(template_key(spec)), spec)


def write_audio(spec: AudioSpec, root: Path, templates: AudioTemplates = DEFAULT_TEMPLATES) -> Path:
    """Write root/spec.relative_path (replacing any file there) and return its path."""
    content = audio_bytes(spec, templates)
    path = root / spec.relative_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def write_audios(
    specs: list[AudioSpec], root: Path, templates: AudioTemplates = DEFAULT_TEMPLATES
) -> list[Path]:
    """Write many specs, rendering all missing templates in parallel first."""
    templates.prepare(template_key(spec) for spec in specs if not spec.corrupt)
    return [write_audio(spec, root, templates) for spec in specs]


def cover_image_bytes(cover: CoverSpec) -> bytes:
    """The exact image bytes embedded for this cover (JPEG or PNG)."""
    return render_cover(cover)


def generate_library(root: Path, count: int, *, seed: int = 0) -> list[Path]:
    """A varied library of `count` playable files under root; same seed, same bytes."""
    return write_audios(library_specs(count, seed), root)
