"""Cover files on disk: each distinct image encoded once, shared by hard links per track.

Layout: `covers/by-hash/<sha256 of the embedded bytes>_{original,small}.webp` is the content
store; `covers/<track_id>_{original,small}.webp` is a hard link to the store entry, so the api
keeps serving a track's cover by id and an album's tracks share one pair of files (the
generated library has 16 distinct images for 1,000 tracks). The link count is the reference
count: a store entry whose link count drops to 1 is referenced by no track and is removed by
whoever dropped it (a delete, or a save that pointed the track at another image).

Every name appears by rename or link, never half written. Races, and why they are safe:
- save vs the delete of the image's last other track: the delete may remove the store entry
  after save checked it; save's link then fails with ENOENT and save publishes it again. If
  save's link lands between the delete's check and its unlink, save's link still holds the
  inode, the track keeps its cover, and the store forgets the entry (the next track with that
  image encodes it again; the track's file is freed when its own link goes).
- two deletes of the last two tracks: each checks the count after its own unlink, through a
  descriptor it holds open, so the later one sees 1 and removes the entry; the open
  descriptor also keeps the inode number from being reused while the store is searched.
- a crash between publishing an entry and linking it leaves an entry nobody references; the
  next save of the same image reuses it.
WebP because it is smaller than the JPEG/PNG found in tags and every current browser shows it.
Encoder settings chosen by `make bench-covers` (2026-12-02, Pillow 13.0, 2 shared cores,
median of 3; bytes / ms):

| image, size      | q90 m4 (old)  | q80 m2      | q80 m4      | q80 m5      | q80 m6      |
| photo, original  | 262,070 / 560 | 52,850 / 46 | 50,860 / 285 | 34,580 / 324 | 32,712 / 393 |
| JPEG, original   | 5,134 / 18.7  | 3,470 / 5.4 | 3,158 / 14.3 | 3,162 / 17.4 | 3,190 / 17.8 |
| photo, small     | 4,012 / 7.3   | 2,896 / 1.4 | 2,726 / 13.0 | 2,728 / 13.9 | 2,702 / 14.4 |
(photo: 1400x1400 photo-like; JPEG: the generator's 600x600 cover; small: within 200x200)

Original: q80 method 5, a fifth of the old size on photos for about half the old time (q90
kept the photo's grain at 260 KB); the encode now runs once per distinct image, so the
extra time over method 4 buys 32 % fewer bytes on every download. Small (lists, many per
page): q80 method 4; methods 4-6 differ by a few bytes there.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import secrets
import tempfile
import threading
import warnings
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, get_args

from PIL import Image, ImageOps, UnidentifiedImageError

from mus.core.config import Settings

CoverSize = Literal["original", "small"]
COVER_SIZES: tuple[CoverSize, ...] = get_args(CoverSize)

STORE_DIR_NAME = "by-hash"
SMALL_COVER_SIDE = 200
WEBP_MAX_SIDE = 16383  # hard limit of the WebP format
ORIGINAL_MAX_SIDE = 4096
"""The stored original's longest side: more than any screen shows a cover at, and what a
JPEG is decoded to (draft: 1/2 to 1/8 scale in the decoder) instead of its full size."""
DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_DECODES = 2
ORIGINAL_QUALITY = 80
ORIGINAL_METHOD = 5
SMALL_QUALITY = 80
SMALL_METHOD = 4
# A delete racing a save can remove the store entry between the check and the link; each
# round re-publishes it. Three rounds lost in a row would take three such races in a row.
_LINK_ATTEMPTS = 5


class _DigestLocks:
    """One lock per image digest being saved in this process: an album's tracks analysed at
    once wait for the first encode instead of all encoding the same image (measured: 47
    encodes for 16 images at 4 tracks in flight without it). Processes do not share it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: weakref.WeakValueDictionary[str, threading.Lock] = (
            weakref.WeakValueDictionary()
        )

    def lock_for(self, digest: str) -> threading.Lock:
        with self._guard:
            lock = self._locks.get(digest)
            if lock is None:
                lock = threading.Lock()
                self._locks[digest] = lock
            return lock


_ENCODING = _DigestLocks()


class _DecodeSlots:
    """At most N covers decoded at once in this process, whatever the number of jobs: each
    decode may hold hundreds of MB for a moment, and N of them at once is the worker's bound."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._slots: dict[int, threading.BoundedSemaphore] = {}

    def of(self, count: int) -> threading.BoundedSemaphore:
        with self._guard:
            slots = self._slots.get(count)
            if slots is None:
                slots = self._slots[count] = threading.BoundedSemaphore(count)
            return slots


_DECODING = _DecodeSlots()


class CoverImageError(Exception):
    """The bytes are not an image Pillow can decode; nothing was written."""


class CoverTooLargeError(CoverImageError):
    """The image claims more pixels than `MUS_COVER_MAX_PIXELS`: skipped before decoding."""


class CoverStore:
    """Per-track `covers_dir/{track_id}_{size}.webp`, hard links into `covers_dir/by-hash/`."""

    def __init__(
        self,
        covers_dir: Path,
        *,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        decodes: int = DEFAULT_DECODES,
    ) -> None:
        self.covers_dir = covers_dir
        self.store_dir = covers_dir / STORE_DIR_NAME
        self.max_pixels = max_pixels
        self.decodes = decodes

    @classmethod
    def from_settings(cls, settings: Settings) -> CoverStore:
        """The store of `settings`, with its bounds on decoding (pixels, decodes at once)."""
        return cls(
            settings.covers_dir_path,
            max_pixels=settings.cover_max_pixels,
            decodes=settings.cover_decodes,
        )

    def path(self, track_id: int, size: CoverSize) -> Path:
        """Where a track's cover of that size lives (whether or not it exists)."""
        if size not in COVER_SIZES:
            raise ValueError(f"cover size must be one of {', '.join(COVER_SIZES)}, got {size!r}")
        return self.covers_dir / f"{track_id}_{size}.webp"

    def stored_path(self, digest: str, size: CoverSize) -> Path:
        """The content store's file for an image digest (sha256 hex of the embedded bytes)."""
        return self.store_dir / f"{digest}_{size}.webp"

    def save(self, track_id: int, image_bytes: bytes) -> bool:
        """Point the track's covers at this image, encoding it only if the store lacks it.

        Returns True when this call encoded the image. Invalid bytes raise `CoverImageError`
        before anything is written, so the track's previous cover stays.
        """
        digest = hashlib.sha256(image_bytes).hexdigest()
        with _ENCODING.lock_for(digest):
            return self._save(track_id, image_bytes, digest)

    def _save(self, track_id: int, image_bytes: bytes, digest: str) -> bool:
        encoded: dict[CoverSize, bytes] | None = None
        for _ in range(_LINK_ATTEMPTS):
            missing = [size for size in COVER_SIZES if not self.stored_path(digest, size).exists()]
            if missing:
                if encoded is None:
                    with _DECODING.of(self.decodes):
                        original, small = encode_cover(image_bytes, max_pixels=self.max_pixels)
                    encoded = {"original": original, "small": small}
                self.store_dir.mkdir(parents=True, exist_ok=True)
                for size in missing:
                    _publish(self.stored_path(digest, size), encoded[size])
            try:
                for size in COVER_SIZES:
                    self._link(self.stored_path(digest, size), self.path(track_id, size))
            except FileNotFoundError:
                continue  # a delete took the store entry away meanwhile: publish it again
            return encoded is not None
        raise RuntimeError(f"cover store entry {digest} kept vanishing while being linked")

    def delete(self, track_id: int) -> None:
        """Remove both files, and the store entries no other track references any more."""
        for size in COVER_SIZES:
            self._unlink(self.path(track_id, size))

    def exists(self, track_id: int) -> bool:
        """True when both sizes are on disk."""
        return all(self.path(track_id, size).is_file() for size in COVER_SIZES)

    def _link(self, source: Path, target: Path) -> None:
        """Make `target` another name of `source` by link and rename; release what it was."""
        with contextlib.suppress(FileNotFoundError):
            if source.stat().st_ino == target.stat().st_ino:
                return  # already this image (a re-analysis)
        temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        os.link(source, temp)
        with _held(target) as previous:
            try:
                temp.replace(target)
            finally:
                # rename() between two names of one inode does nothing and leaves the temp
                # name (POSIX): when a racing save got there first, drop it here.
                temp.unlink(missing_ok=True)
            if previous is not None:
                self._release(previous)

    def _unlink(self, target: Path) -> None:
        with _held(target) as previous:
            if previous is not None:
                target.unlink(missing_ok=True)
                self._release(previous)

    def _release(self, descriptor: int) -> None:
        """After dropping a name of this inode: if only the store's name is left, drop it too."""
        status = os.fstat(descriptor)
        if status.st_nlink != 1:
            return  # other tracks still share it (or nothing is left: a file of the old layout)
        with contextlib.suppress(FileNotFoundError), os.scandir(self.store_dir) as entries:
            for entry in entries:
                if entry.inode() == status.st_ino:
                    with contextlib.suppress(FileNotFoundError):
                        if entry.stat(follow_symlinks=False).st_nlink == 1:
                            Path(entry.path).unlink()
                    return


@contextlib.contextmanager
def _held(path: Path) -> Iterator[int | None]:
    """An open descriptor on `path`'s current inode (None if absent), closed afterwards."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        yield None
        return
    try:
        yield descriptor
    finally:
        os.close(descriptor)


def _publish(target: Path, data: bytes) -> None:
    """Write a store entry under a temp name and link it in; an existing entry wins."""
    temp = _write_temp(target.parent, target.name, data)
    try:
        os.link(temp, target)
    except FileExistsError:
        pass  # a concurrent save published the same content first
    finally:
        temp.unlink(missing_ok=True)


def encode_cover(
    image_bytes: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> tuple[bytes, bytes]:
    """(original, small) WebP bytes: the upright picture within 4096x4096 and within 200x200.

    EXIF orientation is applied because WebP output drops the EXIF that would rotate it. An
    image over `max_pixels` is refused from its header, before any pixel is decoded.
    """
    if not image_bytes:
        raise CoverImageError("cover image is empty")
    try:
        with warnings.catch_warnings():
            # A decompression-bomb-sized cover is refused, not decoded with a warning.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = _decode(image_bytes, max_pixels)
            small = image.copy()
            small.thumbnail((SMALL_COVER_SIDE, SMALL_COVER_SIDE), Image.Resampling.LANCZOS)
            return (
                _webp(image, ORIGINAL_QUALITY, ORIGINAL_METHOD),
                _webp(small, SMALL_QUALITY, SMALL_METHOD),
            )
    except CoverImageError:
        raise
    except UnidentifiedImageError as exc:
        # Pillow's own text names the BytesIO object, heap address included: not worth showing.
        raise CoverImageError("cover image format not recognised") from exc
    except Exception as exc:
        # Pillow's decoders fail on hostile input with many exception types (OSError,
        # SyntaxError, struct.error, DecompressionBomb...): all mean "not a usable image".
        raise CoverImageError(f"cover image cannot be decoded: {exc}") from exc


def _decode(image_bytes: bytes, max_pixels: int) -> Image.Image:
    """The first frame, upright, within ORIGINAL_MAX_SIDE, in RGB or RGBA (what WebP stores).

    Memory: one full decode at most, and a JPEG not even that (its decoder scales down by
    itself). The full decode is reduced by a whole factor and dropped at once, so the peak is
    the decode plus a fraction of it; no full-size copy is made for the rotation or the mode.
    """
    with Image.open(io.BytesIO(image_bytes)) as opened:
        width, height = opened.size
        if width * height > max_pixels:
            raise CoverTooLargeError(
                f"cover image of {width}x{height} pixels is over the limit of {max_pixels:,} "
                "(MUS_COVER_MAX_PIXELS)"
            )
        opened.draft(None, (ORIGINAL_MAX_SIDE, ORIGINAL_MAX_SIDE))  # JPEG: decoder scales
        opened.load()
        has_alpha = opened.mode in ("RGBA", "LA", "PA") or (
            opened.mode == "P" and "transparency" in opened.info
        )
        mode = "RGBA" if has_alpha else "RGB"
        image = opened if opened.mode in _REDUCIBLE_MODES else opened.convert(mode)
        factor = -(-max(image.size) // ORIGINAL_MAX_SIDE)  # ceiling
        image = image.reduce(factor) if factor > 1 else image
        image = image if image.mode == mode else image.convert(mode)
        if image is opened:
            image = opened.copy()  # the opened image's pixels go when it is closed
    ImageOps.exif_transpose(image, in_place=True)
    return image


# Modes whose pixels `reduce` averages as they are (a palette index or a bit cannot be).
_REDUCIBLE_MODES = frozenset({"RGB", "RGBA", "L", "LA"})


def _webp(image: Image.Image, quality: int, method: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="WEBP", quality=quality, method=method)
    return buffer.getvalue()


def _write_temp(folder: Path, name: str, data: bytes) -> Path:
    """`data` in a new 0644 temp file in `folder` (the target's, so linking stays atomic)."""
    descriptor, temp_name = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    temp_path = Path(temp_name)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        temp_path.chmod(0o644)
    except BaseException:
        with contextlib.suppress(OSError):
            temp_path.unlink()
        raise
    return temp_path
