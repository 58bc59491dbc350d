"""`mus doctor`: check every outside thing mus needs, one line each, before anything runs.

A wrong set-up otherwise shows up much later as failed jobs; this names what to fix up front.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mus.adapters.persistence.database import Database
from mus.core.broker_preflight import MINIMUM_VERSIONS, BrokerInfo, probe_broker
from mus.core.config import Settings

FFPROBE_TIMEOUT_SECONDS = 10.0
INSTALL_FFMPEG_HINT = "install ffmpeg (Debian/Ubuntu: apt-get install ffmpeg)"
NOT_CHECKED = "not checked: the broker is unreachable"


@dataclass(frozen=True, slots=True)
class DoctorCheck:
    """One finding; a required check that is not ok makes `mus doctor` exit non-zero."""

    name: str
    ok: bool
    detail: str
    required: bool = True


def format_check(check: DoctorCheck) -> str:
    """One printable line: status, name, detail (no markup, no line breaks)."""
    status = "ok" if check.ok else ("FAIL" if check.required else "warn")
    detail = " ".join(check.detail.split())
    return f"{status:<4}  {check.name:<16}  {detail}"


def doctor_failed(checks: Iterable[DoctorCheck]) -> bool:
    """True when any required check failed: the exit-code decision."""
    return any(check.required and not check.ok for check in checks)


def _write_probe_file(folder: Path) -> None:
    """Really write and delete a file: os.access lies for root and for read-only mounts."""
    handle, name = tempfile.mkstemp(prefix=".mus-doctor-", dir=folder)
    try:
        os.write(handle, b"mus doctor write test\n")
        os.fsync(handle)
    finally:
        os.close(handle)
        Path(name).unlink()


def check_data_dir(settings: Settings) -> DoctorCheck:
    """Create the data folders as start-up would, and write a file in each."""
    data_dir = settings.data_dir_path.resolve()
    folders = [data_dir, settings.covers_dir_path, settings.database_dir_path]
    if settings.music_dir_override is None:  # the default music folder lives in the data dir
        folders.append(settings.music_dir_path)
    try:
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
        for folder in folders[:3]:
            _write_probe_file(folder)
    except OSError as exc:
        return DoctorCheck("data dir", False, f"{data_dir} is not writable: {exc}")
    return DoctorCheck("data dir", True, f"{data_dir} is writable")


def check_music_dir(settings: Settings) -> DoctorCheck:
    """The library must exist and be listable; mus never creates a configured one."""
    music_dir = settings.music_dir_path
    if not music_dir.exists():
        return DoctorCheck(
            "music dir", False, f"{music_dir} does not exist; set MUSIC_DIR_PATH to your music"
        )
    if not music_dir.is_dir():
        return DoctorCheck("music dir", False, f"{music_dir} is not a folder")
    try:
        with os.scandir(music_dir) as entries:
            next(entries, None)
    except OSError as exc:
        return DoctorCheck("music dir", False, f"cannot read {music_dir}: {exc.strerror}")
    return DoctorCheck("music dir", True, f"{music_dir} is readable")


def check_music_dir_writable(settings: Settings) -> DoctorCheck:
    """Browsing works on a read-only library; uploads, tag edits and deletions do not."""
    music_dir = settings.music_dir_path
    if music_dir.is_dir() and os.access(music_dir, os.W_OK | os.X_OK):
        return DoctorCheck("music writable", True, f"{music_dir} accepts changes", required=False)
    return DoctorCheck(
        "music writable",
        False,
        f"{music_dir} is read-only: uploads, tag edits and deletions will fail",
        required=False,
    )


def _is_file(path: str) -> bool:
    return Path(path).is_file()


async def check_ffprobe(ffprobe_path: str | None) -> DoctorCheck:
    """ffprobe reads durations and streams; without it every slow-metadata job fails."""
    if ffprobe_path is None:
        return DoctorCheck("ffprobe", False, f"ffprobe not found on PATH; {INSTALL_FFMPEG_HINT}")
    if not _is_file(ffprobe_path):
        return DoctorCheck(
            "ffprobe", False, f"ffprobe not found at {ffprobe_path}; {INSTALL_FFMPEG_HINT}"
        )
    try:
        process = await asyncio.create_subprocess_exec(
            ffprobe_path,
            "-version",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
    except OSError as exc:
        return DoctorCheck("ffprobe", False, f"cannot run {ffprobe_path}: {exc}")
    try:
        async with asyncio.timeout(FFPROBE_TIMEOUT_SECONDS):
            output, _ = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        return DoctorCheck(
            "ffprobe",
            False,
            f"{ffprobe_path} -version gave no answer in {FFPROBE_TIMEOUT_SECONDS:g}s",
        )
    lines = output.decode(errors="replace").splitlines()
    first_line = lines[0].strip() if lines else ""
    if process.returncode != 0 or not first_line.startswith("ffprobe version"):
        return DoctorCheck(
            "ffprobe",
            False,
            f"{ffprobe_path} is not a working ffprobe (-version exited with "
            f"{process.returncode}, said {first_line[:80]!r}); {INSTALL_FFMPEG_HINT}",
        )
    version_line = first_line.split(" Copyright", 1)[0]
    return DoctorCheck("ffprobe", True, f"{ffprobe_path}: {version_line}")


async def check_database(settings: Settings) -> DoctorCheck:
    """Open the SQLite file (WAL pragmas included) and run SELECT 1."""
    database_file = settings.database_dir_path / "mus.db"
    database = Database.from_settings(settings)
    try:
        await database.ping()
    except Exception as exc:  # any failure is the finding, never a crash of the doctor
        reason = (str(exc).strip() or type(exc).__name__).splitlines()[0]
        return DoctorCheck("database", False, f"cannot open {database_file}: {reason}")
    finally:
        await database.dispose()
    return DoctorCheck("database", True, f"{database_file} opens and answers")


def broker_checks(info: BrokerInfo) -> list[DoctorCheck]:
    """Three findings from one probe: reachable, version, Redis Functions."""
    if not info.reachable:
        return [
            DoctorCheck("broker", False, info.unreachable_problem() or info.url),
            DoctorCheck("broker version", False, NOT_CHECKED),
            DoctorCheck("broker functions", False, NOT_CHECKED),
        ]
    reachable = DoctorCheck("broker", True, f"{info.url} answers: {info.product}")
    version_problem = info.version_problem()
    if version_problem is not None:
        version = DoctorCheck("broker version", False, version_problem)
    elif info.server in MINIMUM_VERSIONS:
        minimum = ".".join(map(str, MINIMUM_VERSIONS[info.server]))
        version = DoctorCheck("broker version", True, f"{info.product} (>= {minimum} needed)")
    else:
        version = DoctorCheck(
            "broker version", True, f"{info.product}: no version rule, Redis Functions decide"
        )
    functions_problem = info.functions_problem()
    functions = (
        DoctorCheck("broker functions", False, functions_problem)
        if functions_problem is not None
        else DoctorCheck("broker functions", True, "FUNCTION LIST answers")
    )
    return [reachable, version, functions]


async def run_doctor(
    settings: Settings,
    *,
    ffprobe_path: str | None = None,
    broker_timeout: float = 2.0,
) -> list[DoctorCheck]:
    """Every check, in the order a user fixes them; `ffprobe_path` None means look on PATH."""
    checks = [
        check_data_dir(settings),
        check_music_dir(settings),
        check_music_dir_writable(settings),
    ]
    checks.append(await check_ffprobe(ffprobe_path or shutil.which("ffprobe")))
    checks.append(await check_database(settings))
    checks.extend(broker_checks(await probe_broker(settings.redis_url, timeout=broker_timeout)))
    return checks
