"""Refused uploads as real clients see them over a real socket (uvicorn, curl, urllib).

An 8 MiB upload over a 1 MiB limit used to be answered before the body was read and the
connection closed: urllib (like some browsers) saw a reset instead of the 413. A body cut
before its closing boundary was stored truncated and marked COMPLETE.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from api_harness import live_server

from mus.core.config import Settings

MEGABYTE = 1024 * 1024
BOUNDARY = "mus-client-boundary"


def multipart(file_bytes: bytes, *, closed: bool = True) -> bytes:
    body = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="title"\r\n\r\nBig\r\n'
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="file"; filename="big.mp3"\r\n'
        "Content-Type: audio/mpeg\r\n\r\n"
    ).encode() + file_bytes
    return body + f"\r\n--{BOUNDARY}--\r\n".encode() if closed else body


def post_with_urllib(url: str, body: bytes) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def post_with_curl(url: str, body_file: Path) -> tuple[int, dict[str, object]]:
    result = subprocess.run(
        [
            "curl", "-sS", "--max-time", "20", "-o", "-", "-w", "\n%{http_code}",
            "-H", f"Content-Type: multipart/form-data; boundary={BOUNDARY}",
            "--data-binary", f"@{body_file}", url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )  # fmt: skip
    text, _, code = result.stdout.rpartition("\n")
    return int(code), json.loads(text)


@pytest.fixture
def small_limit_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_upload_size_mb": 1})


async def test_oversize_upload_is_a_413_that_urllib_and_curl_both_read(
    small_limit_settings: Settings, tmp_path: Path
) -> None:
    body = multipart(b"\0" * (8 * MEGABYTE))
    body_file = tmp_path / "body.bin"
    body_file.write_bytes(body)
    async with live_server(small_limit_settings) as server:
        url = f"{server.base_url}/tracks/upload"
        for _ in range(3):  # a reset is a race: try it more than once
            code, answer = await asyncio.to_thread(post_with_urllib, url, body)
            assert code == 413, answer
            assert "upload limit of 1 MB" in str(answer["detail"])
            code, answer = await asyncio.to_thread(post_with_curl, url, body_file)
            assert code == 413, answer
    music = small_limit_settings.music_dir_path
    assert [p for p in music.rglob("*") if p.is_file()] == []


async def test_a_body_without_its_closing_boundary_is_400_and_keeps_nothing(
    settings: Settings,
) -> None:
    body = multipart(b"ID3" + b"\0" * 16_000, closed=False)
    async with live_server(settings) as server:
        code, answer = await asyncio.to_thread(
            post_with_urllib, f"{server.base_url}/tracks/upload", body
        )
    assert code == 400
    assert "closing boundary" in str(answer["detail"])
    music = settings.music_dir_path
    assert [p for p in music.rglob("*") if p.is_file()] == []
