"""The suite's own reach check: jobs and enqueue call sites."""

from __future__ import annotations

from pathlib import Path

from mus.jobs.registry import JOBS

from harness.contract_coverage import (
    EnqueueSiteRecorder,
    coverage_problems,
    static_enqueue_sites,
)


def test_static_sites_include_every_kind_of_enqueuer() -> None:
    sites = static_enqueue_sites()
    modules = {site.split(":")[0] for site in sites}
    assert "mus.jobs.file_system_jobs" in modules  # chained jobs
    assert "mus.watcher.library_watcher" in modules  # the watcher
    assert "mus.application.initial_scan" in modules  # batch operations
    assert any(module.startswith("mus.api.routes") for module in modules)


def test_a_job_or_site_no_scenario_reached_is_named() -> None:
    everything = static_enqueue_sites()
    assert coverage_problems(set(JOBS), everything) == []
    problems = coverage_problems(
        set(JOBS) - {"handle_file_moved"}, everything - {sorted(everything)[0]}
    )
    assert problems[0] == "job 'handle_file_moved' is registered but no scenario ran it"
    assert problems[1] == f"enqueue call site {sorted(everything)[0]} is reached by no scenario"


def test_a_port_delegating_to_its_backend_is_not_a_call_site(tmp_path: Path) -> None:
    package = tmp_path / "mus"
    package.mkdir()
    (package / "ports.py").write_text(
        "class Connection:\n"
        "    async def enqueue(self, task, **kwargs):\n"
        "        return await self.queue.enqueue(task, **kwargs)\n"
        "\n"
        "async def route(port):\n"
        "    await port.enqueue('handle_file_created', file_path='a')\n"
    )
    assert static_enqueue_sites(package) == {"mus.ports:route"}
    assert (
        "mus.adapters.queue.streaq_job_queue:StreaqConnection.enqueue" not in static_enqueue_sites()
    )


async def test_a_site_that_keeps_jobs_in_a_comprehension_is_named_as_its_function() -> None:
    """The start-up scan and the watcher keep their jobs in list comprehensions, which are
    frames of their own: the hit must name the function the static scan names."""
    recorder = EnqueueSiteRecorder()

    async def add(port: object, task_name: str) -> str:
        return task_name

    recording_add = recorder.wrap(add)
    namespace: dict[str, object] = {"__name__": "mus.sample", "add": recording_add}
    exec(  # a module of `mus` as the recorder sees one: by its globals' __name__
        "async def keep_all(names):\n    return [await add(None, name) for name in names]\n",
        namespace,
    )
    keep_all = namespace["keep_all"]
    assert callable(keep_all)
    assert await keep_all(["a", "b"]) == ["a", "b"]
    assert recorder.sites == {"mus.sample:keep_all"}
