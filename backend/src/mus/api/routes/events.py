"""Live updates: track events from the workers, relayed to the browser as SSE."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import StreamingResponse

from mus.adapters.events.event_publisher import EventType
from mus.api.deps import AppStateDep
from mus.api.http.server_sent_events import event_stream
from mus.api.schemas import ErrorDetail

router = APIRouter(prefix="/events", tags=["events"])

SSE_RETRY_AFTER_SECONDS = 30

EVENT_STREAM_DESCRIPTION = (
    "A text/event-stream; each event is `event: <type>` and `data: <json>`, types: "
    + ", ".join(event.value for event in EventType)
    + ". Comment lines keep the connection alive."
)


@router.get(
    "/track-updates",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": EVENT_STREAM_DESCRIPTION,
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        status.HTTP_503_SERVICE_UNAVAILABLE: {
            "model": ErrorDetail,
            "description": "As many streams are open as MUS_SSE_MAX_CONNECTIONS allows",
        },
    },
)
async def track_updates(state: AppStateDep) -> StreamingResponse:
    """Subscribe to track events (EventSource; use `?token=` when a SECRET_KEY is set).

    At most `MUS_SSE_MAX_CONNECTIONS` at once: each holds a file descriptor for as long as
    the page is open, and the api must keep some for everything else (the healthcheck too).
    """
    limit = state.settings.sse_max_connections
    if state.event_hub.subscriber_count >= limit:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail=f"too many live-update connections ({limit} open, the most this server "
            "keeps); try again later",
            headers={"Retry-After": str(SSE_RETRY_AFTER_SECONDS)},
        )
    return StreamingResponse(
        event_stream(state.event_hub, state.sse_keepalive_seconds, max_subscribers=limit),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
