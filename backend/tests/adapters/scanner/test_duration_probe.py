"""ffprobe durations of real generated files, its failures as readable messages, and the
mutagen fallback when ffprobe is not installed."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from mus.adapters.scanner.duration_probe import (
    FFPROBE_PATH_ENV,
    AudioProbeError,
    condense_ffprobe_errors,
    probe_duration,
)
from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AUDIO_FORMATS, AudioFormat, AudioSpec

TOLERANCE_SECONDS = 0.05


def missing_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.levelno == logging.WARNING and "ffprobe not found" in record.getMessage()
    ]


@pytest.mark.parametrize("audio_format", AUDIO_FORMATS)
async def test_duration_is_within_50_ms_of_the_true_length(
    tmp_path: Path, audio_format: AudioFormat
) -> None:
    path = write_audio(
        AudioSpec(f"tone.{audio_format}", audio_format, duration_seconds=3.0), tmp_path
    )
    duration = await probe_duration(path)
    assert duration == pytest.approx(3.0, abs=TOLERANCE_SECONDS)


@pytest.mark.parametrize("audio_format", AUDIO_FORMATS)
async def test_corrupt_audio_raises_a_readable_message(
    tmp_path: Path, audio_format: AudioFormat
) -> None:
    path = write_audio(AudioSpec(f"broken.{audio_format}", audio_format, corrupt=True), tmp_path)
    with pytest.raises(AudioProbeError) as caught:
        await probe_duration(path, display_name=f"Album/broken.{audio_format}")
    message = str(caught.value)
    assert message.startswith(f"ffprobe could not read 'Album/broken.{audio_format}': ")
    reason = message.split("': ", 1)[1]
    assert reason and reason != "unknown error"
    # Stable across runs and mounts: no absolute path, no heap address.
    assert str(tmp_path) not in message
    assert " @ 0x" not in message


async def test_same_broken_file_gives_the_same_message_twice(tmp_path: Path) -> None:
    path = write_audio(AudioSpec("broken.m4a", "m4a", corrupt=True), tmp_path)
    messages = []
    for _ in range(2):
        with pytest.raises(AudioProbeError) as caught:
            await probe_duration(path)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    assert messages[0] == (
        "ffprobe could not read 'broken.m4a': "
        "Invalid data found when processing input (moov atom not found)"
    )


async def test_vanished_file_is_reported_by_name(tmp_path: Path) -> None:
    with pytest.raises(AudioProbeError, match=r"could not read 'gone\.mp3': No such file"):
        await probe_duration(tmp_path / "gone.mp3")


async def test_odd_file_names_are_not_read_as_protocols_or_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_audio(AudioSpec("-rtmp:odd name.flac", "flac", duration_seconds=1.0), tmp_path)
    monkeypatch.chdir(tmp_path)
    relative = Path("-rtmp:odd name.flac")
    assert await probe_duration(relative) == pytest.approx(1.0, abs=TOLERANCE_SECONDS)


def test_condensed_errors_put_the_verdict_first_and_drop_addresses() -> None:
    stderr = (
        "[mp3 @ 0x55d5aa1c3400] Failed to read frame size: Could not seek to 5119.\n"
        "file:/music/x.mp3: Invalid argument\n"
    )
    assert condense_ffprobe_errors(stderr, "file:/music/x.mp3") == (
        "Invalid argument (Failed to read frame size: Could not seek to 5119.)"
    )
    assert condense_ffprobe_errors("", "file:/music/x.mp3") == "unknown error"


async def test_missing_ffprobe_falls_back_to_mutagen_and_warns_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = str(tmp_path / "no-such-ffprobe")
    flac = write_audio(AudioSpec("a.flac", "flac", duration_seconds=2.0), tmp_path)
    wav = write_audio(AudioSpec("b.wav", "wav", duration_seconds=1.5), tmp_path)
    with caplog.at_level(logging.WARNING):
        first = await probe_duration(flac, ffprobe_path=missing)
        second = await probe_duration(wav, ffprobe_path=missing)
    assert first == pytest.approx(2.0, abs=TOLERANCE_SECONDS)
    assert second == pytest.approx(1.5, abs=TOLERANCE_SECONDS)
    warnings = missing_warnings(caplog)
    assert len(warnings) == 1
    assert "may be approximate" in warnings[0].getMessage()


async def test_ffprobe_path_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(FFPROBE_PATH_ENV, str(tmp_path / "absent" / "ffprobe"))
    path = write_audio(AudioSpec("a.ogg", "ogg", duration_seconds=2.0), tmp_path)
    with caplog.at_level(logging.WARNING):
        assert await probe_duration(path) == pytest.approx(2.0, abs=TOLERANCE_SECONDS)
    assert len(missing_warnings(caplog)) == 1


async def test_fallback_still_rejects_corrupt_audio(tmp_path: Path) -> None:
    path = write_audio(AudioSpec("broken.mp3", "mp3", corrupt=True), tmp_path)
    with pytest.raises(AudioProbeError, match=r"^mutagen could not read 'broken\.mp3': "):
        await probe_duration(path, ffprobe_path=str(tmp_path / "no-such-ffprobe"))


async def test_a_hanging_ffprobe_is_stopped_at_the_timeout(tmp_path: Path) -> None:
    hanging = tmp_path / "slow-ffprobe"
    hanging.write_text("#!/bin/sh\nexec sleep 30\n")
    hanging.chmod(hanging.stat().st_mode | stat.S_IXUSR)
    path = write_audio(AudioSpec("a.wav", "wav", duration_seconds=1.0), tmp_path)
    with pytest.raises(AudioProbeError, match=r"'a\.wav': no answer within 0\.3 s"):
        await probe_duration(path, ffprobe_path=str(hanging), timeout_seconds=0.3)


async def test_a_crashing_ffprobe_is_named_as_a_crash(tmp_path: Path) -> None:
    """An ffprobe killed by a signal printed nothing: the message said "unknown error"."""
    crashing = tmp_path / "crashing-ffprobe"
    crashing.write_text("#!/bin/sh\nkill -SEGV $$\n")
    crashing.chmod(crashing.stat().st_mode | stat.S_IXUSR)
    path = write_audio(AudioSpec("a.wav", "wav", duration_seconds=1.0), tmp_path)
    with pytest.raises(
        AudioProbeError, match=r"^ffprobe could not read 'a\.wav': it crashed \(SIGSEGV\)$"
    ):
        await probe_duration(path, ffprobe_path=str(crashing))
