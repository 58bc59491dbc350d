"""The trust rule on real files: whole files keep mutagen's length (no subprocess), files whose
header claims more than they hold are sent to decoding with the claim, and the claim against
what decodes gives the cut-short sentence."""

from __future__ import annotations

from pathlib import Path

import mutagen
import pytest

from mus.adapters.scanner.playable_duration import (
    CutShortError,
    DurationVerdict,
    judge_duration,
    settle,
)

from tests.odd_audio import ENCODINGS, cut, decoded_seconds, encode, within_tolerance

TRUSTED = ("pcm.wav", "vorbis.ogg", "opus.ogg", "flac-in.ogg", "cbr.mp3", "vbr.mp3")
TRUSTED += ("plain.flac", "aac.m4a", "aac-faststart.m4a", "alac.m4a")
DECODED = ("ima-adpcm.wav", "mp3-in.wav", "vbr-no-xing.mp3")


def judge(path: Path) -> DurationVerdict:
    with path.open("rb") as file:
        return judge_duration(mutagen.File(path), file, path.stat().st_size)


@pytest.mark.parametrize("name", TRUSTED)
def test_a_whole_file_of_a_reliable_format_is_trusted(tmp_path: Path, name: str) -> None:
    path = encode(tmp_path, name, seconds=3)
    verdict = judge(path)
    assert verdict.duration is not None, verdict.reason
    assert within_tolerance(verdict.duration, decoded_seconds(path))


@pytest.mark.parametrize("name", DECODED)
def test_compressed_wav_and_mp3_without_xing_are_never_trusted(tmp_path: Path, name: str) -> None:
    assert name in ENCODINGS
    verdict = judge(encode(tmp_path, name, seconds=3))
    assert verdict.duration is None and verdict.reason


@pytest.mark.parametrize("name", ["pcm.wav", "cbr.mp3", "plain.flac", "aac-faststart.m4a"])
def test_a_header_the_file_cannot_hold_goes_to_decoding_with_its_claim(
    tmp_path: Path, name: str
) -> None:
    half = cut(encode(tmp_path, name, seconds=4), 0.5, f"half-{name}")
    verdict = judge(half)
    assert verdict.duration is None
    assert verdict.claimed is not None and within_tolerance(verdict.claimed, 4.0)


def test_what_mutagen_cannot_parse_is_decoded_without_a_claim(tmp_path: Path) -> None:
    path = tmp_path / "x.mp3"
    path.write_bytes(b"\0" * 500)
    with path.open("rb") as file:
        assert judge_duration(None, file, 500) == DurationVerdict(
            None, None, "not parsed by mutagen"
        )


def test_settle_keeps_what_decodes_within_tolerance_and_names_a_cut() -> None:
    assert settle(11.9, 12.0) == 11.9
    assert settle(3.0, None) == 3.0
    with pytest.raises(
        CutShortError, match=r"^the file is cut short: 5\.3 s of audio of the 12\.0 s its header"
    ):
        settle(5.33, 12.0)
    with pytest.raises(CutShortError, match="holds no audio"):
        settle(0.0, None)
