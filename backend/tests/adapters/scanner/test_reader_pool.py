"""The reader pool with real spawned processes on real generated files."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from pathlib import Path

import pytest

from mus.adapters.scanner.library_walker import LibraryWalk
from mus.adapters.scanner.reader_pool import CRASH_REASON, ReaderPool
from mus.adapters.scanner.scan_reader import ReadResult, ScanTarget, UnreadFile, read_targets
from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AudioSpec
from mus.domain.track import FastMetadata


def crash_on_crash_files(targets: list[ScanTarget], music_root: Path) -> list[ReadResult]:
    """The real reader, except that a file named crash* kills the worker outright."""
    if any(Path(target.path).name.startswith("crash") for target in targets):
        os._exit(70)
    return read_targets(targets, music_root)


def targets_of(root: Path) -> list[ScanTarget]:
    return [
        ScanTarget(found.path, found.relative, found.status.st_dev, found.status.st_ino)
        for found in LibraryWalk(root).files()
    ]


async def wait_for_workers(pool: ReaderPool) -> None:
    for _ in range(600):
        if pool.workers_ready:
            return
        await asyncio.sleep(0.05)
    pytest.fail("the reader processes never answered")


@pytest.fixture
def library(scan_library_root: Path) -> Path:
    for name in ["a.mp3", "b.flac", "crash.ogg", "d.m4a", "e.wav"]:
        write_audio(AudioSpec(name, name.rsplit(".", 1)[1], title=name.upper()), scan_library_root)
    return scan_library_root


async def test_processes_read_what_the_reader_reads_in_process(library: Path) -> None:
    targets = targets_of(library)
    expected = read_targets(targets, library)
    assert all(isinstance(result, FastMetadata) for result in expected)

    pool = ReaderPool(library, 2)
    try:
        await wait_for_workers(pool)
        results = await asyncio.gather(*(pool.read([target]) for target in targets))
    finally:
        pool.close()

    assert [result for batch in results for result in batch] == expected
    assert pool.read_in_processes == len(targets)
    assert multiprocessing.active_children() == []


async def test_a_file_that_kills_its_worker_costs_only_that_file(library: Path) -> None:
    targets = targets_of(library)
    expected = read_targets(targets, library)
    pool = ReaderPool(library, 2, reader=crash_on_crash_files)
    try:
        await wait_for_workers(pool)
        results = await pool.read(targets)
        await wait_for_workers(pool)
        again = await pool.read([t for t in targets if not t.file_path.startswith("crash")])
    finally:
        pool.close()

    crashed = UnreadFile("crash.ogg", CRASH_REASON, still_there=True)
    pairs = list(zip(targets, expected, strict=True))
    assert results == [crashed if t.file_path == "crash.ogg" else r for t, r in pairs]
    assert pool.crashes == 1
    assert again == [r for t, r in pairs if t.file_path != "crash.ogg"]
    assert multiprocessing.active_children() == []


async def test_a_pool_without_processes_reads_in_threads(library: Path) -> None:
    targets = targets_of(library)
    pool = ReaderPool(library, 0)
    try:
        results = await pool.read(targets)
    finally:
        pool.close()

    assert results == read_targets(targets, library)
    assert (pool.read_in_processes, multiprocessing.active_children()) == (0, [])
