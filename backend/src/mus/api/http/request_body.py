"""Reading a request body chunk by chunk, and draining what is left of one we refuse.

A server that answers (413, 415...) and closes while the client is still sending makes
the client's TCP stack see a reset; Python's urllib and some browsers then report that
instead of the answer. Reading and dropping the rest, up to a bound in bytes and time,
lets every client read the refusal.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
from starlette.requests import ClientDisconnect, Request

DISCARD_LIMIT_BYTES = 64 * 1024 * 1024
DISCARD_SECONDS = 15.0


class RequestBody:
    """The body of one request as chunks; `finished` once the client sent its last byte."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.finished = False
        self.disconnected = False

    async def chunks(self) -> AsyncIterator[bytes]:
        while not self.finished:
            message = await self.request.receive()
            if message["type"] == "http.disconnect":
                self.disconnected = True
                raise ClientDisconnect
            if not message.get("more_body", False):
                self.finished = True
            body: bytes = message.get("body", b"")
            if body:
                yield body

    async def discard_rest(self, limit_bytes: int = DISCARD_LIMIT_BYTES) -> None:
        """Read and drop the rest of the body, at most `limit_bytes` and DISCARD_SECONDS."""
        if self.finished or self.disconnected:
            return
        dropped = 0
        with anyio.move_on_after(DISCARD_SECONDS):
            try:
                async for chunk in self.chunks():
                    dropped += len(chunk)
                    if dropped > limit_bytes:
                        return  # too much to wait for: the connection will be closed
            except ClientDisconnect:
                return


def declared_length(request: Request) -> int | None:
    """Content-Length as a number, None when absent or not plain ASCII digits."""
    declared = request.headers.get("content-length")
    if declared is None or not declared.isascii() or not declared.isdigit():
        return None
    if len(declared) > 18:
        return 10**18  # more than any disk: the exact figure does not matter
    return int(declared)
