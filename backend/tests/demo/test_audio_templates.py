"""ffmpeg renders each template once; the disk cache is reused; failures say what ran."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mus.demo.audio_templates import (
    AudioTemplates,
    FfmpegError,
    TemplateKey,
    ffmpeg_command,
    ffmpeg_version_line,
)


def test_missing_ffmpeg_says_how_to_install_it(tmp_path: Path) -> None:
    templates = AudioTemplates(ffmpeg=str(tmp_path / "no-ffmpeg"), cache_root=tmp_path)
    with pytest.raises(RuntimeError, match=r"ffmpeg is needed .*apt-get install ffmpeg"):
        templates.get(TemplateKey.for_audio("wav", 1.0, 440.0))


def test_ffmpeg_not_on_path_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match=r"apt-get install ffmpeg"):
        AudioTemplates(cache_root=tmp_path).get(TemplateKey.for_audio("wav", 1.0, 440.0))


def test_ffmpeg_failure_names_the_command(tmp_path: Path) -> None:
    # A real program standing in for a broken ffmpeg build: it reports a version, then fails.
    broken = tmp_path / "ffmpeg"
    broken.write_text(
        '#!/bin/sh\nif [ "$1" = -version ]; then echo "ffmpeg version broken"; exit 0; fi\n'
        'echo "Unknown encoder libmp3lame" >&2\nexit 1\n'
    )
    broken.chmod(0o755)
    templates = AudioTemplates(ffmpeg=str(broken), cache_root=tmp_path / "cache")
    with pytest.raises(FfmpegError) as raised:
        templates.get(TemplateKey.for_audio("mp3", 1.0, 440.0))
    message = str(raised.value)
    assert "exit code 1" in message
    assert f"{broken} -nostdin" in message
    assert "libmp3lame" in message
    assert "Unknown encoder libmp3lame" in message
    assert not list((tmp_path / "cache").rglob("*.mp3"))


def test_disk_cache_is_keyed_by_ffmpeg_version_and_reused(tmp_path: Path) -> None:
    key = TemplateKey.for_audio("flac", 0.5, 523.25)
    first = AudioTemplates(cache_root=tmp_path).get(key)
    (cached,) = tmp_path.rglob(key.file_name)
    assert cached.read_bytes() == first
    assert cached.parent.parent == tmp_path  # <root>/<ffmpeg version digest>/<file>
    # A new process-level cache reads the file instead of running ffmpeg again.
    cached.write_bytes(b"marker: read from disk")
    assert AudioTemplates(cache_root=tmp_path).get(key) == b"marker: read from disk"


def test_unwritable_cache_still_renders(tmp_path: Path) -> None:
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    data = AudioTemplates(cache_root=blocker).get(TemplateKey.for_audio("wav", 0.2, 440.0))
    assert data[:4] == b"RIFF"


def test_prepare_renders_many_in_parallel(tmp_path: Path) -> None:
    templates = AudioTemplates(cache_root=tmp_path)
    keys = [TemplateKey.for_audio(fmt, 0.3, 600.0) for fmt in ("mp3", "ogg", "m4a")]
    templates.prepare(keys)
    assert len(list(tmp_path.rglob("*-600.0-*"))) == 3
    mp3, ogg, m4a = (templates.get(k) for k in keys)
    assert (mp3[:2], ogg[:4], m4a[4:8]) == (b"\xff\xfb", b"OggS", b"ftyp")


def test_recipe_is_bitexact_and_metadata_free() -> None:
    command = ffmpeg_command("ffmpeg", TemplateKey.for_audio("m4a", 2.0, 440.0), Path("o.m4a"))
    joined = " ".join(command)
    for part in ("-fflags +bitexact", "-flags:a +bitexact", "-map_metadata -1", "-ar 44100"):
        assert part in joined
    assert "atrim=end_sample=88200" in joined


def test_mp3_length_is_aligned_to_what_readers_report(tmp_path: Path) -> None:
    templates = AudioTemplates(cache_root=tmp_path)
    for duration in (0.1, 1.02, 2.5):
        key = TemplateKey.for_audio("mp3", duration, 440.0)
        path = tmp_path / f"{duration}.mp3"
        path.write_bytes(templates.get(key))
        reported = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert abs(float(reported) - duration) <= 0.0131  # half an mp3 frame


def test_version_line_is_ffmpegs_first_line() -> None:
    assert ffmpeg_version_line("ffmpeg").startswith("ffmpeg version ")
