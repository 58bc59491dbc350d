"""Deterministic cover art: a seeded gradient with a few shapes, exact size, JPEG or PNG."""

from __future__ import annotations

import io
import random
from functools import lru_cache

from PIL import Image, ImageDraw

from mus.demo.audio_spec import CoverSpec

Colour = tuple[int, int, int]


def _colour(rng: random.Random) -> Colour:
    return (rng.randrange(256), rng.randrange(256), rng.randrange(256))


@lru_cache(maxsize=256)
def render_cover(cover: CoverSpec) -> bytes:
    """Encoded image bytes; cached because a library embeds one album cover many times."""
    rng = random.Random(cover.seed)
    size = (cover.width, cover.height)
    mask = Image.linear_gradient("L").rotate(rng.choice((0, 90, 180, 270))).resize(size)
    image = Image.composite(
        Image.new("RGB", size, _colour(rng)), Image.new("RGB", size, _colour(rng)), mask
    )
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(2, 5)):
        x0, x1 = sorted((rng.randrange(cover.width), rng.randrange(cover.width)))
        y0, y1 = sorted((rng.randrange(cover.height), rng.randrange(cover.height)))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x0, y0, x1, y1), fill=_colour(rng))
    buffer = io.BytesIO()
    if cover.image_format == "JPEG":
        image.save(buffer, format="JPEG", quality=85, optimize=False, progressive=False)
    else:
        image.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()
