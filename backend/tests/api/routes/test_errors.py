"""The errors view and requeue: back to PENDING with the slow job queued at the new revision."""

from __future__ import annotations

from api_harness import Api, running_api

from mus.adapters.persistence.models import utc_now
from mus.adapters.persistence.track_repository import TrackRepository
from mus.core.config import Settings
from mus.demo.audio_spec import AudioSpec
from mus.domain.track import ProcessingStatus, Track, TrackError


async def failed_track(api: Api, name: str, message: str = "cannot decode") -> Track:
    track = await api.add_track(AudioSpec(name, "mp3", title=name))
    async with api.state.database.session() as session:
        await TrackRepository(session).mark_error(
            track.id, TrackError("process_slow_metadata", message, utc_now())
        )
    failed = await api.track(track.id)
    assert failed is not None
    return failed


async def test_errors_lists_failed_tracks_with_their_reason(api: Api) -> None:
    await api.add_track(AudioSpec("fine.mp3", "mp3", title="Fine"))
    failed = await failed_track(api, "bad.mp3", "ffprobe: invalid data")
    body = (await api.client.get("/errors")).json()
    assert body["total"] == 1
    (item,) = body["items"]
    assert item["id"] == failed.id
    assert item["processing_status"] == "ERROR"
    assert item["last_error"]["job_name"] == "process_slow_metadata"
    assert item["last_error"]["error_message"] == "ffprobe: invalid data"


async def test_requeue_one(api: Api) -> None:
    failed = await failed_track(api, "bad.mp3")
    response = await api.client.post(f"/errors/{failed.id}/requeue")
    assert response.status_code == 202
    body = response.json()
    assert body["track_id"] == failed.id
    assert body["revision"] == failed.revision + 1
    pending = await api.track(failed.id)
    assert pending is not None
    assert pending.processing_status is ProcessingStatus.PENDING
    assert pending.last_error is None
    assert pending.revision == body["revision"]
    assert await api.queued("low_priority") == [
        ("process_slow_metadata", {"track_id": failed.id, "revision": body["revision"]})
    ]
    assert (await api.client.get("/errors")).json()["total"] == 0

    again = await api.client.post(f"/errors/{failed.id}/requeue")
    assert again.status_code == 409
    assert again.json() == {"detail": f"track {failed.id} is PENDING, not ERROR"}


async def test_requeue_all(api: Api) -> None:
    first = await failed_track(api, "a.mp3")
    second = await failed_track(api, "b.mp3")
    await api.add_track(AudioSpec("ok.mp3", "mp3", title="ok"))
    response = await api.client.post("/errors/requeue")
    assert response.status_code == 202
    requeued = response.json()["requeued"]
    assert sorted(item["track_id"] for item in requeued) == sorted([first.id, second.id])
    queued = await api.queued("low_priority")
    assert sorted(kwargs["track_id"] for _, kwargs in queued) == sorted([first.id, second.id])
    assert (await api.client.post("/errors/requeue")).json() == {"requeued": []}


async def test_requeue_with_broker_down_keeps_the_error(dead_broker_settings: Settings) -> None:
    async with running_api(dead_broker_settings) as api:
        failed = await failed_track(api, "bad.mp3", "original reason")
        response = await api.client.post(f"/errors/{failed.id}/requeue")
        assert response.status_code == 503
        still = await api.track(failed.id)
        assert still is not None
        assert still.processing_status is ProcessingStatus.ERROR
        assert still.last_error == failed.last_error
        assert (await api.client.post("/errors/requeue")).status_code == 503
