"""The database side of the mapper's port, on a real SQLite file."""

from __future__ import annotations

from mus.adapters.persistence.database import Database
from mus.adapters.persistence.track_repository import TrackRepository
from mus.domain.track import FastMetadata
from mus.watcher.known_tracks import KnownTracks


def metadata(path: str, inode: int) -> FastMetadata:
    return FastMetadata(
        file_path=path,
        title=path,
        artist=None,
        duration=None,
        inode=inode,
        mtime=1.0,
        size=10,
        content_hash=f"hash-{inode}",
    )


async def test_inodes_by_path_and_under_a_directory(database: Database) -> None:
    async with database.session() as session:
        await TrackRepository(session).upsert_many(
            [
                metadata("Album/01.mp3", 11),
                metadata("Album/CD2/02.mp3", 12),
                metadata("Album 2/03.mp3", 13),
                metadata("Albums/04.mp3", 14),
                metadata("loose.mp3", 15),
            ]
        )
    async with database.session() as session:
        known = KnownTracks(TrackRepository(session))
        assert await known.inode_of("Album/01.mp3") == 11
        assert await known.inode_of("loose.mp3") == 15
        assert await known.inode_of("Album") is None
        assert await known.inode_of("missing.mp3") is None
        assert await known.inodes_under("Album") == {"Album/01.mp3": 11, "Album/CD2/02.mp3": 12}
        assert await known.inodes_under("Album/") == {"Album/01.mp3": 11, "Album/CD2/02.mp3": 12}
        assert await known.inodes_under("Nothing") == {}
