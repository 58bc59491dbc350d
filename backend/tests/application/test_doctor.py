"""`mus doctor` on a real set-up, then with one thing broken at a time."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mus.application.doctor import (
    DoctorCheck,
    broker_checks,
    doctor_failed,
    format_check,
    run_doctor,
)
from mus.core.broker_preflight import BrokerInfo
from mus.core.config import Settings

from tests.process_probes import free_port

CHECK_NAMES = [
    "data dir",
    "music dir",
    "music writable",
    "ffprobe",
    "database",
    "broker",
    "broker version",
    "broker functions",
]


def by_name(checks: list[DoctorCheck]) -> dict[str, DoctorCheck]:
    return {check.name: check for check in checks}


def failed_names(checks: list[DoctorCheck]) -> set[str]:
    return {check.name for check in checks if not check.ok}


async def test_healthy_setup_passes_every_check(settings: Settings) -> None:
    checks = await run_doctor(settings)

    assert [check.name for check in checks] == CHECK_NAMES
    assert failed_names(checks) == set()
    assert not doctor_failed(checks)
    found = by_name(checks)
    assert str(settings.data_dir_path.resolve()) in found["data dir"].detail
    assert "ffprobe version" in found["ffprobe"].detail
    assert found["ffprobe"].detail.startswith(shutil.which("ffprobe") or "?")
    assert "answers: Redis " in found["broker"].detail
    assert (settings.database_dir_path / "mus.db").is_file()
    leftovers = list(settings.data_dir_path.rglob(".mus-doctor-*"))
    assert leftovers == []


async def test_fresh_data_dir_is_created(tmp_path: Path, settings: Settings) -> None:
    fresh = settings.model_copy(update={"data_dir_path": tmp_path / "new" / "data"})

    checks = await run_doctor(fresh)

    assert failed_names(checks) == set()
    assert (tmp_path / "new" / "data" / "covers").is_dir()
    assert (tmp_path / "new" / "data" / "music").is_dir()


async def test_data_dir_that_cannot_be_created_fails(tmp_path: Path, settings: Settings) -> None:
    a_file = tmp_path / "afile"
    a_file.write_text("not a folder")
    broken = settings.model_copy(update={"data_dir_path": a_file / "data"})

    checks = await run_doctor(broken)

    found = by_name(checks)
    assert not found["data dir"].ok
    assert found["data dir"].required
    assert str(a_file / "data") in found["data dir"].detail
    assert "Not a directory" in found["data dir"].detail
    assert not found["database"].ok
    assert str(a_file / "data" / "database" / "mus.db") in found["database"].detail
    assert found["broker"].ok  # one broken thing does not hide the others
    assert found["ffprobe"].ok
    assert doctor_failed(checks)
    assert a_file.read_text() == "not a folder"


async def test_missing_music_dir_override_fails_and_is_not_created(
    tmp_path: Path, settings: Settings
) -> None:
    missing = tmp_path / "no-such-music"
    broken = settings.model_copy(update={"music_dir_override": missing})

    checks = await run_doctor(broken)

    found = by_name(checks)
    assert not found["music dir"].ok
    assert f"{missing} does not exist" in found["music dir"].detail
    assert "MUSIC_DIR_PATH" in found["music dir"].detail
    assert not found["music writable"].ok
    assert not found["music writable"].required
    assert not missing.exists()
    assert doctor_failed(checks)


async def test_broker_on_a_closed_port_fails(settings: Settings) -> None:
    port = free_port()
    broken = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0"})

    checks = await run_doctor(broken, broker_timeout=1.0)

    found = by_name(checks)
    assert failed_names(checks) == {"broker", "broker version", "broker functions"}
    assert found["broker"].detail.startswith(
        f"cannot reach the broker at redis://127.0.0.1:{port}/0"
    )
    assert "Connection refused" in found["broker"].detail
    assert found["broker version"].detail == "not checked: the broker is unreachable"
    assert doctor_failed(checks)


async def test_ffprobe_path_that_does_not_exist_fails(tmp_path: Path, settings: Settings) -> None:
    missing = tmp_path / "bin" / "ffprobe"

    checks = await run_doctor(settings, ffprobe_path=str(missing))

    found = by_name(checks)
    assert failed_names(checks) == {"ffprobe"}
    assert found["ffprobe"].detail == (
        f"ffprobe not found at {missing}; install ffmpeg (Debian/Ubuntu: apt-get install ffmpeg)"
    )
    assert doctor_failed(checks)


async def test_ffprobe_absent_from_path_fails(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty_bin = tmp_path / "empty-bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))

    checks = await run_doctor(settings)

    found = by_name(checks)
    assert failed_names(checks) == {"ffprobe"}
    assert found["ffprobe"].detail.startswith("ffprobe not found on PATH; install ffmpeg")


async def test_program_that_is_not_ffprobe_fails(tmp_path: Path, settings: Settings) -> None:
    impostor = tmp_path / "ffprobe"
    impostor.write_text("#!/bin/sh\necho 'segmentation fault'\nexit 3\n")
    impostor.chmod(0o755)

    checks = await run_doctor(settings, ffprobe_path=str(impostor))

    detail = by_name(checks)["ffprobe"].detail
    assert failed_names(checks) == {"ffprobe"}
    assert f"{impostor} is not a working ffprobe" in detail
    assert "exited with 3" in detail
    assert "segmentation fault" in detail


async def test_database_that_cannot_be_opened_fails(settings: Settings) -> None:
    database_file = settings.database_dir_path / "mus.db"
    database_file.mkdir(parents=True)  # a folder where the SQLite file should be

    checks = await run_doctor(settings)

    found = by_name(checks)
    assert failed_names(checks) == {"database"}
    assert found["database"].detail.startswith(f"cannot open {database_file}:")
    assert "unable to open database file" in found["database"].detail
    assert "\n" not in found["database"].detail


def test_dragonfly_probe_fails_only_the_functions_check() -> None:
    dragonfly = BrokerInfo(
        url="redis://dragonfly:6379/0",
        reachable=True,
        server="dragonfly",
        version="1.25.1",
        has_functions=False,
        error=None,
    )

    checks = broker_checks(dragonfly)

    assert [(check.name, check.ok) for check in checks] == [
        ("broker", True),
        ("broker version", True),
        ("broker functions", False),
    ]
    assert checks[2].detail == dragonfly.problem()
    assert "DragonflyDB 1.25.1, which has no Redis Functions" in checks[2].detail
    assert doctor_failed(checks)


def test_redis_6_probe_fails_version_and_functions() -> None:
    old = BrokerInfo(
        url="redis://old:6379/0",
        reachable=True,
        server="redis",
        version="6.2.14",
        has_functions=False,
        error=None,
    )

    checks = broker_checks(old)

    assert [check.ok for check in checks] == [True, False, False]
    assert checks[1].detail == (
        "the broker at redis://old:6379/0 is Redis 6.2.14, too old; "
        "mus needs Redis >= 7 or Valkey >= 7.2."
    )


def test_format_check_is_one_line_with_a_status() -> None:
    lines = [
        format_check(DoctorCheck("data dir", True, "/srv/data is writable")),
        format_check(DoctorCheck("database", False, "cannot open x:\nunable to open")),
        format_check(DoctorCheck("music writable", False, "read-only", required=False)),
    ]

    assert lines == [
        "ok    data dir          /srv/data is writable",
        "FAIL  database          cannot open x: unable to open",
        "warn  music writable    read-only",
    ]


def test_only_required_failures_fail_the_doctor() -> None:
    ok = DoctorCheck("a", True, "fine")
    warning = DoctorCheck("b", False, "meh", required=False)
    failure = DoctorCheck("c", False, "broken")

    assert not doctor_failed([])
    assert not doctor_failed([ok, warning])
    assert doctor_failed([ok, warning, failure])
