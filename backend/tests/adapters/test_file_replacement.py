"""A changed copy renamed over the file: the change lands whole, or the file stays as it was.

The full disk is real: a small tmpfs filled with a filler file (root, unmounted afterwards).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from mutagen.wave import WAVE

from mus.adapters.file_replacement import TEMP_PREFIX, replace_with_changed_copy
from mus.adapters.resource_faults import FaultKind, ResourceUnavailableError, resource_fault
from mus.adapters.scanner.tag_editor import TagWriteError, write_tags
from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AudioSpec

from tests.small_mounts import fill, small_tmpfs

LONG_TITLE = "A title long enough to need more room in the tag chunk " * 100
PAGE = os.sysconf("SC_PAGE_SIZE")


def _wav(folder: Path) -> Path:
    return write_audio(AudioSpec("song.wav", "wav", title="Old", artist="Ann"), folder)


def _retag(title: str, suffix: str = ".wav") -> object:
    def change(copy: Path) -> None:
        write_tags(copy, title=title, artist=None, extension=suffix)

    return change


def _leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.startswith(TEMP_PREFIX))


def test_the_change_replaces_the_file_and_keeps_its_mode(tmp_path: Path) -> None:
    path = _wav(tmp_path)
    path.chmod(0o640)
    stat = replace_with_changed_copy(path, _retag("New"))  # type: ignore[arg-type]
    assert str(WAVE(path).tags["TIT2"]) == "New"
    assert stat.st_mode & 0o777 == 0o640
    assert stat.st_size == path.stat().st_size
    assert _leftovers(tmp_path) == []


def test_a_failing_change_leaves_the_file_byte_identical_and_no_copy(tmp_path: Path) -> None:
    path = _wav(tmp_path)
    before = path.read_bytes()

    def broken(copy: Path) -> None:
        copy.write_bytes(b"half")
        raise RuntimeError("writer crashed")

    with pytest.raises(RuntimeError):
        replace_with_changed_copy(path, broken)
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_a_wav_tag_edit_meeting_a_full_disk_leaves_the_file_byte_identical(
    tmp_path: Path,
) -> None:
    """In place, mutagen grew the WAV and then hit ENOSPC: the file was left longer (714
    bytes in the report, 2710 here) and not a valid edit. The copy takes the damage now."""
    with small_tmpfs(tmp_path / "full", 1024 * 1024) as folder:
        path = _wav(folder)
        before = path.read_bytes()
        # Room for the copy (whole pages of tmpfs), not for the longer tag chunk.
        fill(folder, leave_bytes=-(-len(before) // PAGE) * PAGE)
        with pytest.raises((TagWriteError, ResourceUnavailableError)) as raised:
            replace_with_changed_copy(path, _retag(LONG_TITLE))  # type: ignore[arg-type]
        fault = resource_fault(raised.value)
        assert fault is not None and fault.kind is FaultKind.NO_SPACE, raised.value
        assert path.read_bytes() == before
        assert _leftovers(folder) == []


def test_no_room_even_for_the_copy_leaves_the_file_byte_identical(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "full", 1024 * 1024) as folder:
        path = _wav(folder)
        before = path.read_bytes()
        fill(folder)
        with pytest.raises(OSError) as raised:
            replace_with_changed_copy(path, _retag("New"))  # type: ignore[arg-type]
        assert raised.value.errno == errno.ENOSPC
        assert path.read_bytes() == before
        assert _leftovers(folder) == []
