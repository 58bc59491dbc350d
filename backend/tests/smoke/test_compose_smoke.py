"""The smoke run's own rules: a check that cannot fail would prove nothing.

The containers themselves are run by `make compose-smoke`; these tests cover what decides
pass or fail from what it saw.
"""

from __future__ import annotations

from typing import Any

import pytest
from compose_smoke import Steps, kill_mid_batch
from library_api import LibraryApi
from podman_calls import SmokeCheckError


class ListedTracks(LibraryApi):
    """The api's answer to GET /api/v1/tracks, as given (no server)."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__(port=1)
        self.rows = rows

    def tracks(self) -> list[dict[str, Any]]:
        return self.rows


def row(path: str, status: str, track_id: int = 1) -> dict[str, Any]:
    return {"id": track_id, "file_path": path, "processing_status": status}


def test_a_kill_after_the_whole_batch_was_done_fails() -> None:
    api = ListedTracks([row("b/1.mp3", "COMPLETE"), row("b/2.mp3", "COMPLETE", 2)])
    killed = []
    with pytest.raises(SmokeCheckError, match="after all 2 files were COMPLETE"):
        kill_mid_batch(api, ["b/1.mp3", "b/2.mp3"], lambda: killed.append(True))
    assert killed == [True]


def test_a_kill_with_work_left_says_how_far_the_batch_was() -> None:
    api = ListedTracks([row("b/1.mp3", "COMPLETE"), row("b/2.mp3", "PENDING", 2)])
    said = kill_mid_batch(api, ["b/1.mp3", "b/2.mp3", "b/3.mp3"], lambda: None)
    assert said == "with 1 of 3 copied files COMPLETE"


def test_complete_needs_every_file_once_and_never_accepts_error_or_a_double() -> None:
    paths = ["a.mp3", "b.mp3"]
    assert ListedTracks([row("a.mp3", "COMPLETE")]).all_complete(paths) is None
    pending = ListedTracks([row("a.mp3", "COMPLETE"), row("b.mp3", "PENDING", 2)])
    assert pending.all_complete(paths) is None
    with pytest.raises(AssertionError, match="2 tracks for one file"):
        ListedTracks([row("a.mp3", "COMPLETE"), row("a.mp3", "COMPLETE", 2)]).all_complete(paths)
    with pytest.raises(AssertionError, match="ERROR"):
        ListedTracks([row("a.mp3", "ERROR")]).all_complete(paths)
    done = ListedTracks([row("a.mp3", "COMPLETE"), row("b.mp3", "COMPLETE", 2)])
    assert sorted(done.all_complete(paths) or {}) == paths


def test_a_failed_step_is_in_the_table_and_still_raised() -> None:
    steps = Steps()
    with steps.step("first"):
        pass
    with pytest.raises(SmokeCheckError), steps.step("second"):
        raise SmokeCheckError("seen")
    outcomes = [(name, outcome) for name, _, outcome in steps.done]
    assert outcomes == [("first", "ok"), ("second", "FAILED")]
    assert "second" in steps.table() and "FAILED" in steps.table()
