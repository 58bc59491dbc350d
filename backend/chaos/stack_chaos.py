"""`make chaos`: faults injected into the real stack while a library is copied in.

Starts `mus run` on a private data folder, a private port and a private Redis with AOF (the
one `mus run` starts for a local URL nobody answers), copies N generated audio files into the
music folder in waves, SIGKILLs the worker twice and restarts Redis once meanwhile, then waits
until every file is a COMPLETE track. It prints what it saw and exits 1 when a track is stuck,
lost or doubled, or the library does not converge in time. Everything it started is stopped.

`--faults` adds resource faults on a longer timeline (`chaos/fault_episodes.py`): the data
folder (a small tmpfs of its own) full, the database locked past SQLite's busy timeout, the
broker out of memory, each released after a while; during each a user edits a title and
deletes a track through the api (`chaos/user_actions.py`), and the run checks each was done
exactly as asked (or refused with a reason, and nothing changed). It also counts rows without
files and files without rows.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from fault_episodes import (
    BrokerOutOfMemory,
    DatabaseLocked,
    DataFolderFull,
    Episode,
    small_tmpfs,
)
from user_actions import UserAction, act, problem

from mus.adapters.persistence.database import BUSY_TIMEOUT_SECONDS
from mus.demo.audio_generator import generate_library

HEALTH_TIMEOUT_SECONDS = 90.0
DATA_TMPFS_MEGABYTES = 128
EPISODE_SECONDS = 10.0
ACTION_DELAY_SECONDS = 2.0
AUDIO_SUFFIXES = frozenset({".mp3", ".flac", ".ogg", ".m4a", ".wav"})


@dataclass
class Tally:
    """What the database says about the library, against the files that were added."""

    files: int
    complete: int = 0
    error: int = 0
    pending: int = 0
    duplicates: int = 0
    lost: int = 0
    rows_without_files: int = 0
    files_without_rows: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def converged(self) -> bool:
        return (
            self.complete + self.error == self.files
            and not self.duplicates
            and not self.lost
            and not self.rows_without_files
            and not self.files_without_rows
        )

    @property
    def healthy(self) -> bool:
        return self.converged and self.error == 0 and self.pending == 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def children(pid: int) -> dict[int, str]:
    """Direct children of `pid` and their command lines (from /proc)."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == pid:
                found[int(entry.name)] = (entry / "cmdline").read_text().replace("\0", " ")
        except (OSError, ValueError, IndexError):
            continue
    return found


def child_matching(pid: int, needle: str, within: float = 60.0) -> int:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for child, command in children(pid).items():
            if needle in command:
                return child
        time.sleep(0.2)
    raise SystemExit(f"chaos: no child of mus run matching {needle!r} within {within:.0f}s")


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/healthcheck", timeout=2):
            return True
    except OSError:
        return False


def tally(database: Path, music: Path, added: list[str]) -> Tally:
    """Read the tracks table (read-only) and compare it with the files on disk."""
    counts = Tally(files=len(added))
    if not database.exists():
        counts.lost = len(added)
        return counts
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as db:
        rows = db.execute("SELECT file_path, processing_status, last_error FROM tracks").fetchall()
    by_path: dict[str, list[str]] = {}
    for path, status, last_error in rows:
        by_path.setdefault(path, []).append(status)
        if status == "ERROR":
            counts.errors.append(f"{path}: {last_error}")
    for path in added:
        statuses = by_path.get(path, [])
        if not statuses:
            counts.lost += 1
        counts.duplicates += max(0, len(statuses) - 1)
        counts.complete += statuses.count("COMPLETE")
        counts.error += statuses.count("ERROR")
        counts.pending += statuses.count("PENDING")
    counts.rows_without_files = sum(1 for path in by_path if not (music / path).exists())
    on_disk = {
        path.relative_to(music).as_posix()
        for path in music.rglob("*")
        if path.suffix.lower() in AUDIO_SUFFIXES and path.is_file()
    }
    counts.files_without_rows = len(on_disk - set(by_path))
    return counts


@dataclass(frozen=True)
class Folders:
    """The run's private folders: its work folder and, in it, data, music and staging."""

    work: Path

    @property
    def data(self) -> Path:
        return self.work / "data"

    @property
    def music(self) -> Path:
        return self.work / "music"

    @property
    def staging(self) -> Path:
        return self.work / "staging"

    @property
    def database(self) -> Path:
        return self.data / "database" / "mus.db"


def run(files: int, waves: int, timeout: float, seed: int, *, faults: bool = False) -> int:
    folders = Folders(Path(tempfile.mkdtemp(prefix="mus-chaos-")))
    folders.music.mkdir(parents=True)
    with contextlib.ExitStack() as mounts:
        if faults:
            mounts.enter_context(small_tmpfs(folders.data, DATA_TMPFS_MEGABYTES))
        status = _run(folders, files, waves, timeout, seed, faults=faults)
    if status == 0:  # the tmpfs is unmounted now: its mount point can go too
        shutil.rmtree(folders.work, ignore_errors=True)
    return status


def _run(
    folders: Folders, files: int, waves: int, timeout: float, seed: int, *, faults: bool
) -> int:
    work, data, music, staging = folders.work, folders.data, folders.music, folders.staging
    (music / "README.txt").write_text("chaos run: no demo library here\n")
    port, redis_port = free_port(), free_port()
    mode = " with resource faults" if faults else ""
    print(
        f"chaos: {files} files in {waves} waves{mode}; data {data}; api :{port}; "
        f"redis :{redis_port}"
    )
    generated = generate_library(staging, files, seed=seed)
    added = [path.relative_to(staging).as_posix() for path in generated]
    environment = {
        **os.environ,
        "DATA_DIR_PATH": str(data),
        "MUSIC_DIR_PATH": str(music),
        "PORT": str(port),
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    environment.pop("DRAGONFLY_URL", None)
    log = work / "mus-run.log"
    with log.open("wb") as output:
        stack = subprocess.Popen(
            [str(Path(sys.executable).with_name("mus")), "run"],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    started = time.monotonic()
    try:
        deadline = started + HEALTH_TIMEOUT_SECONDS
        while not healthy(port):
            if stack.poll() is not None or time.monotonic() > deadline:
                print(log.read_text(errors="replace")[-3000:])
                raise SystemExit("chaos: mus run did not become healthy")
            time.sleep(0.3)
        database = folders.database
        actions: list[UserAction] = []
        if faults:
            actions = fault_timeline(stack, folders, added, port=port, redis_port=redis_port)
        kills = (
            {}
            if faults
            else {
                max(1, waves // 4): ("SIGKILL the worker", "streaq", signal.SIGKILL),
                max(2, waves // 2): ("restart Redis", "redis-server", signal.SIGTERM),
                max(3, 3 * waves // 4): ("SIGKILL the worker", "streaq", signal.SIGKILL),
            }
        )
        per_wave = -(-files // waves)
        copy_started = time.monotonic()
        for wave in range(0 if faults else waves):
            for relative in added[wave * per_wave : (wave + 1) * per_wave]:
                target = music / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(staging / relative, target)
            if wave in kills:
                what, needle, signum = kills.pop(wave)
                victim = child_matching(stack.pid, needle)
                os.kill(victim, signum)
                print(f"chaos: {time.monotonic() - copy_started:5.1f}s  {what} (pid {victim})")
            time.sleep(0.5)
        for what, needle, signum in kills.values():  # fewer waves than faults
            os.kill(child_matching(stack.pid, needle), signum)
            print(f"chaos: {time.monotonic() - copy_started:5.1f}s  {what}")
        copied = time.monotonic()
        expected = [
            a
            for a in added
            if not any(x.accepted and x.kind == "delete" and x.path == a for x in actions)
        ]
        counts = tally(database, music, expected)
        undone = action_problems(actions, database, music)
        while (not counts.converged or undone) and time.monotonic() - copied < timeout:
            time.sleep(1.0)
            counts = tally(database, music, expected)
            undone = action_problems(actions, database, music)
        converge = time.monotonic() - copied
        alive = stack.poll() is None
    finally:
        stop(stack)
    deleted = len(added) - len(expected)
    print(
        f"chaos: files added        {len(added)}"
        + (f" ({deleted} deleted by the user)" if deleted else "")
    )
    print(f"chaos: tracks COMPLETE    {counts.complete}")
    print(f"chaos: tracks ERROR       {counts.error}")
    print(f"chaos: stuck PENDING      {counts.pending}")
    print(f"chaos: duplicate rows     {counts.duplicates}")
    print(f"chaos: jobs lost          {counts.lost}")
    print(f"chaos: rows without files {counts.rows_without_files}")
    print(f"chaos: files without rows {counts.files_without_rows}")
    for action in actions:
        print(f"chaos: user action {action.describe()}")
    print(f"chaos: user actions not done as asked {len(undone)} of {len(actions)}")
    for line in undone:
        print(f"chaos: NOT DONE {line}")
    print(f"chaos: seconds to converge {converge:.1f} (after the last file was copied)")
    print(f"chaos: mus run alive at the end: {'yes' if alive else 'no'}")
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("mus: ") and ("restart" in line or "exited" in line):
            print(f"chaos: {line}")
    for line in counts.errors[:10]:
        print(f"chaos: ERROR {line}")
    if counts.healthy and alive and not undone:
        shutil.rmtree(work, ignore_errors=True)
        print("chaos: passed")
        return 0
    print(log.read_text(errors="replace")[-6000:])
    print(f"chaos: FAILED (kept {work} for a look)")
    return 1


def action_problems(actions: list[UserAction], database: Path, music: Path) -> list[str]:
    found = []
    for action in actions:
        why = problem(action, database, music)
        if why is not None:
            found.append(f"{action.describe()}: {why}")
    return found


def fault_timeline(
    stack: subprocess.Popen[bytes],
    folders: Folders,
    added: list[str],
    *,
    port: int,
    redis_port: int,
) -> list[UserAction]:
    """Copy the files in over the whole timeline while the kills, the restart and the three
    resource faults happen; a user edits and deletes during each fault. Returns the actions."""
    lock_seconds = BUSY_TIMEOUT_SECONDS + 8  # past SQLite's busy timeout (the default), for real
    music, staging, database = folders.music, folders.staging, folders.database
    full = DataFolderFull(folders.data)
    oom = BrokerOutOfMemory(f"redis://127.0.0.1:{redis_port}/0")
    locked = DatabaseLocked(database)
    plan: list[tuple[float, str, Episode | str]] = [
        (2.0, "kill", "streaq"),
        (5.0, "start", full),
        (5.0 + EPISODE_SECONDS, "release", full),
        (18.0, "restart", "redis-server"),
        (24.0, "start", oom),
        (24.0 + EPISODE_SECONDS, "release", oom),
        (38.0, "start", locked),
        (38.0 + lock_seconds, "release", locked),
        (38.0 + lock_seconds + 3, "kill", "streaq"),
    ]
    actions_at = {
        5.0 + ACTION_DELAY_SECONDS,
        24.0 + ACTION_DELAY_SECONDS,
        38.0 + ACTION_DELAY_SECONDS,
    }
    end = plan[-1][0] + 2
    per_second = len(added) / end
    started = time.monotonic()
    copied = 0
    taken: set[str] = set()
    pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="chaos-user")
    pending: list[Future[UserAction | None]] = []
    try:
        while True:
            now = time.monotonic() - started
            due = min(len(added), int(now * per_second) + 1)
            for relative in added[copied:due]:
                target = music / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(staging / relative, target)
            copied = due
            while plan and plan[0][0] <= now:
                _, step, subject = plan.pop(0)
                print(f"chaos: {now:5.1f}s  {describe_step(stack, step, subject)}")
            for moment in sorted(a for a in actions_at if a <= now):
                actions_at.discard(moment)
                label = f"{moment:.0f}s"
                for kind in ("edit", "delete"):
                    asked = pool.submit(act, port, database, music, kind, taken=taken, label=label)
                    pending.append(asked)
            if not plan and copied == len(added):
                break
            time.sleep(0.25)
        return [action for future in pending if (action := future.result()) is not None]
    finally:
        for _, step, subject in plan:  # never leave a fault behind
            if step == "release" and not isinstance(subject, str):
                subject.release()
        pool.shutdown(wait=True)


def describe_step(stack: subprocess.Popen[bytes], step: str, subject: Episode | str) -> str:
    """Do one step of the timeline and say what was done."""
    if isinstance(subject, str):
        victim = child_matching(stack.pid, subject)
        os.kill(victim, signal.SIGKILL if step == "kill" else signal.SIGTERM)
        what = "SIGKILL the worker" if step == "kill" else "restart Redis"
        return f"{what} (pid {victim})"
    outcome = subject.start() if step == "start" else subject.release()
    return f"{subject.name}: {step} ({outcome})"


def stop(stack: subprocess.Popen[bytes]) -> None:
    """Ctrl-C, as a person would; whatever is left after 60 s is killed with its group."""
    if stack.poll() is None:
        stack.send_signal(signal.SIGINT)
        try:
            stack.wait(60)
        except subprocess.TimeoutExpired:
            print("chaos: mus run did not stop within 60s; killing its process group")
    with contextlib.suppress(ProcessLookupError):
        os.killpg(stack.pid, signal.SIGKILL)
    stack.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=60, help="audio files copied in")
    parser.add_argument("--waves", type=int, default=8, help="copies spread over this many")
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds to converge")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--faults",
        action="store_true",
        help="also the data folder full, the database locked past its timeout and the broker "
        "out of memory, with user edits and deletions during each (about 3 minutes; root)",
    )
    arguments = parser.parse_args()
    timeout = max(arguments.timeout, 150.0) if arguments.faults else arguments.timeout
    raise SystemExit(
        run(arguments.files, arguments.waves, timeout, arguments.seed, faults=arguments.faults)
    )


if __name__ == "__main__":
    main()
