"""With SECRET_KEY set every route but the healthcheck needs it (header or ?token=)."""

from __future__ import annotations

import pytest
from api_harness import Api, running_api

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
