"""The permissions report says which folder is the problem."""

from __future__ import annotations

from pathlib import Path

from mus.api.permissions import check_permissions, path_access
from mus.core.config import Settings


def test_a_ready_installation_is_ok(settings: Settings) -> None:
    report = check_permissions(settings)
    assert report.ok
    assert report.problems == []
    assert report.database_file.exists is False  # created by the first start


def test_missing_folders_are_named(tmp_path: Path, settings: Settings) -> None:
    fresh = settings.model_copy(
        update={"data_dir_path": tmp_path / "nowhere", "music_dir_override": tmp_path / "nomusic"}
    )
    report = check_permissions(fresh)
    assert not report.ok
    assert report.music_dir.exists is False
    assert any("music folder" in problem and "nomusic" in problem for problem in report.problems)
    assert any("covers folder" in problem for problem in report.problems)


def test_path_access_of_a_file(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("x")
    access = path_access(path)
    assert (access.exists, access.readable, access.writable) == (True, True, True)
    assert path_access(tmp_path / "missing").readable is False
