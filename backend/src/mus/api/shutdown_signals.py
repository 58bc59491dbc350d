"""End open event streams as soon as the server is told to stop, not after it waited for them.

uvicorn waits for open connections to finish before it runs the lifespan shutdown, and an
SSE stream never finishes by itself: without this, stopping the api hangs while a browser
tab is open. The handler runs our callback, then the server's own handler, unchanged.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

SHUTDOWN_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)

SignalHandler = Callable[[int, FrameType | None], object] | int | signal.Handlers | None


def _chain(previous: SignalHandler, signum: int, frame: FrameType | None) -> None:
    if callable(previous):
        previous(signum, frame)
    elif previous in (signal.SIG_DFL, None):
        # Nobody handled it before us: do what the default would have done.
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)


@contextmanager
def on_shutdown_signal(callback: Callable[[], None]) -> Iterator[None]:
    """While inside, SIGINT/SIGTERM first schedule `callback` on the running loop."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals only reach the main thread; the server's own timeout applies
        return
    loop = asyncio.get_running_loop()
    previous: dict[int, SignalHandler] = {}

    def handler(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(callback)
        _chain(previous.get(signum), signum, frame)

    for sig in SHUTDOWN_SIGNALS:
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for signum, handler_before in previous.items():
            if signal.getsignal(signum) is handler:
                signal.signal(signum, handler_before)
