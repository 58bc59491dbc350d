"""Player state round trip and validation."""

from __future__ import annotations

from typing import Any

import pytest
from api_harness import Api

from mus.demo.audio_spec import AudioSpec


async def test_default_then_round_trip(api: Api) -> None:
    assert (await api.client.get("/player/state")).json() == {
        "current_track_id": None,
        "progress_seconds": 0.0,
        "volume": 1.0,
        "is_muted": False,
    }
    track = await api.add_track(AudioSpec("p.mp3", "mp3", title="Playing"))
    wanted = {
        "current_track_id": track.id,
        "progress_seconds": 12.5,
        "volume": 0.25,
        "is_muted": True,
    }
    put = await api.client.put("/player/state", json=wanted)
    assert put.status_code == 200
    assert put.json() == wanted
    assert (await api.client.get("/player/state")).json() == wanted

    cleared = {**wanted, "current_track_id": None}
    assert (await api.client.put("/player/state", json=cleared)).json() == cleared


@pytest.mark.parametrize(
    "body",
    [
        {"volume": 1.5},
        {"volume": -0.1},
        {"progress_seconds": -1},
        {"current_track_id": 4242},
        {"volume": "loud"},
        {"shuffle": True},
    ],
)
async def test_invalid_state_is_refused_and_not_saved(api: Api, body: dict[str, Any]) -> None:
    response = await api.client.put("/player/state", json=body)
    assert response.status_code == 422
    assert (await api.client.get("/player/state")).json()["volume"] == 1.0
