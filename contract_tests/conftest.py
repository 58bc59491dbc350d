"""Contract suite plumbing: backend choice, snapshot integrity, determinism, coverage."""

from __future__ import annotations

import os
import uuid
from collections.abc import Awaitable, Callable, Generator
from pathlib import Path
from typing import Any

import coverage
import pytest
import redis

from mus.adapters.persistence.outbox_repository import OutboxRepository

from harness import branch_coverage, field_inventory
from harness.amber_reader import read_snapshots
from harness.contract_coverage import EnqueueSiteRecorder, coverage_problems
from harness.determinism import first_difference
from harness.field_diff import field_differences
from harness.parity_results import ScenarioResult, write_results
from harness.private_broker import PrivateBroker
from harness.provenance import BASELINE_BACKEND, digest_problem, update_refusal
from harness.queue_backend import QueueBackend
from harness.queue_backends import BACKENDS, backend_by_name
from harness.sabotage import SABOTAGE_ENV
from harness.sabotage import apply as apply_sabotage
from harness.world import World, open_world

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
Scenario = Callable[[World], Awaitable[None]]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mus contract")
    group.addoption(
        "--queue-backend",
        default=os.environ.get("MUS_QUEUE_BACKEND", BASELINE_BACKEND),
        help=f"queue backend to run the scenarios on: {', '.join(BACKENDS)} "
        "(env MUS_QUEUE_BACKEND; default arq)",
    )
    group.addoption(
        "--determinism",
        action="store_true",
        help="run every scenario twice on the same backend and fail on any difference",
    )


def backend_name(config: pytest.Config) -> str:
    return str(config.getoption("--queue-backend"))


def updating_snapshots(config: pytest.Config) -> bool:
    return bool(config.getoption("--snapshot-update", default=False))


def pytest_configure(config: pytest.Config) -> None:
    name = backend_name(config)
    if name not in BACKENDS:
        raise pytest.UsageError(
            f"unknown queue backend {name!r}: choose one of {', '.join(BACKENDS)}"
        )
    try:
        backend_by_name(name)  # a missing test-only dependency stops the run here, in one line
    except RuntimeError as exc:
        raise pytest.UsageError(str(exc)) from None
    refusal = update_refusal(name) if updating_snapshots(config) else None
    if refusal is not None:
        raise pytest.UsageError(refusal)
    config.stash[SITES] = EnqueueSiteRecorder()
    config.stash[TASKS] = set()
    config.stash[BRANCHES] = branch_coverage.start()
    config.stash[RECORDINGS] = {}
    global _config_of_this_run  # noqa: PLW0603 - logreport hooks get no config
    _config_of_this_run = config


SITES = pytest.StashKey[EnqueueSiteRecorder]()
BRANCHES = pytest.StashKey[coverage.Coverage]()
RECORDINGS = pytest.StashKey[dict[str, dict[str, Any]]]()
TASKS = pytest.StashKey[set[str]]()


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    if updating_snapshots(config):
        return
    problem = digest_problem()
    if problem is not None:
        pytest.exit(f"contract baseline integrity: {problem}", returncode=1)


def pytest_report_header(config: pytest.Config) -> str:
    mode = " (determinism: each scenario twice)" if config.getoption("--determinism") else ""
    return f"mus contract suite: queue backend {backend_name(config)}{mode}"


@pytest.fixture(scope="session")
def contract_redis_url() -> str:
    url = os.environ.get("MUS_CONTRACT_REDIS_URL", DEFAULT_REDIS_URL)
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"the contract suite needs a real Redis at {url}: {exc}", pytrace=False)
    finally:
        client.close()
    return url


@pytest.fixture
def queue_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> QueueBackend:
    sabotage = os.environ.get(SABOTAGE_ENV)
    if sabotage:
        apply_sabotage(sabotage, monkeypatch)
    backend = backend_by_name(backend_name(request.config))
    recorder = request.config.stash[SITES]
    for port_class in backend.port_classes():
        monkeypatch.setattr(port_class, "enqueue", recorder.wrap(port_class.enqueue))
    monkeypatch.setattr(OutboxRepository, "add", recorder.wrap(OutboxRepository.add))
    return backend


@pytest.fixture
def run_scenario(
    request: pytest.FixtureRequest,
    queue_backend: QueueBackend,
    tmp_path: Path,
    contract_redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Awaitable[dict[str, Any]]]:
    """Run a scenario in a fresh world and return its recording (twice in determinism mode).

    `own_broker=True` gives the world a Redis of its own that the scenario may stop.
    """

    async def once(scenario: Scenario, own_broker: bool) -> dict[str, Any]:
        broker = PrivateBroker(tmp_path / f"broker-{uuid.uuid4().hex[:8]}") if own_broker else None
        url = contract_redis_url
        if broker is not None:
            broker.start()
            url = broker.url
        try:
            async with open_world(queue_backend, tmp_path, url, monkeypatch, broker) as world:
                await scenario(world)
                await world.drain()
                recording = await world.record()
        finally:
            if broker is not None:
                broker.kill()
        request.config.stash[TASKS].update(job["task"] for job in recording["jobs"])
        request.node.stash[RECORDING] = recording
        request.config.stash[RECORDINGS][request.node.nodeid] = recording
        return recording

    async def run(scenario: Scenario, *, own_broker: bool = False) -> dict[str, Any]:
        first = await once(scenario, own_broker)
        if request.config.getoption("--determinism"):
            second = await once(scenario, own_broker)
            difference = first_difference(first, second)
            if difference is not None:
                pytest.fail(
                    f"the recording differs between two {queue_backend.name} runs at "
                    f"{difference}: a normaliser gap (or real nondeterminism) to fix",
                    pytrace=False,
                )
        return first

    return run


RECORDING = pytest.StashKey[dict[str, Any]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed scenario carries its field-level differences from the arq recording."""
    report = yield
    recording = item.stash.get(RECORDING, None)
    if report.when == "call" and report.failed and recording is not None:
        snapshot_file = item.path.parent / "__snapshots__" / f"{item.path.stem}.ambr"
        recorded = read_snapshots(snapshot_file).get(item.name) if snapshot_file.exists() else None
        report.user_properties.append(
            (
                "differences",
                [[d.path, d.recorded, d.observed] for d in field_differences(recorded, recording)],
            )
        )
    return report


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """A full run (every scenario selected) is what coverage and the parity report judge.

    While snapshots are being (re)recorded only scenarios run: the harness's own tests run
    child suites against the snapshot files, which syrupy writes only at the session's end.
    """
    if updating_snapshots(config):
        harness_tests = [item for item in items if "scenarios/" not in item.nodeid]
        if harness_tests:
            config.hook.pytest_deselected(items=harness_tests)
            items[:] = [item for item in items if item not in harness_tests]
    scenarios_dir = (Path(str(config.rootpath)) / "scenarios").resolve()
    selected_whole = any(
        "::" not in str(arg) and scenarios_dir.is_relative_to(Path(str(arg)).resolve())
        for arg in config.args
    )
    config.stash[FULL_RUN] = (
        selected_whole
        and not config.getoption("keyword")
        and not config.getoption("markexpr")
        and all("::" not in str(arg) for arg in config.args)
    )


FULL_RUN = pytest.StashKey[bool]()
RESULTS = pytest.StashKey[dict[str, ScenarioResult]]()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Note each scenario's outcome and, when it failed, the diff, for the parity report."""
    if "scenarios/" not in report.nodeid or not (report.when == "call" or report.failed):
        return
    config = _config_of_this_run
    if config is None:
        return
    results = config.stash.setdefault(RESULTS, {})
    previous = results.get(report.nodeid)
    if previous is not None and previous.outcome == "failed":
        return
    differences = dict(report.user_properties).get("differences", [])
    results[report.nodeid] = ScenarioResult(
        scenario=report.nodeid,
        outcome=report.outcome,
        detail=report.longreprtext if report.failed else "",
        differences=list(differences),
    )


_config_of_this_run: pytest.Config | None = None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if not config.stash.get(FULL_RUN, False) or config.option.collectonly:
        return
    if not updating_snapshots(config):
        write_results(backend_by_name(backend_name(config)), config.stash.get(RESULTS, {}))
    if exitstatus != 0:
        return
    problems = coverage_problems(config.stash[TASKS], config.stash[SITES].sites)
    if not config.getoption("--determinism"):
        missing = branch_coverage.missing_branches(config.stash[BRANCHES])
        problems += branch_coverage.branch_problems(missing, branch_coverage.allowed())
        problems += field_inventory.inventory_problems(
            config.stash[RECORDINGS], field_inventory.allowed()
        )
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if problems:
        if reporter:
            reporter.write_sep("=", "contract coverage: FAILED", red=True)
            for problem in problems:
                reporter.write_line(problem)
        session.exitstatus = 1
        return
    if updating_snapshots(config) and backend_name(config) == BASELINE_BACKEND:
        from harness.recording_run import write_baseline_provenance

        outcomes = {n: r.outcome for n, r in config.stash.get(RESULTS, {}).items()}
        provenance = write_baseline_provenance(outcomes)
        if reporter:
            reporter.write_line(
                f"provenance written: {provenance.scenarios} scenarios, snapshots digest "
                f"{provenance.snapshots_digest[:12]}, code tree {provenance.code_tree_hash[:12]}"
            )
