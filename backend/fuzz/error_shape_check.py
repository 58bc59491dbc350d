"""Schemathesis hook: every error answer of mus is JSON with a string `detail`.

Loaded by `fuzz/api_fuzz.py` through SCHEMATHESIS_HOOKS; schemathesis's own checks catch
500s and schema mismatches, this one catches a plain-text or differently shaped error.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis

NO_BODY = {304}


@schemathesis.check
def error_is_json_detail(ctx: Any, response: Any, case: Any) -> bool | None:
    """4xx/5xx: `application/json` and `{"detail": "<text>", ...}` (HEAD has no body)."""
    del ctx
    if response.status_code < 400 or response.status_code in NO_BODY:
        return None
    content_type = response.headers.get("content-type", [""])
    if isinstance(content_type, list):
        content_type = content_type[0] if content_type else ""
    if not str(content_type).startswith("application/json"):
        raise AssertionError(f"{response.status_code} error is {content_type!r}, not JSON")
    if case.method.upper() == "HEAD":
        return None
    body = json.loads(response.content)
    if not isinstance(body, dict) or not isinstance(body.get("detail"), str):
        raise AssertionError(f"{response.status_code} error body has no string detail: {body!r}")
    return True
