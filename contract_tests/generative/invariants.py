"""What must hold after every full drain, on every backend, whatever the history was."""

from __future__ import annotations

from collections import Counter
from pathlib import Path, PurePosixPath

from mus.adapters.persistence.track_repository import TrackRepository
from mus.adapters.scanner.cover_store import CoverStore
from mus.adapters.scanner.fast_metadata import _read_tags
from mus.domain.audio_formats import is_audio_path
from mus.domain.track import ProcessingStatus

from harness.world import World


def audio_files(music: Path) -> tuple[str, ...]:
    """Audio files the library should hold: audio names, outside hidden folders, sorted."""
    found = []
    for path in music.rglob("*"):
        relative = PurePosixPath(path.relative_to(music).as_posix())
        hidden = any(part.startswith(".") for part in relative.parts[:-1])
        if path.is_file() and not hidden and is_audio_path(relative):
            found.append(str(relative))
    return tuple(sorted(found))


def folders(music: Path) -> tuple[str, ...]:
    return tuple(sorted(p.relative_to(music).as_posix() for p in music.rglob("*") if p.is_dir()))


async def invariant_problems(world: World) -> list[str]:
    """One sentence per broken invariant: rows and files one to one, nothing PENDING,
    every cover a row claims on disk, and each row's title and artist those its tags say."""
    async with world.database.session() as session:
        rows = await TrackRepository(session).list_tracks()
    files = audio_files(world.music)
    problems = []
    per_path = Counter(row.file_path for row in rows)
    for file_path in files:
        if per_path[file_path] != 1:
            problems.append(f"{file_path}: {per_path[file_path]} rows for one file")
    covers = CoverStore(world.settings.covers_dir_path)
    for row in rows:
        path = world.music / row.file_path
        if row.file_path not in files:
            problems.append(f"{row.file_path}: a row without its file")
            continue
        if row.processing_status is ProcessingStatus.PENDING:
            problems.append(f"{row.file_path}: still PENDING after a full drain")
        if row.has_cover and not covers.exists(row.id):
            problems.append(f"{row.file_path}: has_cover but its cover files are missing")
        problems += _tag_problems(path, row.file_path, row.title, row.artist)
    return problems


def _tag_problems(path: Path, file_path: str, title: str | None, artist: str | None) -> list[str]:
    """A tag the file carries must be the row's value. A title guessed from the file name
    (no tag) is not compared: a move keeps the row, and the guess, as they were."""
    with path.open("rb") as file:
        tag_title, tag_artist, _duration = _read_tags(file)  # mus's own tag reading
    problems = []
    for name, tagged, stored in (("title", tag_title, title), ("artist", tag_artist, artist)):
        if tagged is not None and tagged != stored:
            problems.append(f"{file_path}: the file's {name} tag is {tagged!r}, its row {stored!r}")
    return problems
