"""What the api knows about its music folder right now: shown by the healthcheck.

Written by the start-up scan (the root looked unmounted) and by the file watcher (its own
state); read by the healthcheck. One per api process, on the app state.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum


class WatcherState(StrEnum):
    """`ok`: watching; `restarting`: between two watches (root gone, watch failed); `down`:
    stopped for good by an error; `off`: not started (MUS_WATCHER_ENABLED=false)."""

    OK = "ok"
    RESTARTING = "restarting"
    DOWN = "down"
    OFF = "off"


@dataclass(slots=True)
class LibraryStatus:
    """The music folder's health as the healthcheck reports it."""

    root_looks_unmounted: bool = False
    watcher: WatcherState = WatcherState.OFF
    watcher_since: float = field(default_factory=time.monotonic)
    """`time.monotonic()` when `watcher` last changed."""

    def set_watcher(self, state: WatcherState) -> None:
        if state is not self.watcher:
            self.watcher = state
            self.watcher_since = time.monotonic()

    def watcher_unhealthy_for(self) -> float:
        """Seconds the watcher has been neither ok nor off (0 while it is)."""
        if self.watcher in (WatcherState.OK, WatcherState.OFF):
            return 0.0
        return time.monotonic() - self.watcher_since
