"""Track ids are never reused, on a new database and on one an older mus created.

Before, `tracks` had no AUTOINCREMENT: deleting the highest-id track gave its id to the
next new file, so the player's state or any outside reference pointed at another song.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.schema import CreateIndex, CreateTable

from mus.adapters.persistence.database import Database
from mus.adapters.persistence.file_operation_repository import (
    FileOperationRepository,
    TargetTakenError,
)
from mus.adapters.persistence.models import TrackRow
from mus.adapters.persistence.track_repository import TrackRepository
from mus.domain.file_operation import FileOperationKind
from mus.domain.track import FastMetadata


def metadata(path: str) -> FastMetadata:
    return FastMetadata(
        file_path=path,
        title=path,
        artist=None,
        duration=None,
        inode=hash(path) & 0xFFFF,
        mtime=1.0,
        size=10,
        content_hash=f"hash-{path}",
    )


async def add(database: Database, path: str) -> int:
    async with database.session() as session:
        track, _ = await TrackRepository(session).upsert_fast(metadata(path))
    return track.id


async def delete(database: Database, track_id: int) -> None:
    async with database.session() as session:
        assert await TrackRepository(session).delete(track_id)


async def test_the_id_of_the_last_deleted_track_is_not_given_again(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
    await database.create_tables()
    try:
        ids = [await add(database, f"{n}.mp3") for n in range(3)]
        await delete(database, ids[-1])
        assert await add(database, "next.mp3") == ids[-1] + 1
    finally:
        await database.dispose()


def create_old_schema(path: Path) -> None:
    """`tracks` as mus created it before: no AUTOINCREMENT, same columns and indexes."""
    dialect = sqlite_dialect.dialect()  # type: ignore[no-untyped-call]
    table_sql = str(CreateTable(TrackRow.__table__).compile(dialect=dialect))
    assert "AUTOINCREMENT" in table_sql
    with sqlite3.connect(path) as connection:
        connection.execute(table_sql.replace(" AUTOINCREMENT", ""))
        for index in TrackRow.__table__.indexes:
            connection.execute(str(CreateIndex(index).compile(dialect=dialect)))
        for n in (1, 2, 3):
            connection.execute(
                "INSERT INTO tracks (id, file_path, title, has_cover, processing_status, "
                "revision, added_at, updated_at) VALUES (?, ?, ?, 0, 'COMPLETE', 2, "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00')",
                (n, f"old {n}.mp3", f"Old {n}"),
            )
    connection.close()


async def test_an_older_database_is_migrated_keeping_every_row_and_id(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    create_old_schema(path)
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await database.create_tables()
        await database.create_tables()  # a second start (or a second process): no-op
        async with database.session() as session:
            repo = TrackRepository(session)
            kept = {n: await repo.get(n) for n in (1, 2, 3)}
        for n, track in kept.items():
            assert track is not None
            assert (track.file_path, track.title, track.revision) == (f"old {n}.mp3", f"Old {n}", 2)
        await delete(database, 3)
        assert await add(database, "new.mp3") == 4
    finally:
        await database.dispose()
    with sqlite3.connect(path) as connection:
        tables = dict(connection.execute("SELECT name, sql FROM sqlite_master WHERE type='table'"))
        indexes = {row[1] for row in connection.execute("PRAGMA index_list(tracks)")}
    connection.close()
    assert "AUTOINCREMENT" in tables["tracks"]
    assert not [name for name in tables if name.startswith("_tracks")]
    assert {index.name for index in TrackRow.__table__.indexes} <= indexes


async def test_a_database_without_file_sizes_gains_the_column_and_keeps_its_rows(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    dialect = sqlite_dialect.dialect()  # type: ignore[no-untyped-call]
    table_sql = str(CreateTable(TrackRow.__table__).compile(dialect=dialect))
    without_size = "\n".join(line for line in table_sql.splitlines() if "file_size" not in line)
    with sqlite3.connect(path) as connection:
        connection.execute(without_size)
        connection.execute(
            "INSERT INTO tracks (id, file_path, title, has_cover, processing_status, revision, "
            "added_at, updated_at) VALUES (7, 'old.mp3', 'Old', 0, 'COMPLETE', 2, "
            "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        )
    connection.close()
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await database.create_tables()
        await database.create_tables()
        async with database.session() as session:
            index = await TrackRepository(session).scan_index()
            track = await TrackRepository(session).get(7)
    finally:
        await database.dispose()

    assert index["old.mp3"].track_id == 7
    assert index["old.mp3"].size is None  # so its next scan reads the file once
    assert track is not None and track.processing_status.value == "COMPLETE"


async def test_a_database_from_before_file_operations_gains_the_table(tmp_path: Path) -> None:
    """An older mus had no `file_operations`: start-up adds it and keeps the tracks."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'mus.db'}"
    older = Database(url)
    await older.create_tables()
    track_id = await add(older, "kept.mp3")
    await older.dispose()
    with sqlite3.connect(tmp_path / "mus.db") as connection:
        connection.execute("DROP TABLE file_operations")

    database = Database(url)
    await database.create_tables()
    try:
        async with database.session() as session:
            operation = await FileOperationRepository(session).record(
                FileOperationKind.RENAME,
                track_id=track_id,
                source_path="kept.mp3",
                target_path="Kept.mp3",
            )
            assert await TrackRepository(session).get(track_id) is not None
        async with database.session() as session:
            with pytest.raises(TargetTakenError):
                await FileOperationRepository(session).record(
                    FileOperationKind.PLACE, track_id=None, source_path=None, target_path="Kept.mp3"
                )
            assert await FileOperationRepository(session).get(operation.id) == operation
    finally:
        await database.dispose()
