"""Errors the application raises, mapped to HTTP answers in one place."""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from mus.api.http.multipart_upload import UploadRejectedError
from mus.api.schemas import ErrorDetail
from mus.core.broker_preflight import BrokerUnavailableError

BROKER_DOWN_RESPONSE: dict[int | str, dict[str, object]] = {
    status.HTTP_503_SERVICE_UNAVAILABLE: {
        "model": ErrorDetail,
        "description": "The job queue (Redis) is unavailable; nothing was changed",
    }
}
NOT_FOUND_RESPONSE: dict[int | str, dict[str, object]] = {
    status.HTTP_404_NOT_FOUND: {"model": ErrorDetail, "description": "Unknown track"}
}


async def broker_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"detail": f"job queue unavailable: {exc}"},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": "5"},
    )


async def upload_rejected(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UploadRejectedError)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(BrokerUnavailableError, broker_unavailable)
    app.add_exception_handler(UploadRejectedError, upload_rejected)
