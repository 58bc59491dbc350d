"""A full or read-only disk told apart from a bad file (a minimal predicate; issue 20's
transient/permanent classification is meant to replace it)."""

from __future__ import annotations

import errno

RESOURCE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})


def resource_error(exc: BaseException) -> OSError | None:
    """The OSError of a full or read-only disk in `exc` or what caused it, else None."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in RESOURCE_ERRNOS:
            return seen
        seen = seen.__cause__ or seen.__context__
    return None
