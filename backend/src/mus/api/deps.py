"""Request dependencies: the app state and the track a path names, as `Annotated` types."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status

from mus.adapters.persistence.track_repository import TrackRepository
from mus.api.app_state import AppState
from mus.api.schemas import INT64_MAX
from mus.domain.track import Track


async def get_app_state(request: Request) -> AppState:
    """The state the lifespan built; absent only if the app was not started properly.

    Async on purpose: a sync dependency runs in the thread pool, and must not wait behind
    file I/O there (a stream stuck on a slow disk would stall every request).
    """
    state: AppState | None = getattr(request.app.state, "mus", None)
    if state is None:
        raise RuntimeError("mus app state missing: the lifespan did not run")
    return state


AppStateDep = Annotated[AppState, Depends(get_app_state)]


async def get_existing_track(
    track_id: Annotated[int, Path(ge=1, le=INT64_MAX, description="Track id")], state: AppStateDep
) -> Track:
    """The track named in the path, or 404."""
    async with state.database.session() as session:
        track = await TrackRepository(session).get(track_id)
    if track is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"track {track_id} not found")
    return track


ExistingTrackDep = Annotated[Track, Depends(get_existing_track)]
