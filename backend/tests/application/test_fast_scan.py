"""The fast scan against real generated libraries and a real SQLite file."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mus.adapters.persistence.database import Database
from mus.adapters.persistence.track_repository import TrackRepository
from mus.adapters.scanner.library_walker import MusicFolderUnavailableError
from mus.application.fast_scan import FastScanReport, ScanFailure, fast_scan
from mus.demo.audio_generator import generate_library, write_audio
from mus.demo.audio_spec import AudioSpec
from mus.domain.track import ProcessingStatus, Track

RunUnprivileged = Callable[[Callable[[], Any]], Any]


async def tracks_by_path(database: Database) -> dict[str, Track]:
    async with database.session() as session:
        tracks = await TrackRepository(session).list_tracks()
    return {track.file_path: track for track in tracks}


def sqlite_file(database: Database) -> str:
    return database.url.removeprefix("sqlite+aiosqlite:///")


def failures_by_path(report: FastScanReport) -> dict[str, str]:
    return {failure.path: failure.reason for failure in report.failures}


async def test_500_file_library_scan_rescan_and_prune(
    scan_library_root: Path, scan_database: Database
) -> None:
    started = time.perf_counter()
    paths = generate_library(scan_library_root, 500, seed=7)
    generated = time.perf_counter() - started
    progress: list[int] = []

    first = await fast_scan(scan_database, scan_library_root, on_progress=progress.append)

    assert (first.found, first.indexed, first.inserted) == (500, 500, 500)
    assert (first.changed, first.unchanged, first.skipped, first.pruned) == (0, 0, 0, 0)
    assert first.failures == ()
    assert sum(progress) == 500 and max(progress) <= 200
    tracks = await tracks_by_path(scan_database)
    expected_paths = {path.relative_to(scan_library_root).as_posix() for path in paths}
    assert set(tracks) == expected_paths
    assert {track.processing_status for track in tracks.values()} == {ProcessingStatus.PENDING}
    assert all(track.title and track.content_hash for track in tracks.values())

    second = await fast_scan(scan_database, scan_library_root)

    assert (second.found, second.inserted, second.changed, second.unchanged) == (500, 0, 0, 500)
    assert second.pruned == 0
    assert await tracks_by_path(scan_database) == tracks

    deleted = paths[::10]
    for path in deleted:
        path.unlink()
    third = await fast_scan(scan_database, scan_library_root)

    deleted_paths = {path.relative_to(scan_library_root).as_posix() for path in deleted}
    assert (third.found, third.unchanged, third.pruned) == (450, 450, 50)
    assert set(third.pruned_track_ids) == {tracks[path].id for path in deleted_paths}
    assert set(await tracks_by_path(scan_database)) == expected_paths - deleted_paths
    print(
        f"\n500 files: generated in {generated:.2f}s; first scan {first.files_per_second:.0f} "
        f"files/s ({first.elapsed_seconds:.2f}s), rescan {second.files_per_second:.0f} files/s "
        f"({second.elapsed_seconds:.2f}s), prune scan {third.elapsed_seconds:.2f}s"
    )


async def test_retagged_file_counts_as_changed_and_goes_back_to_pending(
    scan_library_root: Path, scan_database: Database
) -> None:
    write_audio(AudioSpec("a.mp3", "mp3", title="Old", artist="Björk"), scan_library_root)
    write_audio(AudioSpec("b.flac", "flac", title="Other"), scan_library_root)
    await fast_scan(scan_database, scan_library_root)
    before = (await tracks_by_path(scan_database))["a.mp3"]
    async with scan_database.session() as session:
        await TrackRepository(session).complete_if_current(
            before.id,
            before.revision,
            duration=2.0,
            has_cover=False,
            content_hash=before.content_hash,
            file_mtime=1.0,
        )

    write_audio(AudioSpec("a.mp3", "mp3", title="New", artist="Björk"), scan_library_root)
    report = await fast_scan(scan_database, scan_library_root)

    assert (report.inserted, report.changed, report.unchanged) == (0, 1, 1)
    after = (await tracks_by_path(scan_database))["a.mp3"]
    assert after.id == before.id
    assert after.processing_status == ProcessingStatus.PENDING
    assert after.revision == before.revision + 1
    assert after.title == "New"
    assert after.content_hash != before.content_hash


async def test_untagged_and_corrupt_files_are_indexed_with_file_name_titles(
    scan_library_root: Path, scan_database: Database
) -> None:
    write_audio(AudioSpec("Daft Punk - Da Funk.wav", "wav"), scan_library_root)
    write_audio(AudioSpec("Album/Broken Song.flac", "flac", corrupt=True), scan_library_root)
    write_audio(AudioSpec("Fela Kuti - Zombie.mp3", "mp3", corrupt=True), scan_library_root)

    report = await fast_scan(scan_database, scan_library_root)

    assert (report.found, report.inserted, report.skipped) == (3, 3, 0)
    tracks = await tracks_by_path(scan_database)
    assert {path: (t.title, t.artist, t.duration) for path, t in tracks.items()} == {
        "Daft Punk - Da Funk.wav": ("Da Funk", "Daft Punk", pytest.approx(2.0, abs=0.1)),
        "Album/Broken Song.flac": ("Broken Song", None, None),
        "Fela Kuti - Zombie.mp3": ("Zombie", "Fela Kuti", None),
    }
    assert {t.processing_status for t in tracks.values()} == {ProcessingStatus.PENDING}


async def test_problem_entries_are_reported_and_never_stop_the_scan(
    scan_library_root: Path, scan_database: Database, tmp_path: Path
) -> None:
    root = scan_library_root
    write_audio(AudioSpec("good.ogg", "ogg", title="Good"), root)
    becomes_empty = write_audio(AudioSpec("rewritten.mp3", "mp3", title="Rewritten"), root)
    await fast_scan(scan_database, root)
    becomes_empty.write_bytes(b"")  # a file being rewritten in place: its row must survive
    (root / "new empty.m4a").touch()
    os.mkfifo(root / "pipe.mp3")
    (root / "dangling.flac").symlink_to(root / "nowhere.flac")
    (root / "loop").symlink_to(root, target_is_directory=True)
    (root / "outside").symlink_to(tmp_path, target_is_directory=True)
    (root / "cover.jpg").write_bytes(b"\xff\xd8 not audio")
    (root / "notes.txt").write_text("not audio")
    (root / ".hidden.mp3").write_bytes(b"hidden")

    report = await fast_scan(scan_database, root)

    assert failures_by_path(report) == {
        "rewritten.mp3": "empty file",
        "new empty.m4a": "empty file",
        "pipe.mp3": "not a regular file",
        "dangling.flac": "broken symlink",
        "loop": "folder already visited (symlink loop or second link)",
        "outside": "symlink points outside the music folder",
    }
    assert (report.found, report.unchanged, report.skipped, report.pruned) == (1, 1, 6, 0)
    assert set(await tracks_by_path(scan_database)) == {"good.ogg", "rewritten.mp3"}


def test_unreadable_folder_and_file_keep_their_rows_while_deleted_ones_go(
    shared_scan_dir: Path, run_unprivileged: RunUnprivileged
) -> None:
    root = shared_scan_dir / "music"
    data = shared_scan_dir / "data"
    data.mkdir(mode=0o777)
    data.chmod(0o777)  # mkdir's mode is cut by the umask
    url = f"sqlite+aiosqlite:///{data / 'mus.db'}"
    for spec in [
        AudioSpec("a.mp3", "mp3", title="A"),
        AudioSpec("locked/b.flac", "flac", title="B"),
        AudioSpec("secret.ogg", "ogg", title="Secret"),
        AudioSpec("deleted.wav", "wav", title="Deleted"),
    ]:
        write_audio(spec, root)

    async def scan() -> FastScanReport:
        database = Database(url)
        try:
            await database.create_tables()
            return await fast_scan(database, root)
        finally:
            await database.dispose()

    assert asyncio.run(scan()).inserted == 4
    (data / "mus.db").chmod(0o666)
    (root / "deleted.wav").unlink()
    (root / "locked").chmod(0)
    # A rescan trusts an unchanged stat without opening the file: touched, it must be read.
    os.utime(root / "secret.ogg", (1_000_000, 1_000_000))
    (root / "secret.ogg").chmod(0)

    report = run_unprivileged(lambda: asyncio.run(scan()))

    assert failures_by_path(report) == {
        "secret.ogg": "unreadable: Permission denied",
        "locked": "unreadable: Permission denied",
    }
    assert (report.found, report.unchanged, report.pruned) == (2, 1, 1)
    with sqlite3.connect(data / "mus.db") as connection:
        rows = {row[0] for row in connection.execute("SELECT file_path FROM tracks")}
    assert rows == {"a.mp3", "locked/b.flac", "secret.ogg"}


async def test_file_deleted_while_the_scan_runs_is_reported_and_pruned(
    scan_library_root: Path, scan_database: Database
) -> None:
    for name in ["1.mp3", "2.mp3", "3.mp3"]:
        write_audio(AudioSpec(name, "mp3", title=name), scan_library_root)
    await fast_scan(scan_database, scan_library_root)

    def delete_second_file(_: int) -> None:
        (scan_library_root / "2.mp3").unlink(missing_ok=True)

    report = await fast_scan(
        scan_database, scan_library_root, batch_size=1, on_progress=delete_second_file
    )

    assert report.failures == (ScanFailure("2.mp3", "vanished during the scan"),)
    assert (report.found, report.unchanged, report.pruned) == (2, 2, 1)
    assert set(await tracks_by_path(scan_database)) == {"1.mp3", "3.mp3"}


async def test_concurrent_deletions_never_break_the_scan(
    scan_library_root: Path, scan_database: Database
) -> None:
    paths = generate_library(scan_library_root, 200, seed=3)
    doomed = paths[::2]
    stop = threading.Event()

    def delete_while_scanning() -> None:
        for path in reversed(doomed):
            if stop.is_set():
                return
            path.unlink()
            time.sleep(0.0005)

    deleter = threading.Thread(target=delete_while_scanning)
    deleter.start()
    try:
        report = await fast_scan(scan_database, scan_library_root, batch_size=10, max_workers=4)
    finally:
        stop.set()
        deleter.join()

    def library_form(paths: list[Path]) -> set[str]:
        return {path.relative_to(scan_library_root).as_posix() for path in paths}

    survivors = library_form([path for path in paths if path.exists()])
    indexed = set(await tracks_by_path(scan_database))
    vanished = set(failures_by_path(report))
    # Each file is indexed, or reported vanished, or was gone before the walk reached it.
    assert survivors <= indexed <= library_form(paths)
    assert vanished <= library_form(doomed)
    assert not vanished & indexed
    assert set(failures_by_path(report).values()) <= {"vanished during the scan"}
    assert report.indexed == report.inserted == len(indexed)


async def test_rows_renamed_or_added_by_others_during_the_scan_are_not_pruned(
    scan_library_root: Path, scan_database: Database
) -> None:
    for name in ["keep.mp3", "old name.mp3"]:
        write_audio(AudioSpec(name, "mp3", title=name), scan_library_root)
    await fast_scan(scan_database, scan_library_root)
    (scan_library_root / "old name.mp3").rename(scan_library_root / "new name.mp3")

    calls: list[int] = []

    def watcher_jobs_meanwhile(processed: int) -> None:
        calls.append(processed)
        if len(calls) > 1:
            return
        # What handle_file_moved and handle_file_created do from the worker process.
        with sqlite3.connect(sqlite_file(scan_database)) as connection:
            connection.execute(
                "UPDATE tracks SET file_path = 'new name.mp3' WHERE file_path = 'old name.mp3'"
            )
            connection.execute(
                "INSERT INTO tracks (file_path, title, added_at, updated_at, has_cover, "
                "processing_status, revision) VALUES ('zz just added.mp3', 'Just added', "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00', 0, 'PENDING', 0)"
            )

    report = await fast_scan(
        scan_database, scan_library_root, batch_size=1, on_progress=watcher_jobs_meanwhile
    )

    assert calls == [1, 1]
    assert (report.pruned, report.pruned_track_ids) == (0, ())
    assert set(await tracks_by_path(scan_database)) == {
        "keep.mp3",
        "new name.mp3",
        "zz just added.mp3",
    }


async def test_unlistable_music_folder_raises_and_prunes_nothing(
    scan_library_root: Path, scan_database: Database, tmp_path: Path
) -> None:
    write_audio(AudioSpec("a.mp3", "mp3", title="A"), scan_library_root)
    await fast_scan(scan_database, scan_library_root)

    with pytest.raises(MusicFolderUnavailableError, match="cannot list the music folder"):
        await fast_scan(scan_database, tmp_path / "unmounted")

    assert set(await tracks_by_path(scan_database)) == {"a.mp3"}


async def test_batch_size_must_be_positive(
    scan_library_root: Path, scan_database: Database
) -> None:
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        await fast_scan(scan_database, scan_library_root, batch_size=0)


async def test_symlink_loops_links_out_and_fifos_never_abort_the_scan(
    scan_library_root: Path,
    scan_database: Database,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A file symlink loop made the scan raise RuntimeError after inserting rows and before
    pruning; now each of these is one warning and the scan finishes, prune included."""
    root = scan_library_root
    write_audio(AudioSpec("good.ogg", "ogg", title="Good"), root)
    doomed = write_audio(AudioSpec("doomed.mp3", "mp3", title="Doomed"), root)
    await fast_scan(scan_database, root)
    doomed.unlink()
    write_audio(AudioSpec("new.flac", "flac", title="New"), root)
    (root / "a.mp3").symlink_to(root / "b.mp3")
    (root / "b.mp3").symlink_to(root / "a.mp3")
    outside = write_audio(AudioSpec("stolen.mp3", "mp3", title="Stolen"), tmp_path / "elsewhere")
    (root / "escape.mp3").symlink_to(outside)
    os.mkfifo(root / "pipe.mp3")

    with caplog.at_level(logging.WARNING):
        report = await fast_scan(scan_database, root)

    assert failures_by_path(report) == {
        "a.mp3": "symlink loop",
        "b.mp3": "symlink loop",
        "escape.mp3": "symlink points outside the music folder",
        "pipe.mp3": "not a regular file",
    }
    assert report.pruned == 1
    assert set(await tracks_by_path(scan_database)) == {"good.ogg", "new.flac"}
    for name in ("a.mp3", "b.mp3", "escape.mp3", "pipe.mp3"):
        naming = [r for r in caplog.records if str(root / name) in r.getMessage()]
        assert len(naming) == 1, (name, [r.getMessage() for r in naming])
        assert naming[0].levelno == logging.WARNING


async def test_a_root_with_no_audio_prunes_nothing_and_ids_survive_the_return(
    scan_library_root: Path,
    scan_database: Database,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An unmounted disk (an empty root) made a scan prune every row and cover; the files
    that came back then got new ids."""
    root = scan_library_root
    for n in range(4):
        write_audio(AudioSpec(f"Album/{n}.mp3", "mp3", title=f"Song {n}"), root)
    await fast_scan(scan_database, root)
    ids_before = {path: track.id for path, track in (await tracks_by_path(scan_database)).items()}
    away = tmp_path / "unmounted"
    (root / "Album").rename(away)

    with caplog.at_level(logging.WARNING):
        report = await fast_scan(scan_database, root)

    assert (report.found, report.pruned, report.prune_refused) == (0, 0, 4)
    assert report.root_looks_unmounted
    assert any("library root looks unmounted" in r.getMessage() for r in caplog.records)
    assert set(await tracks_by_path(scan_database)) == set(ids_before)

    away.rename(root / "Album")
    back = await fast_scan(scan_database, root)
    assert (back.found, back.pruned, back.prune_refused) == (4, 0, 0)
    ids_after = {path: track.id for path, track in (await tracks_by_path(scan_database)).items()}
    assert ids_after == ids_before


async def test_a_root_that_still_holds_music_is_pruned_as_before(
    scan_library_root: Path, scan_database: Database
) -> None:
    root = scan_library_root
    files = [write_audio(AudioSpec(f"{n}.ogg", "ogg", title=f"S{n}"), root) for n in range(4)]
    await fast_scan(scan_database, root)
    for path in files[1:]:
        path.unlink()
    report = await fast_scan(scan_database, root)
    assert (report.found, report.pruned, report.prune_refused) == (1, 3, 0)


async def test_the_share_is_a_setting(scan_library_root: Path, scan_database: Database) -> None:
    root = scan_library_root
    files = [write_audio(AudioSpec(f"{n}.wav", "wav", title=f"S{n}"), root) for n in range(2)]
    await fast_scan(scan_database, root)
    for path in files:
        path.unlink()
    report = await fast_scan(scan_database, root, max_prune_share=1.0)
    assert (report.pruned, report.prune_refused) == (2, 0)


def test_unchanged_rescan_opens_no_file(
    shared_scan_dir: Path, run_unprivileged: RunUnprivileged
) -> None:
    """Every file made unreadable (not un-stat-able): a stat-only rescan still trusts all."""
    root = shared_scan_dir / "music"
    data = shared_scan_dir / "data"
    data.mkdir()
    data.chmod(0o777)
    paths = generate_library(root, 40, seed=11)
    url = f"sqlite+aiosqlite:///{data / 'mus.db'}"

    async def scan(*, full: bool = False) -> FastScanReport:
        database = Database(url)
        try:
            await database.create_tables()
            return await fast_scan(database, root, full=full)
        finally:
            await database.dispose()

    assert asyncio.run(scan()).inserted == 40
    (data / "mus.db").chmod(0o666)
    for path in paths:
        path.chmod(0)

    report = run_unprivileged(lambda: asyncio.run(scan()))
    forced = run_unprivileged(lambda: asyncio.run(scan(full=True)))

    assert (report.found, report.unchanged, report.read, report.failures) == (40, 40, 0, ())
    assert report.pruned == 0
    # The control: reading them really is denied, so the rescan above opened none.
    assert (forced.read, forced.unchanged, forced.pruned) == (40, 0, 0)
    assert set(failures_by_path(forced).values()) == {"unreadable: Permission denied"}


async def test_a_file_whose_size_mtime_or_inode_differs_is_read_again(
    scan_library_root: Path, scan_database: Database
) -> None:
    root = scan_library_root
    for name in ["size.mp3", "mtime.flac", "inode.ogg", "same.m4a"]:
        write_audio(AudioSpec(name, name.rsplit(".", 1)[1], title=name), root)
    await fast_scan(scan_database, root)
    before = await tracks_by_path(scan_database)

    def keep_mtime(path: Path, change: Callable[[], None]) -> None:
        status = path.stat()
        change()
        os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))

    size = root / "size.mp3"
    keep_mtime(size, lambda: size.write_bytes(size.read_bytes() + b"\0" * 128))
    os.utime(root / "mtime.flac", (1_000_000, 1_000_000))
    inode = root / "inode.ogg"
    copy = root / ".inode.ogg.new"
    copy.write_bytes(inode.read_bytes())
    os.utime(copy, ns=(inode.stat().st_atime_ns, inode.stat().st_mtime_ns))
    copy.replace(inode)

    report = await fast_scan(scan_database, root)

    after = await tracks_by_path(scan_database)
    assert (report.found, report.read, report.changed, report.unchanged) == (4, 3, 1, 3)
    assert after["size.mp3"].content_hash != before["size.mp3"].content_hash
    assert after["size.mp3"].processing_status == ProcessingStatus.PENDING
    assert after["mtime.flac"].file_mtime == 1_000_000
    assert after["mtime.flac"].content_hash == before["mtime.flac"].content_hash
    assert after["inode.ogg"].inode == inode.stat().st_ino != before["inode.ogg"].inode
    assert after["same.m4a"] == before["same.m4a"]

    again = await fast_scan(scan_database, root)

    assert (again.read, again.unchanged) == (0, 4)


async def test_same_size_same_mtime_rewrite_is_trusted_unless_the_scan_is_full(
    scan_library_root: Path, scan_database: Database
) -> None:
    """What stat-only trusts, written down: the watcher, not the rescan, sees such an edit."""
    path = write_audio(AudioSpec("a.mp3", "mp3", title="Old"), scan_library_root)
    await fast_scan(scan_database, scan_library_root)
    status = path.stat()
    content = bytearray(path.read_bytes())
    content[-1] ^= 0xFF
    path.write_bytes(bytes(content))
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    before = (await tracks_by_path(scan_database))["a.mp3"]

    trusted = await fast_scan(scan_database, scan_library_root)
    full = await fast_scan(scan_database, scan_library_root, full=True)

    assert (trusted.read, trusted.unchanged) == (0, 1)
    assert (full.read, full.changed) == (1, 1)
    assert (await tracks_by_path(scan_database))["a.mp3"].content_hash != before.content_hash


async def test_reader_processes_index_what_threads_index(
    scan_library_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mus.application.fast_scan.PROCESS_POOL_THRESHOLD", 50)
    generate_library(scan_library_root, 300, seed=5)
    rows: list[dict[str, tuple[object, ...]]] = []
    reports: list[FastScanReport] = []

    paused: list[bool] = []

    def slow_consumer_once(_: int) -> None:
        # Batches read meanwhile go to threads; this pause lets the workers start up.
        if not paused:
            paused.append(True)
            time.sleep(3)

    for processes in (2, 0):
        paused.clear()
        database = Database(f"sqlite+aiosqlite:///{tmp_path / f'{processes}.db'}")
        await database.create_tables()
        try:
            report = await fast_scan(
                database,
                scan_library_root,
                processes=processes,
                batch_size=20,
                on_progress=slow_consumer_once,
            )
            tracks = await tracks_by_path(database)
        finally:
            await database.dispose()
        reports.append(report)
        assert (report.found, report.inserted, report.failures) == (300, 300, ())
        rows.append(
            {p: (t.title, t.artist, t.duration, t.content_hash, t.inode) for p, t in tracks.items()}
        )

    assert rows[0] == rows[1]
    assert 0 < reports[0].read_in_processes < 300
    assert reports[1].read_in_processes == 0
    assert multiprocessing.active_children() == []
