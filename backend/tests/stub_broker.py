"""A tiny RESP server answering like DragonflyDB or Redis 6, which are not installed here.

PING gets PONG, INFO returns lines copied from their sources, every other command gets their
`unknown command` error, so probes, the api, the worker CLI and `mus run` take their real
network path.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest

DRAGONFLY_INFO = (
    "# Server\r\nredis_version:7.4.0\r\ndragonfly_version:df-v1.25.1\r\n"
    "redis_mode:standalone\r\narch_bits:64\r\nmultiplexing_api:epoll\r\ntcp_port:6379\r\n"
)
REDIS6_INFO = (
    "# Server\r\nredis_version:6.2.14\r\nredis_git_sha1:00000000\r\nredis_mode:standalone\r\n"
    "arch_bits:64\r\ntcp_port:6379\r\n"
)


@dataclass
class StubBroker:
    """Where the stub listens and every command it received (upper-cased words)."""

    url: str
    commands: list[str] = field(default_factory=list)


async def _read_command(reader: asyncio.StreamReader) -> list[str] | None:
    header = await reader.readline()
    if not header:
        return None
    count = int(header[1:].strip())
    words = []
    for _ in range(count):
        length = int((await reader.readline())[1:].strip())
        words.append((await reader.readexactly(length + 2))[:-2].decode())
    return words


StartStub = Callable[[str], Awaitable[StubBroker]]


@pytest.fixture
async def stub_broker() -> AsyncIterator[StartStub]:
    """Factory: `await stub_broker(info_text)` starts a stub answering INFO with that text."""
    servers: list[asyncio.Server] = []

    async def start(info_text: str) -> StubBroker:
        broker = StubBroker(url="")

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while (words := await _read_command(reader)) is not None:
                    broker.commands.append(" ".join(words).upper())
                    if words[0].upper() == "PING":  # both answer PING like any Redis
                        writer.write(b"+PONG\r\n")
                    elif words[0].upper() == "INFO":
                        body = info_text.encode()
                        writer.write(b"$%d\r\n%s\r\n" % (len(body), body))
                    else:
                        writer.write(f"-ERR unknown command '{words[0]}'\r\n".encode())
                    await writer.drain()
            finally:
                writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        broker.url = f"redis://127.0.0.1:{port}/0"
        return broker

    try:
        yield start
    finally:
        for server in servers:
            server.close()
            await server.wait_closed()
