"""Scanner fixtures: a music folder, a real SQLite file, and a way to be denied access as root."""

from __future__ import annotations

import os
import pickle
import shutil
import stat
import struct
import subprocess
import tempfile
import traceback
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mus.adapters.persistence.database import Database

NOBODY_ID = 65534

RunUnprivileged = Callable[[Callable[[], Any]], Any]


@pytest.fixture
def scan_library_root(tmp_path: Path) -> Path:
    """An empty music folder."""
    root = tmp_path / "music"
    root.mkdir()
    return root


@pytest.fixture
async def scan_database(tmp_path: Path) -> AsyncIterator[Database]:
    """A real SQLite database file with the tables created (no Redis needed)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    database = Database(f"sqlite+aiosqlite:///{data_dir / 'mus.db'}")
    await database.create_tables()
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def shared_scan_dir() -> Iterator[Path]:
    """A temp folder an unprivileged user can enter (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="mus-scan-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        for dirpath, dirnames, _ in os.walk(folder):
            for name in dirnames:
                (Path(dirpath) / name).chmod(stat.S_IRWXU)
        shutil.rmtree(folder)


@pytest.fixture
def run_unprivileged() -> RunUnprivileged:
    """Run a function where chmod really denies access.

    Tests run as root here, and root reads anything: the function then runs in a forked child
    that has switched to `nobody`, and its (picklable) result comes back through a pipe.
    Call it from a synchronous test only (a forked running event loop is unusable).
    """

    def run(function: Callable[[], Any]) -> Any:
        if os.geteuid() != 0:
            return function()
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns into pytest
            try:
                os.close(read_end)
                try:
                    os.setgroups([])
                    os.setgid(NOBODY_ID)
                    os.setuid(NOBODY_ID)
                    payload = pickle.dumps((True, function()))
                except BaseException:
                    payload = pickle.dumps((False, traceback.format_exc()))
                with os.fdopen(write_end, "wb") as pipe:
                    pipe.write(payload)
            finally:
                os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            payload = pipe.read()
        os.waitpid(pid, 0)
        succeeded, value = pickle.loads(payload)
        if not succeeded:
            pytest.fail(f"unprivileged child failed:\n{value}")
        return value

    return run


def write_mp3_without_xing(path: Path) -> None:
    """One second of tone as an MP3 without a Xing/VBRI header: mutagen's length for it is a
    bitrate guess, so the analysis must ask ffprobe (written by the real ffmpeg)."""
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
            "-c:a", "libmp3lame", "-q:a", "4", "-write_xing", "0", str(path),
        ],
        check=True,
        timeout=60,
    )  # fmt: skip


def large_png(side: int, shade: int) -> bytes:
    """A real side x side RGB PNG (a gradient, a few KB compressed), built one row at a time."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    compressor = zlib.compressobj(9)
    parts: list[bytes] = []
    for row in range(side):
        value = (row * 255 // side + shade) % 256
        parts.append(compressor.compress(b"\0" + bytes((value, shade, 255 - value)) * side))
    parts.append(compressor.flush())
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", b"".join(parts))
        + chunk(b"IEND", b"")
    )
