"""Errors mapped to HTTP answers in one place, all in one JSON shape: `{"detail": "..."}`.

Validation errors add `errors` (where and why, never the value sent: a NaN or a lone
surrogate cannot be serialised back), and an unexpected exception is a JSON 500, not
Starlette's plain-text page.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from mus.adapters.resource_faults import (
    FaultKind,
    ResourceFault,
    ResourceUnavailableError,
    resource_fault,
)
from mus.api.http.multipart_upload import UploadRejectedError
from mus.api.schemas import ErrorDetail, ValidationErrorDetail, ValidationIssue
from mus.core.broker_preflight import BrokerUnavailableError

logger = logging.getLogger(__name__)

BROKER_DOWN_RESPONSE: dict[int | str, dict[str, object]] = {
    status.HTTP_503_SERVICE_UNAVAILABLE: {
        "model": ErrorDetail,
        "description": "The job queue (Redis) is unavailable; nothing was changed",
    }
}
NOT_FOUND_RESPONSE: dict[int | str, dict[str, object]] = {
    status.HTTP_404_NOT_FOUND: {"model": ErrorDetail, "description": "Unknown track"}
}
UNPARSEABLE_BODY_RESPONSE: dict[int | str, dict[str, object]] = {
    status.HTTP_400_BAD_REQUEST: {
        "model": ErrorDetail,
        "description": "The body cannot be read as JSON text (not UTF-8, truncated...)",
    }
}
MAX_REPORTED_ISSUES = 20


def printable(text: str) -> str:
    """`text` with lone surrogates escaped, so it always encodes as UTF-8 JSON."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def error_response(
    status_code: int, detail: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The one error body every handler answers with."""
    return JSONResponse(
        {"detail": printable(detail)},
        status_code=status_code,
        headers=dict(headers) if headers is not None else None,
    )


def validation_issues(errors: Sequence[Any]) -> list[ValidationIssue]:
    """Pydantic's errors without their `input` and `ctx`, strings made encodable."""
    issues: list[ValidationIssue] = []
    for error in list(errors)[:MAX_REPORTED_ISSUES]:
        loc = [part if isinstance(part, int) else printable(str(part)) for part in error["loc"]]
        issues.append(
            ValidationIssue(loc=loc, msg=printable(str(error["msg"])), type=str(error["type"]))
        )
    return issues


async def request_invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    issues = validation_issues(exc.errors())
    summary = "; ".join(
        f"{'.'.join(str(part) for part in issue.loc)}: {issue.msg}" for issue in issues
    )
    body = ValidationErrorDetail(detail=summary or "invalid request", errors=issues)
    return JSONResponse(
        body.model_dump(mode="json"), status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
    )


async def http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code in (status.HTTP_204_NO_CONTENT, status.HTTP_304_NOT_MODIFIED):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return error_response(exc.status_code, str(exc.detail), exc.headers)


async def broker_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    return error_response(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        f"job queue unavailable: {exc}",
        headers={"Retry-After": "5"},
    )


async def upload_rejected(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UploadRejectedError)
    return error_response(exc.status_code, exc.detail)


RESOURCE_STATUS: dict[FaultKind, int] = {
    FaultKind.DATABASE_BUSY: status.HTTP_503_SERVICE_UNAVAILABLE,
    FaultKind.NO_SPACE: status.HTTP_507_INSUFFICIENT_STORAGE,
    FaultKind.READ_ONLY: status.HTTP_503_SERVICE_UNAVAILABLE,
    FaultKind.BROKER_AWAY: status.HTTP_503_SERVICE_UNAVAILABLE,
    FaultKind.BROKER_OUT_OF_MEMORY: status.HTTP_503_SERVICE_UNAVAILABLE,
}
RESOURCE_RETRY_AFTER_SECONDS: dict[FaultKind, int] = {
    FaultKind.DATABASE_BUSY: 5,
    FaultKind.READ_ONLY: 30,
    FaultKind.BROKER_AWAY: 5,
    FaultKind.BROKER_OUT_OF_MEMORY: 30,
}


def resource_response(fault: ResourceFault) -> JSONResponse:
    """The answer to a transient fault: what is short and that trying later helps."""
    retry_after = RESOURCE_RETRY_AFTER_SECONDS.get(fault.kind)
    return error_response(
        RESOURCE_STATUS[fault.kind],
        fault.sentence(),
        headers={"Retry-After": str(retry_after)} if retry_after is not None else None,
    )


def _fault_of(request: Request, exc: Exception) -> ResourceFault | None:
    """`exc`'s transient fault, placed in the data or the music folder when its path says."""
    app_state = getattr(request.app.state, "mus", None)
    settings = getattr(app_state, "settings", None)
    if settings is None:
        return resource_fault(exc)
    return resource_fault(
        exc, data_dir=settings.data_dir_path.resolve(), music_dir=settings.music_dir_path
    )


async def resource_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """A database, file-system or broker error: its resource's answer when it is transient.

    Anything else is raised on to the last resort (`unexpected_error`), traceback and all.
    """
    fault = _fault_of(request, exc)
    if fault is None:
        raise exc
    logger.warning("%s %s: %s (%s)", request.method, request.url.path, fault.sentence(), exc)
    return resource_response(fault)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """The last resort: logged with its traceback (by uvicorn), answered as JSON.

    A transient resource fault that reaches here (the database locked past its busy
    timeout, a folder full or read-only) is answered as such, never as a bare 500.
    """
    fault = _fault_of(request, exc)
    if fault is not None:
        logger.warning("%s %s: %s (%s)", request.method, request.url.path, fault.sentence(), exc)
        return resource_response(fault)
    logger.error("%s %s failed: %r", request.method, request.url.path, exc)
    return error_response(status.HTTP_500_INTERNAL_SERVER_ERROR, "internal server error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, request_invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(BrokerUnavailableError, broker_unavailable)
    app.add_exception_handler(UploadRejectedError, upload_rejected)
    # The errors a resource fault comes as; answered here so it is no server error.
    for error in (ResourceUnavailableError, DBAPIError, sqlite3.Error, OSError):
        app.add_exception_handler(error, resource_unavailable)
    app.add_exception_handler(Exception, unexpected_error)
