"""Receive a multipart upload straight into a temp file, enforcing the size limit as it streams.

Starlette's form parser spools the whole body before the endpoint runs, so a limit checked
afterwards still lets a client fill the disk; here the body is parsed chunk by chunk and
the upload stops at the first byte over the limit. The client's file name is used for
its extension only.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

import anyio
from fastapi import Request, status
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from mus.api.http.request_body import DISCARD_LIMIT_BYTES, RequestBody, declared_length
from mus.api.library_files import UPLOAD_TEMP_PREFIX, UPLOAD_TEMP_SUFFIX

MAX_FIELD_BYTES = 4096
MAX_FIELDS = 16
# Room for the multipart envelope and the text fields around the file itself.
ENVELOPE_ALLOWANCE_BYTES = MAX_FIELDS * MAX_FIELD_BYTES + 64 * 1024


class UploadRejectedError(Exception):
    """The request cannot become a library file; carries the HTTP status to answer."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


@dataclass(slots=True)
class ReceivedUpload:
    """The text fields and the file part, already on disk at `temp_path`."""

    fields: dict[str, str]
    client_file_name: str
    extension: str
    temp_path: Path
    size: int


def client_extension(file_name: str) -> str:
    """Lower-case extension of a client-side name, whatever its OS's separators."""
    return PurePosixPath(PureWindowsPath(file_name).name).suffix.lower()


@dataclass(slots=True)
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    name: str = ""
    is_file: bool = False
    data: bytearray = field(default_factory=bytearray)


class _UploadParser:
    """python-multipart callbacks; file bytes are buffered here and written between chunks."""

    def __init__(
        self,
        *,
        file_field: str,
        allowed_extensions: Collection[str],
        max_file_bytes: int,
        upload_dir: Path,
    ) -> None:
        self.file_field = file_field
        self.allowed_extensions = allowed_extensions
        self.max_file_bytes = max_file_bytes
        self.upload_dir = upload_dir
        self.fields: dict[str, str] = {}
        self.part = _Part()
        self.header_name = bytearray()
        self.header_value = bytearray()
        self.file_name: str | None = None
        self.extension = ""
        self.temp_path: Path | None = None
        self.file_size = 0
        self.pending: list[bytes] = []
        self.complete = False
        """Set at the closing boundary: a body that ends before it was cut short."""

    def on_end(self) -> None:
        self.complete = True

    def on_part_begin(self) -> None:
        self.part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.part.headers[bytes(self.header_name).lower()] = bytes(self.header_value)
        self.header_name.clear()
        self.header_value.clear()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.part.headers.get(b"content-disposition", b""))
        name = options.get(b"name")
        if name is None:
            raise UploadRejectedError(
                status.HTTP_422_UNPROCESSABLE_CONTENT, "a form part has no name"
            )
        self.part.name = name.decode("utf-8", errors="replace")
        if b"filename" not in options:
            if len(self.fields) >= MAX_FIELDS:
                raise UploadRejectedError(
                    status.HTTP_422_UNPROCESSABLE_CONTENT, "too many form fields"
                )
            return
        if self.part.name != self.file_field or self.file_name is not None:
            raise UploadRejectedError(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                f"send exactly one file, in the form field {self.file_field!r}",
            )
        self.part.is_file = True
        self.file_name = options[b"filename"].decode("utf-8", errors="replace")
        self.extension = client_extension(self.file_name)
        if self.extension not in self.allowed_extensions:
            allowed = ", ".join(sorted(self.allowed_extensions))
            raise UploadRejectedError(
                status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                f"{self.file_name!r} is not a supported audio file (allowed: {allowed})",
            )
        self.temp_path = self.upload_dir / (
            f"{UPLOAD_TEMP_PREFIX}{uuid.uuid4().hex}{self.extension}{UPLOAD_TEMP_SUFFIX}"
        )

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self.part.is_file:
            self.file_size += len(chunk)
            if self.file_size > self.max_file_bytes:
                raise too_large(self.max_file_bytes)
            self.pending.append(chunk)
            return
        if len(self.part.data) + len(chunk) > MAX_FIELD_BYTES:
            raise UploadRejectedError(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                f"form field {self.part.name!r} is longer than {MAX_FIELD_BYTES} bytes",
            )
        self.part.data += chunk

    def on_part_end(self) -> None:
        if self.part.is_file:
            return
        try:
            self.fields[self.part.name] = self.part.data.decode("utf-8")
        except UnicodeDecodeError:
            raise UploadRejectedError(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                f"form field {self.part.name!r} is not UTF-8 text",
            ) from None


def too_large(max_file_bytes: int) -> UploadRejectedError:
    megabytes = max_file_bytes / (1024 * 1024)
    return UploadRejectedError(
        status.HTTP_413_CONTENT_TOO_LARGE,
        f"the file is larger than the upload limit of {megabytes:g} MB (MAX_UPLOAD_SIZE_MB)",
    )


def _boundary(request: Request) -> bytes:
    content_type, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise UploadRejectedError(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            "send the upload as multipart/form-data with fields title, artist and file",
        )
    return boundary


async def _check_declared_length(request: Request, body: RequestBody, max_file_bytes: int) -> None:
    """413 before reading, when Content-Length already says too much (after draining a
    body small enough to drain, so the client reads the answer)."""
    declared = declared_length(request)
    if declared is not None and declared > max_file_bytes + ENVELOPE_ALLOWANCE_BYTES:
        if declared <= DISCARD_LIMIT_BYTES:
            await body.discard_rest()
        raise too_large(max_file_bytes)


async def receive_upload(
    request: Request,
    *,
    upload_dir: Path,
    max_file_bytes: int,
    allowed_extensions: Collection[str],
    file_field: str = "file",
) -> ReceivedUpload:
    """Parse the body into `upload_dir`; on any failure nothing is left on disk."""
    body = RequestBody(request)
    try:
        boundary = _boundary(request)
    except UploadRejectedError:
        await body.discard_rest()
        raise
    await _check_declared_length(request, body, max_file_bytes)
    state = _UploadParser(
        file_field=file_field,
        allowed_extensions=allowed_extensions,
        max_file_bytes=max_file_bytes,
        upload_dir=upload_dir,
    )
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": state.on_part_begin,
            "on_header_field": state.on_header_field,
            "on_header_value": state.on_header_value,
            "on_header_end": state.on_header_end,
            "on_headers_finished": state.on_headers_finished,
            "on_part_data": state.on_part_data,
            "on_part_end": state.on_part_end,
            "on_end": state.on_end,
        },
    )
    handle: anyio.AsyncFile[bytes] | None = None
    try:
        async for chunk in body.chunks():
            parser.write(chunk)
            if state.pending:
                if handle is None:
                    assert state.temp_path is not None
                    handle = await anyio.open_file(state.temp_path, "xb")
                await handle.write(b"".join(state.pending))
                state.pending.clear()
        parser.finalize()
        if not state.complete:
            raise UploadRejectedError(
                status.HTTP_400_BAD_REQUEST,
                "malformed multipart body: it ends before the closing boundary (cut short?)",
            )
        if state.temp_path is None or state.file_name is None:
            raise UploadRejectedError(
                status.HTTP_422_UNPROCESSABLE_CONTENT, f"the form has no file field {file_field!r}"
            )
        if state.file_size == 0 or handle is None:
            raise UploadRejectedError(
                status.HTTP_422_UNPROCESSABLE_CONTENT, f"{state.file_name!r} is empty"
            )
        await handle.aclose()
        handle = None
        return ReceivedUpload(
            fields=state.fields,
            client_file_name=state.file_name,
            extension=state.extension,
            temp_path=state.temp_path,
            size=state.file_size,
        )
    except BaseException as exc:
        if state.temp_path is not None:
            with anyio.CancelScope(shield=True):
                if handle is not None:
                    await handle.aclose()
                with contextlib.suppress(FileNotFoundError):
                    await anyio.Path(state.temp_path).unlink()
        if isinstance(exc, UploadRejectedError | FormParserError):
            await body.discard_rest()
        if isinstance(exc, FormParserError):
            raise UploadRejectedError(
                status.HTTP_400_BAD_REQUEST, f"malformed multipart body: {exc}"
            ) from exc
        raise
