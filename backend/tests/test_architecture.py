"""The layout is the architecture: imports run one way, top to bottom (ARCHITECTURE.md).

Every `mus` module sits on one floor, read from its folder; a module may import its own floor
or any floor below, never one above, `core/` included and with no exception list. The outer
adapters (api, watcher, jobs, web, and adapters/queue, the job-queue port on streaq) are
independent of each other: the entry points wire them. Only `core/streaq_broker.py` and
`adapters/queue/` name the queue backend, and nothing in `mus` imports arq, the baseline that
lives on in `contract_tests/` alone.
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import mus

PACKAGE_ROOT = Path(mus.__file__).resolve().parent

# Top to bottom. A module belongs to the first floor with a prefix it starts with.
FLOORS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("entry points", ("mus.main", "mus.cli", "mus.worker", "mus.local_stack")),
    (
        "outer adapters",
        ("mus.api", "mus.watcher", "mus.jobs", "mus.web", "mus.adapters.queue"),
    ),
    ("application", ("mus.application",)),
    ("driven adapters", ("mus.adapters", "mus.demo")),
    ("domain", ("mus.domain",)),
    ("core", ("mus.core", "mus")),
)
INDEPENDENT_FLOORS = {"outer adapters"}
QUEUE_BACKENDS = ("streaq", "arq", "coredis")
# The only modules that may name the queue backend: the broker, and the port's adapter.
QUEUE_BACKEND_ROOMS = ("mus.core.streaq_broker", "mus.adapters.queue")


@dataclass(frozen=True, slots=True)
class Import:
    """One `import` statement of a module: where it is and what it names."""

    module: str
    line: int
    target: str


def _matches(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def floor_of(module: str) -> tuple[int, str, str]:
    """(depth, floor name, the prefix that placed it): depth 0 is the top floor."""
    for depth, (name, prefixes) in enumerate(FLOORS):
        for prefix in prefixes:
            if prefix != "mus" and _matches(module, prefix):
                return depth, name, prefix
    if module == "mus":
        return len(FLOORS) - 1, FLOORS[-1][0], "mus"
    raise AssertionError(f"{module} is on no floor: add it to FLOORS and to ARCHITECTURE.md")


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts).removesuffix(".__init__")


def imports_of(root: Path) -> Iterator[Import]:
    """Every import in the package, including those inside functions and TYPE_CHECKING."""
    for path in sorted(root.rglob("*.py")):
        module = module_name(path, root)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Import(module, node.lineno, alias.name)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                # `from mus.jobs import registry` names a submodule, `from mus.jobs.registry
                # import JOBS` a name in one: each resolves to the longest module that exists.
                for alias in node.names:
                    yield Import(module, node.lineno, f"{base}.{alias.name}")


def _mus_target(target: str, root: Path) -> str | None:
    """The `mus` module an import names (a name imported from a module counts as that module)."""
    if not _matches(target, "mus"):
        return None
    parts = target.split(".")
    while len(parts) > 1:
        candidate = root.parent.joinpath(*parts)
        if candidate.with_suffix(".py").is_file() or (candidate / "__init__.py").is_file():
            return ".".join(parts)
        parts.pop()
    return "mus"


def upward_imports(root: Path = PACKAGE_ROOT) -> list[str]:
    """One sentence per import that runs back up, or across independent outer adapters."""
    problems: set[str] = set()
    for found in imports_of(root):
        target = _mus_target(found.target, root)
        if target is None or target == found.module:
            continue
        depth, floor, prefix = floor_of(found.module)
        target_depth, target_floor, target_prefix = floor_of(target)
        where = f"{found.module}:{found.line} imports {target}"
        if target_depth < depth:
            problems.add(f"{where}: {floor} may not import {target_floor} (above it)")
        elif floor in INDEPENDENT_FLOORS and target_floor == floor and prefix != target_prefix:
            problems.add(f"{where}: {prefix} and {target_prefix} are independent {floor}")
    return sorted(problems)


def backend_names_outside_their_rooms(root: Path = PACKAGE_ROOT) -> list[str]:
    """Imports of a queue backend's package, or its name in code, outside the broker
    (`core/streaq_broker.py`) and the port's adapter (`adapters/queue/`)."""
    problems: list[str] = []
    for path in sorted(root.rglob("*.py")):
        module = module_name(path, root)
        if any(_matches(module, room) for room in QUEUE_BACKEND_ROOMS):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
            ):
                names = node.value.replace("-", " ").split()
            for name in names:
                if name.split(".")[0] in QUEUE_BACKENDS:
                    problems.append(f"{module}:{getattr(node, 'lineno', '?')} names {name!r}")
    return problems


def test_imports_run_one_way_top_to_bottom() -> None:
    assert upward_imports() == []


def test_only_the_broker_and_the_queue_adapter_name_the_backend_and_nothing_imports_arq() -> None:
    assert backend_names_outside_their_rooms() == []
    arq_imports = [
        f"{found.module}:{found.line}"
        for found in imports_of(PACKAGE_ROOT)
        if found.target.split(".")[0] == "arq"
    ]
    assert arq_imports == []


def test_the_product_environment_has_no_arq() -> None:
    """arq is the contract baseline's test-only dependency: mus must run where it is absent."""
    assert importlib.util.find_spec("arq") is None, (
        "arq is installed in mus's own environment; it belongs to the contract environment "
        "only (`make setup` re-syncs backend/.venv from the lock and removes it)"
    )


def test_every_module_is_on_a_floor() -> None:
    for path in PACKAGE_ROOT.rglob("*.py"):
        floor_of(module_name(path, PACKAGE_ROOT))


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        (
            "domain/track.py",
            "from mus.api.schemas import TrackOut\n",
            "mus.domain.track:1 imports mus.api.schemas: domain may not import outer "
            "adapters (above it)",
        ),
        (
            "application/scan.py",
            "def late():\n    from mus.jobs import registry\n",
            "mus.application.scan:2 imports mus.jobs.registry: application may not import "
            "outer adapters (above it)",
        ),
        (
            "api/routes/tracks.py",
            "from mus.watcher.change_mapper import ChangeKind\n",
            "mus.api.routes.tracks:1 imports mus.watcher.change_mapper: mus.api and mus.watcher "
            "are independent outer adapters",
        ),
        (
            "adapters/persistence/database.py",
            "from ...application import job_queue\n",
            "mus.adapters.persistence.database:1 imports mus.application.job_queue: driven "
            "adapters may not import application (above it)",
        ),
        # core/ is the ground floor, its broker included: what ran back up before issue 24.
        (
            "core/streaq_broker.py",
            "from mus.jobs.registry import JOBS\n",
            "mus.core.streaq_broker:1 imports mus.jobs.registry: core may not import outer "
            "adapters (above it)",
        ),
        (
            "core/config.py",
            "from mus.application.job_queue import JobQueue\n",
            "mus.core.config:1 imports mus.application.job_queue: core may not import "
            "application (above it)",
        ),
        (
            "core/streaq_broker.py",
            "from mus import worker\n",
            "mus.core.streaq_broker:1 imports mus.worker: core may not import entry points "
            "(above it)",
        ),
        (
            "adapters/queue/streaq_job_queue.py",
            "from mus.api.schemas import TrackOut\n",
            "mus.adapters.queue.streaq_job_queue:1 imports mus.api.schemas: "
            "mus.adapters.queue and mus.api are independent outer adapters",
        ),
    ],
)
def test_a_planted_back_up_import_is_named(
    tmp_path: Path, module: str, source: str, expected: str
) -> None:
    """The checker on a copy of the layout with one bad import planted in it."""
    root = tmp_path / "mus"
    for package in [
        "api/routes",
        "watcher",
        "jobs",
        "application",
        "domain",
        "adapters/persistence",
        "adapters/queue",
        "core",
    ]:
        for level in range(1, len(package.split("/")) + 1):
            folder = root.joinpath(*package.split("/")[:level])
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "__init__.py").touch()
    (root / "__init__.py").touch()
    for name in [
        "api/schemas.py",
        "jobs/registry.py",
        "watcher/change_mapper.py",
        "application/job_queue.py",
        "worker.py",
    ]:
        (root / name).write_text("")
    (root / module).write_text(source)
    assert upward_imports(root) == [expected]


def test_a_backend_named_outside_its_rooms_is_found(tmp_path: Path) -> None:
    """Elsewhere in core/ or in the worker's entry is outside too; the two rooms are not."""
    root = tmp_path / "mus"
    for package in ["api", "core", "adapters/queue"]:
        (root / package).mkdir(parents=True)
        (root / package / "__init__.py").touch()
    (root / "__init__.py").touch()
    (root / "api" / "__init__.py").write_text('"""The api; streaq in a docstring is fine."""\n')
    (root / "api" / "run.py").write_text("import streaq\nCOMMAND = ['-m', 'arq', 'run']\n")
    (root / "core" / "config.py").write_text("from coredis import Redis\n")
    (root / "worker.py").write_text("from streaq.types import StreaqRetry\n")
    (root / "core" / "streaq_broker.py").write_text("from streaq import Worker\n")
    (root / "adapters" / "queue" / "job_queue.py").write_text("import streaq\n")
    assert backend_names_outside_their_rooms(root) == [
        "mus.api.run:1 names 'streaq'",
        "mus.api.run:2 names 'arq'",
        "mus.core.config:1 names 'coredis'",
        "mus.worker:1 names 'streaq.types'",
    ]
