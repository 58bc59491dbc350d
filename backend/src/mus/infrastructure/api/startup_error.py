"""The api cannot start; the message says what to fix."""

from __future__ import annotations


class StartupError(RuntimeError):
    """Raised by the lifespan with one sentence an operator can act on."""
