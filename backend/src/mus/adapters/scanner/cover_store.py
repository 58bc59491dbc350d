"""Cover files on disk: one full-size and one thumbnail WebP per track, named by track id.

WebP because it is smaller than the JPEG/PNG found in tags and every current browser shows
it; files are written to a temp name and renamed, so a reader never sees half a cover.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import warnings
from pathlib import Path
from typing import Literal, get_args

from PIL import Image, ImageOps, UnidentifiedImageError

CoverSize = Literal["original", "small"]
COVER_SIZES: tuple[CoverSize, ...] = get_args(CoverSize)

SMALL_COVER_SIDE = 200
WEBP_MAX_SIDE = 16383  # hard limit of the WebP format
ORIGINAL_QUALITY = 90
SMALL_QUALITY = 80


class CoverImageError(Exception):
    """The bytes are not an image Pillow can decode; nothing was written."""


class CoverStore:
    """`covers_dir/{track_id}_original.webp` and `{track_id}_small.webp`."""

    def __init__(self, covers_dir: Path) -> None:
        self.covers_dir = covers_dir

    def path(self, track_id: int, size: CoverSize) -> Path:
        """Where a track's cover of that size lives (whether or not it exists)."""
        if size not in COVER_SIZES:
            raise ValueError(f"cover size must be one of {', '.join(COVER_SIZES)}, got {size!r}")
        return self.covers_dir / f"{track_id}_{size}.webp"

    def save(self, track_id: int, image_bytes: bytes) -> None:
        """Encode both sizes, then replace the track's files; invalid bytes raise first."""
        original, small = encode_cover(image_bytes)
        self.covers_dir.mkdir(parents=True, exist_ok=True)
        _write_atomically(self.path(track_id, "original"), original)
        _write_atomically(self.path(track_id, "small"), small)

    def delete(self, track_id: int) -> None:
        """Remove both files; a track without a cover is fine."""
        for size in COVER_SIZES:
            self.path(track_id, size).unlink(missing_ok=True)

    def exists(self, track_id: int) -> bool:
        """True when both sizes are on disk."""
        return all(self.path(track_id, size).is_file() for size in COVER_SIZES)


def encode_cover(image_bytes: bytes) -> tuple[bytes, bytes]:
    """(original, small) WebP bytes: the upright picture at full size and within 200x200.

    EXIF orientation is applied because WebP output drops the EXIF that would rotate it.
    """
    if not image_bytes:
        raise CoverImageError("cover image is empty")
    try:
        with warnings.catch_warnings():
            # A decompression-bomb-sized cover is refused, not decoded with a warning.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = _decode(image_bytes)
            if max(image.size) > WEBP_MAX_SIDE:
                image.thumbnail((WEBP_MAX_SIDE, WEBP_MAX_SIDE), Image.Resampling.LANCZOS)
            small = image.copy()
            small.thumbnail((SMALL_COVER_SIDE, SMALL_COVER_SIDE), Image.Resampling.LANCZOS)
            return _webp(image, ORIGINAL_QUALITY), _webp(small, SMALL_QUALITY)
    except UnidentifiedImageError as exc:
        # Pillow's own text names the BytesIO object, heap address included: not worth showing.
        raise CoverImageError("cover image format not recognised") from exc
    except Exception as exc:
        # Pillow's decoders fail on hostile input with many exception types (OSError,
        # SyntaxError, struct.error, DecompressionBomb...): all mean "not a usable image".
        raise CoverImageError(f"cover image cannot be decoded: {exc}") from exc


def _decode(image_bytes: bytes) -> Image.Image:
    """The first frame, upright, in RGB or RGBA (what WebP stores)."""
    with Image.open(io.BytesIO(image_bytes)) as opened:
        opened.load()
        upright = ImageOps.exif_transpose(opened)
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or (
        upright.mode == "P" and "transparency" in upright.info
    )
    return upright.convert("RGBA" if has_alpha else "RGB")


def _webp(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="WEBP", quality=quality, method=4)
    return buffer.getvalue()


def _write_atomically(target: Path, data: bytes) -> None:
    """Temp file in the same folder, then rename over the target (atomic on POSIX)."""
    descriptor, temp_name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    temp_path = Path(temp_name)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        temp_path.chmod(0o644)
        temp_path.replace(target)
    except BaseException:
        with contextlib.suppress(OSError):
            temp_path.unlink()
        raise
