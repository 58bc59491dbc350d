"""The access log never shows a query string: `?token=` may carry the API key.

Only the query is dropped (it is replaced by `?…`): the method, the path and the status
stay, which is what an access log is read for.
"""

from __future__ import annotations

import logging

ACCESS_LOGGER = "uvicorn.access"
REDACTED_QUERY = "?…"
# uvicorn's access line: (client address, method, path with query, HTTP version, status)
_PATH_ARGUMENT = 2


def redact_query(path: str) -> str:
    """`/a?b=c` -> `/a?…`; a path without a query is returned as it is."""
    head, separator, _ = path.partition("?")
    return head + REDACTED_QUERY if separator else path


class RedactQueryStrings(logging.Filter):
    """Rewrites the path argument of uvicorn's access records before they are formatted."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > _PATH_ARGUMENT:
            path = args[_PATH_ARGUMENT]
            if isinstance(path, str):
                record.args = (*args[:_PATH_ARGUMENT], redact_query(path), *args[3:])
        return True


def install_access_log_redaction() -> None:
    """Add the filter to uvicorn's access logger once per process."""
    access = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(existing, RedactQueryStrings) for existing in access.filters):
        access.addFilter(RedactQueryStrings())
