"""Worker processes that read scan targets, so a large scan parses tags on every core.

Tag parsing and fingerprinting are Python code holding the GIL: threads add no CPU. The
workers are spawned (never forked: the api process runs threads and an event loop), and a
spawned worker imports the parent's `__main__` before its first task, which may take a
while: until one has answered, batches are read in threads here, so the start-up costs
nothing. A pool that cannot start at all (a `__main__` without the import guard) leaves
the scan on threads. A worker that dies later (a parser crashing the interpreter, the OOM
killer) breaks the pool: the batches it held are then read again one file at a time in a
separate one-process pool, so only the file that kills a worker is lost (reported as a
failure, its row kept) and the scan goes on.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from mus.adapters.scanner.scan_reader import ReadResult, ScanTarget, UnreadFile, read_targets

logger = logging.getLogger(__name__)

ChunkReader = Callable[[list[ScanTarget], Path], list[ReadResult]]
CRASH_REASON = "the metadata reader crashed on it"


def _start_worker() -> None:
    """Ctrl-C reaches the whole process group: the parent decides, workers just stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _ready() -> bool:
    """The warm-up task: answering it proves a worker has started."""
    return True


class ReaderPool:
    """Reads batches of scan targets in `processes` spawned workers (0: in threads only).

    Call `close` (or use `async with`) to end and reap every worker. `reader` is the batch
    function the workers run; spawned workers import it, so it must be module-level.
    """

    def __init__(
        self,
        music_root: Path,
        processes: int,
        *,
        threads: int = 2,
        reader: ChunkReader = read_targets,
    ) -> None:
        if processes < 0 or threads < 1:
            raise ValueError(f"bad reader pool size: {processes} processes, {threads} threads")
        self.music_root = music_root
        self.processes = processes
        self.crashes = 0
        """Files that killed a worker (each listed as a failure with CRASH_REASON)."""
        self.read_in_processes = 0
        """Targets read by the workers (the rest were read in threads)."""
        self._reader = reader
        self._threads = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="mus-read")
        self._pool: ProcessPoolExecutor | None = None
        self._isolation: ProcessPoolExecutor | None = None
        self._isolating = asyncio.Lock()
        self._warm_ups: list[Future[bool]] = []
        if processes:
            self._start_pool()

    async def __aenter__(self) -> ReaderPool:
        return self

    async def __aexit__(self, *_: object) -> None:
        self.close()

    async def read(self, targets: list[ScanTarget]) -> list[ReadResult]:
        """Results in the order of `targets`; a crash costs only the file that caused it."""
        loop = asyncio.get_running_loop()
        pool = self._pool
        if pool is None or not self._workers_answered():
            return await loop.run_in_executor(self._threads, read_targets, targets, self.music_root)
        try:
            results = await loop.run_in_executor(pool, self._reader, targets, self.music_root)
        except BrokenProcessPool:
            self._replace_pool(pool)
            results = await self._read_one_by_one(targets)
        self.read_in_processes += len(targets)
        return results

    @property
    def workers_ready(self) -> bool:
        """Whether batches now go to the worker processes (not to threads)."""
        return self._pool is not None and self._workers_answered()

    def close(self) -> None:
        """Stop every worker (queued batches are dropped, running ones finish) and reap them."""
        for pool in (self._pool, self._isolation):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        self._pool = self._isolation = None
        self._threads.shutdown(wait=True, cancel_futures=True)

    def _workers_answered(self) -> bool:
        """True once a warm-up task came back; a pool whose warm-ups all failed is dropped."""
        if any(w.done() and w.exception() is None for w in self._warm_ups):
            return True
        if self._warm_ups and all(w.done() for w in self._warm_ups):
            logger.warning("fast scan: reader processes cannot start here; reading in threads")
            assert self._pool is not None
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            self._warm_ups = []
        return False

    def _start_pool(self) -> None:
        self._pool = _new_executor(self.processes)
        # One warm-up a worker: the executor spawns workers as tasks arrive.
        self._warm_ups = [self._pool.submit(_ready) for _ in range(self.processes)]

    def _replace_pool(self, broken: ProcessPoolExecutor) -> None:
        """A fresh pool, unless a concurrent batch already replaced `broken`."""
        if self._pool is not broken:
            return
        logger.warning("fast scan: a reader process died; reading its files one by one")
        broken.shutdown(wait=True, cancel_futures=True)
        self._start_pool()

    async def _read_one_by_one(self, targets: list[ScanTarget]) -> list[ReadResult]:
        """Each target alone in the isolation pool: a crash there names its file."""
        loop = asyncio.get_running_loop()
        results: list[ReadResult] = []
        async with self._isolating:
            for target in targets:
                if self._isolation is None:
                    self._isolation = _new_executor(1)
                try:
                    results.extend(
                        await loop.run_in_executor(
                            self._isolation, self._reader, [target], self.music_root
                        )
                    )
                except BrokenProcessPool:
                    self.crashes += 1
                    logger.warning("fast scan: %s crashed a reader process", target.path)
                    self._isolation.shutdown(wait=True, cancel_futures=True)
                    self._isolation = None
                    results.append(UnreadFile(target.file_path, CRASH_REASON, True))
        return results


def _new_executor(processes: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
    )
