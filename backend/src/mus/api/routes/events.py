"""Live updates: track events from the workers, relayed to the browser as SSE."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from mus.adapters.events.event_publisher import EventType
from mus.api.deps import AppStateDep
from mus.api.http.server_sent_events import event_stream

router = APIRouter(prefix="/events", tags=["events"])

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
        }
    },
)
async def track_updates(state: AppStateDep) -> StreamingResponse:
    """Subscribe to track events (EventSource; use `?token=` when a SECRET_KEY is set)."""
    return StreamingResponse(
        event_stream(state.event_hub, state.sse_keepalive_seconds),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
