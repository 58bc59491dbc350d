"""The shape of a job function, as every backend's wiring and the registry see it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

JobResult = dict[str, Any]
JobFunction = Callable[..., Awaitable[JobResult]]
