"""What a user does through the HTTP API (ASGI app): delete, upload, edit, requeue."""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion

from mus.demo.audio_generator import audio_bytes
from mus.demo.audio_spec import AudioSpec, CoverSpec

from harness.scenario_set import ScenarioSet
from harness.world import World

scenarios = ScenarioSet()


async def indexed(world: World, spec: AudioSpec) -> int:
    world.write(spec)
    await world.os_events([("added", spec.relative_path)])
    await world.drain()
    return await world.track_id(spec.relative_path)


@scenarios.add
async def api_delete_removes_file_and_row(world: World) -> None:
    spec = AudioSpec(
        "Björk/Jóga.flac", "flac", title="Jóga", artist="Björk", cover=CoverSpec(seed=6)
    )
    track_id = await indexed(world, spec)
    api = await world.api()
    response = await api.delete(f"/tracks/{track_id}")
    assert response.status_code == 202, response.text
    await world.drain()
    # The OS then reports the deletion; the write lock makes the watcher ignore it.
    await world.os_events([("deleted", spec.relative_path)])


@scenarios.add
async def api_upload_indexes_the_file(world: World) -> None:
    api = await world.api()
    body = audio_bytes(AudioSpec("x.ogg", "ogg", cover=CoverSpec(seed=7)))
    response = await api.post(
        "/tracks/upload",
        data={"title": "Uploaded Song", "artist": "The Uploaders"},
        files={"file": ("../../weird name.ogg", body, "audio/ogg")},
    )
    assert response.status_code == 202, response.text
    await world.drain()
    uploaded = response.json()["file_path"]
    await world.os_events([("added", uploaded)])  # the watcher's echo of the upload


@scenarios.add
async def api_edit_with_rename_ignores_the_watcher_echo(world: World) -> None:
    spec = AudioSpec("inbox/track01.mp3", "mp3", title="Untitled", artist="Unknown")
    track_id = await indexed(world, spec)
    api = await world.api()
    response = await api.patch(
        f"/tracks/{track_id}",
        json={"title": "Windowlicker", "artist": "Aphex Twin", "rename": True},
    )
    assert response.status_code == 200, response.text
    await world.drain()
    renamed = "inbox/Aphex Twin - Windowlicker.mp3"
    await world.os_events(
        [("modified", spec.relative_path), ("deleted", spec.relative_path), ("added", renamed)]
    )


@scenarios.add
async def errors_requeue_after_the_file_is_fixed(world: World) -> None:
    broken = AudioSpec("Fixable/song.mp3", "mp3", corrupt=True)
    track_id = await indexed(world, broken)
    api = await world.api()
    errors = await api.get("/errors")
    assert [item["id"] for item in errors.json()["items"]] == [track_id], errors.text
    # The user replaces the file without mus seeing it (e.g. a restore), then requeues.
    world.write(AudioSpec("Fixable/song.mp3", "mp3", title="Fixed", artist="Restored"))
    response = await api.post(f"/errors/{track_id}/requeue")
    assert response.status_code == 202, response.text


@scenarios.add
async def api_rename_target_taken_before_the_job_ran(world: World) -> None:
    """The chosen name was free when the user saved; another file took it before the rename
    job ran: the track is ERROR with the reason, both files stay as they are."""
    spec = AudioSpec("inbox/track02.mp3", "mp3", title="Untitled", artist="Unknown")
    track_id = await indexed(world, spec)
    api = await world.api()
    response = await api.patch(
        f"/tracks/{track_id}", json={"title": "Xtal", "artist": "Aphex Twin", "rename": True}
    )
    assert response.status_code == 200, response.text
    assert response.json()["pending_rename"] == "inbox/Aphex Twin - Xtal.mp3", response.text
    world.write(AudioSpec("inbox/Aphex Twin - Xtal.mp3", "mp3", title="Xtal", artist="Other"))


@scenarios.add
async def api_rename_redone_by_requeue_once_the_target_is_free(world: World) -> None:
    """The rename was refused (another file took the name first) and the track is ERROR;
    once the user has moved that file away, requeue redoes the rename, then the analysis."""
    spec = AudioSpec("inbox/track05.mp3", "mp3", title="Untitled", artist="Unknown")
    track_id = await indexed(world, spec)
    api = await world.api()
    response = await api.patch(
        f"/tracks/{track_id}",
        json={"title": "Polygon Window", "artist": "Aphex Twin", "rename": True},
    )
    target = "inbox/Aphex Twin - Polygon Window.mp3"
    assert response.json()["pending_rename"] == target, response.text
    world.write(AudioSpec(target, "mp3", title="Polygon Window", artist="Other"))
    await world.drain()
    (world.music / target).unlink()
    response = await api.post(f"/errors/{track_id}/requeue")
    assert response.status_code == 202, response.text


@scenarios.add
async def api_edit_saved_twice_renames_once(world: World) -> None:
    """Save pressed twice before the rename ran: two jobs; run one after the other, the
    second finds nothing to do."""
    spec = AudioSpec("inbox/track03.ogg", "ogg", title="Untitled", artist="Unknown")
    track_id = await indexed(world, spec)
    world.run_one_job_at_a_time()
    api = await world.api()
    edit = {"title": "Avril 14th", "artist": "Aphex Twin", "rename": True}
    for _ in range(2):
        response = await api.patch(f"/tracks/{track_id}", json=edit)
        assert response.status_code == 200, response.text


@scenarios.add
async def api_edit_corrected_before_the_rename_ran(world: World) -> None:
    """A typo fixed right after saving: two renaming edits before the first job ran; one
    job at a time, the older rename is superseded and only the corrected name is applied."""
    spec = AudioSpec("inbox/track05.mp3", "mp3", title="Untitled", artist="Unknown")
    track_id = await indexed(world, spec)
    world.run_one_job_at_a_time()
    api = await world.api()
    for title in ("Girl/Boy Sogn", "Girl/Boy Song"):
        response = await api.patch(
            f"/tracks/{track_id}", json={"title": title, "artist": "Aphex Twin", "rename": True}
        )
        assert response.status_code == 200, response.text


@scenarios.add
async def outside_retag_then_api_rename_before_either_job_ran(world: World) -> None:
    """Found by make contract-fuzz: another program retags the file, and the user renames
    the track before either job ran. One job at a time (run together, see the backend test
    of the rename job): the user's edit is written over the retag, the modification job
    finds the file as its row says, and the rename moves file and row together."""
    spec = AudioSpec("inbox/track06.ogg", "ogg", title="Untitled", artist="Unknown")
    track_id = await indexed(world, spec)
    world.run_one_job_at_a_time()
    world.write(AudioSpec(spec.relative_path, "ogg", title="Tha", artist="Unknown"))
    await world.let_write_locks_expire()
    await world.os_events([("modified", spec.relative_path)])
    api = await world.api()
    response = await api.patch(
        f"/tracks/{track_id}", json={"title": "Tha", "artist": "Aphex Twin", "rename": True}
    )
    assert response.status_code == 200, response.text


@scenarios.add
async def api_delete_twice_and_a_rename_of_the_deleted_track(world: World) -> None:
    """Delete pressed twice, and a rename queued before: one job at a time, the deletion runs
    first (high), the second deletion and the rename (medium) find no track."""
    spec = AudioSpec("inbox/track04.wav", "wav", title="Untitled", artist="Unknown")
    track_id = await indexed(world, spec)
    world.run_one_job_at_a_time()
    api = await world.api()
    response = await api.patch(
        f"/tracks/{track_id}", json={"title": "Flim", "artist": "Aphex Twin", "rename": True}
    )
    assert response.status_code == 200, response.text
    for _ in range(2):
        response = await api.delete(f"/tracks/{track_id}")
        assert response.status_code == 202, response.text
    await world.drain()
    await world.os_events([("deleted", spec.relative_path)])


@pytest.mark.parametrize("name", scenarios.names())
async def test_scenario(name: str, run_scenario, snapshot: SnapshotAssertion) -> None:  # type: ignore[no-untyped-def]
    assert await run_scenario(scenarios[name]) == snapshot
