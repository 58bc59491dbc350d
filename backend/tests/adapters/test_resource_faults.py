"""The classification on errors produced for real: a locked and a full SQLite database, a full
and a read-only tmpfs, a Redis out of memory; and permanent errors stay permanent.

The mounts need root (CI runs as root): without it these tests fail saying so.
"""

from __future__ import annotations

import asyncio
import errno
import sqlite3
from pathlib import Path

import pytest
import redis
from mutagen import MutagenError
from mutagen.mp3 import MP3
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from mus.adapters.persistence.database import Database
from mus.adapters.resource_faults import (
    FaultKind,
    Place,
    ResourceUnavailableError,
    in_place,
    is_transient,
    resource_fault,
    writing_in,
)
from mus.core.broker_preflight import BrokerUnavailableError

from tests.own_redis import OwnRedis
from tests.real_faults import ExclusiveHolder, database_held, fill, remount, tmpfs


def _locked_error(tmp_path: Path) -> sqlite3.OperationalError:
    database_file = tmp_path / "held.db"
    sqlite3.connect(database_file).execute("CREATE TABLE t (x)").connection.commit()
    holder = ExclusiveHolder(database_file).start()
    try:
        other = sqlite3.connect(database_file, timeout=0.1)
        try:
            other.execute("INSERT INTO t VALUES (1)")
        except sqlite3.OperationalError as exc:
            return exc
        finally:
            other.close()
    finally:
        holder.release()
    raise AssertionError("the insert went through a database held exclusively")


def test_a_database_locked_by_another_connection_is_busy(tmp_path: Path) -> None:
    fault = resource_fault(_locked_error(tmp_path))
    assert fault is not None
    assert (fault.kind, fault.place) == (FaultKind.DATABASE_BUSY, Place.DATA)
    assert fault.sentence() == "the database is busy, try again"


async def test_sqlalchemys_wrapper_of_a_lock_past_the_busy_timeout_is_busy(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'mus.db'}", busy_timeout_seconds=0.2)
    await database.create_tables()
    try:
        async with database_held(tmp_path / "mus.db"):
            with pytest.raises(OperationalError) as raised:
                async with database.session() as session:
                    await session.execute(text("DELETE FROM tracks"))
        fault = resource_fault(raised.value)
        assert fault is not None and fault.kind is FaultKind.DATABASE_BUSY
        assert is_transient(raised.value)
    finally:
        await database.dispose()


def test_a_database_on_a_full_disk_is_the_data_folders_lack_of_space(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "data", "1m") as data:
        connection = sqlite3.connect(data / "full.db")
        connection.execute("CREATE TABLE t (x)")
        connection.commit()
        fill(data)
        with pytest.raises(sqlite3.OperationalError) as raised:
            for _ in range(200):
                connection.execute("INSERT INTO t VALUES (?)", (b"\1" * 8192,))
                connection.commit()
        connection.close()
    fault = resource_fault(raised.value)
    assert fault is not None, raised.value
    assert (fault.kind, fault.place) == (FaultKind.NO_SPACE, Place.DATA)
    assert fault.sentence() == "no space left in the data folder"


def test_enospc_names_the_folder_by_its_path_or_by_its_writer(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with tmpfs(data / "music", "1m", inodes=8) as music:
        for index in range(64):  # out of inodes: open() names the path it could not create
            try:
                (music / f"{index}.mp3").touch()
            except OSError as exc:
                named = exc
                break
        else:
            raise AssertionError("a tmpfs of 8 inodes took 64 files")
        fill(music, "0.mp3")
        # write() names no path
        with pytest.raises(OSError) as unnamed, (music / "1.mp3").open("ab") as song:
            song.write(b"\0" * 65536)
            song.flush()
        with (
            pytest.raises(ResourceUnavailableError) as placed,
            writing_in(Place.MUSIC),
            (music / "1.mp3").open("ab") as song,
        ):
            song.write(b"\0" * 65536)
            song.flush()
    assert named.errno == errno.ENOSPC and named.filename is not None
    by_path = resource_fault(named, data_dir=data, music_dir=data / "music")
    assert by_path is not None
    assert (by_path.kind, by_path.place) == (FaultKind.NO_SPACE, Place.MUSIC)
    assert by_path.sentence() == "no space left in the music folder"
    assert unnamed.value.errno == errno.ENOSPC
    nowhere = resource_fault(unnamed.value, data_dir=data, music_dir=data / "music")
    assert nowhere is not None and nowhere.place is None
    assert str(placed.value) == "no space left in the music folder"
    in_data = resource_fault(
        OSError(errno.ENOSPC, "No space left on device", str(data / "covers" / "1.jpg")),
        data_dir=data,
        music_dir=data / "music",
    )
    assert in_data is not None and in_data.place is Place.DATA


def test_a_read_only_remount_is_transient_and_a_writer_names_its_folder(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "music", "1m") as music:
        (music / "song.mp3").write_bytes(b"ID3")
        remount(music, "ro")
        try:
            with (
                pytest.raises(ResourceUnavailableError) as raised,
                writing_in(Place.MUSIC),
                (music / "song.mp3").open("r+b") as song,
            ):
                song.write(b"X")
        finally:
            remount(music, "rw")
    fault = raised.value.fault
    assert (fault.kind, fault.place) == (FaultKind.READ_ONLY, Place.MUSIC)
    assert str(raised.value) == "the music folder is read-only"
    assert isinstance(raised.value.__cause__, OSError)
    assert raised.value.__cause__.errno == errno.EROFS


def test_a_mutagen_error_wrapping_enospc_is_transient_but_a_corrupt_file_is_not(
    tmp_path: Path,
) -> None:
    wrapped = MutagenError(OSError(errno.ENOSPC, "No space left on device"))
    wrapped.__cause__ = wrapped.args[0]
    assert resource_fault(wrapped) is not None
    corrupt = tmp_path / "corrupt.mp3"
    corrupt.write_bytes(b"\xff\xfb" + b"garbage" * 10)
    with pytest.raises(MutagenError) as raised:
        MP3(corrupt)
    assert resource_fault(raised.value) is None
    assert in_place(raised.value, Place.MUSIC) is None


def test_permanent_errors_stay_permanent(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as gone:
        (tmp_path / "gone.mp3").read_bytes()
    assert resource_fault(gone.value) is None
    assert resource_fault(PermissionError(errno.EACCES, "Permission denied")) is None
    assert resource_fault(ValueError("not audio")) is None


def test_a_broker_refusing_writes_for_memory_is_out_of_memory() -> None:
    server = OwnRedis()
    server.start()
    try:
        client = redis.Redis.from_url(server.url)
        client.config_set("maxmemory", "1mb")
        client.config_set("maxmemory-policy", "noeviction")
        with pytest.raises(redis.ResponseError) as raised:
            for index in range(2000):
                client.set(f"k{index}", b"\0" * 4096)
        client.close()
    finally:
        server.stop()
    fault = resource_fault(raised.value)
    assert fault is not None and fault.kind is FaultKind.BROKER_OUT_OF_MEMORY
    away = resource_fault(BrokerUnavailableError("broker unavailable: Connection refused"))
    assert away is not None and away.kind is FaultKind.BROKER_AWAY


def test_the_cause_inside_an_exception_group_counts() -> None:
    async def fail() -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    async def run() -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(fail())

    with pytest.raises(ExceptionGroup) as raised:
        asyncio.run(run())
    fault = resource_fault(raised.value)
    assert fault is not None and fault.kind is FaultKind.READ_ONLY
