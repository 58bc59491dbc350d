"""Upload: a new audio file enters the library under a safe `Artist - Title.ext` name."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path, PurePosixPath

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import ValidationError

from mus.adapters.resource_faults import Place, writing_in
from mus.adapters.scanner.tag_editor import TagWriteError, write_tags
from mus.api.deps import AppStateDep
from mus.api.error_handlers import BROKER_DOWN_RESPONSE
from mus.api.http.multipart_upload import ReceivedUpload, receive_upload
from mus.api.library_files import (
    UPLOADS_FOLDER,
    forget_operation,
    move_without_overwrite,
    reserve_library_path,
)
from mus.api.schemas import ErrorDetail, TrackEdit, UploadAccepted
from mus.domain.audio_formats import AUDIO_EXTENSIONS
from mus.domain.file_naming import track_file_stem
from mus.domain.file_operation import FileOperationKind

PLACE = FileOperationKind.PLACE

router = APIRouter(prefix="/tracks", tags=["tracks"])

PLACEMENT_ATTEMPTS = 5

UPLOAD_REQUEST_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["title", "file"],
                "properties": {
                    "title": {"type": "string", "minLength": 1, "maxLength": 500},
                    "artist": {"type": "string", "minLength": 1, "maxLength": 500},
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "Audio file: " + ", ".join(sorted(AUDIO_EXTENSIONS)),
                    },
                },
            }
        }
    },
}


def _error(description: str) -> dict[str, object]:
    return {"model": ErrorDetail, "description": description}


def _tags(received: ReceivedUpload) -> TrackEdit:
    """Title (required) and artist (optional) from the form, cleaned like a tag edit."""
    title = received.fields.get("title", "")
    if not title.strip():
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail="the form field 'title' is required"
        )
    artist = received.fields.get("artist", "")
    try:
        return TrackEdit(title=title, artist=artist if artist.strip() else None)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'form'}: {error['msg']}"
            for error in exc.errors()
        )
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=problems) from None


async def _place(state: AppStateDep, received: ReceivedUpload, stem: str) -> tuple[str, str]:
    """Move the temp file to a reserved name under the write lock and queue its indexing.

    The name is promised by a recorded intent (`place`) before the move, and the intent
    goes once the job is queued: an api that dies in between leaves it for the reconciler,
    which indexes the placed file (or forgets the intent when nothing was placed).
    """
    root = state.settings.music_dir_path
    for _ in range(PLACEMENT_ATTEMPTS):
        relative, operation = await reserve_library_path(
            state.database, root, PurePosixPath("."), stem, received.extension, kind=PLACE
        )
        assert operation is not None  # no `keep`: every name comes with its intent
        destination = root / relative
        try:
            async with state.write_lock.hold([relative]):
                try:
                    await asyncio.to_thread(move_without_overwrite, received.temp_path, destination)
                except FileExistsError:
                    continue  # taken between the check and the move: next free name
                try:
                    job_id = await state.job_queue.enqueue(
                        "handle_file_created", file_path=relative
                    )
                except BaseException:
                    await asyncio.to_thread(destination.unlink, missing_ok=True)
                    raise
        finally:
            await forget_operation(state.database, operation.id)
        return relative, job_id
    raise HTTPException(status.HTTP_409_CONFLICT, detail=f"no free file name for {stem}")


@router.post(
    "/upload",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=UploadAccepted,
    openapi_extra={"requestBody": UPLOAD_REQUEST_BODY},
    responses={
        status.HTTP_400_BAD_REQUEST: _error("Malformed multipart body"),
        status.HTTP_413_CONTENT_TOO_LARGE: _error("Larger than MAX_UPLOAD_SIZE_MB"),
        status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: _error("Not multipart, or not audio"),
        status.HTTP_422_UNPROCESSABLE_CONTENT: _error("Missing fields or unreadable audio"),
        **BROKER_DOWN_RESPONSE,
    },
)
async def upload_track(request: Request, state: AppStateDep) -> UploadAccepted:
    """Store an uploaded file as `Artist - Title.ext` with those tags, then queue indexing.

    The body streams into a hidden temp file in the music folder; over the size limit,
    not audio, or no broker: the answer is an error and no file is left behind.
    """
    with writing_in(Place.MUSIC):  # out of space or read-only: the folder's, said so
        return await _receive_and_place(request, state)


async def _receive_and_place(request: Request, state: AppStateDep) -> UploadAccepted:
    upload_dir = state.settings.music_dir_path / UPLOADS_FOLDER
    await asyncio.to_thread(upload_dir.mkdir, parents=True, exist_ok=True)
    received = await receive_upload(
        request,
        upload_dir=upload_dir,
        max_file_bytes=state.settings.max_upload_size_bytes,
        allowed_extensions=AUDIO_EXTENSIONS,
    )
    try:
        tags = _tags(received)
        assert tags.title is not None
        try:
            await asyncio.to_thread(
                write_tags,
                received.temp_path,
                title=tags.title,
                artist=tags.artist,
                extension=received.extension,
            )
        except TagWriteError as exc:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail=f"{received.client_file_name!r} is not usable audio: {exc}",
            ) from exc
        relative, job_id = await _place(state, received, track_file_stem(tags.artist, tags.title))
    finally:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(Path(received.temp_path).unlink)
    return UploadAccepted(file_path=relative, size=received.size, job_id=job_id)
