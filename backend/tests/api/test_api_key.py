"""With SECRET_KEY set every route but the healthcheck needs it (header or ?token=)."""

from __future__ import annotations

import httpx
import pytest
from api_harness import Api, live_server, running_api

from mus.api.api_key import key_matches
from mus.core.config import Settings
from mus.demo.audio_spec import AudioSpec

KEY = "correct horse battery staple"


@pytest.fixture
def keyed_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"secret_key": KEY})


async def test_routes_need_the_key_when_one_is_set(keyed_settings: Settings) -> None:
    async with running_api(keyed_settings) as api:
        track = await api.add_track(AudioSpec("s.mp3", "mp3", title="Secret"))
        protected = [
            ("GET", "/tracks"),
            ("GET", f"/tracks/{track.id}"),
            ("GET", f"/tracks/{track.id}/stream"),
            ("DELETE", f"/tracks/{track.id}"),
            ("GET", "/errors"),
            ("GET", "/player/state"),
            ("GET", "/permissions"),
            ("POST", "/tracks/upload"),
            ("GET", "/events/track-updates"),
        ]
        for method, path in protected:
            response = await api.client.request(method, path)
            assert response.status_code == 401, (method, path)
            assert response.headers["www-authenticate"] == "Bearer"
        wrong = await api.client.get("/tracks", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        wrong_query = await api.client.get("/tracks", params={"token": KEY[:-1]})
        assert wrong_query.status_code == 401
        assert await api.queued("high_priority") == []  # the refused DELETE queued nothing

        by_header = await api.client.get("/tracks", headers={"Authorization": f"Bearer {KEY}"})
        assert by_header.status_code == 200
        by_query = await api.client.get(f"/tracks/{track.id}/stream", params={"token": KEY})
        assert by_query.status_code == 200
        assert by_query.content == (api.music_dir / "s.mp3").read_bytes()

        assert (await api.client.get("/healthcheck")).status_code == 200


async def test_no_key_configured_means_open(api: Api) -> None:
    assert (await api.client.get("/tracks")).status_code == 200
    assert (await api.client.get("/player/state")).status_code == 200


def test_key_comparison() -> None:
    assert key_matches(KEY, KEY)
    assert not key_matches(None, KEY)
    assert not key_matches("", KEY)
    assert not key_matches(KEY + "x", KEY)
    assert key_matches("ключ", "ключ")


async def test_query_token_only_on_browser_reads(keyed_settings: Settings) -> None:
    """`?token=` was accepted on every route, writes included."""
    async with running_api(keyed_settings) as api:
        track = await api.add_track(AudioSpec("t.mp3", "mp3", title="Token"))
        token = {"token": KEY}
        refused = [
            ("GET", "/tracks"),
            ("GET", f"/tracks/{track.id}"),
            ("PATCH", f"/tracks/{track.id}"),
            ("DELETE", f"/tracks/{track.id}"),
            ("POST", "/tracks/upload"),
            ("POST", "/errors/requeue"),
            ("PUT", "/player/state"),
            ("GET", "/permissions"),
        ]
        for method, path in refused:
            response = await api.client.request(method, path, params=token, json={"title": "x"})
            assert response.status_code == 401, (method, path)
        assert await api.queued("high_priority") == []
        assert (await api.track(track.id)) is not None

        stream = f"/tracks/{track.id}/stream"
        assert (await api.client.get(stream, params=token)).status_code == 200
        assert (await api.client.head(stream, params=token)).status_code == 200
        cover = await api.client.get(f"/tracks/{track.id}/covers/small", params=token)
        assert cover.status_code == 404  # past the key: this track has no cover
        assert (await api.client.get(stream, params={"token": "wrong"})).status_code == 401


async def test_openapi_document_and_docs_need_the_key(keyed_settings: Settings) -> None:
    """Both were open with SECRET_KEY set, although the README said otherwise."""
    async with running_api(keyed_settings) as api:
        assert (await api.client.get("/openapi.json")).status_code == 401
        by_header = await api.client.get(
            "/openapi.json", headers={"Authorization": f"Bearer {KEY}"}
        )
        assert by_header.status_code == 200
        assert by_header.json()["info"]["title"] == "mus"
        assert (await api.client.get("/openapi.json", params={"token": KEY})).status_code == 200

        docs = "http://test/docs"
        assert (await api.client.get(docs)).status_code == 401
        page = await api.client.get(docs, params={"token": KEY})
        assert page.status_code == 200
        assert "/api/v1/openapi.json?token=correct%20horse%20battery%20staple" in page.text


async def test_docs_open_without_a_key(api: Api) -> None:
    page = await api.client.get("http://test/docs")
    assert page.status_code == 200
    assert "'/api/v1/openapi.json'" in page.text or '"/api/v1/openapi.json"' in page.text


async def test_event_stream_takes_the_query_token(keyed_settings: Settings) -> None:
    async with (
        live_server(keyed_settings) as server,
        httpx.AsyncClient(base_url=server.base_url, timeout=5) as client,
    ):
        async with client.stream("GET", "/events/track-updates", params={"token": KEY}) as ok:
            assert ok.status_code == 200
        refused = await client.get("/events/track-updates", params={"token": "nope"})
        assert refused.status_code == 401
