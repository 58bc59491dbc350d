"""One Redis subscription per api process, fanned out to every SSE client's own queue.

Each client gets a bounded queue: a slow client loses its oldest events instead of
blocking the relay (and so every other client). The relay survives broker restarts by
resubscribing with backoff, and says so in the log once per outage, not once per retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

DEFAULT_CLIENT_QUEUE_SIZE = 256
RETRY_INITIAL_SECONDS = 0.5
RETRY_MAX_SECONDS = 30.0
POLL_SECONDS = 1.0

# An SSE `event:` line cannot carry newlines or colons; event types are snake_case words.
EVENT_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True, slots=True)
class HubEvent:
    """One event as a client receives it: its type and its payload as one-line JSON."""

    event_type: str
    data: str


def parse_event(raw: bytes | str) -> HubEvent | None:
    """A channel message as a client event, or None for anything that is not one."""
    try:
        payload: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(payload, dict):
        return None
    event_type = payload.get("type")
    if not isinstance(event_type, str) or not EVENT_TYPE_PATTERN.match(event_type):
        return None
    # Re-dumped so the data is always a single line, whoever published it.
    return HubEvent(event_type, json.dumps(payload, separators=(",", ":"), sort_keys=True))


class Subscription:
    """A client's view of the hub: `await next_event()` returns None once the hub closed."""

    def __init__(self, max_size: int) -> None:
        self._queue: asyncio.Queue[HubEvent | None] = asyncio.Queue(maxsize=max_size)
        self.dropped = 0

    def offer(self, item: HubEvent | None) -> None:
        """Enqueue without ever waiting: when full, the oldest event makes room."""
        while True:
            try:
                self._queue.put_nowait(item)
            except asyncio.QueueFull:
                with contextlib.suppress(asyncio.QueueEmpty):
                    self._queue.get_nowait()
                    self.dropped += 1
            else:
                return

    async def next_event(self) -> HubEvent | None:
        """The next event; None means the hub shut down and the stream should end."""
        return await self._queue.get()


class EventHub:
    """Relays `channel` from Redis to local subscribers; start() once, stop() at shutdown."""

    def __init__(
        self,
        redis: Redis,
        channel: str,
        *,
        client_queue_size: int = DEFAULT_CLIENT_QUEUE_SIZE,
        retry_initial_seconds: float = RETRY_INITIAL_SECONDS,
        retry_max_seconds: float = RETRY_MAX_SECONDS,
    ) -> None:
        self.redis = redis
        self.channel = channel
        self.client_queue_size = client_queue_size
        self.retry_initial_seconds = retry_initial_seconds
        self.retry_max_seconds = retry_max_seconds
        self._subscriptions: set[Subscription] = set()
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._closed = False

    @property
    def connected(self) -> bool:
        """True while the Redis subscription is live (events are flowing)."""
        return self._connected.is_set()

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)

    async def wait_connected(self, within_seconds: float) -> bool:
        """Wait until subscribed to Redis; False if that did not happen in time."""
        try:
            await asyncio.wait_for(self._connected.wait(), within_seconds)
        except TimeoutError:
            return False
        return True

    def start(self) -> None:
        """Start the relay task (idempotent)."""
        if self._task is None:
            self._closed = False
            self._task = asyncio.create_task(self._relay(), name=f"event-hub:{self.channel}")

    async def stop(self) -> None:
        """Stop relaying and end every subscriber's stream."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._connected.clear()
        self.end_streams()

    def end_streams(self) -> None:
        """End every subscriber's stream now and any later one at once (shutdown has begun)."""
        self._closed = True
        for subscription in list(self._subscriptions):
            subscription.offer(None)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscription]:
        """A queue of events for one client, removed when the client goes."""
        subscription = Subscription(self.client_queue_size)
        if self._closed:
            subscription.offer(None)
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)

    def dispatch(self, raw: bytes | str) -> None:
        """Fan one channel message out to every subscriber (never blocks)."""
        event = parse_event(raw)
        if event is None:
            logger.warning("event hub: ignoring a message that is not a mus event: %.200r", raw)
            return
        for subscription in list(self._subscriptions):
            subscription.offer(event)

    async def _relay(self) -> None:
        delay = self.retry_initial_seconds
        outage_logged = False
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self._connected.set()
                if outage_logged:
                    logger.info("event hub: resubscribed to %s", self.channel)
                    outage_logged = False
                delay = self.retry_initial_seconds
                while True:
                    message = await pubsub.get_message(timeout=POLL_SECONDS)
                    if message is not None and message.get("type") == "message":
                        self.dispatch(message["data"])
            except (RedisError, OSError) as exc:
                self._connected.clear()
                if not outage_logged:
                    logger.warning(
                        "event hub: lost the broker (%s); live updates pause, retrying", exc
                    )
                    outage_logged = True
            finally:
                self._connected.clear()
                with contextlib.suppress(RedisError, OSError):
                    await asyncio.shield(pubsub.aclose())  # type: ignore[no-untyped-call]
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.retry_max_seconds)
