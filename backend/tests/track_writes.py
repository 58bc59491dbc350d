"""Counts the transactions that wrote the `tracks` table: what a batch promises to keep at one."""

from __future__ import annotations

import re
from types import TracebackType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection

from mus.adapters.persistence.database import Database
from mus.adapters.persistence.write_gate import writes

_WROTE = "tests_wrote_tracks"
_TRACKS = re.compile(r"\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?tracks\"?[\s(]", re.I)


class TrackWrites:
    """Within the block, how many committed transactions wrote to `tracks`."""

    def __init__(self, database: Database) -> None:
        self.engine = database.engine.sync_engine
        self.transactions = 0

    def _statement(self, connection: Connection, _c: Any, statement: str, *_: Any) -> None:
        if writes(statement) and _TRACKS.match(statement):
            connection.info[_WROTE] = True

    def _commit(self, connection: Connection) -> None:
        if connection.info.pop(_WROTE, False):
            self.transactions += 1

    def _rollback(self, connection: Connection) -> None:
        connection.info.pop(_WROTE, None)

    def __enter__(self) -> TrackWrites:
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)
        event.listen(self.engine, "rollback", self._rollback)
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)
        event.remove(self.engine, "rollback", self._rollback)
