"""Healthcheck (public, 200/503) and the permissions report."""

from __future__ import annotations

import asyncio
import shutil

from api_harness import Api, eventually, running_api

from mus.application.initial_scan import run_initial_scan
from mus.core.config import Settings
from mus.demo.audio_spec import AudioSpec

from tests.own_redis import OwnRedis
from tests.real_faults import database_held, fill, remount, tmpfs


async def test_healthcheck_ok(api: Api) -> None:
    response = await api.client.get("/healthcheck")
    assert response.status_code == 200
    assert response.json() == {
        "database": "ok",
        "broker": "ok",
        "library": "ok",
        "watcher": "off",
        "data_folder": "ok",
        "music_folder": "ok",
    }


async def test_healthcheck_503_names_the_broker(dead_broker_settings: Settings) -> None:
    async with running_api(dead_broker_settings) as api:
        response = await api.client.get("/healthcheck")
        assert response.status_code == 503
        assert response.json() == {
            "database": "ok",
            "broker": "error",
            "library": "ok",
            "watcher": "off",
            "data_folder": "ok",
            "music_folder": "ok",
        }


async def test_healthcheck_503_names_the_database(api: Api) -> None:
    await api.state.database.dispose()
    db_file = api.settings.database_dir_path / "mus.db"
    db_file.unlink()
    db_file.mkdir()  # a folder where the database file should be: SQLite cannot open it
    try:
        response = await api.client.get("/healthcheck")
    finally:
        db_file.rmdir()
    assert response.status_code == 503
    assert response.json() == {
        "database": "error",
        "broker": "ok",
        "library": "ok",
        "watcher": "off",
        "data_folder": "ok",
        "music_folder": "ok",
    }


async def test_permissions_report(api: Api) -> None:
    response = await api.client.get("/permissions")
    assert response.status_code == 200
    report = response.json()
    assert report["ok"] is True
    assert report["problems"] == []
    assert report["music_dir"] == {
        "path": str(api.music_dir),
        "exists": True,
        "readable": True,
        "writable": True,
    }
    for key in ("data_dir", "covers_dir", "database_dir", "database_file"):
        assert report[key]["writable"] is True, key


async def test_healthcheck_says_when_the_library_root_looks_unmounted(api: Api) -> None:
    tracks = [await api.add_track(AudioSpec(f"{n}.mp3", "mp3", title=f"T{n}")) for n in range(2)]
    for path in api.music_dir.iterdir():
        path.unlink()
    report = await run_initial_scan(
        api.state.database, api.settings, api.state.job_queue, status=api.state.library_status
    )
    assert report.fast_scan.prune_refused == 2
    response = await api.client.get("/healthcheck")
    assert response.status_code == 200
    assert response.json()["library"] == "library root looks unmounted"
    for track in tracks:
        assert await api.track(track.id) is not None


async def test_healthcheck_reports_the_watcher_and_503_while_it_cannot_watch(
    settings: Settings,
) -> None:
    """The watcher died silently with a 200 healthcheck; now its state shows, and a watcher
    that cannot watch for longer than the grace period makes the healthcheck 503."""
    watched = settings.model_copy(update={"watcher_enabled": True, "watcher_grace_seconds": 0.5})
    async with running_api(watched) as api:
        assert api.state.watcher_ready is not None
        await asyncio.wait_for(api.state.watcher_ready.wait(), 10)
        ok = await api.client.get("/healthcheck")
        assert (ok.status_code, ok.json()["watcher"]) == (200, "ok")

        shutil.rmtree(api.music_dir)

        async def unhealthy() -> dict[str, str] | None:
            response = await api.client.get("/healthcheck")
            return response.json() if response.status_code == 503 else None

        report = await eventually(unhealthy, 15)
        assert report["watcher"] == "restarting"

        api.music_dir.mkdir()

        async def healthy() -> bool:
            response = await api.client.get("/healthcheck")
            return response.status_code == 200 and response.json()["watcher"] == "ok"

        await eventually(healthy, 20)


async def test_healthcheck_and_admin_say_the_database_is_busy_while_another_process_holds_it(
    api: Api,
) -> None:
    """A read still passes under WAL: only a write probe tells a held database (200 still)."""
    async with database_held(api.settings.database_dir_path / "mus.db"):
        held = await api.client.get("/healthcheck")
        figures = (await api.client.get("/admin/figures")).json()
    assert (held.status_code, held.json()["database"]) == (200, "busy")
    assert figures["storage"]["database_busy"] is True
    free = await api.client.get("/healthcheck")
    assert free.json()["database"] == "ok"
    assert (await api.client.get("/admin/figures")).json()["storage"]["database_busy"] is False


async def test_healthcheck_and_admin_show_a_music_folder_low_full_and_read_only(
    settings: Settings,
) -> None:
    """A 4 MiB tmpfs as the music folder (needs root: CI runs as root), a 2 MiB threshold."""
    warned = settings.model_copy(update={"free_space_warning_mb": 2})
    with tmpfs(warned.music_dir_path, "4m") as music:
        async with running_api(warned) as api:
            report = (await api.client.get("/healthcheck")).json()
            assert (report["data_folder"], report["music_folder"]) == ("ok", "ok")
            (music / "big.bin").write_bytes(b"\0" * (3 * 1024 * 1024))
            assert (await api.client.get("/healthcheck")).json()["music_folder"] == "low on space"
            fill(music)
            full = await api.client.get("/healthcheck")
            assert (full.status_code, full.json()["music_folder"]) == (200, "full")
            storage = (await api.client.get("/admin/figures")).json()["storage"]
            assert storage["music"]["state"] == "full"
            assert storage["music"]["free_mb"] == 0.0
            assert storage["music"]["total_mb"] == 4.0
            assert storage["warning_mb"] == 2
            assert storage["data"]["state"] == "ok"
            remount(music, "ro")
            try:
                read_only = (await api.client.get("/healthcheck")).json()
                figures = (await api.client.get("/admin/figures")).json()["storage"]
            finally:
                remount(music, "rw")
    assert read_only["music_folder"] == "read-only"
    assert figures["music"]["state"] == "read-only"


async def test_healthcheck_503_when_the_broker_answers_but_refuses_writes(
    settings: Settings, started_redis: OwnRedis
) -> None:
    """Out of memory (`noeviction`) a broker still answers PING; the write probe tells."""
    async with running_api(settings.model_copy(update={"redis_url": started_redis.url})) as api:
        assert (await api.client.get("/healthcheck")).status_code == 200
        started_redis.refuse_writes()
        refused = await api.client.get("/healthcheck")
        started_redis.accept_writes()
        back = await api.client.get("/healthcheck")
    assert refused.status_code == 503
    assert refused.json()["broker"] == "error"
    assert refused.json()["database"] == "ok"
    assert back.status_code == 200
