"""Covers are stored as two WebP files of the right sizes, atomically, and refused when broken;
each distinct image is encoded once and shared by hard links, counted by the link count."""

from __future__ import annotations

import hashlib
import io
import struct
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image

from mus.adapters.scanner.cover_store import CoverImageError, CoverStore
from mus.demo.audio_generator import cover_image_bytes
from mus.demo.audio_spec import CoverSpec


def files_under(folder: Path) -> list[str]:
    """Every file below `folder`, as sorted relative paths (temp files included)."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def store_names(image: bytes) -> list[str]:
    digest = hashlib.sha256(image).hexdigest()
    return [f"by-hash/{digest}_original.webp", f"by-hash/{digest}_small.webp"]


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
    good = cover_image_bytes(CoverSpec(width=40, height=40))
    store.save(5, good)
    before = {size: store.path(5, size).read_bytes() for size in ("original", "small")}
    with pytest.raises(CoverImageError, match="cover image") as caught:
        store.save(5, bad)
    assert "0x" not in str(caught.value)
    assert {size: store.path(5, size).read_bytes() for size in ("original", "small")} == before
    assert files_under(tmp_path) == ["5_original.webp", "5_small.webp", *store_names(good)]


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
    replacement = cover_image_bytes(CoverSpec(width=90, height=30))
    store.save(8, replacement)
    assert read_webp(store.path(8, "original")).size == (90, 30)
    # The first image's store entry went with its last reference.
    assert files_under(store.covers_dir) == [
        "8_original.webp",
        "8_small.webp",
        *store_names(replacement),
    ]


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


def test_a_shared_image_is_encoded_once_and_both_tracks_link_the_same_files(
    tmp_path: Path,
) -> None:
    store = CoverStore(tmp_path)
    image = cover_image_bytes(CoverSpec(width=300, height=300, seed=3))
    assert store.save(1, image) is True
    assert store.save(2, image) is False  # found in the store: no encode
    assert store.save(2, image) is False  # analysing again changes nothing
    for size, stored in zip(("original", "small"), store_names(image), strict=True):
        first, second = store.path(1, size).stat(), store.path(2, size).stat()  # type: ignore[arg-type]
        entry = (tmp_path / stored).stat()
        assert first.st_ino == second.st_ino == entry.st_ino
        assert entry.st_nlink == 3  # the store's name and one per track
    assert files_under(tmp_path) == sorted(
        ["1_original.webp", "1_small.webp", "2_original.webp", "2_small.webp", *store_names(image)]
    )


def test_deleting_one_track_keeps_the_other_and_the_last_delete_empties_the_store(
    tmp_path: Path,
) -> None:
    store = CoverStore(tmp_path)
    image = cover_image_bytes(CoverSpec(width=200, height=200, seed=4))
    store.save(1, image)
    store.save(2, image)
    served_before = store.path(2, "original").read_bytes()
    store.delete(1)
    assert not store.exists(1)
    assert store.exists(2)
    assert store.path(2, "original").read_bytes() == served_before
    assert files_under(tmp_path) == sorted(["2_original.webp", "2_small.webp", *store_names(image)])
    store.delete(2)
    assert files_under(tmp_path) == []


def test_a_cover_of_the_old_one_file_per_track_layout_is_replaced_and_deleted(
    tmp_path: Path,
) -> None:
    store = CoverStore(tmp_path)
    for size in ("original", "small"):
        store.path(3, size).write_bytes(b"an old cover, written before the store existed")  # type: ignore[arg-type]
    image = cover_image_bytes(CoverSpec(width=64, height=64))
    store.save(3, image)
    assert read_webp(store.path(3, "small")).size == (64, 64)
    store.delete(3)
    assert files_under(tmp_path) == []


def test_saves_and_deletes_racing_on_one_image_never_leave_a_track_without_its_cover(
    tmp_path: Path,
) -> None:
    """Real threads on a real folder: the kept track is re-saved while three others keep
    linking and dropping the same image (so its store entry keeps losing its last other
    reference). Each save must leave the kept track with readable covers, and at the end the
    store holds nothing but what the kept track uses."""
    store = CoverStore(tmp_path)
    image = cover_image_bytes(CoverSpec(width=120, height=120, seed=5))
    rounds = 150
    start = threading.Barrier(4)
    missing: list[int] = []

    def keep(track_id: int) -> None:
        start.wait()
        for round_number in range(rounds):
            store.save(track_id, image)
            for size in ("original", "small"):
                try:
                    read_webp(store.path(track_id, size)).load()  # type: ignore[arg-type]
                except FileNotFoundError:
                    missing.append(round_number)

    def churn(track_id: int) -> None:
        start.wait()
        for _ in range(rounds):
            store.save(track_id, image)
            store.delete(track_id)

    with ThreadPoolExecutor(4) as pool:
        for future in [pool.submit(keep, 1), *(pool.submit(churn, i) for i in (2, 3, 4))]:
            future.result()
    assert missing == []
    assert store.exists(1)
    leftovers = [name for name in files_under(tmp_path) if not name.startswith("1_")]
    assert set(leftovers) <= set(store_names(image))  # no temp files, no other tracks
    store.delete(1)
    assert files_under(tmp_path) == []
