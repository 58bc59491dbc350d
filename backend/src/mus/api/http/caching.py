"""Validators for conditional requests: ETag, Last-Modified, If-None-Match, If-Range."""

from __future__ import annotations

import os
from dataclasses import dataclass
from email.utils import formatdate


@dataclass(frozen=True, slots=True)
class FileValidators:
    """What identifies one version of a file on disk, as HTTP headers."""

    etag: str
    last_modified: str
    size: int


def file_validators(stat_result: os.stat_result) -> FileValidators:
    """Strong ETag from inode, size and mtime (ns): changes when the file is rewritten."""
    etag = f'"{stat_result.st_ino:x}-{stat_result.st_size:x}-{stat_result.st_mtime_ns:x}"'
    return FileValidators(
        etag=etag,
        last_modified=formatdate(stat_result.st_mtime, usegmt=True),
        size=stat_result.st_size,
    )


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match uses the weak comparison: any listed tag (or *) means unchanged."""
    if if_none_match is None:
        return False
    if if_none_match.strip() == "*":
        return True
    return any(_opaque(candidate) == etag for candidate in if_none_match.split(","))


def if_range_allows(if_range: str | None, validators: FileValidators) -> bool:
    """If-Range: honour the Range only when the client's copy is this version (strong match)."""
    if if_range is None:
        return True
    value = if_range.strip()
    if value.startswith('"'):
        return value == validators.etag
    return value == validators.last_modified
