"""Changes to tables that `create_all` cannot make on a database created by an older mus.

`create_all` only adds missing tables. A change to an existing one is made here, at start-up,
once: every step checks whether it is needed, so running it again (or from the api and a
worker at the same moment) is harmless.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, Table, text

from mus.adapters.persistence.models import Base, TrackRow

logger = logging.getLogger(__name__)

_OLD_TRACKS = "_tracks_before_autoincrement"


def _table_sql(connection: Connection, table: str) -> str | None:
    row = connection.execute(
        text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
        {"name": table},
    ).first()
    return None if row is None else str(row[0])


def tracks_use_autoincrement(connection: Connection) -> bool:
    sql = _table_sql(connection, TrackRow.__tablename__)
    return sql is None or "AUTOINCREMENT" in sql.upper()


def migrate_tracks_to_autoincrement(connection: Connection) -> bool:
    """Rebuild `tracks` with AUTOINCREMENT, so a deleted track's id is never given again.

    Without it SQLite reuses the highest id once that track is deleted, and a playlist or
    the player's state would then point at another song. Ids and rows are kept as they
    are. Runs inside the caller's transaction; returns whether it rebuilt the table.
    """
    # A write first: it takes the write lock (waiting on busy_timeout), so two processes
    # starting together do the check and the rebuild one after the other.
    connection.execute(text("UPDATE tracks SET id = id WHERE 0"))
    if tracks_use_autoincrement(connection):
        return False
    columns = ", ".join(f'"{column.name}"' for column in TrackRow.__table__.columns)
    connection.execute(text(f'ALTER TABLE tracks RENAME TO "{_OLD_TRACKS}"'))
    indexes = connection.execute(
        text(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :table "
            "AND sql IS NOT NULL"
        ),
        {"table": _OLD_TRACKS},
    ).scalars()
    for index in list(indexes):
        connection.execute(text(f'DROP INDEX "{index}"'))
    Base.metadata.create_all(connection, tables=[Table(TrackRow.__tablename__, Base.metadata)])
    connection.execute(
        text(f'INSERT INTO tracks ({columns}) SELECT {columns} FROM "{_OLD_TRACKS}"')
    )
    connection.execute(text(f'DROP TABLE "{_OLD_TRACKS}"'))
    logger.info("database: tracks now never reuse the id of a deleted track (AUTOINCREMENT)")
    return True


def add_tracks_file_size(connection: Connection) -> bool:
    """Add `tracks.file_size` (what a stat-only rescan compares) to an older database.

    Rows get NULL: their next scan reads each file once and fills it in. Returns whether
    it added the column.
    """
    connection.execute(text("UPDATE tracks SET id = id WHERE 0"))  # the write lock first
    columns = {row[1] for row in connection.execute(text("PRAGMA table_info(tracks)"))}
    if "file_size" in columns:
        return False
    connection.execute(text("ALTER TABLE tracks ADD COLUMN file_size INTEGER"))
    logger.info("database: tracks now record file sizes (stat-only rescans)")
    return True
