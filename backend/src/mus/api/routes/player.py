"""Player state: what was playing, where, how loud; read on load, saved as it changes."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from mus.adapters.persistence.player_state_repository import PlayerStateRepository
from mus.adapters.persistence.track_repository import TrackRepository
from mus.api.deps import AppStateDep
from mus.api.error_handlers import UNPARSEABLE_BODY_RESPONSE
from mus.api.schemas import ErrorDetail, PlayerStateRead, PlayerStateWrite

router = APIRouter(prefix="/player", tags=["player"])


@router.get("/state", response_model=PlayerStateRead)
async def get_player_state(state: AppStateDep) -> PlayerStateRead:
    async with state.database.session() as session:
        player = await PlayerStateRepository(session).get()
    return PlayerStateRead.from_domain(player)


@router.put(
    "/state",
    response_model=PlayerStateRead,
    responses={
        **UNPARSEABLE_BODY_RESPONSE,
        status.HTTP_422_UNPROCESSABLE_CONTENT: {
            "model": ErrorDetail,
            "description": "Out-of-range value, or a current track that does not exist",
        },
    },
)
async def put_player_state(body: PlayerStateWrite, state: AppStateDep) -> PlayerStateRead:
    """Replace the player state; `current_track_id` must name an existing track or be null."""
    async with state.database.session() as session:
        track_id = body.current_track_id
        if track_id is not None and await TrackRepository(session).get(track_id) is None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail=f"current_track_id {track_id}: no such track",
            )
        saved = await PlayerStateRepository(session).save(body.to_domain())
    return PlayerStateRead.from_domain(saved)
