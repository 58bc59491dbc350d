"""The backends a contract run can use, by the name `--queue-backend` takes.

Each is imported only when chosen: the streaq leg runs where arq (a test-only dependency
of the arq baseline) is not installed.
"""

from __future__ import annotations

from collections.abc import Callable

from harness.queue_backend import QueueBackend

ARQ_MISSING = (
    "the arq baseline needs arq, a test-only dependency of contract_tests/: install it with "
    "`make setup` (or `uv pip install --python backend/.venv "
    "-r contract_tests/requirements-arq.txt`)"
)


def arq_backend() -> QueueBackend:
    try:
        from harness.arq_backend import ArqBackend
    except ModuleNotFoundError as exc:
        if exc.name != "arq":
            raise
        raise RuntimeError(ARQ_MISSING) from None
    return ArqBackend()


def streaq_backend() -> QueueBackend:
    from harness.streaq_backend import StreaqBackend

    return StreaqBackend()


BACKENDS: dict[str, Callable[[], QueueBackend]] = {
    "arq": arq_backend,
    "streaq": streaq_backend,
}


def backend_by_name(name: str) -> QueueBackend:
    try:
        factory = BACKENDS[name]
    except KeyError:
        raise ValueError(
            f"unknown queue backend {name!r}: choose one of {', '.join(BACKENDS)}"
        ) from None
    return factory()
