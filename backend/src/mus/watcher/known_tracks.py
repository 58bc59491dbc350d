"""What the database knows about library paths, in the shape the change mapper asks for."""

from __future__ import annotations

from collections.abc import Sequence

from mus.adapters.persistence.track_repository import TrackRepository


class KnownTracks:
    """Inode lookups by relative path, within the caller's session (one per batch)."""

    def __init__(self, repo: TrackRepository) -> None:
        self.repo = repo

    async def inode_of(self, relative_path: str) -> int | None:
        """The stored inode of the track at this path; None when no track lives there."""
        track = await self.repo.get_by_path(relative_path)
        return track.inode if track is not None else None

    async def inodes_of(self, relative_paths: Sequence[str]) -> dict[str, int | None]:
        """The stored inode of each path a track lives at (absent: no track), in one query
        per 500 paths: a batch of 1,000 new files asked one query each."""
        return await self.repo.inodes_of(relative_paths)

    async def inodes_under(self, relative_directory: str) -> dict[str, int | None]:
        """Every track under a directory (a deleted or renamed folder) with its inode.

        Rare (folder deletions only), so it filters the path list rather than needing a
        dedicated query.
        """
        prefix = relative_directory.rstrip("/") + "/"
        found: dict[str, int | None] = {}
        for path in sorted(await self.repo.all_paths()):
            if path.startswith(prefix):
                track = await self.repo.get_by_path(path)
                if track is not None:
                    found[path] = track.inode
        return found
