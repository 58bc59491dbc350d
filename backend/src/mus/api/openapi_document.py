"""The OpenAPI document, with FastAPI's validation-error schema replaced by mus's own.

FastAPI documents every 422 as `HTTPValidationError` (a list in `detail`); mus answers
`ValidationErrorDetail` instead, so the document must say that or clients and the fuzzer
would see every 422 as a schema mismatch.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from mus.api.schemas import ValidationErrorDetail, ValidationIssue

REF_TEMPLATE = "#/components/schemas/{model}"
FASTAPI_VALIDATION_SCHEMAS: dict[str, type[BaseModel]] = {
    "HTTPValidationError": ValidationErrorDetail,
    "ValidationError": ValidationIssue,
}


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document (cached on the app as FastAPI does)."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=app.description,
        routes=app.routes,
    )
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    _, definitions = models_json_schema(
        [(model, "serialization") for model in FASTAPI_VALIDATION_SCHEMAS.values()],
        ref_template=REF_TEMPLATE,
    )
    ours: dict[str, Any] = definitions.get("$defs", {})
    for name, schema in ours.items():
        schemas.setdefault(name, schema)
    for fastapi_name, model in FASTAPI_VALIDATION_SCHEMAS.items():
        if fastapi_name in schemas:
            schemas[fastapi_name] = ours[model.__name__]
    app.openapi_schema = document
    return document
