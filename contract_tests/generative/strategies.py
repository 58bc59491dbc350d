"""Hypothesis strategies for histories; the simplest value of each comes first, for shrinking."""

from __future__ import annotations

from hypothesis import strategies as st

from mus.demo.audio_spec import AUDIO_FORMATS

from generative.actions import (
    ARTISTS,
    FOLDERS,
    NAMES,
    QUEUES,
    TITLES,
    Action,
    ApiDelete,
    ApiEdit,
    ApiPlayer,
    ApiRequeue,
    ApiUpload,
    CopyAlbum,
    CreateFolder,
    DeleteFile,
    DeleteFolder,
    DrainAll,
    DrainQueue,
    History,
    MoveFile,
    RetagFile,
    WriteNewFile,
)

SLOTS = st.integers(0, 3)


def _index(pool: tuple[str, ...]) -> st.SearchStrategy[int]:
    return st.integers(0, len(pool) - 1)


def _maybe(pool: tuple[str, ...]) -> st.SearchStrategy[int | None]:
    return st.none() | _index(pool)


COVER_SEEDS = st.none() | st.integers(0, 3)
FORMATS = st.sampled_from(AUDIO_FORMATS)


def actions() -> st.SearchStrategy[Action]:
    """Every kind of action; file writes and drains are the most frequent."""
    write = st.builds(
        WriteNewFile,
        folder=_index(FOLDERS),
        name=_index(NAMES),
        audio_format=FORMATS,
        title=_maybe(TITLES),
        artist=_maybe(ARTISTS),
        cover_seed=COVER_SEEDS,
        corrupt=st.booleans(),
    )
    kinds: list[st.SearchStrategy[Action]] = [
        st.just(DrainAll()),
        write,
        st.builds(RetagFile, SLOTS, _maybe(TITLES), _maybe(ARTISTS), COVER_SEEDS),
        st.builds(MoveFile, SLOTS, _index(FOLDERS), _index(NAMES)),
        st.builds(DeleteFile, SLOTS),
        st.builds(ApiEdit, SLOTS, _maybe(TITLES), _maybe(ARTISTS), st.booleans()),
        st.builds(ApiDelete, SLOTS),
        st.builds(DrainQueue, st.integers(0, len(QUEUES) - 1)),
        st.builds(ApiUpload, FORMATS, _index(NAMES), _index(TITLES), _maybe(ARTISTS), COVER_SEEDS),
        st.builds(ApiRequeue, SLOTS),
        st.builds(
            ApiPlayer, st.none() | SLOTS, st.sampled_from([0.0, 1.5]), st.sampled_from([1.0, 0.4])
        ),
        st.builds(CreateFolder, _index(FOLDERS)),
        st.builds(DeleteFolder, _index(FOLDERS)),
        st.builds(
            CopyAlbum,
            folder=_index(FOLDERS),
            formats=st.lists(FORMATS, min_size=2, max_size=len(NAMES)).map(tuple),
            title=_maybe(TITLES),
            corrupt=st.none() | st.integers(0, len(NAMES) - 1),
        ),
    ]
    # Hypothesis picks a branch uniformly: repeats weight writes (4 in 18) and drains (3 in 18).
    return st.one_of(write, write, write, st.just(DrainAll()), *kinds)


def histories(max_actions: int) -> st.SearchStrategy[History]:
    """Concurrency 1 (deterministic order) shrinks first; a free worker is the other choice."""
    return st.builds(
        History,
        one_at_a_time=st.sampled_from([True, False]),
        actions=st.lists(actions(), min_size=0, max_size=max_actions).map(tuple),
    )
