"""A TCP proxy in front of the real test Redis that counts request/response round trips.

A round trip is a client send that follows a server answer (or opens the connection): a
pipeline is one however many commands it carries; N awaited commands are N. The bytes pass
through untouched, so the client talks to real Redis; only the turns are counted.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import pytest

CHUNK = 1 << 16


class RoundTripProxy:
    """Listens on a free local port and forwards every connection to `target_url`'s Redis."""

    def __init__(self, target_url: str) -> None:
        self.target = urlsplit(target_url)
        self.round_trips = 0
        self._server: asyncio.Server | None = None
        self._pumps: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        """The target's URL (same database) with the proxy's address instead."""
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return urlunsplit(self.target._replace(netloc=f"127.0.0.1:{port}"))

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for pump in list(self._pumps):
            pump.cancel()
        for pump in list(self._pumps):
            with contextlib.suppress(asyncio.CancelledError):
                await pump

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(
            self.target.hostname, self.target.port or 6379
        )
        answered = [True]  # a fresh connection's first send opens a round trip

        async def upstream() -> None:
            while chunk := await client_r.read(CHUNK):
                if answered[0]:
                    self.round_trips += 1
                    answered[0] = False
                server_w.write(chunk)
                await server_w.drain()
            server_w.close()

        async def downstream() -> None:
            while chunk := await server_r.read(CHUNK):
                answered[0] = True
                client_w.write(chunk)
                await client_w.drain()
            client_w.close()

        for pump in (upstream(), downstream()):
            task = asyncio.ensure_future(pump)
            self._pumps.add(task)
            task.add_done_callback(self._pumps.discard)


@pytest.fixture
async def round_trip_proxy(redis_url: str) -> AsyncIterator[RoundTripProxy]:
    """A proxy in front of the test's flushed Redis database."""
    proxy = RoundTripProxy(redis_url)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()
