"""A failed start-up prints the sentence that says what to fix, not a traceback.

Starlette hands uvicorn the formatted traceback of whatever the lifespan raised; for a
`StartupError` (wrong data folder, unfit broker) the message alone is the useful part.
"""

from __future__ import annotations

import sys

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class StartupError(RuntimeError):
    """Raised by the lifespan with one sentence an operator can act on."""


class StartupFailureReporter:
    """ASGI middleware: rewrites `lifespan.startup.failed` for a StartupError to its message."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def send_sentence(message: Message) -> None:
            # Starlette sends this from inside its `except` block: the error is current.
            error = sys.exc_info()[1]
            if message["type"] == "lifespan.startup.failed" and isinstance(error, StartupError):
                message = {**message, "message": str(error)}
            await send(message)

        await self.app(scope, receive, send_sentence)
