"""The backends a contract run can use, by the name `--queue-backend` takes."""

from __future__ import annotations

from collections.abc import Callable

from harness.arq_backend import ArqBackend
from harness.queue_backend import QueueBackend
from harness.streaq_backend import StreaqBackend

BACKENDS: dict[str, Callable[[], QueueBackend]] = {
    "arq": ArqBackend,
    "streaq": StreaqBackend,
}


def backend_by_name(name: str) -> QueueBackend:
    try:
        return BACKENDS[name]()
    except KeyError:
        raise ValueError(
            f"unknown queue backend {name!r}: choose one of {', '.join(BACKENDS)}"
        ) from None
