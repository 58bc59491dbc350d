"""All routes under one router: the healthcheck is public, the rest behind the optional key.

Streams, covers, live updates and the OpenAPI document also take the key as `?token=`
(browser reads that cannot send a header); every other route takes the header only.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from mus.api.api_key import require_api_key, require_api_key_or_token
from mus.api.routes import (
    admin,
    docs,
    errors,
    events,
    player,
    system,
    track_media,
    tracks,
    uploads,
)

API_PREFIX = "/api/v1"

protected_router = APIRouter(dependencies=[Depends(require_api_key)])
# Upload first: `/tracks/upload` must not be read as `/tracks/{track_id}`.
protected_router.include_router(uploads.router)
protected_router.include_router(tracks.router)
protected_router.include_router(errors.router)
protected_router.include_router(player.router)
protected_router.include_router(system.router)
protected_router.include_router(admin.router)

browser_read_router = APIRouter(dependencies=[Depends(require_api_key_or_token)])
browser_read_router.include_router(track_media.router)
browser_read_router.include_router(events.router)

api_router = APIRouter()
api_router.include_router(system.health_router)
api_router.include_router(docs.document_router)
api_router.include_router(browser_read_router)
api_router.include_router(protected_router)
