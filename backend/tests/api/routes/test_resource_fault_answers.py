"""What the api answers when a resource fails for real: a database held past its busy timeout,
a music folder full or remounted read-only, a data folder full (small tmpfs mounts: needs
root, as CI has). Never a bare 500, never a sentence that blames a healthy file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from api_harness import Api, running_api

from mus.core.config import Settings
from mus.demo.audio_generator import audio_bytes, write_audio
from mus.demo.audio_spec import AudioSpec

from tests.real_faults import database_held, empty_write_ahead_log, fill, remount, tmpfs

SONG = AudioSpec("Band - Song.mp3", "mp3", title="Song", artist="Band")


@pytest.fixture
def quick_settings(settings: Settings) -> Settings:
    """A busy timeout of 0.3 s: a held lock is felt at once, not after 30 s."""
    return settings.model_copy(update={"database_busy_timeout_seconds": 0.3})


@pytest.fixture
def small_music_folder(quick_settings: Settings) -> Iterator[Path]:
    with tmpfs(quick_settings.music_dir_path, "2m") as folder:
        yield folder


@pytest.fixture
async def api_on_small_music(
    small_music_folder: Path, quick_settings: Settings
) -> AsyncIterator[Api]:
    async with running_api(quick_settings) as started:
        yield started


async def _upload(api: Api, **fields: str) -> tuple[int, dict[str, Any], str | None]:
    content = audio_bytes(AudioSpec("x.mp3", "mp3"))
    response = await api.client.post(
        "/tracks/upload", data=fields, files={"file": ("x.mp3", content, "audio/mpeg")}
    )
    return response.status_code, response.json(), response.headers.get("retry-after")


async def test_a_tag_edit_under_a_held_database_is_503_busy_with_retry_after(
    quick_settings: Settings,
) -> None:
    """Before: 500 "internal server error" once the busy timeout had passed."""
    async with running_api(quick_settings) as api:
        track = await api.add_track(SONG)
        async with database_held(quick_settings.database_dir_path / "mus.db"):
            response = await api.client.patch(f"/tracks/{track.id}", json={"title": "New"})
    assert response.status_code == 503, response.text
    assert response.json() == {"detail": "the database is busy, try again"}
    assert response.headers["retry-after"] == "5"


async def test_an_upload_into_a_read_only_music_folder_says_so(
    api_on_small_music: Api, small_music_folder: Path
) -> None:
    """Before: a bare 500 "internal server error"."""
    remount(small_music_folder, "ro")
    try:
        code, body, retry_after = await _upload(api_on_small_music, title="Song", artist="Band")
    finally:
        remount(small_music_folder, "rw")
    assert (code, body) == (503, {"detail": "the music folder is read-only"})
    assert retry_after == "30"


async def test_an_upload_into_a_full_music_folder_is_507(
    api_on_small_music: Api, small_music_folder: Path
) -> None:
    fill(small_music_folder)
    code, body, _ = await _upload(api_on_small_music, title="Song", artist="Band")
    assert (code, body) == (507, {"detail": "no space left in the music folder"})
    assert await api_on_small_music.queued("high_priority") == []


async def test_a_tag_edit_in_a_read_only_music_folder_blames_the_folder_not_the_file(
    api_on_small_music: Api, small_music_folder: Path
) -> None:
    """Before: 422 "not a readable mp3 file: [Errno 30] Read-only file system"."""
    track = await api_on_small_music.add_track(SONG)
    before = (small_music_folder / SONG.relative_path).read_bytes()
    remount(small_music_folder, "ro")
    try:
        response = await api_on_small_music.client.patch(
            f"/tracks/{track.id}", json={"title": "New"}
        )
    finally:
        remount(small_music_folder, "rw")
    assert response.status_code == 503, response.text
    assert response.json() == {"detail": "the music folder is read-only"}
    assert (small_music_folder / SONG.relative_path).read_bytes() == before
    unchanged = await api_on_small_music.track(track.id)
    assert unchanged is not None and unchanged.title == "Song"


async def test_a_tag_edit_in_a_full_music_folder_is_507_naming_the_music_folder(
    api_on_small_music: Api, small_music_folder: Path
) -> None:
    untagged = small_music_folder / "untagged.mp3"
    write_audio(AudioSpec("untagged.mp3", "mp3"), small_music_folder)
    with untagged.open("ab") as song:  # to a page boundary: any growth needs a new page
        song.write(b"\0" * (-untagged.stat().st_size % 4096))
    track = await api_on_small_music.index_file("untagged.mp3")
    fill(small_music_folder)
    response = await api_on_small_music.client.patch(
        f"/tracks/{track.id}", json={"title": "New", "artist": "Band"}
    )
    assert response.status_code == 507, response.text
    assert response.json() == {"detail": "no space left in the music folder"}


async def test_a_database_in_a_full_data_folder_is_507_naming_the_data_folder(
    quick_settings: Settings,
) -> None:
    with tmpfs(quick_settings.database_dir_path, "2m") as folder:
        async with running_api(quick_settings) as api:
            track = await api.add_track(SONG)
            await empty_write_ahead_log(api.state.database.engine)
            fill(folder)
            response = await api.client.patch(f"/tracks/{track.id}", json={"title": "New"})
    assert response.status_code == 507, response.text
    assert response.json() == {"detail": "no space left in the data folder"}
