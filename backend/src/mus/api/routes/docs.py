"""The OpenAPI document and the Swagger UI page, behind the key like every other route.

A browser cannot send a header when it opens `/docs`, so `/docs?token=<key>` is accepted
and the page then fetches the document with the same token.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from mus.api.api_key import require_api_key_or_token

OPENAPI_PATH = "/openapi.json"
DOCS_PATH = "/docs"

document_router = APIRouter(dependencies=[Depends(require_api_key_or_token)])
"""Mounted under the API prefix: the OpenAPI document."""
page_router = APIRouter(dependencies=[Depends(require_api_key_or_token)])
"""Mounted at the root: the Swagger UI page (left out in production)."""


@document_router.get(OPENAPI_PATH, include_in_schema=False)
async def openapi_document(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@page_router.get(DOCS_PATH, include_in_schema=False)
async def docs_page(request: Request) -> HTMLResponse:
    document_url = f"{request.scope.get('root_path', '')}{request.app.state.openapi_path}"
    token = request.query_params.get("token")
    if token:
        document_url += f"?token={quote(token, safe='')}"
    return get_swagger_ui_html(openapi_url=document_url, title=f"{request.app.title} API")
