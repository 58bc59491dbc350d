"""Uploads land under a safe tag-built name, or are refused with nothing left behind."""

# mutagen ships partial annotations (untyped constructors, Optional tags).
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import mutagen
import pytest
from api_harness import Api, running_api
from mutagen.id3 import ID3
from mutagen.oggvorbis import OggVorbis

from mus.adapters.queue.streaq_job_queue import StreaqConnection
from mus.core.config import Settings
from mus.demo.audio_generator import audio_bytes
from mus.demo.audio_spec import AudioSpec

from tests.odd_audio import encode

MEGABYTE = 1024 * 1024


def mp3_bytes(title: str | None = None) -> bytes:
    return audio_bytes(AudioSpec("x.mp3", "mp3", title=title))


async def upload(
    api: Api, file_name: str, content: bytes, **fields: str
) -> tuple[int, dict[str, Any]]:
    response = await api.client.post(
        "/tracks/upload", data=fields, files={"file": (file_name, content, "audio/mpeg")}
    )
    return response.status_code, response.json()


async def test_upload_stores_a_tagged_file_and_queues_indexing(api: Api) -> None:
    content = mp3_bytes()
    code, body = await upload(api, "whatever.MP3", content, title="Song", artist="Artist")
    assert code == 202, body
    assert body["file_path"] == "Artist - Song.mp3"
    assert body["size"] == len(content)
    stored = api.music_dir / "Artist - Song.mp3"
    tags = ID3(stored)
    assert (str(tags["TIT2"].text[0]), str(tags["TPE1"].text[0])) == ("Song", "Artist")
    assert tags.version == (2, 3, 0)
    assert await api.queued("high_priority") == [
        ("handle_file_created", {"file_path": "Artist - Song.mp3"})
    ]
    assert api.library_files() == ["Artist - Song.mp3"]  # no temp file left in .uploads
    assert await api.state.write_lock.is_locked("Artist - Song.mp3")


async def test_a_second_upload_with_the_same_tags_gets_a_suffix(api: Api) -> None:
    assert (await upload(api, "a.mp3", mp3_bytes(), title="Same", artist="Band"))[0] == 202
    code, body = await upload(api, "b.mp3", mp3_bytes(), title="Same", artist="Band")
    assert code == 202
    assert body["file_path"] == "Band - Same (2).mp3"
    assert api.library_files() == ["Band - Same (2).mp3", "Band - Same.mp3"]


async def test_the_client_path_never_decides_where_the_file_goes(api: Api) -> None:
    content = audio_bytes(AudioSpec("x.ogg", "ogg"))
    code, body = await upload(
        api, "../../etc/evil.ogg", content, title="../../../tmp/pwn", artist="..\\..\\x"
    )
    assert code == 202, body
    assert "/" not in body["file_path"] and "\\" not in body["file_path"]
    assert body["file_path"] == "_.._x - .._.._.._tmp_pwn.ogg"
    stored = api.music_dir / body["file_path"]
    assert stored.parent == api.music_dir
    tags: Any = OggVorbis(stored).tags
    assert tags["title"] == ["../../../tmp/pwn"]
    assert api.library_files() == [body["file_path"]]
    assert not (api.music_dir.parent / "etc").exists()


async def test_upload_without_artist_is_named_by_title(api: Api) -> None:
    code, body = await upload(api, "x.mp3", mp3_bytes(), title="Solo")
    assert (code, body["file_path"]) == (202, "Solo.mp3")


@pytest.mark.parametrize(
    ("file_name", "fields", "expected_code", "detail_part"),
    [
        ("notes.txt", {"title": "t"}, 415, "not a supported audio file"),
        ("noextension", {"title": "t"}, 415, "not a supported audio file"),
        ("x.mp3", {}, 422, "'title' is required"),
        ("x.mp3", {"title": "  "}, 422, "'title' is required"),
        ("x.mp3", {"title": "bad\x07bell"}, 422, "control characters"),
    ],
)
async def test_refused_uploads_leave_nothing(
    api: Api, file_name: str, fields: dict[str, str], expected_code: int, detail_part: str
) -> None:
    code, body = await upload(api, file_name, mp3_bytes(), **fields)
    assert code == expected_code
    assert detail_part in body["detail"]
    assert api.library_files() == []
    assert await api.queued("high_priority") == []


async def test_audio_extension_with_garbage_inside_is_422(api: Api) -> None:
    code, body = await upload(api, "fake.flac", b"definitely not flac" * 100, title="Fake")
    assert code == 422
    assert "is not usable audio" in body["detail"]
    assert api.library_files() == []


async def test_empty_and_non_multipart_bodies(api: Api) -> None:
    code, body = await upload(api, "empty.mp3", b"", title="Empty")
    assert (code, body["detail"]) == (422, "'empty.mp3' is empty")
    as_json = await api.client.post("/tracks/upload", json={"title": "x"})
    assert as_json.status_code == 415
    no_file = await api.client.post("/tracks/upload", data={"title": "x"}, files={"other": b""})
    assert no_file.status_code == 422
    assert api.library_files() == []


@pytest.fixture
def small_limit_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_upload_size_mb": 1})


async def test_oversize_upload_is_413_from_the_declared_length(
    small_limit_settings: Settings,
) -> None:
    async with running_api(small_limit_settings) as api:
        code, body = await upload(api, "big.mp3", b"\0" * (2 * MEGABYTE), title="Big")
        assert code == 413
        assert "upload limit of 1 MB" in body["detail"]
        assert api.library_files() == []


async def test_oversize_upload_is_stopped_while_streaming(small_limit_settings: Settings) -> None:
    """Without Content-Length (chunked), the limit still holds, mid-stream: nothing past it
    is written; the rest of the body is read and dropped (up to a bound) before the 413."""
    boundary = "mus-test-boundary"
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="title"\r\n\r\nBig\r\n'
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="big.mp3"\r\n'
        "Content-Type: audio/mpeg\r\n\r\n"
    ).encode()
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        yield head
        for _ in range(32):  # 2 MB in 64 KiB chunks
            sent += 1
            yield b"\0" * (64 * 1024)
        yield f"\r\n--{boundary}--\r\n".encode()

    async with running_api(small_limit_settings) as api:
        response = await api.client.post(
            "/tracks/upload",
            content=body(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert response.status_code == 413
        assert sent == 32  # the rest was read and dropped, so every client sees the 413
        assert api.library_files() == []


async def test_upload_with_broker_down_is_503_and_leaves_no_file(
    dead_broker_settings: Settings,
) -> None:
    async with running_api(dead_broker_settings) as api:
        code, body = await upload(api, "x.mp3", mp3_bytes(), title="Song", artist="Artist")
        assert code == 503
        assert body["detail"].startswith("job queue unavailable: ")
        assert api.library_files() == []


async def test_queue_failure_after_the_move_removes_the_file(
    api: Api, dead_broker_settings: Settings
) -> None:
    """Redis answers the write lock but the job queue is down: the moved file goes again."""
    dead_queue = StreaqConnection(dead_broker_settings)
    await dead_queue.start()
    api.state.job_queue = dead_queue
    try:
        code, _ = await upload(api, "x.mp3", mp3_bytes(), title="Song", artist="Artist")
    finally:
        await dead_queue.close()
    assert code == 503
    assert api.library_files() == []


@pytest.mark.parametrize("name", ["opus.ogg", "flac-in.ogg", "speex.ogg"])
async def test_every_ogg_codec_the_scanner_reads_is_accepted(
    api: Api, tmp_path: Path, name: str
) -> None:
    """Opus (messengers' voice notes) and FLAC in .ogg were refused: "no appropriate stream"."""
    content = encode(tmp_path, name, seconds=1).read_bytes()
    code, body = await upload(api, f"voice {name}", content, title="Note", artist="Ana")
    assert code == 202, body
    assert body["file_path"] == "Ana - Note.ogg"
    stored: Any = mutagen.File(api.music_dir / body["file_path"])
    assert (stored.tags["title"], stored.tags["artist"]) == (["Note"], ["Ana"])
    assert (
        type(stored).__name__
        == {
            "opus.ogg": "OggOpus",
            "flac-in.ogg": "OggFLAC",
            "speex.ogg": "OggSpeex",
        }[name]
    )
