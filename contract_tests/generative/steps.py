"""Concrete world calls: each runs on a World and renders as the scenario line that does it.

A generated action is resolved into these against the world's state at that moment; the
rendered lines are both part of what the two backends must agree on and, for a difference,
the body of a ready-to-paste contract scenario.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from mus.demo.audio_generator import audio_bytes
from mus.demo.audio_spec import AudioSpec, CoverSpec

from harness.world import World

MIME_TYPES = {"mp3": "audio/mpeg", "flac": "audio/flac", "ogg": "audio/ogg", "m4a": "audio/mp4",
              "wav": "audio/wav"}  # fmt: skip


class Step(Protocol):
    """One call on the world; `render` is valid Python inside `async def …(world: World)`."""

    async def run(self, world: World) -> None: ...

    def render(self) -> list[str]: ...


def spec_code(spec: AudioSpec) -> str:
    """An AudioSpec as the shortest constructor call that rebuilds it."""
    parts = [repr(spec.relative_path), repr(spec.audio_format)]
    for name in ("title", "artist"):
        value = getattr(spec, name)
        if value is not None:
            parts.append(f"{name}={value!r}")
    if spec.cover is not None:
        parts.append(f"cover=CoverSpec(seed={spec.cover.seed})")
    if spec.corrupt:
        parts.append("corrupt=True")
    return f"AudioSpec({', '.join(parts)})"


def music(path: str) -> str:
    return f"(world.music / {path!r})"


@dataclass(slots=True)
class WriteFile:
    spec: AudioSpec

    async def run(self, world: World) -> None:
        world.write(self.spec)

    def render(self) -> list[str]:
        return [f"world.write({spec_code(self.spec)})"]


@dataclass(slots=True)
class OsEvents:
    """Time passes (mus's own write locks run out), then the watcher sees one batch."""

    changes: list[tuple[str, str]]

    async def run(self, world: World) -> None:
        await world.let_write_locks_expire()
        await world.os_events(self.changes)

    def render(self) -> list[str]:
        return ["await world.let_write_locks_expire()", f"await world.os_events({self.changes!r})"]


@dataclass(slots=True)
class Discard:
    """A file or folder leaves the library for a trash outside it, as a desktop deletes.

    Its inode stays taken: an unlinked file's inode number may go to the next new file,
    which the watcher then pairs into a move (change_mapper's documented "false move"), so
    the recording would depend on the file system's allocation, not on the backend.
    """

    path: str
    trash_name: str

    async def run(self, world: World) -> None:
        (world.music / self.path).rename(world.settings.data_dir_path / self.trash_name)

    def render(self) -> list[str]:
        return [f"{music(self.path)}.rename(world.settings.data_dir_path / {self.trash_name!r})"]


@dataclass(slots=True)
class Rename:
    source: str
    target: str

    async def run(self, world: World) -> None:
        (world.music / self.target).parent.mkdir(parents=True, exist_ok=True)
        (world.music / self.source).rename(world.music / self.target)

    def render(self) -> list[str]:
        return [
            f"{music(self.target)}.parent.mkdir(parents=True, exist_ok=True)",
            f"{music(self.source)}.rename(world.music / {self.target!r})",
        ]


@dataclass(slots=True)
class MakeFolder:
    path: str

    async def run(self, world: World) -> None:
        (world.music / self.path).mkdir(parents=True, exist_ok=True)

    def render(self) -> list[str]:
        return [f"{music(self.path)}.mkdir(parents=True, exist_ok=True)"]


@dataclass(slots=True)
class Drain:
    queues: tuple[str, ...] = ()

    async def run(self, world: World) -> None:
        await world.drain(*self.queues)

    def render(self) -> list[str]:
        return [f"await world.drain({', '.join(repr(q) for q in self.queues)})"]


@dataclass(slots=True)
class OneJobAtATime:
    async def run(self, world: World) -> None:
        world.run_one_job_at_a_time()

    def render(self) -> list[str]:
        return ["world.run_one_job_at_a_time()"]


def _track(path: str) -> str:
    return f"{{await world.track_id({path!r})}}"


@dataclass(slots=True)
class ApiCall:
    """An HTTP call through the ASGI app; the status it got is part of the transcript.

    `track` is the path of the track whose id goes into the url (`{track}`) or, for the
    player, into `current_track_id`.
    """

    method: str
    url: str
    track: str | None = None
    body: dict[str, Any] | None = None
    upload: tuple[str, AudioSpec] | None = None
    form: dict[str, str] | None = None
    status: int | None = field(default=None, compare=False)

    async def run(self, world: World) -> None:
        api = await world.api()
        track_id = await world.track_id(self.track) if self.track is not None else None
        url = self.url.format(track=track_id)
        kwargs: dict[str, Any] = {}
        if self.body is not None:
            body = dict(self.body)
            if "current_track_id" in body:
                body["current_track_id"] = track_id
            kwargs["json"] = body
        if self.upload is not None:
            name, spec = self.upload
            kwargs["files"] = {"file": (name, audio_bytes(spec), MIME_TYPES[spec.audio_format])}
            kwargs["data"] = self.form or {}
        response = await api.request(self.method, url, **kwargs)
        self.status = response.status_code

    def _body_code(self) -> str:
        items = []
        for key, value in (self.body or {}).items():
            code = repr(value)
            if key == "current_track_id" and self.track is not None:
                code = f"await world.track_id({self.track!r})"
            items.append(f"{key!r}: {code}")
        return "{" + ", ".join(items) + "}"

    def render(self) -> list[str]:
        url = self.url.replace("{track}", _track(self.track or ""))
        args = [f'f"{url}"' if "{track}" in self.url else repr(url)]
        if self.body is not None:
            args.append(f"json={self._body_code()}")
        if self.upload is not None:
            name, spec = self.upload
            args.append(f"data={self.form!r}")
            mime = MIME_TYPES[spec.audio_format]
            args.append(f"files={{'file': ({name!r}, audio_bytes({spec_code(spec)}), {mime!r})}}")
        return [
            f"response = await (await world.api()).request({self.method!r}, {', '.join(args)})",
            f"assert response.status_code == {self.status}, response.text",
        ]


def cover(seed: int | None) -> CoverSpec | None:
    return None if seed is None else CoverSpec(seed=seed)
