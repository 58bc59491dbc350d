"""Healthcheck (public, 200/503) and the permissions report."""

from __future__ import annotations

from api_harness import Api, running_api

from mus.core.config import Settings


async def test_healthcheck_ok(api: Api) -> None:
    response = await api.client.get("/healthcheck")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok"}


async def test_healthcheck_503_names_the_broker(dead_broker_settings: Settings) -> None:
    async with running_api(dead_broker_settings) as api:
        response = await api.client.get("/healthcheck")
        assert response.status_code == 503
        assert response.json() == {"database": "ok", "broker": "error"}


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
    assert response.json() == {"database": "error", "broker": "ok"}


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
