"""`mus` as a user runs it (a real process): a symlink loop is a skip, a bad setting one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AudioSpec


def test_mus_scan_skips_a_symlink_loop_and_finishes(tmp_path: Path) -> None:
    music = tmp_path / "music"
    write_audio(AudioSpec("real.mp3", "mp3", title="Real"), music)
    (music / "b.mp3").symlink_to(music / "c.mp3")
    (music / "c.mp3").symlink_to(music / "b.mp3")
    env = {**os.environ, "DATA_DIR_PATH": str(tmp_path / "data"), "COLUMNS": "200"}
    env.pop("MUSIC_DIR_PATH", None)
    result = subprocess.run(
        [sys.executable, "-c", "from mus.cli import app; app()", "scan", str(music)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "found 1, indexed 1" in result.stdout
    assert "complete 1, errors 0" in result.stdout
    assert "skipped b.mp3: symlink loop" in result.stdout
    assert "skipped c.mp3: symlink loop" in result.stdout


def test_mus_scan_progress_ends_full_when_empty_files_are_skipped(tmp_path: Path) -> None:
    """The bar ended at "2/3": a skipped empty file counted in its total, never in its count."""
    music = tmp_path / "music"
    write_audio(AudioSpec("one.mp3", "mp3", title="One"), music)
    write_audio(AudioSpec("two.ogg", "ogg", title="Two"), music)
    (music / "still copying.flac").write_bytes(b"")
    env = {**os.environ, "DATA_DIR_PATH": str(tmp_path / "data"), "COLUMNS": "200"}
    env.pop("MUSIC_DIR_PATH", None)
    result = subprocess.run(
        [sys.executable, "-c", "from mus.cli import app; app()", "scan", str(music)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    fast_line = next(line for line in result.stdout.splitlines() if "fast scan" in line)
    assert " 2/2 " in fast_line, result.stdout
    assert "skipped still copying.flac: empty file" in result.stdout


def test_mus_run_with_no_worker_process_says_so_in_one_line_and_starts_nothing(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "DATA_DIR_PATH": str(tmp_path / "data"), "MUS_WORKER_PROCESSES": "0"}
    result = subprocess.run(
        [sys.executable, "-c", "from mus.cli import app; app()", "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr == (
        "mus: not started: MUS_WORKER_PROCESSES: must be 1 or more (unset: one per core), not 0\n"
    )
    assert result.stdout == ""
    assert not (tmp_path / "data").exists()  # nothing was created or started
