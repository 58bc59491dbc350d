"""A track's bytes: the audio stream (Range, ETag, HEAD) and its cover images."""

from __future__ import annotations

from pathlib import PurePosixPath

from fastapi import APIRouter, Request, status
from fastapi.responses import Response

from mus.adapters.scanner.cover_store import CoverSize
from mus.api.deps import AppStateDep, ExistingTrackDep
from mus.api.http.file_responses import serve_file
from mus.api.library_files import missing_file_detail, track_file
from mus.api.schemas import ErrorDetail
from mus.domain.audio_formats import AUDIO_MEDIA_TYPES, audio_media_type

router = APIRouter(prefix="/tracks", tags=["media"])

COVER_CACHE_CONTROL = "public, max-age=3600"
COVER_MEDIA_TYPE = "image/webp"
_BINARY = {"schema": {"type": "string", "format": "binary"}}
_CONDITIONAL_RESPONSES: dict[int | str, dict[str, object]] = {
    status.HTTP_304_NOT_MODIFIED: {"description": "Not modified (If-None-Match matched the ETag)"},
    status.HTTP_404_NOT_FOUND: {"model": ErrorDetail, "description": "Unknown track or no file"},
    status.HTTP_409_CONFLICT: {
        "model": ErrorDetail,
        "description": "Not a regular file (a FIFO, a device) or not openable (symlink loop)",
    },
}


_AUDIO_CONTENT = dict.fromkeys(sorted(set(AUDIO_MEDIA_TYPES.values())), _BINARY)
_STREAM_RESPONSES: dict[int | str, dict[str, object]] = {
    status.HTTP_200_OK: {"description": "The whole audio file", "content": _AUDIO_CONTENT},
    status.HTTP_206_PARTIAL_CONTENT: {
        "description": "The requested byte range (Content-Range says which)",
        "content": _AUDIO_CONTENT,
    },
    **_CONDITIONAL_RESPONSES,
    status.HTTP_416_RANGE_NOT_SATISFIABLE: {
        "model": ErrorDetail,
        "description": "The range starts beyond the end (Content-Range: bytes */size)",
    },
}
_COVER_RESPONSES: dict[int | str, dict[str, object]] = {
    status.HTTP_200_OK: {
        "description": "The cover as WebP",
        "content": {COVER_MEDIA_TYPE: _BINARY},
    },
    **_CONDITIONAL_RESPONSES,
}


# GET and HEAD as two routes of one handler, so each gets its own OpenAPI operation id.
@router.get("/{track_id}/stream", response_class=Response, responses=_STREAM_RESPONSES)
@router.head("/{track_id}/stream", response_class=Response, responses=_STREAM_RESPONSES)
async def stream_track(track: ExistingTrackDep, state: AppStateDep, request: Request) -> Response:
    """The audio file, streamed; supports one byte range, ETag/If-None-Match and HEAD."""
    path = track_file(state.settings, track)
    return await serve_file(
        request,
        path,
        media_type=audio_media_type(PurePosixPath(track.file_path)),
        missing_detail=missing_file_detail(track),
    )


@router.get("/{track_id}/covers/{size}", response_class=Response, responses=_COVER_RESPONSES)
@router.head("/{track_id}/covers/{size}", response_class=Response, responses=_COVER_RESPONSES)
async def get_cover(
    track: ExistingTrackDep, size: CoverSize, state: AppStateDep, request: Request
) -> Response:
    """The track's cover (`original` or `small`), cacheable; 404 when it has none."""
    return await serve_file(
        request,
        state.covers.path(track.id, size),
        media_type=COVER_MEDIA_TYPE,
        missing_detail=f"track {track.id} has no {size} cover",
        cache_control=COVER_CACHE_CONTROL,
    )
