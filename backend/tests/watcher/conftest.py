"""A real, empty temp music folder for the mapper tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def music_root(tmp_path: Path) -> Path:
    root = (tmp_path / "music").resolve()
    root.mkdir()
    return root
