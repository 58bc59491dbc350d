"""streaq logs every retry with the whole traceback; mus retries only when the broker is away
or refuses writes, which is not a bug: one line per retry instead, the cause in a few words.

Without this a broker out of memory printed a traceback for each job it cut off, on every
worker, every few seconds (28,000 lines in 4 minutes were measured).
"""

from __future__ import annotations

import logging

from streaq.types import StreaqRetry


class RetryWithoutTraceback(logging.Filter):
    """Drops the traceback of streaq's "Retrying task" lines and appends the cause instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        info = record.exc_info
        if info and isinstance(info[1], StreaqRetry):
            cause = info[1].__cause__
            reason = f"{type(cause).__name__}: {cause}" if cause is not None else str(info[1])
            record.msg = f"{record.getMessage()} ({reason})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


def quiet_streaq_retries(streaq_logger: logging.Logger) -> None:
    """Install the filter once on streaq's logger (idempotent)."""
    if not any(isinstance(f, RetryWithoutTraceback) for f in streaq_logger.filters):
        streaq_logger.addFilter(RetryWithoutTraceback())
