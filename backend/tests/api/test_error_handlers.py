"""Every error is JSON in one shape, `{"detail": str}`: hostile input never makes a 500.

Each case here was a plain-text 500 before: ids and offsets past int64 (SQLite overflow),
non-finite numbers and lone surrogates (the validation error could not be serialised),
and an unexpected exception (Starlette's text page).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from api_harness import API, Api

from mus.demo.audio_spec import AudioSpec

TOO_BIG = 2**63
JSON = {"Content-Type": "application/json"}


def assert_error_shape(response: httpx.Response, status_code: int) -> dict[str, Any]:
    assert response.status_code == status_code, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/tracks/{TOO_BIG}"),
        ("PATCH", f"/tracks/{TOO_BIG}"),
        ("DELETE", f"/tracks/{TOO_BIG}"),
        ("GET", f"/tracks/{TOO_BIG}/stream"),
        ("HEAD", f"/tracks/{TOO_BIG}/stream"),
        ("GET", f"/tracks/{TOO_BIG}/covers/small"),
        ("POST", f"/errors/{TOO_BIG}/requeue"),
        ("GET", f"/tracks?offset={TOO_BIG}"),
        ("GET", f"/errors?offset={TOO_BIG}"),
        ("GET", f"/tracks/{2**70 * 10**40}"),
    ],
)
async def test_numbers_past_int64_are_422(api: Api, method: str, path: str) -> None:
    response = await api.client.request(method, path, json={"title": "x"})
    if method == "HEAD":
        assert response.status_code == 422
        return
    body = assert_error_shape(response, 422)
    assert body["errors"][0]["type"] in ("less_than_equal", "int_parsing")


async def test_largest_int64_is_a_plain_404(api: Api) -> None:
    assert_error_shape(await api.client.get(f"/tracks/{TOO_BIG - 1}"), 404)
    page = await api.client.get("/tracks", params={"offset": TOO_BIG - 1})
    assert page.status_code == 200
    assert page.json()["items"] == []


@pytest.mark.parametrize("track_id", [TOO_BIG, -(2**63) - 1])
async def test_player_track_id_past_int64_is_422(api: Api, track_id: int) -> None:
    response = await api.client.put("/player/state", json={"current_track_id": track_id})
    assert_error_shape(response, 422)


@pytest.mark.parametrize(
    "raw",
    [
        '{"progress_seconds": NaN}',
        '{"progress_seconds": Infinity}',
        '{"volume": -Infinity}',
        '{"progress_seconds": 1e309}',
        '{"current_track_id": NaN}',
        '{"current_track_id": 1e309}',
        '{"is_muted": NaN}',
        '{"\\ud800": 1}',
    ],
)
async def test_non_finite_numbers_and_odd_keys_in_a_body_are_422(api: Api, raw: str) -> None:
    response = await api.client.put("/player/state", content=raw, headers=JSON)
    body = assert_error_shape(response, 422)
    assert "input" not in body["errors"][0]  # the value is never echoed back


@pytest.mark.parametrize(
    "raw",
    [
        '{"title": "\\ud800"}',
        '{"artist": "ok \\udfff"}',
        '{"title": NaN}',
        '{"title": "x", "rename": Infinity}',
    ],
)
async def test_lone_surrogates_and_non_finite_values_in_an_edit_are_422(api: Api, raw: str) -> None:
    track = await api.add_track(AudioSpec("s.mp3", "mp3", title="Kept"))
    response = await api.client.patch(f"/tracks/{track.id}", content=raw, headers=JSON)
    assert_error_shape(response, 422)
    unchanged = await api.track(track.id)
    assert unchanged is not None
    assert unchanged.title == "Kept"


async def test_unknown_route_and_method_are_json(api: Api) -> None:
    assert_error_shape(await api.client.get("/no-such-thing"), 404)
    assert_error_shape(await api.client.post("/player/state"), 405)


async def test_unexpected_exception_is_a_json_500(api: Api) -> None:
    async def explode() -> None:
        raise RuntimeError("a bug")

    api.app.add_api_route(f"{API}/explode-for-test", explode)
    transport = httpx.ASGITransport(app=api.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=f"http://test{API}") as client:
        response = await client.get("/explode-for-test")
    body = assert_error_shape(response, 500)
    assert body == {"detail": "internal server error"}


def test_openapi_documents_the_validation_shape(api: Api) -> None:
    schemas = api.app.openapi()["components"]["schemas"]
    assert set(schemas["HTTPValidationError"]["properties"]) == {"detail", "errors"}
    assert schemas["HTTPValidationError"]["properties"]["detail"]["type"] == "string"
