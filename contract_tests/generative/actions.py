"""What a history is made of: intents, resolved against the world's state when they run.

An action names its target by a slot (the n-th audio file on disk, the n-th track row),
not by a path, so that any prefix or subset of a history is still a valid history: that is
what lets Hypothesis shrink a difference down to the few actions that cause it. Resolution
reads only the folder and the database, so two backends that agree resolve alike; where
they disagree the resolved calls differ, and the transcripts show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from mus.demo.audio_spec import AudioFormat, AudioSpec

from generative.steps import (
    ApiCall,
    Discard,
    Drain,
    MakeFolder,
    OsEvents,
    Rename,
    Step,
    WriteFile,
    cover,
)

FOLDERS = ("", "Portishead", "Portishead/Dummy", "Björk")
NAMES = ("Roads", "Jóga", "track01")
TITLES = ("Roads", "Jóga", "Xtal", "Windowlicker")
ARTISTS = ("Portishead", "Björk", "Aphex Twin")
QUEUES = ("high_priority", "medium_priority", "low_priority")


@dataclass(frozen=True, slots=True)
class LibraryView:
    """What an action may target: audio files on disk and track rows, both sorted by path."""

    files: tuple[str, ...]
    folders: tuple[str, ...]
    tracks: tuple[tuple[str, str], ...]
    """(file_path, processing status) of every row."""
    ordinal: int = 0
    """The action's place in the history: names what it puts in the trash."""

    def trash_name(self) -> str:
        return f"trash-{self.ordinal}"


def _pick(items: tuple[str, ...], slot: int) -> str | None:
    return items[slot % len(items)] if items else None


def _join(folder: int, name: str) -> str:
    return str(PurePosixPath(FOLDERS[folder]) / name) if FOLDERS[folder] else name


def _tag(pool: tuple[str, ...], index: int | None) -> str | None:
    return None if index is None else pool[index]


@dataclass(frozen=True, slots=True)
class WriteNewFile:
    """A file of a generated spec appears (or replaces one) and the watcher sees it."""

    folder: int
    name: int
    audio_format: AudioFormat
    title: int | None
    artist: int | None
    cover_seed: int | None
    corrupt: bool

    def steps(self, view: LibraryView) -> list[Step]:
        path = _join(self.folder, f"{NAMES[self.name]}.{self.audio_format}")
        spec = AudioSpec(
            path,
            self.audio_format,
            title=_tag(TITLES, self.title),
            artist=_tag(ARTISTS, self.artist),
            cover=cover(self.cover_seed),
            corrupt=self.corrupt,
        )
        kind = "modified" if path in view.files else "added"
        return [WriteFile(spec), OsEvents([(kind, path)])]


@dataclass(frozen=True, slots=True)
class CopyAlbum:
    """Several files appear together, as a copy of an album: one watcher batch, whose new
    files go out as one batch job (`handle_files_created`) and one batch analysis."""

    folder: int
    formats: tuple[AudioFormat, ...]
    """One file per format, named NAMES[0], NAMES[1]... in the folder."""
    title: int | None
    corrupt: int | None
    """Which of them is garbage (none when None or past the end)."""

    def steps(self, view: LibraryView) -> list[Step]:
        writes: list[Step] = []
        changes: list[tuple[str, str]] = []
        for index, audio_format in enumerate(self.formats[: len(NAMES)]):
            path = _join(self.folder, f"{NAMES[index]}.{audio_format}")
            spec = AudioSpec(
                path,
                audio_format,
                title=_tag(TITLES, self.title),
                artist=ARTISTS[index % len(ARTISTS)],
                corrupt=index == self.corrupt,
            )
            writes.append(WriteFile(spec))
            changes.append(("modified" if path in view.files else "added", path))
        return [*writes, OsEvents(changes)]


@dataclass(frozen=True, slots=True)
class RetagFile:
    """Another program rewrites a file's tags (and cover) in place."""

    slot: int
    title: int | None
    artist: int | None
    cover_seed: int | None

    def steps(self, view: LibraryView) -> list[Step]:
        path = _pick(view.files, self.slot)
        if path is None:
            return []
        audio_format: AudioFormat = PurePosixPath(path).suffix[1:]  # type: ignore[assignment]
        spec = AudioSpec(
            path,
            audio_format,
            title=_tag(TITLES, self.title),
            artist=_tag(ARTISTS, self.artist),
            cover=cover(self.cover_seed),
        )
        return [WriteFile(spec), OsEvents([("modified", path)])]


@dataclass(frozen=True, slots=True)
class MoveFile:
    """A file is moved or renamed on disk (to a free name)."""

    slot: int
    folder: int
    name: int

    def steps(self, view: LibraryView) -> list[Step]:
        source = _pick(view.files, self.slot)
        if source is None:
            return []
        target = _join(self.folder, NAMES[self.name] + PurePosixPath(source).suffix)
        if target in view.files:
            return []
        return [Rename(source, target), OsEvents([("deleted", source), ("added", target)])]


@dataclass(frozen=True, slots=True)
class DeleteFile:
    slot: int

    def steps(self, view: LibraryView) -> list[Step]:
        path = _pick(view.files, self.slot)
        if path is None:
            return []
        return [Discard(path, view.trash_name()), OsEvents([("deleted", path)])]


@dataclass(frozen=True, slots=True)
class CreateFolder:
    folder: int

    def steps(self, view: LibraryView) -> list[Step]:
        path = FOLDERS[self.folder]
        if not path or path in view.folders:
            return []
        return [MakeFolder(path), OsEvents([("added", path)])]


@dataclass(frozen=True, slots=True)
class DeleteFolder:
    """A folder goes with everything in it; the OS reports the folder only."""

    folder: int

    def steps(self, view: LibraryView) -> list[Step]:
        path = FOLDERS[self.folder]
        if not path or path not in view.folders:
            return []
        return [Discard(path, view.trash_name()), OsEvents([("deleted", path)])]


@dataclass(frozen=True, slots=True)
class ApiEdit:
    slot: int
    title: int | None
    artist: int | None
    rename: bool

    def steps(self, view: LibraryView) -> list[Step]:
        track = _pick(tuple(path for path, _ in view.tracks), self.slot)
        if track is None:
            return []
        body: dict[str, object] = {"rename": self.rename}
        if self.title is not None:
            body["title"] = TITLES[self.title]
        if self.artist is not None:
            body["artist"] = ARTISTS[self.artist]
        return [ApiCall("PATCH", "/tracks/{track}", track=track, body=body)]


@dataclass(frozen=True, slots=True)
class ApiDelete:
    slot: int

    def steps(self, view: LibraryView) -> list[Step]:
        track = _pick(tuple(path for path, _ in view.tracks), self.slot)
        if track is None:
            return []
        return [ApiCall("DELETE", "/tracks/{track}", track=track)]


@dataclass(frozen=True, slots=True)
class ApiRequeue:
    """Requeue a track in error (any track when none is: the api then refuses)."""

    slot: int

    def steps(self, view: LibraryView) -> list[Step]:
        errors = tuple(path for path, status in view.tracks if status == "ERROR")
        track = _pick(errors or tuple(path for path, _ in view.tracks), self.slot)
        if track is None:
            return []
        return [ApiCall("POST", "/errors/{track}/requeue", track=track)]


@dataclass(frozen=True, slots=True)
class ApiUpload:
    audio_format: AudioFormat
    name: int
    title: int
    artist: int | None
    cover_seed: int | None

    def steps(self, view: LibraryView) -> list[Step]:
        spec = AudioSpec(
            f"upload.{self.audio_format}", self.audio_format, cover=cover(self.cover_seed)
        )
        form = {"title": TITLES[self.title]}
        if self.artist is not None:
            form["artist"] = ARTISTS[self.artist]
        upload = (f"{NAMES[self.name]}.{self.audio_format}", spec)
        return [ApiCall("POST", "/tracks/upload", upload=upload, form=form)]


@dataclass(frozen=True, slots=True)
class ApiPlayer:
    """The player plays a track (or nothing) at some progress and volume."""

    slot: int | None
    progress: float
    volume: float

    def steps(self, view: LibraryView) -> list[Step]:
        paths = tuple(path for path, _ in view.tracks)
        track = None if self.slot is None else _pick(paths, self.slot)
        body = {"current_track_id": None, "progress_seconds": self.progress, "volume": self.volume}
        return [ApiCall("PUT", "/player/state", track=track, body=body)]


@dataclass(frozen=True, slots=True)
class DrainAll:
    """Let every queue drain (invariants are checked after it)."""

    def steps(self, view: LibraryView) -> list[Step]:
        return [Drain()]


@dataclass(frozen=True, slots=True)
class DrainQueue:
    """Let one queue's jobs run while the others wait."""

    queue: int

    def steps(self, view: LibraryView) -> list[Step]:
        return [Drain((QUEUES[self.queue],))]


Action = (
    WriteNewFile
    | CopyAlbum
    | RetagFile
    | MoveFile
    | DeleteFile
    | CreateFolder
    | DeleteFolder
    | ApiEdit
    | ApiDelete
    | ApiRequeue
    | ApiUpload
    | ApiPlayer
    | DrainAll
    | DrainQueue
)


@dataclass(frozen=True, slots=True)
class History:
    """One generated history; `one_at_a_time` runs one worker at concurrency 1."""

    one_at_a_time: bool
    actions: tuple[Action, ...]
