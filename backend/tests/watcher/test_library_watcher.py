"""The watcher with real watchfiles on a real folder, a real SQLite and a real Redis lock.

The queue records what it is asked to enqueue (after the real routing check): the test
is of the watcher, not of a broker.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from mus.adapters.path_locks import WriteKind, WriteLock
from mus.adapters.persistence.database import Database
from mus.adapters.persistence.outbox_repository import OutboxRepository
from mus.adapters.persistence.track_repository import TrackRepository
from mus.adapters.scanner.fingerprint import content_fingerprint
from mus.application.fast_scan import fast_scan
from mus.application.job_queue import JobRequest, route_job, route_jobs
from mus.application.library_status import LibraryStatus, WatcherState
from mus.core.broker_preflight import BrokerUnavailableError
from mus.core.config import Settings
from mus.demo.audio_generator import audio_bytes
from mus.demo.audio_spec import AudioSpec
from mus.domain.track import FastMetadata
from mus.watcher import library_watcher
from mus.watcher.library_watcher import LibraryWatcher

from tests.real_faults import database_held

Call = tuple[str, str, dict[str, Any]]


def mp3_bytes() -> bytes:
    return audio_bytes(AudioSpec("x.mp3", "mp3", title="Restored"))


def write_file(root: Path, relative: str, data: bytes = b"not parsed by the watcher") -> Path:
    """A real file on disk; neither mapper nor watcher parses audio, so bytes are enough."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


class RecordingJobQueue:
    """A JobQueue that keeps what it was given; `failures` makes the next calls fail."""

    def __init__(self, failures: int = 0) -> None:
        self.calls: list[Call] = []
        self.failures = failures
        self.refused = 0
        self.batch_sizes: list[int] = []

    async def enqueue(self, task_name: str, **kwargs: Any) -> str:
        queue = route_job(task_name, kwargs)  # the routing every real backend does
        if self.failures:
            self.failures -= 1
            self.refused += 1
            raise BrokerUnavailableError("broker down (test)")
        self.calls.append((queue.value, task_name, kwargs))
        return f"job-{len(self.calls)}"

    async def enqueue_many(self, jobs: Sequence[JobRequest]) -> list[str]:
        queues = route_jobs(jobs)  # the whole batch is routed first, as by every backend
        if self.failures:
            self.failures -= 1
            self.refused += 1
            raise BrokerUnavailableError("broker down (test)")
        self.batch_sizes.append(len(jobs))
        for job, queue in zip(jobs, queues, strict=True):
            self.calls.append((queue.value, job.task_name, dict(job.kwargs)))
        return [f"job-{n}" for n in range(len(self.calls) - len(jobs) + 1, len(self.calls) + 1)]

    async def wait_for(
        self, done: Callable[[list[Call]], bool], within: float = 5.0, settle: float = 0.3
    ) -> list[Call]:
        """The calls once `done` holds, plus whatever arrives during `settle` (extras show)."""
        await eventually(lambda: done(self.calls), within, f"expected jobs, got {self.calls}")
        await asyncio.sleep(settle)
        return list(self.calls)


async def eventually(condition: Callable[[], bool], within: float, what: str) -> None:
    """Poll a condition that the watcher's background task makes true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            pytest.fail(f"not within {within} s: {what}")
        await asyncio.sleep(0.02)


async def eventually_async(
    condition: Callable[[], Awaitable[bool]], within: float, what: str
) -> None:
    """Poll a condition that needs awaiting (a database read)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await condition():
        if loop.time() > deadline:
            pytest.fail(f"not within {within} s: {what}")
        await asyncio.sleep(0.1)


def call_count(n: int) -> Callable[[list[Call]], bool]:
    return lambda calls: len(calls) >= n


@pytest.fixture
def music_root(settings: Settings) -> Path:
    return settings.music_dir_path


@pytest.fixture
async def write_lock(redis_server_url: str) -> AsyncIterator[WriteLock]:
    """A real Redis lock under a prefix of its own, removed afterwards (no flush needed)."""
    client = Redis.from_url(redis_server_url)
    prefix = f"test-watcher:{uuid.uuid4().hex}"
    try:
        yield WriteLock(client, prefix=prefix, grace_seconds=5)
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def remember(database: Database, music_root: Path, *paths: str) -> None:
    """Index files as the scanner would have (path, real inode and mtime)."""
    async with database.session() as session:
        repo = TrackRepository(session)
        for path in paths:
            status = (music_root / path).stat()
            await repo.upsert_fast(
                FastMetadata(
                    file_path=path,
                    title=path,
                    artist=None,
                    duration=None,
                    inode=status.st_ino,
                    mtime=status.st_mtime,
                    size=status.st_size,
                    content_hash=f"hash-of-{path}",
                )
            )


@asynccontextmanager
async def watching(watcher: LibraryWatcher) -> AsyncIterator[asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(watcher.run(stop))
    try:
        await asyncio.wait_for(watcher.ready.wait(), 5)
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, 3)


def make_watcher(
    music_root: Path, queue: RecordingJobQueue, lock: WriteLock, database: Database, **options: Any
) -> LibraryWatcher:
    """A watcher on `music_root`; one job per new file unless `batch_files` says otherwise,
    so the tests of the mapping rules see every file's own job (batching has its own tests
    below and in test_creation_batches.py)."""
    options.setdefault("batch_files", 1)
    return LibraryWatcher(music_root, queue, lock, database, **options)


async def test_created_file_becomes_one_created_job(
    music_root: Path, write_lock: WriteLock, database: Database
) -> None:
    queue = RecordingJobQueue()
    async with watching(make_watcher(music_root, queue, write_lock, database)):
        write_file(music_root, "Artist/Album/01 Song.mp3")
        write_file(music_root, "Artist/Album/cover.jpg")
        write_file(music_root, "Artist/Album/02.mp3.part")
        calls = await queue.wait_for(call_count(1))
    assert calls == [
        ("high_priority", "handle_file_created", {"file_path": "Artist/Album/01 Song.mp3"})
    ]


async def test_modified_and_deleted_known_files(
    music_root: Path, write_lock: WriteLock, database: Database
) -> None:
    write_file(music_root, "edited.flac")
    write_file(music_root, "removed.ogg")
    await remember(database, music_root, "edited.flac", "removed.ogg")
    queue = RecordingJobQueue()
    async with watching(make_watcher(music_root, queue, write_lock, database)):
        with (music_root / "edited.flac").open("ab") as handle:
            handle.write(b"more")
        (music_root / "removed.ogg").unlink()
        calls = await queue.wait_for(call_count(2))
    assert sorted(calls, key=repr) == [
        ("high_priority", "handle_file_deleted", {"file_path": "removed.ogg"}),
        ("medium_priority", "handle_file_modified", {"file_path": "edited.flac"}),
    ]


async def test_rename_and_folder_rename_become_moves(
    music_root: Path, write_lock: WriteLock, database: Database
) -> None:
    for path in ("old name.mp3", "Old Album/01.mp3", "Old Album/02.mp3"):
        write_file(music_root, path)
    (music_root / "Sorted").mkdir()
    await remember(database, music_root, "old name.mp3", "Old Album/01.mp3", "Old Album/02.mp3")
    queue = RecordingJobQueue()
    async with watching(make_watcher(music_root, queue, write_lock, database)):
        (music_root / "old name.mp3").rename(music_root / "Sorted/new name.mp3")
        (music_root / "Old Album").rename(music_root / "Sorted/New Album")
        calls = await queue.wait_for(call_count(3))
    move, new = "handle_file_moved", "Sorted/New Album"
    assert sorted(calls, key=repr) == [
        ("medium_priority", move, {"src_path": "Old Album/01.mp3", "dest_path": new + "/01.mp3"}),
        ("medium_priority", move, {"src_path": "Old Album/02.mp3", "dest_path": new + "/02.mp3"}),
        ("medium_priority", move, {"src_path": "old name.mp3", "dest_path": "Sorted/new name.mp3"}),
    ]


async def test_folder_moved_in_from_outside_is_scanned(
    music_root: Path, write_lock: WriteLock, database: Database, tmp_path: Path
) -> None:
    outside = tmp_path / "download"
    for name in ("Album/01.mp3", "Album/CD2/02.flac", "Album/notes.txt"):
        write_file(outside, name)
    queue = RecordingJobQueue()
    async with watching(make_watcher(music_root, queue, write_lock, database)):
        (outside / "Album").rename(music_root / "Album")
        calls = await queue.wait_for(call_count(2))
    assert sorted(calls, key=repr) == [
        ("high_priority", "handle_file_created", {"file_path": "Album/01.mp3"}),
        ("high_priority", "handle_file_created", {"file_path": "Album/CD2/02.flac"}),
    ]


async def test_burst_of_fifty_files_is_a_few_batch_jobs(
    music_root: Path,
    write_lock: WriteLock,
    database: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="mus.watcher")
    queue = RecordingJobQueue()
    names = [f"Burst/{index:02d}.mp3" for index in range(50)]
    (music_root / "Burst").mkdir()
    watcher = make_watcher(music_root, queue, write_lock, database, batch_files=20)

    def every_file_queued(calls: list[Call]) -> bool:
        return set(names) <= set(queued_creations(calls))

    async with watching(watcher):
        # Written as a copy tool does (a .part file renamed into place): one event per file.
        # Plain writes spanning the debounce cap (a very loaded machine) may be seen again as a
        # modification of a still-unindexed file, i.e. a second, harmless created job.
        for name in names:
            write_file(music_root, name + ".part").rename(music_root / name)
        calls = await queue.wait_for(every_file_queued, settle=0.5)
    assert sorted(queued_creations(calls)) == names  # each file once
    assert {task for _, task, _ in calls} <= {"handle_files_created", "handle_file_created"}
    assert all(queue_name == "high_priority" for queue_name, _, _ in calls)
    batches = [kwargs["file_paths"] for _, task, kwargs in calls if task == "handle_files_created"]
    assert batches, calls  # 50 files in at most 5 OS batches: some batch holds two or more
    assert all(2 <= len(batch) <= 20 for batch in batches), batches
    summaries = [r for r in caplog.records if "jobs queued" in r.getMessage()]
    assert 1 <= len(summaries) <= 5, [r.getMessage() for r in summaries]


def queued_creations(calls: list[Call]) -> list[str]:
    """Every new file a creation job (single or batch) was queued for, in order."""
    found: list[str] = []
    for _, task, kwargs in calls:
        if task == "handle_file_created":
            found.append(kwargs["file_path"])
        elif task == "handle_files_created":
            found += kwargs["file_paths"]
    return found


async def test_a_lone_new_file_stays_one_small_job_with_batching_on(
    music_root: Path, write_lock: WriteLock, database: Database
) -> None:
    queue = RecordingJobQueue()
    async with watching(make_watcher(music_root, queue, write_lock, database, batch_files=50)):
        write_file(music_root, "Alone/01.mp3")
        calls = await queue.wait_for(call_count(1))
    assert calls == [("high_priority", "handle_file_created", {"file_path": "Alone/01.mp3"})]


async def test_write_locked_paths_are_ignored(
    music_root: Path, write_lock: WriteLock, database: Database
) -> None:
    queue = RecordingJobQueue()
    async with (
        watching(make_watcher(music_root, queue, write_lock, database)),
        write_lock.hold(["ours.mp3"]),
    ):
        write_file(music_root, "ours.mp3")  # mus's own write: its echo must not become a job
        await asyncio.sleep(0.1)
        write_file(music_root, "theirs.mp3")
        calls = await queue.wait_for(call_count(1))
    assert calls == [("high_priority", "handle_file_created", {"file_path": "theirs.mp3"})]


async def test_a_job_the_broker_refused_is_kept_and_delivered_when_it_is_back(
    music_root: Path,
    write_lock: WriteLock,
    database: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    queue = RecordingJobQueue(failures=1)
    watcher = make_watcher(music_root, queue, write_lock, database)
    async with watching(watcher) as task:
        write_file(music_root, "first.mp3")
        await eventually(lambda: queue.refused == 1, 5, "the broker failure")
        assert queue.calls == []
        async with database.session() as session:
            kept = await OutboxRepository(session).all_entries()
        assert [(entry.task_name, entry.kwargs) for entry in kept] == [
            ("handle_file_created", {"file_path": "first.mp3"})
        ]
        write_file(music_root, "second.mp3")  # the broker is back: this one goes at once
        await queue.wait_for(call_count(1))
        # The relay loop of the api (or of any worker) delivers what was kept.
        await eventually_async(lambda: _flushed(watcher), 5, "the kept job delivered")
        calls = await queue.wait_for(call_count(2))
        assert not task.done()
    assert sorted(calls, key=str) == [
        ("high_priority", "handle_file_created", {"file_path": "first.mp3"}),
        ("high_priority", "handle_file_created", {"file_path": "second.mp3"}),
    ]
    async with database.session() as session:
        assert await OutboxRepository(session).count() == 0
    assert any("kept until it is back" in r.getMessage() for r in caplog.records)


async def _flushed(watcher: LibraryWatcher) -> bool:
    await watcher.relay.flush()
    async with watcher.database.session() as session:
        return await OutboxRepository(session).count() == 0


async def test_dispatch_skips_locked_paths_and_keeps_the_rest_in_order(
    music_root: Path, write_lock: WriteLock, database: Database
) -> None:
    queue = RecordingJobQueue(failures=1)
    watcher = make_watcher(music_root, queue, write_lock, database)
    requests = [
        JobRequest("handle_file_created", {"file_path": "refused.mp3"}),
        JobRequest("handle_file_moved", {"src_path": "a.mp3", "dest_path": "b.mp3"}),
        JobRequest("handle_file_deleted", {"file_path": "c.mp3"}),
    ]
    async with write_lock.hold(["b.mp3"]):
        assert await watcher.dispatch(requests) == 2  # the move is mus's own echo
    assert queue.calls == []  # the broker refused the first: both wait, in their order
    await eventually_async(lambda: _flushed(watcher), 5, "the kept jobs delivered")
    assert queue.calls == [
        ("high_priority", "handle_file_created", {"file_path": "refused.mp3"}),
        ("high_priority", "handle_file_deleted", {"file_path": "c.mp3"}),
    ]
    assert queue.batch_sizes == [2]  # both in one enqueue_many


async def test_polling_mode_sees_changes_too(
    music_root: Path, write_lock: WriteLock, database: Database
) -> None:
    queue = RecordingJobQueue()
    watcher = make_watcher(music_root, queue, write_lock, database, force_polling=True)
    async with watching(watcher):
        write_file(music_root, "polled.wav")
        calls = await queue.wait_for(call_count(1))
    assert calls == [("high_priority", "handle_file_created", {"file_path": "polled.wav"})]


async def test_missing_root_is_retried_until_it_exists(
    music_root: Path, write_lock: WriteLock, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    root = music_root / "not-yet"
    queue = RecordingJobQueue()
    watcher = make_watcher(root, queue, write_lock, database, restart_delay_seconds=0.1)
    stop = asyncio.Event()
    task = asyncio.create_task(watcher.run(stop))
    try:
        await asyncio.sleep(0.3)
        assert not task.done()
        assert any("file watcher on" in r.getMessage() for r in caplog.records)
        root.mkdir()
        await asyncio.wait_for(watcher.ready.wait(), 5)
        write_file(root, "late.mp3")
        calls = await queue.wait_for(call_count(1))
    finally:
        stop.set()
        await asyncio.wait_for(task, 3)
    assert calls == [("high_priority", "handle_file_created", {"file_path": "late.mp3"})]


async def test_cancellation_stops_the_watch_promptly(
    music_root: Path, write_lock: WriteLock, database: Database
) -> None:
    watcher = make_watcher(music_root, RecordingJobQueue(), write_lock, database)
    task = asyncio.create_task(watcher.run(asyncio.Event()))
    await asyncio.wait_for(watcher.ready.wait(), 5)
    started = asyncio.get_running_loop().time()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 3)
    assert asyncio.get_running_loop().time() - started < 0.5
    assert not watcher.ready.is_set()


async def test_a_symlink_loop_does_not_cost_the_batch_it_arrives_in(
    music_root: Path, write_lock: WriteLock, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    queue = RecordingJobQueue()
    async with watching(make_watcher(music_root, queue, write_lock, database)):
        (music_root / "a.mp3").symlink_to(music_root / "b.mp3")
        (music_root / "b.mp3").symlink_to(music_root / "a.mp3")
        write_file(music_root, "real.ogg")
        calls = await queue.wait_for(call_count(1))
    assert calls == [("high_priority", "handle_file_created", {"file_path": "real.ogg"})]
    assert not [r for r in caplog.records if "could not map a batch" in r.getMessage()]
    assert any("a.mp3: symlink loop" in r.getMessage() for r in caplog.records)


async def test_a_music_folder_deleted_and_made_again_is_watched_and_rescanned(
    music_root: Path, write_lock: WriteLock, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """Before, the watcher stayed dead without a log line: nothing added afterwards was seen."""
    queue = RecordingJobQueue()
    status = LibraryStatus()
    rescans: list[int] = []

    async def rescan() -> None:
        report = await fast_scan(database, music_root)
        rescans.append(report.found)

    watcher = make_watcher(
        music_root,
        queue,
        write_lock,
        database,
        restart_delay_seconds=0.2,
        status=status,
        rescan=rescan,
    )
    async with watching(watcher):
        assert status.watcher is WatcherState.OK
        shutil.rmtree(music_root)
        await eventually(lambda: status.watcher is WatcherState.RESTARTING, 5, "restarting")
        # The watcher has looked and found no folder (its line says so) before it is back.
        await eventually(
            lambda: any("the music folder is gone" in m for m in caplog.messages), 5, "gone"
        )
        music_root.mkdir()
        write_file(music_root, "restored.mp3", mp3_bytes())
        await eventually(lambda: status.watcher is WatcherState.OK and bool(rescans), 10, "back")
        assert rescans == [1]  # the re-scan indexed what was restored meanwhile
        write_file(music_root, "later.flac")
        calls = await queue.wait_for(
            lambda calls: any(c[2].get("file_path") == "later.flac" for c in calls)
        )
    assert ("high_priority", "handle_file_created", {"file_path": "later.flac"}) in calls
    messages = [r.getMessage() for r in caplog.records]
    assert any("the music folder is gone" in m for m in messages)
    assert any("the music folder is back" in m for m in messages)


async def test_an_outside_edit_right_after_our_write_is_not_taken_for_its_echo(
    music_root: Path, write_lock: WriteLock, database: Database
) -> None:
    path = write_file(music_root, "edited.mp3", b"before")
    await remember(database, music_root, "edited.mp3")
    queue = RecordingJobQueue()
    async with watching(make_watcher(music_root, queue, write_lock, database)):
        async with write_lock.hold(["edited.mp3"], WriteKind.CONTENT):
            path.write_bytes(b"what mus wrote")  # a tag edit through the api
            await write_lock.record_content("edited.mp3", content_fingerprint(path))
        await asyncio.sleep(1.0)  # our echo arrives and is muted
        assert queue.calls == []
        path.write_bytes(b"what the user's tagger wrote, within the grace period")
        calls = await queue.wait_for(call_count(1))
    assert calls == [("medium_priority", "handle_file_modified", {"file_path": "edited.mp3"})]


def inotify_watches() -> int:
    """How many inotify watches this process holds (Linux: /proc/self/fdinfo)."""
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        try:
            if str(fd.readlink()) != "anon_inode:inotify":
                continue
            info = (Path("/proc/self/fdinfo") / fd.name).read_text()
        except OSError:
            continue
        count += sum(line.startswith("inotify wd:") for line in info.splitlines())
    return count


async def test_a_folder_link_to_the_file_system_root_is_not_followed(
    music_root: Path, write_lock: WriteLock, database: Database
) -> None:
    """A recursive watch followed `to-root -> /` into the whole file system (tens of thousands
    of kernel watches; where they ran out, a watch failing and restarting every few seconds);
    the watch now holds the library's own folders only, and new folders join it."""
    (music_root / "Artist").mkdir()
    (music_root / "to-root").symlink_to("/")
    before = inotify_watches()
    status = LibraryStatus()
    queue = RecordingJobQueue()
    watcher = make_watcher(music_root, queue, write_lock, database, status=status)
    async with watching(watcher):
        await asyncio.sleep(0.5)
        assert inotify_watches() - before == 2  # the music folder and Artist
        write_file(music_root, "Artist/New Album/01.mp3")  # a folder made after the start
        await queue.wait_for(call_count(1))
        write_file(music_root, "Artist/New Album/02.mp3")  # inside it, once it is watched
        calls = await queue.wait_for(call_count(2))
        assert status.watcher is WatcherState.OK
        assert inotify_watches() - before == 3
    assert sorted(calls, key=repr) == [
        ("high_priority", "handle_file_created", {"file_path": "Artist/New Album/01.mp3"}),
        ("high_priority", "handle_file_created", {"file_path": "Artist/New Album/02.mp3"}),
    ]


async def test_a_batch_whose_outbox_write_meets_a_locked_database_is_kept_and_queued_later(
    settings: Settings, write_lock: WriteLock, caplog: pytest.LogCaptureFixture
) -> None:
    """Five files copied while another connection holds the database past the busy timeout.

    Before: the outbox write failed "database is locked", the watcher restarted 5 s later
    and the five were never indexed. Now the batch is held and queued once the lock goes.
    """
    music_root = settings.music_dir_path
    quick = Database(settings.database_url, busy_timeout_seconds=0.3)
    await quick.create_tables()
    queue = RecordingJobQueue()
    caplog.set_level(logging.INFO, logger="mus")
    try:
        async with (
            watching(make_watcher(music_root, queue, write_lock, quick)),
            database_held(settings.database_dir_path / "mus.db") as holder,
        ):
            for index in range(5):
                write_file(music_root, f"Copied/{index}.mp3")
            await asyncio.sleep(3.0)
            assert queue.calls == []
            await asyncio.to_thread(holder.release)
            calls = await queue.wait_for(call_count(5), within=10)
    finally:
        await quick.dispose()
    assert sorted(calls, key=str) == [
        ("high_priority", "handle_file_created", {"file_path": f"Copied/{index}.mp3"})
        for index in range(5)
    ]
    held = [r for r in caplog.records if "file watcher (a batch of" in r.getMessage()]
    assert [r.levelno for r in held] == [logging.WARNING, logging.INFO], [
        r.getMessage() for r in held
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_folder_made_while_the_new_watch_was_set_up_is_watched_and_walked(
    music_root: Path,
    write_lock: WriteLock,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The race `make bench`'s copy found: the folders are listed, then another folder is
    made before the new watch is in place. The real listing is replayed without that folder
    once, as if it were made right after: the watch must list again, watch it, and walk it."""
    late = music_root / "Copied" / "Late Album"
    real_listing = library_watcher.watched_folders
    listings = 0

    def listing_that_misses_the_late_folder_once(root: Path) -> list[Path]:
        nonlocal listings
        listings += 1
        found = real_listing(root)
        if listings == 2:  # the first listing after "Copied" was added
            return [folder for folder in found if folder != late.resolve()]
        return found

    monkeypatch.setattr(
        library_watcher, "watched_folders", listing_that_misses_the_late_folder_once
    )
    queue = RecordingJobQueue()
    async with watching(make_watcher(music_root, queue, write_lock, database)):
        write_file(music_root, "Copied/Late Album/01.mp3")  # landed before any watch saw it
        await queue.wait_for(lambda calls: "Copied/Late Album/01.mp3" in queued_creations(calls))
        write_file(music_root, "Copied/Late Album/02.mp3")  # only a watch of the folder sees it
        calls = await queue.wait_for(
            lambda calls: "Copied/Late Album/02.mp3" in queued_creations(calls)
        )
    assert sorted(set(queued_creations(calls))) == [
        "Copied/Late Album/01.mp3",
        "Copied/Late Album/02.mp3",
    ]
    assert listings >= 3
