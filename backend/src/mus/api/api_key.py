"""Optional shared-secret auth: with SECRET_KEY set, every route but the healthcheck needs it.

The key travels as `Authorization: Bearer <key>`. Only the reads a browser makes without
headers accept it as `?token=<key>` too: GET/HEAD of a stream or a cover (<audio>, <img>),
the live updates (EventSource) and the API docs page; a write never does.
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
    description="SECRET_KEY as a query parameter: only for GET/HEAD of streams, covers, SSE",
)
TOKEN_METHODS = frozenset({"GET", "HEAD"})


def key_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison, so response timing does not leak the key."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _refuse() -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        detail="missing or wrong API key: send Authorization: Bearer <SECRET_KEY>",
        headers={"WWW-Authenticate": "Bearer"},
    )


def check_key(request: Request, given: str | None) -> None:
    """401 unless `given` is the configured key; a no-op when no key is configured."""
    expected: str | None = request.app.state.settings.secret_key
    if expected and not key_matches(given, expected):
        raise _refuse()


async def require_api_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
) -> None:
    """The key from the Authorization header only (every route that is not a browser read)."""
    check_key(request, credentials.credentials if credentials is not None else None)


async def require_api_key_or_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
    token: Annotated[str | None, Security(token_query_scheme)],
) -> None:
    """The key from the header, or `?token=` on a GET/HEAD (streams, covers, SSE, docs)."""
    if credentials is not None:
        check_key(request, credentials.credentials)
    elif request.method in TOKEN_METHODS:
        check_key(request, token)
    else:
        check_key(request, None)
