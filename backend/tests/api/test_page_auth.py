"""The key for pages the browser opens itself: Bearer or the password of HTTP Basic."""

from __future__ import annotations

import base64

import pytest
from api_harness import running_api

from mus.api.page_auth import key_from_authorization
from mus.core.config import Settings


def basic(user_and_password: str) -> str:
    return "Basic " + base64.b64encode(user_and_password.encode()).decode()


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("Bearer s3cret", "s3cret"),
        ("bearer  s3cret ", "s3cret"),
        (basic("ops:s3cret"), "s3cret"),
        (basic(":s3:cret"), "s3:cret"),
        (basic("no colon"), None),
        ("Basic !!!not-base64", None),
        ("Bearer", None),
        ("Digest s3cret", None),
        ("", None),
    ],
)
def test_the_key_is_read_from_bearer_or_the_basic_password(header: str, key: str | None) -> None:
    assert key_from_authorization(header) == key


async def test_streaq_pages_need_the_key_and_ask_for_basic(settings: Settings) -> None:
    keyed = settings.model_copy(update={"secret_key": "s3cret"})
    async with running_api(keyed) as api:
        pages = "http://test/admin/queue/workers"
        refused = await api.client.get(pages)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == 'Basic realm="mus operator", charset="UTF-8"'
        wrong = await api.client.get(pages, headers={"Authorization": basic("ops:nope")})
        assert wrong.status_code == 401
        for header in (basic("ops:s3cret"), "Bearer s3cret"):
            answered = await api.client.get(pages, headers={"Authorization": header})
            assert answered.status_code == 200
            assert "streaQ" in answered.text
        # the player's own pages hold no data and need no key
        assert (await api.client.get("http://test/")).status_code == 200
