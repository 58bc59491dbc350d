"""The key for pages a browser opens itself (streaq's queue UI): Bearer, or HTTP Basic.

A page that the browser navigates to cannot carry a Bearer header, and `?token=` is kept for
media and the event stream only; so these pages also take the key as the Basic password,
which makes the browser ask for it once per session.
"""

from __future__ import annotations

import base64
import binascii

from fastapi import HTTPException, Request, status

from mus.api.api_key import key_matches

REALM = "mus operator"


def key_from_authorization(header: str) -> str | None:
    """The key in `Bearer <key>` or in the password of `Basic base64(user:key)`."""
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        _, colon, password = decoded.partition(":")
        return password if colon else None
    return None


async def require_page_key(request: Request) -> None:
    """401 asking for Basic credentials unless the configured key came; no key: open."""
    expected = request.app.state.settings.secret_key
    if not expected:
        return
    given = key_from_authorization(request.headers.get("authorization", ""))
    if not key_matches(given, expected):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="missing or wrong key: give SECRET_KEY as the password",
            headers={"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'},
        )
