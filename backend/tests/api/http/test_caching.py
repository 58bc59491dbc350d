"""ETags follow the file version; If-None-Match is weak, If-Range strong."""

from __future__ import annotations

import os
from pathlib import Path

from mus.api.http.caching import etag_matches, file_validators, if_range_allows


def test_etag_changes_with_the_content(tmp_path: Path) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(b"one")
    first = file_validators(path.stat())
    assert first.size == 3
    assert first.etag.startswith('"') and first.etag.endswith('"')
    assert first.last_modified.endswith(" GMT")
    assert file_validators(path.stat()) == first
    path.write_bytes(b"three")
    assert file_validators(path.stat()).etag != first.etag
    os.utime(path, ns=(1, 1))
    assert file_validators(path.stat()).last_modified == "Thu, 01 Jan 1970 00:00:00 GMT"


def test_if_none_match() -> None:
    etag = '"abc"'
    assert etag_matches('"abc"', etag)
    assert etag_matches('W/"abc"', etag)
    assert etag_matches('"x", "abc"', etag)
    assert etag_matches("*", etag)
    assert not etag_matches('"abcd"', etag)
    assert not etag_matches(None, etag)


def test_if_range(tmp_path: Path) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(b"x")
    validators = file_validators(path.stat())
    assert if_range_allows(None, validators)
    assert if_range_allows(validators.etag, validators)
    assert if_range_allows(validators.last_modified, validators)
    assert not if_range_allows(f"W/{validators.etag}", validators)
    assert not if_range_allows('"other"', validators)
    assert not if_range_allows("Mon, 01 Jan 2001 00:00:00 GMT", validators)
