"""Serve a file with Range, ETag and HEAD support, streamed in chunks from an open handle.

The file is opened before the response starts, so a file that vanished is a clean 404
rather than a connection cut after a 200 status line; the handle then pins that version.
Only regular files are served (a FIFO is a 409), and never on the request thread pool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
from fastapi import HTTPException, Request, status
from fastapi.responses import JSONResponse, Response, StreamingResponse

from mus.api.http.byte_ranges import RangeNotSatisfiableError, parse_range
from mus.api.http.caching import etag_matches, file_validators, if_range_allows
from mus.api.http.regular_files import NotARegularFileError, OpenFile, open_regular_file

CHUNK_SIZE = 64 * 1024


async def _chunks(handle: OpenFile, start: int, length: int) -> AsyncIterator[bytes]:
    try:
        position, end = start, start + length
        while position < end:
            chunk = await handle.read_at(position, min(CHUNK_SIZE, end - position))
            if not chunk:  # truncated under us: end the body early rather than pad it
                return
            position += len(chunk)
            yield chunk
    finally:
        with anyio.CancelScope(shield=True):
            await handle.close()


async def serve_file(
    request: Request,
    path: Path,
    *,
    media_type: str,
    missing_detail: str,
    cache_control: str | None = None,
) -> Response:
    """200/206/304/416 for GET and HEAD on one file; 404 with `missing_detail` if it is gone,
    409 if something else than a regular file (a FIFO, a device) is in its place."""
    try:
        handle = await open_regular_file(path)
    except NotARegularFileError as exc:
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail=f"{exc}: it cannot be served"
        ) from None
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=missing_detail) from None
    except PermissionError:
        raise HTTPException(
            status.HTTP_500_INTERNAL_SERVER_ERROR,
            detail=f"cannot read {path.name}: permission denied (see GET /api/v1/permissions)",
        ) from None
    except OSError as exc:  # a symlink loop, an I/O error: nothing to serve now
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail=f"cannot open {path.name}: {exc.strerror or exc}"
        ) from None
    streaming = False
    try:
        validators = file_validators(handle.status)
        headers = {
            "Accept-Ranges": "bytes",
            "ETag": validators.etag,
            "Last-Modified": validators.last_modified,
        }
        if cache_control is not None:
            headers["Cache-Control"] = cache_control
        if etag_matches(request.headers.get("if-none-match"), validators.etag):
            return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
        byte_range = None
        if if_range_allows(request.headers.get("if-range"), validators):
            try:
                byte_range = parse_range(request.headers.get("range"), validators.size)
            except RangeNotSatisfiableError as exc:
                return JSONResponse(
                    {"detail": str(exc)},
                    status_code=status.HTTP_416_RANGE_NOT_SATISFIABLE,
                    headers={**headers, "Content-Range": f"bytes */{validators.size}"},
                )
        start, length, code = 0, validators.size, status.HTTP_200_OK
        if byte_range is not None:
            start, length, code = (
                byte_range.first,
                byte_range.length,
                status.HTTP_206_PARTIAL_CONTENT,
            )
            headers["Content-Range"] = byte_range.content_range(validators.size)
        headers["Content-Length"] = str(length)
        if request.method == "HEAD":
            return Response(status_code=code, headers=headers, media_type=media_type)
        streaming = True
        return StreamingResponse(
            _chunks(handle, start, length), status_code=code, headers=headers, media_type=media_type
        )
    finally:
        if not streaming:
            await handle.close()
