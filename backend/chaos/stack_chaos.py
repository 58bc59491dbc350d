"""`make chaos`: faults injected into the real stack while a library is copied in.

Starts `mus run` on a private data folder, a private port and a private Redis with AOF (the
one `mus run` starts for a local URL nobody answers), copies N generated audio files into the
music folder in waves, SIGKILLs the worker twice and restarts Redis once meanwhile, then waits
until every file is a COMPLETE track. It prints what it saw and exits 1 when a track is stuck,
lost or doubled, or the library does not converge in time. Everything it started is stopped.
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
from dataclasses import dataclass, field
from pathlib import Path

from mus.demo.audio_generator import generate_library

HEALTH_TIMEOUT_SECONDS = 90.0


@dataclass
class Tally:
    """What the database says about the library, against the files that were added."""

    files: int
    complete: int = 0
    error: int = 0
    pending: int = 0
    duplicates: int = 0
    lost: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def converged(self) -> bool:
        return self.complete + self.error == self.files and not self.duplicates and not self.lost

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
    counts.duplicates += sum(1 for path in by_path if not (music / path).exists())
    return counts


def run(files: int, waves: int, timeout: float, seed: int) -> int:
    work = Path(tempfile.mkdtemp(prefix="mus-chaos-"))
    data, music, staging = work / "data", work / "music", work / "staging"
    music.mkdir(parents=True)
    (music / "README.txt").write_text("chaos run: no demo library here\n")
    port, redis_port = free_port(), free_port()
    print(f"chaos: {files} files in {waves} waves; data {data}; api :{port}; redis :{redis_port}")
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
        faults = {
            max(1, waves // 4): ("SIGKILL the worker", "streaq", signal.SIGKILL),
            max(2, waves // 2): ("restart Redis", "redis-server", signal.SIGTERM),
            max(3, 3 * waves // 4): ("SIGKILL the worker", "streaq", signal.SIGKILL),
        }
        per_wave = -(-files // waves)
        copy_started = time.monotonic()
        for wave in range(waves):
            for relative in added[wave * per_wave : (wave + 1) * per_wave]:
                target = music / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(staging / relative, target)
            if wave in faults:
                what, needle, signum = faults.pop(wave)
                victim = child_matching(stack.pid, needle)
                os.kill(victim, signum)
                print(f"chaos: {time.monotonic() - copy_started:5.1f}s  {what} (pid {victim})")
            time.sleep(0.5)
        for what, needle, signum in faults.values():  # fewer waves than faults
            os.kill(child_matching(stack.pid, needle), signum)
            print(f"chaos: {time.monotonic() - copy_started:5.1f}s  {what}")
        copied = time.monotonic()
        database = data / "database" / "mus.db"
        counts = tally(database, music, added)
        while not counts.converged and time.monotonic() - copied < timeout:
            time.sleep(1.0)
            counts = tally(database, music, added)
        converge = time.monotonic() - copied
        alive = stack.poll() is None
    finally:
        stop(stack)
    print(f"chaos: files added        {counts.files}")
    print(f"chaos: tracks COMPLETE    {counts.complete}")
    print(f"chaos: tracks ERROR       {counts.error}")
    print(f"chaos: stuck PENDING      {counts.pending}")
    print(f"chaos: duplicate rows     {counts.duplicates}")
    print(f"chaos: jobs lost          {counts.lost}")
    print(f"chaos: seconds to converge {converge:.1f} (after the last file was copied)")
    print(f"chaos: mus run alive at the end: {'yes' if alive else 'no'}")
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("mus: ") and ("restart" in line or "exited" in line):
            print(f"chaos: {line}")
    for line in counts.errors[:10]:
        print(f"chaos: ERROR {line}")
    if counts.healthy and alive:
        shutil.rmtree(work, ignore_errors=True)
        print("chaos: passed")
        return 0
    print(log.read_text(errors="replace")[-6000:])
    print(f"chaos: FAILED (kept {work} for a look)")
    return 1


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
    arguments = parser.parse_args()
    raise SystemExit(run(arguments.files, arguments.waves, arguments.timeout, arguments.seed))


if __name__ == "__main__":
    main()
