"""Slow analysis on a corpus of odd real-world files, made at test time with ffmpeg and mutagen.

Each file asserts its status, that a COMPLETE duration is within max(2 %, 0.1 s) of what
ffmpeg decodes (measured in tests/odd_audio.py, not by mus), the title its tags give, that an
ERROR says what happened in a person's words, and that the scan left the file's bytes as they
were (default settings).
"""

# mutagen ships partial annotations (untyped constructors).
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import hashlib
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from mutagen.id3 import ID3

from mus.adapters.persistence.database import Database
from mus.application.slow_analysis import analyse_track
from mus.core.config import Settings
from mus.domain.track import ProcessingStatus

from tests.application.test_slow_analysis import load, register
from tests.odd_audio import (
    ENCODINGS,
    append_ape,
    append_id3v1,
    append_lyrics3,
    cut,
    decoded_seconds,
    encode,
    encoder_available,
    tag_v22,
    tag_v23,
    tag_v24,
    video_only_ogg,
    within_tolerance,
)

HUMAN_WORDS = ("cut short", "no audio stream", "not an audio file", "unsupported codec")
CLAIMING = ("pcm.wav", "ima-adpcm.wav", "cbr.mp3", "vbr.mp3", "plain.flac", "aac-faststart.m4a")
SELF_MEASURING = ("vorbis.ogg", "opus.ogg", "flac-in.ogg")


@dataclass(frozen=True, slots=True)
class Expected:
    status: ProcessingStatus | None  # None: COMPLETE or a worded ERROR, either is right
    title: str | None = None
    words: str | None = None


def _wav_header_only(folder: Path) -> Path:
    source = folder / "pcm.wav"
    data = source.read_bytes()
    target = folder / "header-only.wav"
    target.write_bytes(data[: data.index(b"data") + 8])
    return target


def _flac_header_only(folder: Path) -> Path:
    data = (folder / "plain.flac").read_bytes()
    position = 4
    while True:  # metadata blocks: 1 byte last-flag|type, 3 bytes length
        last = data[position] & 0x80
        position += 4 + int.from_bytes(data[position + 1 : position + 4], "big")
        if last:
            break
    target = folder / "header-only.flac"
    target.write_bytes(data[:position])
    return target


def _unknown_codec_wav(folder: Path) -> Path:
    data = bytearray((folder / "pcm.wav").read_bytes())
    at = data.index(b"fmt ") + 8
    data[at : at + 2] = (0x1234).to_bytes(2, "little")
    target = folder / "unknown-codec.wav"
    target.write_bytes(bytes(data))
    return target


def _tagged(folder: Path, name: str, tagger: Callable[[Path], None]) -> Path:
    target = folder / name
    shutil.copyfile(folder / "cbr.mp3", target)
    tagger(target)
    return target


def _with_end_tags(path: Path) -> None:
    tag_v24(path)
    append_lyrics3(path, "la la la")
    append_id3v1(path, "v1 title", "v1 artist", "v1 album")


def _with_ape(path: Path) -> None:
    tag_v23(path)
    append_ape(path, {"Title": "ape title", "Comment": "foobar"})


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Expected]]:
    """Every odd file once per module, with what its analysis must give."""
    folder = tmp_path_factory.mktemp("corpus")
    files: dict[str, tuple[Path, Expected]] = {}
    for name in ENCODINGS:
        if name == "gsm.wav" and not encoder_available("libgsm_ms"):
            continue  # this ffmpeg has no GSM encoder: the "if the ffmpeg has it"
        files[name] = (encode(folder, name), Expected(ProcessingStatus.COMPLETE))
    for name in CLAIMING:
        # 1 % of a file may be too little to tell what it was: any worded error will do.
        for share in (0.01, 0.10, 0.50):
            cut_name = f"cut-{int(share * 100)}-{name}"
            files[cut_name] = (cut(folder / name, share, cut_name), Expected(None))
        half = f"cut-50-{name}"
        files[half] = (files[half][0], Expected(ProcessingStatus.ERROR, words="cut short:"))
    # An MP4 with its index (moov) at the end, cut in half: the index is gone.
    files["cut-50-aac.m4a"] = (
        cut(folder / "aac.m4a", 0.5, "cut-50-aac.m4a"),
        Expected(ProcessingStatus.ERROR, words="the index of its audio (moov) is missing"),
    )
    for name in SELF_MEASURING:
        for share in (0.10, 0.50):
            cut_name = f"cut-{int(share * 100)}-{name}"
            files[cut_name] = (cut(folder / name, share, cut_name), Expected(None))
    files["header-only.wav"] = (
        _wav_header_only(folder),
        Expected(ProcessingStatus.ERROR, words="cut short: 0.0 s of audio of the 12.0 s"),
    )
    files["header-only.flac"] = (
        _flac_header_only(folder),
        Expected(ProcessingStatus.ERROR, words="cut short"),
    )
    files["video-only.ogg"] = (
        video_only_ogg(folder),
        Expected(ProcessingStatus.ERROR, words="no audio stream"),
    )
    files["unknown-codec.wav"] = (
        _unknown_codec_wav(folder),
        Expected(ProcessingStatus.ERROR, words="unsupported codec"),
    )
    junk = folder / "junk.mp3"
    junk.write_bytes(bytes(range(256)) * 40)
    files["junk.mp3"] = (junk, Expected(ProcessingStatus.ERROR, words="not an audio file"))
    tagged = {
        "id3v22.mp3": (tag_v22, "Title 2.2"),
        "id3v23-huge-frame.mp3": (tag_v23, "Title 2.3"),
        "id3v24-lyrics3-v1.mp3": (_with_end_tags, "Title 2.4 ✓"),
        "id3v23-ape.mp3": (_with_ape, "Title 2.3"),
    }
    for name, (tagger, title) in tagged.items():
        files[name] = (_tagged(folder, name, tagger), Expected(ProcessingStatus.COMPLETE, title))
    cut_tagged = cut(folder / "id3v24-lyrics3-v1.mp3", 0.5, "cut-50-tagged.mp3")
    files["cut-50-tagged.mp3"] = (
        cut_tagged,
        Expected(ProcessingStatus.ERROR, "Title 2.4 ✓", "cut short"),
    )
    # The ID3 tag and a few bytes of audio: mutagen cannot parse it as MP3, its tags still read.
    tags_only = folder / "tags-then-nothing.mp3"
    tag_size = ID3(folder / "id3v24-lyrics3-v1.mp3").size
    tags_only.write_bytes((folder / "id3v24-lyrics3-v1.mp3").read_bytes()[: tag_size + 100])
    files["tags-then-nothing.mp3"] = (tags_only, Expected(ProcessingStatus.ERROR, "Title 2.4 ✓"))
    return files


@pytest.fixture
def library_settings(tmp_path: Path) -> Settings:
    value = Settings(DATA_DIR_PATH=tmp_path / "data", MUSIC_DIR_PATH=tmp_path / "music")
    value.ensure_directories()
    return value


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 't.db'}")
    await database.create_tables()
    try:
        yield database
    finally:
        await database.dispose()


CASES = (
    [*ENCODINGS]
    + [f"cut-{p}-{n}" for n in CLAIMING for p in (1, 10, 50)]
    + [f"cut-{p}-{n}" for n in SELF_MEASURING for p in (10, 50)]
    + ["cut-50-aac.m4a"]
    + ["header-only.wav", "header-only.flac", "video-only.ogg", "unknown-codec.wav", "junk.mp3"]
    + ["id3v22.mp3", "id3v23-huge-frame.mp3", "id3v24-lyrics3-v1.mp3", "id3v23-ape.mp3"]
    + ["cut-50-tagged.mp3", "tags-then-nothing.mp3"]
)


@pytest.mark.parametrize("name", CASES)
async def test_odd_file(
    name: str,
    corpus: dict[str, tuple[Path, Expected]],
    db: Database,
    library_settings: Settings,
) -> None:
    if name not in corpus:
        pytest.fail(f"{name} was not made: this ffmpeg lacks its encoder")
    source, expected = corpus[name]
    path = library_settings.music_dir_path / name
    shutil.copyfile(source, path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    mtime = path.stat().st_mtime_ns
    truth = decoded_seconds(path)
    track = await register(db, library_settings, path)

    result = await analyse_track(db, library_settings, track.id, revision=track.revision)

    analysed = await load(db, track.id)
    assert analysed is not None
    status = analysed.processing_status
    if expected.status is not None:
        assert status is expected.status, (name, analysed.last_error, truth)
    if status is ProcessingStatus.COMPLETE:
        assert analysed.duration is not None and truth > 0, (name, truth)
        assert within_tolerance(analysed.duration, truth), (name, analysed.duration, truth)
    else:
        assert status is ProcessingStatus.ERROR, name
        assert analysed.last_error is not None
        message = analysed.last_error.error_message
        assert any(words in message for words in HUMAN_WORDS), (name, message)
        assert "ffprobe" not in message and "@ 0x" not in message, message
        if expected.words is not None:
            assert expected.words in message, (name, message)
    if expected.title is not None:
        assert analysed.title == expected.title, (name, analysed.title)
    assert result.outcome.value == status.value.lower()
    # The scan read the file and wrote nothing to it.
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before, name
    assert path.stat().st_mtime_ns == mtime, name


async def test_cut_short_message_names_what_decodes_and_what_the_header_claims(
    corpus: dict[str, tuple[Path, Expected]], db: Database, library_settings: Settings
) -> None:
    path = library_settings.music_dir_path / "half.flac"
    shutil.copyfile(corpus["cut-50-plain.flac"][0], path)
    truth = decoded_seconds(path)
    track = await register(db, library_settings, path)
    await analyse_track(db, library_settings, track.id)
    analysed = await load(db, track.id)
    assert analysed is not None and analysed.last_error is not None
    message = analysed.last_error.error_message
    assert (
        message == f"the file is cut short: {truth:.1f} s of audio of the 12.0 s its header claims"
    )
