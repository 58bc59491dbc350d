"""Listing, reading and deleting tracks; unknown ids are 404, a dead broker 503."""

# mutagen ships partial annotations (untyped constructors, Optional tags).
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import mutagen
import pytest
from api_harness import Api, running_api
from mutagen.flac import FLAC
from mutagen.id3 import ID3
from mutagen.mp4 import MP4
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from mus.adapters.persistence.models import utc_now
from mus.adapters.persistence.track_repository import TrackRepository
from mus.adapters.scanner.fingerprint import content_fingerprint
from mus.core.config import Settings
from mus.demo.audio_spec import AUDIO_FORMATS, AudioFormat, AudioSpec
from mus.domain.track import ProcessingStatus, TrackError
from mus.worker import create_worker

from tests.odd_audio import encode


async def test_list_pages_and_filters_by_status(api: Api) -> None:
    first = await api.add_track(AudioSpec("a.mp3", "mp3", title="Alpha", artist="Ann"))
    second = await api.add_track(AudioSpec("b.flac", "flac", title="Beta", artist="Bob"))
    async with api.state.database.session() as session:
        await TrackRepository(session).mark_error(
            second.id, TrackError("process_slow_metadata", "boom", utc_now())
        )

    everything = (await api.client.get("/tracks")).json()
    assert [item["title"] for item in everything["items"]] == ["Alpha", "Beta"]
    assert everything["total"] == 2

    page = (await api.client.get("/tracks", params={"offset": 1, "limit": 1})).json()
    assert [item["id"] for item in page["items"]] == [second.id]
    assert (page["total"], page["offset"], page["limit"]) == (2, 1, 1)

    failed = (await api.client.get("/tracks", params={"status": "ERROR"})).json()
    assert [item["id"] for item in failed["items"]] == [second.id]
    assert failed["items"][0]["last_error"]["error_message"] == "boom"
    pending = (await api.client.get("/tracks", params={"status": "PENDING"})).json()
    assert [item["id"] for item in pending["items"]] == [first.id]


async def test_list_refuses_bad_paging(api: Api) -> None:
    assert (await api.client.get("/tracks", params={"limit": 501})).status_code == 422
    assert (await api.client.get("/tracks", params={"limit": 0})).status_code == 422
    assert (await api.client.get("/tracks", params={"offset": -1})).status_code == 422
    assert (await api.client.get("/tracks", params={"status": "DONE"})).status_code == 422


async def test_get_one_track_and_unknown_ids(api: Api) -> None:
    track = await api.add_track(AudioSpec("x/y.ogg", "ogg", title="Why", artist="Ex"))
    response = await api.client.get(f"/tracks/{track.id}")
    assert response.status_code == 200
    body = response.json()
    assert body["file_path"] == "x/y.ogg"
    assert body["processing_status"] == ProcessingStatus.PENDING.value

    missing = await api.client.get("/tracks/9999")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "track 9999 not found"}
    for method, path in [
        ("DELETE", "/tracks/9999"),
        ("PATCH", "/tracks/9999"),
        ("GET", "/tracks/9999/stream"),
        ("GET", "/tracks/9999/covers/small"),
        ("POST", "/errors/9999/requeue"),
    ]:
        body = {"title": "t"} if method == "PATCH" else None
        answer = await api.client.request(method, path, json=body)
        assert answer.status_code == 404, (method, path)
        assert answer.json()["detail"] == "track 9999 not found"


async def test_delete_queues_the_job_on_high_priority(api: Api) -> None:
    track = await api.add_track(AudioSpec("gone.wav", "wav", title="Gone"))
    response = await api.client.delete(f"/tracks/{track.id}")
    assert response.status_code == 202
    assert response.json()["job"] == "delete_track_with_files"
    assert await api.queued("high_priority") == [
        ("delete_track_with_files", {"track_id": track.id})
    ]
    # The job does the deleting: the row and the file are still there.
    assert await api.track(track.id) is not None
    assert (api.music_dir / "gone.wav").is_file()


async def test_delete_with_broker_down_is_503_and_changes_nothing(
    dead_broker_settings: Settings,
) -> None:
    async with running_api(dead_broker_settings) as api:
        track = await api.add_track(AudioSpec("keep.mp3", "mp3", title="Keep"))
        response = await api.client.delete(f"/tracks/{track.id}")
        assert response.status_code == 503
        assert response.json()["detail"].startswith("job queue unavailable: ")
        assert await api.track(track.id) is not None
        assert (api.music_dir / "keep.mp3").is_file()
        # Reading the library does not need the broker.
        assert (await api.client.get("/tracks")).json()["total"] == 1


def read_title_artist(path: Path, audio_format: AudioFormat) -> tuple[str | None, str | None]:
    """What a player would read back, through each format's own tag type."""
    if audio_format in ("mp3", "wav"):
        tags: Any = ID3(path) if audio_format == "mp3" else WAVE(path).tags
        title, artist = tags.get("TIT2"), tags.get("TPE1")
        return (str(title.text[0]) if title else None, str(artist.text[0]) if artist else None)
    if audio_format == "m4a":
        mp4: Any = MP4(path).tags
        return mp4["\xa9nam"][0], mp4["\xa9ART"][0]
    vorbis: Any = (FLAC(path) if audio_format == "flac" else OggVorbis(path)).tags
    return vorbis["title"][0], vorbis["artist"][0]


@pytest.mark.parametrize("audio_format", AUDIO_FORMATS)
async def test_patch_writes_tags_into_the_file_and_the_row(
    api: Api, audio_format: AudioFormat
) -> None:
    relative = f"edit/song.{audio_format}"
    track = await api.add_track(AudioSpec(relative, audio_format, title="Old", artist="Someone"))
    path = api.music_dir / relative
    listener = api.state.redis.pubsub()
    await listener.subscribe(api.settings.event_channel)
    try:
        response = await api.client.patch(
            f"/tracks/{track.id}", json={"title": "Νέος τίτλος", "artist": "Björk"}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["title"], body["artist"], body["pending_rename"]) == (
            "Νέος τίτλος",
            "Björk",
            None,
        )
        assert read_title_artist(path, audio_format) == ("Νέος τίτλος", "Björk")
        if audio_format == "mp3":
            # Edited in the version the file had (the generator writes v2.4), frames kept.
            assert ID3(path).version == (2, 4, 0)
        updated = await api.track(track.id)
        assert updated is not None
        assert (updated.title, updated.artist) == ("Νέος τίτλος", "Björk")
        assert updated.content_hash == content_fingerprint(path) != track.content_hash
        assert updated.file_mtime == path.stat().st_mtime
        # The watcher will see the write, and ignore it: the path is under the write lock.
        assert await api.state.write_lock.is_locked(relative)
        event = None
        for _ in range(40):
            event = await listener.get_message(ignore_subscribe_messages=True, timeout=0.05)
            if event:
                break
        assert event is not None
        published = json.loads(event["data"])
        assert (published["type"], published["track_id"], published["title"]) == (
            "track_updated",
            track.id,
            "Νέος τίτλος",
        )
    finally:
        await listener.aclose()
    assert await api.queued("medium_priority") == []


async def test_patch_one_field_keeps_the_other(api: Api) -> None:
    track = await api.add_track(AudioSpec("one.flac", "flac", title="Keep", artist="Me"))
    response = await api.client.patch(f"/tracks/{track.id}", json={"title": "  Changed  "})
    assert response.status_code == 200
    assert (response.json()["title"], response.json()["artist"]) == ("Changed", "Me")
    assert read_title_artist(api.music_dir / "one.flac", "flac") == ("Changed", "Me")


async def test_patch_with_rename_queues_a_safe_name_in_the_same_folder(api: Api) -> None:
    track = await api.add_track(AudioSpec("Album/01.mp3", "mp3", title="T", artist="A"))
    response = await api.client.patch(
        f"/tracks/{track.id}",
        json={"title": "../../etc/passwd", "artist": "AC/DC", "rename": True},
    )
    assert response.status_code == 200, response.text
    target = "Album/AC_DC - .._.._etc_passwd.mp3"
    assert response.json()["pending_rename"] == target
    assert response.json()["file_path"] == "Album/01.mp3"  # the job renames, later
    assert await api.queued("medium_priority") == [
        ("update_track_path_by_id", {"track_id": track.id, "new_file_path": target})
    ]
    assert (api.music_dir / "Album/01.mp3").is_file()


async def test_rename_avoids_a_taken_name_and_skips_a_no_op(api: Api) -> None:
    await api.add_track(AudioSpec("Art - Song.ogg", "ogg", title="Song", artist="Art"))
    other = await api.add_track(AudioSpec("other.ogg", "ogg", title="Song", artist="Art"))
    response = await api.client.patch(f"/tracks/{other.id}", json={"rename": True})
    assert response.json()["pending_rename"] == "Art - Song (2).ogg"

    named = await api.add_track(AudioSpec("Me - Mine.wav", "wav", title="Mine", artist="Me"))
    same = await api.client.patch(f"/tracks/{named.id}", json={"rename": True})
    assert same.status_code == 200
    assert same.json()["pending_rename"] is None
    assert [job for job, _ in await api.queued("medium_priority")] == ["update_track_path_by_id"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": ""},
        {"title": "   "},
        {"title": "two\nlines"},
        {"artist": "nul\x00"},
        {"title": "x" * 501},
        {"title": "ok", "album": "unknown field"},
        {"rename": "yes please"},
    ],
)
async def test_patch_refuses_bad_edits_and_leaves_the_file(api: Api, body: dict[str, Any]) -> None:
    track = await api.add_track(AudioSpec("bad.mp3", "mp3", title="Same"))
    before = (api.music_dir / "bad.mp3").read_bytes()
    response = await api.client.patch(f"/tracks/{track.id}", json=body)
    assert response.status_code == 422
    assert (api.music_dir / "bad.mp3").read_bytes() == before


async def test_patch_on_a_corrupt_file_is_422_and_loses_nothing(api: Api) -> None:
    track = await api.add_track(AudioSpec("broken.flac", "flac", corrupt=True))
    before = (api.music_dir / "broken.flac").read_bytes()
    response = await api.client.patch(f"/tracks/{track.id}", json={"title": "Fixed?"})
    assert response.status_code == 422
    assert "cannot write tags to broken.flac" in response.json()["detail"]
    assert (api.music_dir / "broken.flac").read_bytes() == before
    unchanged = await api.track(track.id)
    assert unchanged is not None and unchanged.title == track.title


async def test_patch_on_a_vanished_file_is_404(api: Api) -> None:
    track = await api.add_track(AudioSpec("gone.m4a", "m4a", title="Gone"))
    (api.music_dir / "gone.m4a").unlink()
    response = await api.client.patch(f"/tracks/{track.id}", json={"title": "New"})
    assert response.status_code == 404
    assert "missing from the music folder" in response.json()["detail"]


async def test_patch_with_broker_down_is_503_before_touching_the_file(
    dead_broker_settings: Settings,
) -> None:
    async with running_api(dead_broker_settings) as api:
        track = await api.add_track(AudioSpec("safe.mp3", "mp3", title="Safe", artist="Me"))
        before = (api.music_dir / "safe.mp3").read_bytes()
        response = await api.client.patch(
            f"/tracks/{track.id}", json={"title": "Changed", "rename": True}
        )
        assert response.status_code == 503
        assert response.json()["detail"].startswith("job queue unavailable: ")
        assert (api.music_dir / "safe.mp3").read_bytes() == before
        unchanged = await api.track(track.id)
        assert unchanged is not None
        assert (unchanged.title, unchanged.content_hash) == ("Safe", track.content_hash)


async def test_fifty_concurrent_renaming_edits_leave_row_name_and_tags_agreeing(
    api: Api,
) -> None:
    """50 concurrent `PATCH {title, rename}` left the track ERROR ("cannot rename: No such
    file") with a title and hash that no longer matched the file. Real worker, real files."""
    track = await api.add_track(AudioSpec("race.mp3", "mp3", title="Start"))

    async def edit(n: int) -> int:
        response = await api.client.patch(
            f"/tracks/{track.id}", json={"title": f"Title {n:02d}", "rename": True}
        )
        return response.status_code

    codes = await asyncio.gather(*(edit(n) for n in range(50)))
    assert set(codes) == {200}
    worker = create_worker(api.settings)
    worker.burst = True
    await worker.run_async()

    final = await api.track(track.id)
    assert final is not None
    assert final.processing_status is not ProcessingStatus.ERROR, final.last_error
    assert final.file_path == f"{final.title}.mp3"
    assert api.library_files() == [final.file_path]
    stored = api.music_dir / final.file_path
    assert str(ID3(stored)["TIT2"].text[0]) == final.title
    assert final.content_hash == content_fingerprint(stored)


async def test_list_searches_title_artist_and_path_word_by_word(api: Api) -> None:
    await api.add_track(AudioSpec("Rock/one.mp3", "mp3", title="Night Drive", artist="Ann"))
    await api.add_track(AudioSpec("Jazz/two.mp3", "mp3", title="Morning", artist="Night Owls"))
    await api.add_track(AudioSpec("Jazz/100%_pure.mp3", "mp3", title="Pure", artist="Bob"))

    def titles(page: dict[str, Any]) -> list[str]:
        return [item["title"] for item in page["items"]]

    night = (await api.client.get("/tracks", params={"q": "night"})).json()
    assert (titles(night), night["total"]) == (["Night Drive", "Morning"], 2)
    both_words = (await api.client.get("/tracks", params={"q": "NIGHT jazz"})).json()
    assert titles(both_words) == ["Morning"]
    # LIKE's wildcards typed by a person are taken literally
    literal = (await api.client.get("/tracks", params={"q": "100%_"})).json()
    assert titles(literal) == ["Pure"]
    assert (await api.client.get("/tracks", params={"q": "%"})).json()["total"] == 1
    nothing = (await api.client.get("/tracks", params={"q": "polka"})).json()
    assert (nothing["items"], nothing["total"]) == ([], 0)
    too_long = await api.client.get("/tracks", params={"q": "x" * 201})
    assert too_long.status_code == 422


async def test_list_sorts_by_the_asked_column_and_order(api: Api) -> None:
    await api.add_track(
        AudioSpec("a.mp3", "mp3", title="Charlie", artist="Ann", duration_seconds=3)
    )
    await api.add_track(AudioSpec("b.mp3", "mp3", title="Alpha", artist="Cid", duration_seconds=1))
    await api.add_track(AudioSpec("c.mp3", "mp3", title="Bravo", artist="Bea", duration_seconds=2))

    async def titles(**params: str) -> list[str]:
        page = (await api.client.get("/tracks", params=params)).json()
        return [item["title"] for item in page["items"]]

    assert await titles() == ["Charlie", "Bravo", "Alpha"]  # artist by default
    assert await titles(sort="title") == ["Alpha", "Bravo", "Charlie"]
    assert await titles(sort="title", order="desc") == ["Charlie", "Bravo", "Alpha"]
    assert await titles(sort="duration") == ["Alpha", "Bravo", "Charlie"]
    assert await titles(sort="added", order="desc") == ["Bravo", "Alpha", "Charlie"]
    assert (await api.client.get("/tracks", params={"sort": "size"})).status_code == 422
    assert (await api.client.get("/tracks", params={"order": "up"})).status_code == 422


@pytest.mark.parametrize("name", ["opus.ogg", "flac-in.ogg"])
async def test_patch_edits_opus_and_flac_in_ogg(api: Api, name: str) -> None:
    """The writer is chosen by content: an .ogg holding Opus or FLAC used to be refused."""
    await asyncio.to_thread(encode, api.music_dir, name, 1)
    track = await api.index_file(name)
    response = await api.client.patch(
        f"/tracks/{track.id}", json={"title": "Nota", "artist": "Ana"}
    )
    assert response.status_code == 200, response.text
    stored: Any = mutagen.File(api.music_dir / name)
    assert (stored.tags["title"], stored.tags["artist"]) == (["Nota"], ["Ana"])
    updated = await api.track(track.id)
    assert updated is not None and (updated.title, updated.artist) == ("Nota", "Ana")
