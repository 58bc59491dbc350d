"""One normalised, readable document of what a scenario left behind."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from mus.adapters.persistence.database import Database
from mus.adapters.persistence.player_state_repository import PlayerStateRepository
from mus.adapters.persistence.track_repository import TrackRepository
from mus.adapters.scanner.cover_store import STORE_DIR_NAME
from mus.application.job_catalogue import QUEUES_BY_PRIORITY
from mus.core.config import Settings

from harness.normaliser import Normaliser
from harness.queue_backend import ExecutedJob

COVER_NAME = re.compile(r"^(?P<track_id>\d+)_(?P<size>original|small)\.webp$")
QUEUE_ORDER = {queue.value: index for index, queue in enumerate(QUEUES_BY_PRIORITY)}


@dataclass(frozen=True, slots=True)
class RunLog:
    """What the harness observed during the scenario, beside the database and folders."""

    events: list[dict[str, Any]]
    jobs: list[ExecutedJob]
    one_at_a_time: bool = False


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def music_tree(music_dir: Path) -> list[dict[str, Any]]:
    """Every file under the music folder with size and content hash (hidden files too)."""
    return [
        {
            "path": path.relative_to(music_dir).as_posix(),
            "size": path.stat().st_size,
            "sha256": file_digest(path),
        }
        for path in sorted(music_dir.rglob("*"))
        if path.is_file()
    ]


def track_paths(rows: list[dict[str, Any]], log: RunLog) -> dict[int, str]:
    """id -> the path a track was first known by: events in order, then surviving rows."""
    paths: dict[int, str] = {}
    for event in log.events:
        if isinstance(event.get("track_id"), int) and isinstance(event.get("file_path"), str):
            paths.setdefault(event["track_id"], event["file_path"])
    for row in rows:
        paths.setdefault(row["id"], row["file_path"])
    return paths


async def record(settings: Settings, database: Database, log: RunLog) -> dict[str, Any]:
    """Read the database, the folders, the events and the jobs into one normalised document."""
    async with database.session() as session:
        tracks = await TrackRepository(session).list_tracks()
        player = await PlayerStateRepository(session).get()
    rows = [
        {
            "id": t.id,
            "file_path": t.file_path,
            "title": t.title,
            "artist": t.artist,
            "duration": t.duration,
            "has_cover": t.has_cover,
            "processing_status": t.processing_status.value,
            "revision": t.revision,
            "content_hash": t.content_hash,
            "inode": t.inode,
            "file_mtime": t.file_mtime,
            "added_at": t.added_at,
            "updated_at": t.updated_at,
            "last_error": t.last_error.to_json() if t.last_error else None,
        }
        for t in tracks
    ]
    normaliser = Normaliser(
        settings.data_dir_path.resolve(), settings.music_dir_path, track_paths(rows, log)
    )
    normalised_tracks = sorted(
        ({"track": normaliser.track_label(row.pop("id")), **normaliser.value(row)} for row in rows),
        key=lambda row: row["file_path"],
    )
    return {
        "tracks": normalised_tracks,
        "player": normaliser.value(
            {
                "current_track_id": player.current_track_id,
                "progress_seconds": player.progress_seconds,
                "volume": player.volume,
                "is_muted": player.is_muted,
            }
        ),
        "errors": [
            {
                "track": row["track"],
                "job_name": row["last_error"]["job_name"],
                "error_message": row["last_error"]["error_message"],
            }
            for row in normalised_tracks
            if row["last_error"]
        ],
        "music_files": music_tree(settings.music_dir_path),
        "covers": covers(settings.covers_dir_path, normaliser),
        "events": events_by_track(log.events, normaliser),
        "jobs": executed_jobs(log.jobs, normaliser),
        **({"run_order": run_order(log.jobs)} if log.one_at_a_time else {}),
    }


def covers(covers_dir: Path, normaliser: Normaliser) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in sorted(covers_dir.glob("*")):
        if path.name == STORE_DIR_NAME and path.is_dir():
            # The content store behind the per-track names (hard links into it): what the
            # api serves, and so the contract, is the per-track names recorded here; the
            # store's sharing and clean-up are tested in backend/tests (cover_store, jobs).
            continue
        match = COVER_NAME.match(path.name)
        if match is None:
            found.append({"unexpected_file": path.name})
            continue
        with Image.open(path) as image:
            found.append(
                {
                    "track": normaliser.track_label(int(match["track_id"])),
                    "size": match["size"],
                    "format": image.format,
                    "dimensions": list(image.size),
                }
            )
    return sorted(found, key=lambda cover: json.dumps(cover, sort_keys=True))


def events_by_track(events: list[dict[str, Any]], normaliser: Normaliser) -> dict[str, list[Any]]:
    """Per track, its events in publication order (causal, hence stable); tracks sorted."""
    grouped: dict[str, list[Any]] = {}
    for event in events:
        label = normaliser.track_label(event.get("track_id")) or "<library>"
        body = {key: value for key, value in event.items() if key != "track_id"}
        grouped.setdefault(label, []).append(normaliser.value(body))
    return dict(sorted(grouped.items()))


def executed_jobs(jobs: list[ExecutedJob], normaliser: Normaliser) -> list[dict[str, Any]]:
    """Jobs as a sorted multiset: observed queue, task, arguments, outcome (or the failure's
    error class and message) and how often the backend ran it. With many jobs at once the run
    order is not contract; `run_order` records it when the world ran one job at a time."""
    rows = [
        {
            "queue": job.queue,
            "task": job.task,
            "kwargs": normaliser.value(job.kwargs),
            "success": job.success,
            "outcome": normaliser.value(job.outcome),
            "tries": job.tries,
        }
        for job in jobs
    ]
    return sorted(
        rows,
        key=lambda row: (
            QUEUE_ORDER.get(row["queue"], 99),
            row["task"],
            json.dumps(row["kwargs"], sort_keys=True),
            json.dumps(row["outcome"], sort_keys=True),
        ),
    )


def run_order(jobs: list[ExecutedJob]) -> list[str]:
    """The order one worker started jobs in, as runs of one queue: `queue: task x n, …`.

    Within a run the tasks are counted, not ordered: jobs queued in the same millisecond have
    no defined order on arq's sorted set. What is contract is which queue went first.
    """
    started = sorted((job for job in jobs if job.started is not None), key=lambda j: j.started or 0)
    runs: list[tuple[str, Counter[str]]] = []
    for job in started:
        if not runs or runs[-1][0] != job.queue:
            runs.append((job.queue, Counter()))
        runs[-1][1][job.task] += 1
    return [
        f"{queue}: " + ", ".join(f"{task} x {count}" for task, count in sorted(tasks.items()))
        for queue, tasks in runs
    ]


def at_least_once(recording: dict[str, Any]) -> dict[str, Any]:
    """The part of a recording that at-least-once delivery fixes, after a worker was killed.

    A redelivered job runs again and may report another outcome (`added` the first time,
    `unchanged` the second), and events of a cut-off run are not published: those vary with
    the moment of the kill. What does not vary, and is kept: the final rows, files, covers and
    errors, and which job ran, at least once, for which track (a lost job is a missing entry).
    """
    ran = sorted(
        {
            # Jobs the killed process ran before it died were not seen consumed by streaq's
            # hook; the queue they name is the catalogue's (see `StreaqBackend`).
            (
                job["task"],
                job["queue"].removesuffix(" (not observed)"),
                str(job["outcome"].get("track_id")),
            )
            for job in recording["jobs"]
            if job["success"] and isinstance(job["outcome"], dict)
        }
    )
    return {
        **{key: value for key, value in recording.items() if key not in {"events", "jobs"}},
        "events": "<not compared: a killed worker's jobs ran again>",
        "jobs": [
            {"task": task, "queue": queue, "track": track, "ran": ">= 1"}
            for task, queue, track in ran
        ],
    }
