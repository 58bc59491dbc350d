"""What a person sees of a running mus over HTTP: health, the player page, tracks and covers."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from mus.demo.audio_generator import write_audio
from mus.demo.audio_spec import AudioSpec, CoverSpec


def get(url: str, timeout: float = 5.0) -> tuple[int, bytes, str]:
    """Status, body and content type of a GET (an HTTP error status is returned, not raised)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read(), response.headers.get("content-type", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers.get("content-type", "")


class LibraryApi:
    """The api published on 127.0.0.1:port."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def healthy(self) -> dict[str, Any] | None:
        status, body, _ = get(f"{self.base}/api/v1/healthcheck")
        return json.loads(body) if status == 200 else None

    def player_page_loads(self) -> str:
        """The player page and every static file it names answer 200; returns a summary."""
        status, body, content_type = get(f"{self.base}/")
        if status != 200 or "text/html" not in content_type:
            raise ValueError(f"GET / answered {status} {content_type}")
        assets = sorted(set(re.findall(rb'(?:src|href)="(/static/[^"]+)"', body)))
        if not assets:
            raise ValueError("the player page names no /static/ file")
        for asset in assets:
            asset_status, asset_body, _ = get(self.base + asset.decode())
            if asset_status != 200 or not asset_body:
                raise ValueError(f"GET {asset.decode()} answered {asset_status}")
        return f"/ ({len(body)} bytes) and {len(assets)} static files"

    def tracks(self) -> list[dict[str, Any]]:
        status, body, _ = get(f"{self.base}/api/v1/tracks?limit=200")
        if status != 200:
            raise ValueError(f"GET /api/v1/tracks answered {status}")
        items: list[dict[str, Any]] = json.loads(body)["items"]
        return items

    def tracks_by_path(self) -> dict[str, list[dict[str, Any]]]:
        by_path: dict[str, list[dict[str, Any]]] = {}
        for track in self.tracks():
            by_path.setdefault(track["file_path"], []).append(track)
        return by_path

    def all_complete(self, paths: list[str]) -> dict[str, dict[str, Any]] | None:
        """Each path's one track when all are COMPLETE; None while any is missing or pending.

        A doubled row or an ERROR is a failure at once, not something to wait out."""
        by_path = self.tracks_by_path()
        found = {}
        for path in paths:
            rows = by_path.get(path, [])
            if len(rows) > 1:
                raise AssertionError(f"{path}: {len(rows)} tracks for one file")
            if rows and rows[0]["processing_status"] == "ERROR":
                raise AssertionError(f"{path}: ERROR ({rows[0]})")
            if not rows or rows[0]["processing_status"] != "COMPLETE":
                return None
            found[path] = rows[0]
        return found

    def cover_bytes(self, track_id: int) -> int:
        status, body, _ = get(f"{self.base}/api/v1/tracks/{track_id}/covers/small")
        if status != 200:
            raise ValueError(f"cover of track {track_id}: {status}")
        return len(body)


def audio_files(root: Path, names: list[str]) -> list[Path]:
    """Small real audio files with tags and an embedded cover, one per name (mp3)."""
    return [
        write_audio(
            AudioSpec(
                relative_path=f"{name}.mp3",
                audio_format="mp3",
                title=f"Smoke {name}",
                artist="Compose Smoke",
                album="Containers",
                duration_seconds=2.0,
                cover=CoverSpec(width=300, height=300, seed=index),
                tone_hz=330.0 + 20 * index,
            ),
            root,
        )
        for index, name in enumerate(names)
    ]
