"""The operator's figures and the parity page: real app, real Redis, no worker running."""

from __future__ import annotations

from pathlib import Path

from api_harness import Api, running_api

from mus.adapters.persistence.models import utc_now
from mus.adapters.persistence.track_repository import TrackRepository
from mus.core.config import Settings
from mus.demo.audio_spec import AudioSpec
from mus.domain.track import TrackError

from tests.own_redis import OwnRedis


async def test_figures_name_the_broker_the_queues_and_the_library(api: Api) -> None:
    await api.add_track(AudioSpec("a.mp3", "mp3", title="Alpha"))
    failed = await api.add_track(AudioSpec("b.mp3", "mp3", title="Beta"))
    async with api.state.database.session() as session:
        await TrackRepository(session).mark_error(
            failed.id, TrackError("process_slow_metadata", "boom", utc_now())
        )
    await api.state.job_queue.enqueue("process_slow_metadata", track_id=1, revision=0)
    await api.state.job_queue.enqueue("handle_file_created", file_path="new.mp3")

    response = await api.client.get("/admin/figures")

    assert response.status_code == 200
    figures = response.json()
    assert figures["broker"]["reachable"] is True
    assert figures["broker"]["product"].startswith(("Redis", "Valkey"))
    assert figures["broker"]["problem"] is None
    assert figures["watcher"] == "off"  # the test settings turn it off
    assert figures["tracks_by_status"] == {"PENDING": 1, "ERROR": 1}
    queue = figures["queue"]
    assert figures["queue_problem"] is None
    assert [(depth["queue"], depth["waiting"]) for depth in queue["queues"]] == [
        ("high_priority", 1),
        ("medium_priority", 0),
        ("low_priority", 1),
    ]
    assert (queue["running"], queue["recent_finished"], queue["workers"]) == (0, 0, [])
    assert figures["version"] == "0.1.0"


async def test_figures_say_the_broker_is_down_instead_of_failing(
    dead_broker_settings: Settings,
) -> None:
    async with running_api(dead_broker_settings) as api:
        response = await api.client.get("/admin/figures")
    assert response.status_code == 200
    figures = response.json()
    assert figures["broker"]["reachable"] is False
    assert "cannot reach the broker" in figures["broker"]["problem"]
    assert figures["queue"] is None
    assert figures["queue_problem"].startswith("broker unavailable")


async def test_figures_say_the_broker_refuses_writes_when_it_is_out_of_memory(
    settings: Settings, started_redis: OwnRedis
) -> None:
    async with running_api(settings.model_copy(update={"redis_url": started_redis.url})) as api:
        started_redis.refuse_writes()
        refused = (await api.client.get("/admin/figures")).json()["broker"]
        started_redis.accept_writes()
        back = (await api.client.get("/admin/figures")).json()["broker"]
    assert refused["reachable"] is True
    assert refused["problem"].startswith("the broker refuses writes: OOM command not allowed")
    assert back["problem"] is None


async def test_the_parity_page_is_served_from_its_setting_or_named_missing(
    settings: Settings, tmp_path: Path
) -> None:
    report = tmp_path / "report" / "parity.html"
    configured = settings.model_copy(update={"parity_report_path": report})
    async with running_api(configured) as api:
        missing = await api.client.get("/admin/parity-report")
        assert missing.status_code == 404
        assert str(report) in missing.json()["detail"]
        assert (await api.client.get("/admin/figures")).json()["parity_report"] == {
            "path": str(report),
            "exists": False,
            "modified_at": None,
        }
        report.parent.mkdir()
        report.write_text("<h1>parity</h1>")
        found = await api.client.get("/admin/parity-report")
        assert found.status_code == 200
        assert found.headers["content-type"].startswith("text/html")
        assert found.text == "<h1>parity</h1>"
        assert (await api.client.get("/admin/figures")).json()["parity_report"]["exists"]
