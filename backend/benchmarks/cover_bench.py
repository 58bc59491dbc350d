"""WebP encoder settings for covers: size and encode time per method and quality, as figures.

Two inputs: the generator's 600x600 JPEG album cover, and a 1400x1400 photo-like image
(smooth gradients, soft shapes and grain, seeded) standing in for a scanned sleeve. Run with
`make bench-covers`; the choice it led to is recorded in cover_store's docstring.
"""

from __future__ import annotations

import argparse
import io
import platform
import random
import statistics
import time

import PIL
from PIL import Image, ImageDraw, ImageFilter

from mus.adapters.scanner.cover_store import SMALL_COVER_SIDE
from mus.demo.audio_generator import cover_image_bytes
from mus.demo.audio_spec import CoverSpec

METHODS = range(7)
QUALITIES = (75, 80, 90)


def photo_like(side: int, seed: int) -> Image.Image:
    """Gradient, blurred blobs and grain: compresses like a photographed sleeve."""
    rng = random.Random(seed)
    base = Image.linear_gradient("L").resize((side, side)).convert("RGB")
    tint = Image.new("RGB", (side, side), (rng.randrange(256), rng.randrange(256), 180))
    image = Image.blend(base, tint, 0.5)
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y, r = rng.randrange(side), rng.randrange(side), rng.randrange(20, side // 4)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(6))
    grain = Image.effect_noise((side, side), 24).convert("RGB")
    return Image.blend(image, grain, 0.12)


def encode_seconds(
    image: Image.Image, quality: int, method: int, repeats: int
) -> tuple[int, float]:
    """(bytes, median seconds) of `repeats` encodes."""
    times: list[float] = []
    size = 0
    for _ in range(repeats):
        buffer = io.BytesIO()
        started = time.perf_counter()
        image.save(buffer, format="WEBP", quality=quality, method=method)
        times.append(time.perf_counter() - started)
        size = buffer.tell()
    return size, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    album = Image.open(io.BytesIO(cover_image_bytes(CoverSpec(600, 600, seed=2026)))).convert("RGB")
    inputs = {"600x600 generated JPEG": album, "1400x1400 photo-like": photo_like(1400, 2026)}
    print(f"Pillow {PIL.__version__}, Python {platform.python_version()}, {platform.machine()}")
    print(f"{'image':<24}{'size':>9}{'q':>4}{'m':>3}{'bytes':>9}{'ms':>9}")
    for name, image in inputs.items():
        small = image.copy()
        small.thumbnail((SMALL_COVER_SIDE, SMALL_COVER_SIDE), Image.Resampling.LANCZOS)
        for label, picture in (("original", image), ("small", small)):
            for quality in QUALITIES:
                for method in METHODS:
                    size, seconds = encode_seconds(picture, quality, method, args.repeats)
                    row = f"{name:<24}{label:>9}{quality:>4}{method:>3}{size:>9}"
                    print(f"{row}{seconds * 1000:>9.1f}")


if __name__ == "__main__":
    main()
