"""The specs of a varied generated library: what a real collection looks like, seeded.

Formats cycle so every block of five has one of each; about one file in five is untagged
and named "Artist - Title.ext"; albums mostly have one shared cover; a third of the artists
have non-Latin names or titles.
"""

# Cyrillic titles are on purpose: non-Latin tags are part of what is tested.
# ruff: noqa: RUF001

from __future__ import annotations

import random
from dataclasses import dataclass

from mus.demo.audio_spec import AUDIO_FORMATS, FILE_EXTENSIONS, AudioSpec, CoverSpec

DURATIONS = (1.0, 2.0, 3.0)
TONES = (220.0, 330.0, 440.0)
UNTAGGED_SHARE = 0.2


@dataclass(frozen=True, slots=True)
class Tags:
    """The tag part of a spec."""

    title: str | None = None
    artist: str | None = None
    album: str | None = None
    cover: CoverSpec | None = None


@dataclass(frozen=True, slots=True)
class Artist:
    """An artist with albums and the words its titles are made of."""

    name: str
    albums: tuple[str, ...]
    title_words: tuple[str, ...]


ENGLISH = (
    "Blue",
    "Night",
    "River",
    "Golden",
    "Morning",
    "Electric",
    "Quiet",
    "Summer",
    "Lost",
    "Song",
    "Dance",
    "Light",
    "Train",
    "Garden",
    "Rain",
    "Heart",
    "Road",
    "Dream",
)
ARTISTS: tuple[Artist, ...] = (
    Artist("Nina Simone", ("Pastel Blues", "Wild Is the Wind"), ENGLISH),
    Artist("Miles Davis", ("Kind of Blue", "Sketches of Spain"), ENGLISH),
    Artist(
        "Мумий Тролль",
        ("Морская", "Икра"),
        ("Утекай", "Владивосток", "Невеста", "Дельфины", "Лето", "Ночь", "Зима", "Море"),
    ),
    Artist(
        "坂本龍一",
        ("音楽図鑑", "async"),
        ("戦場", "メリークリスマス", "雨", "夜", "光", "海", "風", "花"),
    ),
    Artist(
        "Sigur Rós",
        ("Ágætis byrjun", "Takk"),
        ("Svefn-g-englar", "Starálfur", "Hoppípolla", "Glósóli", "Sæglópur", "Olsen"),
    ),
    Artist("Björk", ("Homogenic", "Vespertine"), ENGLISH),
    Artist("Daft Punk", ("Discovery", "Homework"), ENGLISH),
    Artist(
        "Cesária Évora",
        ("Miss Perfumado", "Café Atlantico"),
        ("Sodade", "Petit", "Pays", "Mar", "Azul", "Luz", "Terra", "Noite"),
    ),
    Artist(
        "Ludovico Einaudi",
        ("Le Onde", "Divenire"),
        ("Onde", "Notte", "Primavera", "Luce", "Nuvole", "Fiume", "Stella", "Vento"),
    ),
    Artist("Fela Kuti", ("Zombie", "Expensive Shit"), ENGLISH),
    Artist("Ali Farka Touré", ("Talking Timbuktu", "Savane"), ENGLISH),
    Artist("The Velvet Underground", ("Loaded", "White Light"), ENGLISH),
)
COVER_SIZES: tuple[tuple[int, int], ...] = (
    (600, 600),
    (500, 500),
    (300, 300),
    (800, 800),
    (640, 480),
)


def _album_cover(artist_index: int, album_index: int) -> CoverSpec | None:
    """One cover per album (every third album has none); a few are PNG or not square."""
    number = artist_index * 2 + album_index
    if number % 3 == 2:
        return None
    width, height = COVER_SIZES[number % len(COVER_SIZES)]
    return CoverSpec(
        width, height, seed=1000 + number, image_format="PNG" if number % 4 == 3 else "JPEG"
    )


def library_specs(count: int, seed: int = 0) -> list[AudioSpec]:
    """`count` distinct, playable specs; the same count and seed give the same list."""
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    rng = random.Random(seed)
    formats = rng.sample(AUDIO_FORMATS, len(AUDIO_FORMATS))
    used_paths: set[str] = set()
    track_numbers: dict[tuple[int, int], int] = {}
    specs: list[AudioSpec] = []
    for index in range(count):
        audio_format = formats[index % len(formats)]
        extension = FILE_EXTENSIONS[audio_format]
        artist_index = rng.randrange(len(ARTISTS))
        artist = ARTISTS[artist_index]
        album_index = rng.randrange(len(artist.albums))
        title = " ".join(rng.sample(artist.title_words, 2))
        duration = rng.choice(DURATIONS)
        tone = rng.choice(TONES)
        # The first two files are one tagged, one untagged: any library of two has both.
        untagged = index == 1 or (index > 1 and rng.random() < UNTAGGED_SHARE)
        if untagged:
            folder = "" if index % 2 else "Downloads/"
            stem = f"{folder}{artist.name} - {title}"
            tags = Tags()
        else:
            album = artist.albums[album_index]
            track = track_numbers.get((artist_index, album_index), 0) + 1
            track_numbers[artist_index, album_index] = track
            stem = f"{artist.name}/{album}/{track:02d} {title}"
            tags = _tag_variant(
                rng, title, artist.name, album, _album_cover(artist_index, album_index)
            )
        specs.append(
            AudioSpec(
                _unique(f"{stem}{extension}", used_paths),
                audio_format,
                title=tags.title,
                artist=tags.artist,
                album=tags.album,
                duration_seconds=duration,
                cover=tags.cover,
                tone_hz=tone,
            )
        )
    return specs


def _tag_variant(
    rng: random.Random, title: str, artist: str, album: str, cover: CoverSpec | None
) -> Tags:
    """Mostly complete tags; some files miss the album, the artist or the title."""
    roll = rng.random()
    if roll < 0.6:
        return Tags(title, artist, album, cover)
    if roll < 0.8:
        return Tags(title, artist)
    if roll < 0.9:
        return Tags(title)
    return Tags(None, artist, album, cover)


def _unique(relative_path: str, used_paths: set[str]) -> str:
    """The path, or the path with " (2)", " (3)"... before the extension if already taken."""
    candidate = relative_path
    stem, dot, extension = relative_path.rpartition(".")
    copy = 1
    while candidate in used_paths:
        copy += 1
        candidate = f"{stem} ({copy}){dot}{extension}"
    used_paths.add(candidate)
    return candidate
