"""Optional shared-secret auth: with SECRET_KEY set, every route but the healthcheck needs it.

The key travels as `Authorization: Bearer <key>`, or as `?token=<key>` for the two clients
that cannot set headers: the browser's <audio> element and EventSource.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import HTTPException, Request, Security, status
from fastapi.security import APIKeyQuery, HTTPAuthorizationCredentials, HTTPBearer

bearer_scheme = HTTPBearer(
    auto_error=False, description="SECRET_KEY as a bearer token (when the server sets one)"
)
token_query_scheme = APIKeyQuery(
    name="token",
    auto_error=False,
    description="SECRET_KEY as a query parameter, for <audio> and EventSource",
)


def key_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison, so response timing does not leak the key."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


async def require_api_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
    token: Annotated[str | None, Security(token_query_scheme)],
) -> None:
    """401 unless the configured key was sent; a no-op when no key is configured."""
    expected = request.app.state.settings.secret_key
    if not expected:
        return
    given = credentials.credentials if credentials is not None else token
    if not key_matches(given, expected):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="missing or wrong API key: send Authorization: Bearer <SECRET_KEY>",
            headers={"WWW-Authenticate": "Bearer"},
        )
