"""Covers are stored as two WebP files of the right sizes, atomically, and refused when broken."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from mus.adapters.scanner.cover_store import CoverImageError, CoverStore
from mus.demo.audio_generator import cover_image_bytes
from mus.demo.audio_spec import CoverSpec


def read_webp(path: Path) -> Image.Image:
    image = Image.open(path)
    assert image.format == "WEBP"
    return image


@pytest.mark.parametrize(
    ("width", "height", "small"),
    [(600, 400, (200, 133)), (300, 900, (67, 200)), (600, 600, (200, 200))],
)
def test_original_keeps_its_size_and_small_fits_200(
    tmp_path: Path, width: int, height: int, small: tuple[int, int]
) -> None:
    store = CoverStore(tmp_path / "covers")
    store.save(7, cover_image_bytes(CoverSpec(width=width, height=height)))
    assert read_webp(store.path(7, "original")).size == (width, height)
    assert read_webp(store.path(7, "small")).size == small
    assert store.exists(7)
    assert store.path(7, "original").name == "7_original.webp"
    assert store.path(7, "small").name == "7_small.webp"


def test_small_cover_is_not_enlarged(tmp_path: Path) -> None:
    store = CoverStore(tmp_path)
    store.save(1, cover_image_bytes(CoverSpec(width=100, height=80, image_format="PNG")))
    assert read_webp(store.path(1, "small")).size == (100, 80)
    assert read_webp(store.path(1, "original")).size == (100, 80)


def test_stored_pixels_resemble_the_source(tmp_path: Path) -> None:
    source_bytes = cover_image_bytes(CoverSpec(width=64, height=64, seed=9, image_format="PNG"))
    store = CoverStore(tmp_path)
    store.save(1, source_bytes)
    source = Image.open(io.BytesIO(source_bytes)).convert("RGB")
    stored = read_webp(store.path(1, "original")).convert("RGB")
    centre = (32, 32)
    assert all(
        abs(a - b) <= 24
        for a, b in zip(source.getpixel(centre), stored.getpixel(centre), strict=True)  # type: ignore[arg-type]
    )


def test_transparency_survives(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("RGBA", (50, 40), (255, 0, 0, 0)).save(buffer, format="PNG")
    store = CoverStore(tmp_path)
    store.save(3, buffer.getvalue())
    stored = read_webp(store.path(3, "original"))
    assert stored.mode == "RGBA"
    assert stored.getpixel((10, 10))[3] == 0  # type: ignore[index]


def test_exif_rotation_is_applied(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
    buffer = io.BytesIO()
    Image.new("RGB", (600, 400), (10, 20, 30)).save(buffer, format="JPEG", exif=exif)
    store = CoverStore(tmp_path)
    store.save(4, buffer.getvalue())
    assert read_webp(store.path(4, "original")).size == (400, 600)
    assert read_webp(store.path(4, "small")).size == (133, 200)


@pytest.mark.parametrize(
    "bad", [b"", b"definitely not an image", b"\x89PNG\r\n\x1a\n" + b"\0" * 40]
)
def test_invalid_bytes_raise_and_keep_the_previous_cover(tmp_path: Path, bad: bytes) -> None:
    store = CoverStore(tmp_path)
    store.save(5, cover_image_bytes(CoverSpec(width=40, height=40)))
    before = {size: store.path(5, size).read_bytes() for size in ("original", "small")}
    with pytest.raises(CoverImageError, match="cover image") as caught:
        store.save(5, bad)
    assert "0x" not in str(caught.value)
    assert {size: store.path(5, size).read_bytes() for size in ("original", "small")} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["5_original.webp", "5_small.webp"]


def test_truncated_jpeg_is_refused(tmp_path: Path) -> None:
    data = cover_image_bytes(CoverSpec(width=300, height=300))
    store = CoverStore(tmp_path)
    with pytest.raises(CoverImageError):
        store.save(6, data[: len(data) // 3])
    assert not store.exists(6)
    assert list(tmp_path.iterdir()) == []


def test_save_replaces_and_leaves_no_temp_files(tmp_path: Path) -> None:
    store = CoverStore(tmp_path / "nested" / "covers")
    store.save(8, cover_image_bytes(CoverSpec(width=300, height=300)))
    store.save(8, cover_image_bytes(CoverSpec(width=90, height=30)))
    assert read_webp(store.path(8, "original")).size == (90, 30)
    assert sorted(p.name for p in store.covers_dir.iterdir()) == ["8_original.webp", "8_small.webp"]


def test_delete_removes_both_and_tolerates_absence(tmp_path: Path) -> None:
    store = CoverStore(tmp_path)
    store.save(9, cover_image_bytes(CoverSpec(width=40, height=40)))
    store.save(10, cover_image_bytes(CoverSpec(width=40, height=40)))
    store.delete(9)
    assert not store.exists(9)
    assert not store.path(9, "original").exists() and not store.path(9, "small").exists()
    assert store.exists(10)
    store.delete(9)
    store.delete(404)


def test_exists_needs_both_sizes(tmp_path: Path) -> None:
    store = CoverStore(tmp_path)
    store.save(11, cover_image_bytes(CoverSpec(width=40, height=40)))
    store.path(11, "small").unlink()
    assert not store.exists(11)


def test_unknown_size_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="original, small"):
        CoverStore(tmp_path).path(1, "huge")  # type: ignore[arg-type]


def png_header_claiming(width: int, height: int) -> bytes:
    """A PNG whose IHDR announces a huge picture: what a hostile tag could embed."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [10_000, 20_000])
def test_decompression_bombs_are_refused(tmp_path: Path, side: int) -> None:
    store = CoverStore(tmp_path)
    with pytest.raises(CoverImageError, match="decompression bomb"):
        store.save(12, png_header_claiming(side, side))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("mode", ["I;16", "CMYK", "P", "LA", "1"])
def test_unusual_colour_modes_are_stored(tmp_path: Path, mode: str) -> None:
    image_format = "TIFF" if mode == "I;16" else "JPEG" if mode == "CMYK" else "PNG"
    buffer = io.BytesIO()
    Image.new(mode, (50, 30)).save(buffer, format=image_format)
    store = CoverStore(tmp_path)
    store.save(13, buffer.getvalue())
    stored = read_webp(store.path(13, "original"))
    assert stored.size == (50, 30)
    assert stored.mode == ("RGBA" if mode == "LA" else "RGB")
