"""ffprobe's decode of real files: seconds that decode, and its failures in a person's words."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from mus.adapters.scanner.audio_decoding import (
    NO_AUDIO_STREAM,
    NOT_AUDIO,
    decoded_duration,
)
from mus.adapters.scanner.duration_probe import AudioProbeError

from tests.odd_audio import cut, decoded_seconds, encode, video_only_ogg, within_tolerance


@pytest.mark.parametrize("name", ["ima-adpcm.wav", "mp3-in.wav", "vbr-no-xing.mp3", "opus.ogg"])
def test_decoded_seconds_match_ffmpeg_writing_pcm(tmp_path: Path, name: str) -> None:
    path = encode(tmp_path, name, seconds=3)
    assert within_tolerance(decoded_duration(path, display_name=name), decoded_seconds(path))


def test_a_file_cut_short_decodes_to_what_it_holds(tmp_path: Path) -> None:
    half = cut(encode(tmp_path, "plain.flac", seconds=4), 0.5, "half.flac")
    seconds = decoded_duration(half, display_name="half.flac")
    assert 1.0 < seconds < 3.0
    assert within_tolerance(seconds, decoded_seconds(half))


def test_video_only_is_no_audio_stream(tmp_path: Path) -> None:
    with pytest.raises(AudioProbeError) as raised:
        decoded_duration(video_only_ogg(tmp_path), display_name="v.ogg")
    assert str(raised.value) == NO_AUDIO_STREAM


def test_junk_is_not_audio_and_ffprobe_words_go_to_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(bytes(range(256)) * 40)
    with caplog.at_level(logging.INFO), pytest.raises(AudioProbeError) as raised:
        decoded_duration(junk, display_name="junk.mp3")
    assert str(raised.value) == NOT_AUDIO
    assert any("ffprobe could not read junk.mp3" in r.getMessage() for r in caplog.records)


def test_an_unknown_wav_codec_is_named_unsupported(tmp_path: Path) -> None:
    data = bytearray(encode(tmp_path, "pcm.wav", seconds=1).read_bytes())
    at = data.index(b"fmt ") + 8
    data[at : at + 2] = (0x1234).to_bytes(2, "little")
    odd = tmp_path / "odd.wav"
    odd.write_bytes(bytes(data))
    with pytest.raises(AudioProbeError, match=r"^unsupported codec"):
        decoded_duration(odd, display_name="odd.wav")
