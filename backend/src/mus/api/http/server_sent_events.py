"""Server-Sent Events framing and the per-client stream of hub events.

The stream sends a comment every keep-alive interval: proxies close idle connections,
and a write is how a vanished client is noticed. It ends when the hub closes (shutdown).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from mus.adapters.events.event_hub import EventHub, HubEvent

RECONNECT_MILLISECONDS = 3000
KEEPALIVE_COMMENT = ": keep-alive\n\n"


def format_event(event: HubEvent) -> str:
    """`event: <type>` and `data: <json>` lines; the JSON is one line by construction."""
    return f"event: {event.event_type}\ndata: {event.data}\n\n"


async def event_stream(
    hub: EventHub, keepalive_seconds: float, *, max_subscribers: int | None = None
) -> AsyncIterator[str]:
    """Relay hub events to one client until the hub closes or the client goes away.

    Past `max_subscribers` (streams opened in the same instant, after the route's check)
    the stream ends at once; the browser's EventSource tries again `retry` ms later.
    """
    if max_subscribers is not None and hub.subscriber_count >= max_subscribers:
        yield f"retry: {RECONNECT_MILLISECONDS}\n: too many live-update connections\n\n"
        return
    async with hub.subscribe() as subscription:
        yield f"retry: {RECONNECT_MILLISECONDS}\n: connected\n\n"
        while True:
            try:
                event = await asyncio.wait_for(subscription.next_event(), keepalive_seconds)
            except TimeoutError:
                yield KEEPALIVE_COMMENT
                continue
            if event is None:
                return
            yield format_event(event)
