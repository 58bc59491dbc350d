"""Publishing track events on the Redis channel the api relays to SSE clients."""

from __future__ import annotations

import json
import logging
from enum import StrEnum
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from mus.domain.track import Track

logger = logging.getLogger(__name__)


class EventType(StrEnum):
    """Events a client can receive on /api/v1/events/track-updates."""

    TRACK_ADDED = "track_added"
    TRACK_UPDATED = "track_updated"
    TRACK_DELETED = "track_deleted"
    TRACK_ERROR = "track_error"
    LIBRARY_SCANNED = "library_scanned"


class EventPublisher:
    """Fire-and-forget publisher: a lost event must never fail the job that caused it."""

    def __init__(self, redis: Redis, channel: str) -> None:
        self.redis = redis
        self.channel = channel

    async def publish(self, event_type: EventType, **payload: Any) -> None:
        message = json.dumps({"type": event_type.value, **payload}, sort_keys=True)
        try:
            await self.redis.publish(self.channel, message)
        except RedisError as exc:
            logger.warning("could not publish %s event: %s", event_type.value, exc)

    async def publish_track(self, event_type: EventType, track: Track) -> None:
        """Publish the fields a client needs to refresh one row of its track list."""
        await self.publish(
            event_type,
            track_id=track.id,
            file_path=track.file_path,
            title=track.title,
            artist=track.artist,
            processing_status=track.processing_status.value,
            has_cover=track.has_cover,
            last_error=track.last_error.to_json() if track.last_error else None,
        )
