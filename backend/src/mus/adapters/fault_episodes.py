"""Waiting out a transient resource fault: backoff, and one log line per episode, not per try.

An episode starts at the first failure and ends at the first success; it is logged as a
WARNING when it starts (never ERROR: nothing is lost) and an INFO when it ends, however many
tries lie between. Past `patience_seconds` the fault is raised on, so no wait is endless.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from mus.adapters.resource_faults import ResourceFault, resource_fault

FIRST_DELAY_SECONDS = 0.25
LONGEST_DELAY_SECONDS = 5.0

T = TypeVar("T")


class FaultEpisode:
    """The state of one wait: when it began, what it was about, the next delay."""

    def __init__(
        self,
        logger: logging.Logger,
        what: str,
        *,
        first_delay: float = FIRST_DELAY_SECONDS,
        longest_delay: float = LONGEST_DELAY_SECONDS,
    ) -> None:
        self.logger = logger
        self.what = what
        self.first_delay = first_delay
        self.longest_delay = longest_delay
        self.started: float | None = None
        self.fault: ResourceFault | None = None
        self.tries = 0
        self._delay = first_delay

    @property
    def active(self) -> bool:
        return self.started is not None

    def elapsed(self) -> float:
        return 0.0 if self.started is None else time.monotonic() - self.started

    def failed(self, fault: ResourceFault) -> float:
        """Note one failed try; returns how long to wait before the next one."""
        self.tries += 1
        if self.started is None or self.fault is None:
            self.started = time.monotonic()
            self.logger.warning(
                "%s waits: %s (%s); trying again until it is back",
                self.what,
                fault.sentence(),
                fault.detail,
            )
        elif fault.episode_key() != self.fault.episode_key():
            self.logger.warning("%s still waits: now %s", self.what, fault.sentence())
        self.fault = fault
        delay = self._delay
        self._delay = min(self._delay * 2, self.longest_delay)
        return delay

    def recovered(self) -> None:
        """The resource answered: end the episode (logged if there was one)."""
        if self.started is not None and self.fault is not None:
            self.logger.info(
                "%s carries on after %.1f s and %d tries: %s has passed",
                self.what,
                self.elapsed(),
                self.tries,
                self.fault.kind.value.replace("_", " "),
            )
        self.started = None
        self.fault = None
        self.tries = 0
        self._delay = self.first_delay


async def ride_out(
    operation: Callable[[], Awaitable[T]],
    *,
    what: str,
    logger: logging.Logger,
    patience_seconds: float,
) -> T:
    """Run `operation` again after every transient fault until it succeeds.

    A permanent error is raised at once; a transient one that lasts beyond
    `patience_seconds` is raised on (the caller's backend then retries later or fails it).
    """
    episode = FaultEpisode(logger, what)
    while True:
        try:
            result = await operation()
        except Exception as exc:
            fault = resource_fault(exc)
            if fault is None or episode.elapsed() >= patience_seconds:
                if fault is not None:
                    logger.warning(
                        "%s gives up waiting after %.0f s: %s",
                        what,
                        episode.elapsed(),
                        fault.sentence(),
                    )
                raise
            await asyncio.sleep(episode.failed(fault))
        else:
            episode.recovered()
            return result
