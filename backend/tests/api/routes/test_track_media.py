"""Streaming with Range/ETag/HEAD per format, and covers with caching headers."""

from __future__ import annotations

import pytest
from api_harness import Api

from mus.adapters.persistence.track_repository import TrackRepository
from mus.demo.audio_generator import cover_image_bytes
from mus.demo.audio_spec import AUDIO_FORMATS, AudioFormat, AudioSpec, CoverSpec

MEDIA_TYPES = {
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "m4a": "audio/mp4",
    "wav": "audio/wav",
}


@pytest.mark.parametrize("audio_format", AUDIO_FORMATS)
async def test_whole_file_with_its_media_type(api: Api, audio_format: AudioFormat) -> None:
    track = await api.add_track(AudioSpec(f"song.{audio_format}", audio_format, title="Song"))
    content = (api.music_dir / f"song.{audio_format}").read_bytes()
    response = await api.client.get(f"/tracks/{track.id}/stream")
    assert response.status_code == 200
    assert response.headers["content-type"] == MEDIA_TYPES[audio_format]
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-length"] == str(len(content))
    assert response.headers["etag"].startswith('"')
    assert response.headers["last-modified"].endswith("GMT")
    assert response.content == content


async def test_byte_ranges(api: Api) -> None:
    track = await api.add_track(AudioSpec("r.mp3", "mp3", title="Ranged", duration_seconds=3))
    content = (api.music_dir / "r.mp3").read_bytes()
    size = len(content)
    url = f"/tracks/{track.id}/stream"

    first = await api.client.get(url, headers={"Range": "bytes=0-99"})
    assert first.status_code == 206
    assert first.headers["content-range"] == f"bytes 0-99/{size}"
    assert first.headers["content-length"] == "100"
    assert first.content == content[:100]

    middle = await api.client.get(url, headers={"Range": "bytes=1000-"})
    assert middle.status_code == 206
    assert middle.headers["content-range"] == f"bytes 1000-{size - 1}/{size}"
    assert middle.content == content[1000:]

    suffix = await api.client.get(url, headers={"Range": "bytes=-50"})
    assert suffix.status_code == 206
    assert suffix.content == content[-50:]

    clamped = await api.client.get(url, headers={"Range": f"bytes=10-{size * 2}"})
    assert clamped.status_code == 206
    assert clamped.headers["content-range"] == f"bytes 10-{size - 1}/{size}"

    beyond = await api.client.get(url, headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{size}"

    several = await api.client.get(url, headers={"Range": "bytes=0-1,5-9"})
    assert several.status_code == 200  # allowed by RFC 9110: answer with the whole file
    assert several.content == content


async def test_etag_if_none_match_and_if_range(api: Api) -> None:
    track = await api.add_track(AudioSpec("e.flac", "flac", title="Tagged"))
    url = f"/tracks/{track.id}/stream"
    etag = (await api.client.get(url)).headers["etag"]

    cached = await api.client.get(url, headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["etag"] == etag
    listed = await api.client.get(url, headers={"If-None-Match": f'"other", W/{etag}'})
    assert listed.status_code == 304
    stale = await api.client.get(url, headers={"If-None-Match": '"other"'})
    assert stale.status_code == 200

    same_version = await api.client.get(url, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert same_version.status_code == 206
    other_version = await api.client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"x"'})
    assert other_version.status_code == 200

    # Rewriting the file changes the ETag.
    path = api.music_dir / "e.flac"
    path.write_bytes(path.read_bytes() + b"\0")
    assert (await api.client.get(url, headers={"If-None-Match": etag})).status_code == 200


async def test_head_gives_headers_without_body(api: Api) -> None:
    track = await api.add_track(AudioSpec("h.ogg", "ogg", title="Head"))
    size = (api.music_dir / "h.ogg").stat().st_size
    whole = await api.client.head(f"/tracks/{track.id}/stream")
    assert whole.status_code == 200
    assert whole.headers["content-length"] == str(size)
    assert whole.headers["content-type"] == "audio/ogg"
    assert whole.content == b""
    part = await api.client.head(f"/tracks/{track.id}/stream", headers={"Range": "bytes=0-9"})
    assert part.status_code == 206
    assert part.headers["content-length"] == "10"
    assert part.content == b""


async def test_a_vanished_file_is_a_clear_404(api: Api) -> None:
    track = await api.add_track(AudioSpec("dir/v.m4a", "m4a", title="Vanished"))
    (api.music_dir / "dir" / "v.m4a").unlink()
    response = await api.client.get(f"/tracks/{track.id}/stream")
    assert response.status_code == 404
    assert "missing from the music folder: dir/v.m4a" in response.json()["detail"]
    assert (await api.client.head(f"/tracks/{track.id}/stream")).status_code == 404


async def test_a_row_pointing_outside_the_library_is_refused(api: Api) -> None:
    outside = api.music_dir.parent / "secret.mp3"
    outside.write_bytes(b"not for you")
    track = await api.add_track(AudioSpec("ok.mp3", "mp3", title="Ok"))
    async with api.state.database.session() as session:
        await TrackRepository(session).update_fields(track.id, file_path="../secret.mp3")
    response = await api.client.get(f"/tracks/{track.id}/stream")
    assert response.status_code == 404
    assert b"not for you" not in response.content


async def test_covers_are_cacheable_webp(api: Api) -> None:
    track = await api.add_track(
        AudioSpec("c.mp3", "mp3", title="Covered", cover=CoverSpec(width=320, height=240))
    )
    assert track.id is not None
    api.state.covers.save(track.id, cover_image_bytes(CoverSpec(width=320, height=240)))
    for size in ("original", "small"):
        response = await api.client.get(f"/tracks/{track.id}/covers/{size}")
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/webp"
        assert response.headers["cache-control"].startswith("public, max-age=")
        assert response.content[:4] == b"RIFF" and response.content[8:12] == b"WEBP"
        assert response.content == api.state.covers.path(track.id, size).read_bytes()
        etag = response.headers["etag"]
        again = await api.client.get(
            f"/tracks/{track.id}/covers/{size}", headers={"If-None-Match": etag}
        )
        assert again.status_code == 304
        assert again.headers["cache-control"] == response.headers["cache-control"]


async def test_missing_cover_and_bad_size(api: Api) -> None:
    track = await api.add_track(AudioSpec("n.wav", "wav", title="Bare"))
    none = await api.client.get(f"/tracks/{track.id}/covers/small")
    assert none.status_code == 404
    assert none.json() == {"detail": f"track {track.id} has no small cover"}
    assert (await api.client.get(f"/tracks/{track.id}/covers/huge")).status_code == 422


async def test_a_shared_cover_is_still_served_after_the_other_track_lost_it(api: Api) -> None:
    cover = CoverSpec(width=320, height=320, seed=12)
    first = await api.add_track(AudioSpec("a/1.mp3", "mp3", title="One", cover=cover))
    second = await api.add_track(AudioSpec("a/2.flac", "flac", title="Two", cover=cover))
    image = cover_image_bytes(cover)
    api.state.covers.save(first.id, image)
    api.state.covers.save(second.id, image)
    before = await api.client.get(f"/tracks/{second.id}/covers/original")
    api.state.covers.delete(first.id)  # what every deletion path calls
    gone = await api.client.get(f"/tracks/{first.id}/covers/original")
    assert gone.status_code == 404
    for size in ("original", "small"):
        response = await api.client.get(f"/tracks/{second.id}/covers/{size}")
        assert response.status_code == 200
        assert response.content[:4] == b"RIFF" and response.content[8:12] == b"WEBP"
    after = await api.client.get(f"/tracks/{second.id}/covers/original")
    assert after.content == before.content
