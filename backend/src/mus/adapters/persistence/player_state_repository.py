"""Player state persistence: one row, read and replaced whole."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from mus.adapters.persistence.models import PlayerStateRow
from mus.domain.player_state import PlayerState

PLAYER_ROW_ID = 1


class PlayerStateRepository:
    """Reads and saves the single player row."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self) -> PlayerState:
        row = await self.session.get(PlayerStateRow, PLAYER_ROW_ID, populate_existing=True)
        if row is None:
            return PlayerState()
        return PlayerState(
            current_track_id=row.current_track_id,
            progress_seconds=row.progress_seconds,
            volume=row.volume,
            is_muted=row.is_muted,
        )

    async def save(self, state: PlayerState) -> PlayerState:
        row = await self.session.get(PlayerStateRow, PLAYER_ROW_ID)
        if row is None:
            row = PlayerStateRow(id=PLAYER_ROW_ID)
            self.session.add(row)
        row.current_track_id = state.current_track_id
        row.progress_seconds = state.progress_seconds
        row.volume = state.volume
        row.is_muted = state.is_muted
        await self.session.flush()
        return state

    async def forget_track(self, track_id: int) -> None:
        """A deleted track must not stay the current one."""
        await self.session.execute(
            update(PlayerStateRow)
            .where(PlayerStateRow.current_track_id == track_id)
            .values(current_track_id=None, progress_seconds=0.0)
        )
