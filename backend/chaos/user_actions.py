"""What a user does during `make chaos --faults`, and whether each was done as asked.

An edit (a new title) and a deletion go through the HTTP api while a fault holds. The api
may accept (2xx: then it must end done, in the row and in the file) or refuse with a
sentence (then nothing may have changed); anything else, or an accepted action left undone,
is a failure the run reports.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from mutagen import File as MutagenFile

REQUEST_TIMEOUT_SECONDS = 90.0
# Refusals that say what is wrong and change nothing: busy, no space, read-only.
REFUSALS_WITH_A_REASON = frozenset({409, 503, 507})


@dataclass
class UserAction:
    kind: str  # "edit" or "delete"
    path: str
    track_id: int
    old_title: str | None
    new_title: str | None
    old_digest: str | None = None  # the file's bytes before the action
    status: int = 0
    answer: str = ""

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300

    def describe(self) -> str:
        what = f"edit title to {self.new_title!r}" if self.kind == "edit" else "delete"
        return f"{what} of {self.path} (track {self.track_id}): {self.status} {self.answer[:160]}"


def pick_track(database: Path, taken: set[str]) -> tuple[int, str, str | None] | None:
    """A COMPLETE track no action touched yet: (id, path, title)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as db:
        rows = db.execute(
            "SELECT id, file_path, title FROM tracks WHERE processing_status = 'COMPLETE' "
            "ORDER BY id"
        ).fetchall()
    for track_id, path, title in rows:
        if path not in taken:
            return int(track_id), str(path), title
    return None


def act(
    port: int, database: Path, music: Path, kind: str, *, taken: set[str], label: str
) -> UserAction | None:
    """One edit or deletion through the api, on a COMPLETE track; None when there is none."""
    picked = pick_track(database, taken)
    if picked is None:
        return None
    track_id, path, title = picked
    taken.add(path)
    new_title = f"Chaos {label}" if kind == "edit" else None
    action = UserAction(kind, path, track_id, title, new_title, file_digest(music / path))
    url = f"http://127.0.0.1:{port}/api/v1/tracks/{track_id}"
    if kind == "edit":
        body = json.dumps({"title": new_title}).encode()
        request = urllib.request.Request(
            url, data=body, method="PATCH", headers={"Content-Type": "application/json"}
        )
    else:
        request = urllib.request.Request(url, method="DELETE")
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
            action.status, action.answer = response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        action.status, action.answer = exc.code, exc.read().decode(errors="replace")
    except OSError as exc:
        action.status, action.answer = -1, f"no answer: {exc}"
    return action


def file_digest(path: Path) -> str | None:
    """The file's bytes as a SHA-256, None when it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def file_title(path: Path) -> str | None:
    audio = MutagenFile(path, easy=True)
    if audio is None or audio.tags is None:
        return None
    values = audio.tags.get("title")
    return str(values[0]) if values else None


def problem(action: UserAction, database: Path, music: Path) -> str | None:
    """Why the action is not done as asked (or not yet), None when it is."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as db:
        row = db.execute(
            "SELECT title FROM tracks WHERE id = ? AND file_path = ?",
            (action.track_id, action.path),
        ).fetchone()
    on_disk = music / action.path
    if not action.accepted and action.status not in REFUSALS_WITH_A_REASON:
        return f"answered {action.status}: {action.answer[:200]}"
    if action.kind == "delete":
        gone = row is None and not on_disk.exists()
        kept = row is not None and on_disk.exists()
        if action.accepted and not gone:
            row_state = "kept" if row else "gone"
            file_state = "kept" if on_disk.exists() else "gone"
            return f"accepted, but row {row_state}, file {file_state}"
        if not action.accepted and not kept:
            return "refused, but the track changed"
        return None
    if row is None or not on_disk.exists():
        return "the edited track's row or file is gone"
    if not action.accepted:  # refused: the row's title and the file's bytes as they were
        if row[0] != action.old_title or file_digest(on_disk) != action.old_digest:
            return f"refused, but changed: title in the row {row[0]!r}, file bytes changed"
        return None
    tag = file_title(on_disk)
    if row[0] != action.new_title or tag != action.new_title:
        return f"title in the row {row[0]!r}, in the file {tag!r}, expected {action.new_title!r}"
    return None
