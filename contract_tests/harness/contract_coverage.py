"""The suite checks its own reach: every registered job ran, every enqueue call site was hit."""

from __future__ import annotations

import ast
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import mus
from mus.jobs.registry import JOBS

PACKAGE_ROOT = Path(mus.__file__).resolve().parent
# Where a job decided elsewhere passes through on its way to the broker: the outbox and its
# relay. Their calls are transport, not places where the app decides to queue a job.
FUNNEL_MODULES = frozenset(
    {"mus.application.job_outbox", "mus.adapters.persistence.outbox_repository"}
)


def static_enqueue_sites(package_root: Path = PACKAGE_ROOT) -> set[str]:
    """`module:qualname` of every function in `mus` that queues a job: it calls
    `<something>.enqueue(...)` or keeps one in the outbox with `keep_job(...)`.

    An `enqueue` method calling another (the api's StreaqConnection handing over to its
    StreaqJobQueue) is the port itself, and the outbox's relay is transport: neither is a
    place where the app decides to queue a job.
    """
    sites: set[str] = set()
    for path in sorted(package_root.rglob("*.py")):
        module = "mus." + ".".join(path.relative_to(package_root).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        if module in FUNNEL_MODULES:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        _collect(tree, module, [], sites)
    return sites


def _collect(node: ast.AST, module: str, scope: list[str], sites: set[str]) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            _collect(child, module, [*scope, child.name], sites)
            continue
        if (
            isinstance(child, ast.Call)
            and _called_name(child.func) in {"enqueue", "keep_job"}
            and scope
            and scope[-1] != "enqueue"  # a port delegating to its backend, not a caller
        ):
            sites.add(f"{module}:{'.'.join(scope)}")
        _collect(child, module, scope, sites)


def _called_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


class EnqueueSiteRecorder:
    """Wraps a JobQueue class's `enqueue` (and the outbox's `add`) to note which function
    queued the job (observing only)."""

    def __init__(self) -> None:
        self.sites: set[str] = set()

    def wrap(self, enqueue: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(enqueue)
        async def recording_enqueue(port: Any, *args: Any, **kwargs: Any) -> Any:
            # The nearest caller in `mus` (an adapter may wrap the port too), past the outbox.
            caller: FrameType | None = sys._getframe(1)
            while caller is not None and (
                not caller.f_globals.get("__name__", "").startswith("mus.")
                or caller.f_globals["__name__"] in FUNNEL_MODULES
            ):
                caller = caller.f_back
            if caller is not None:
                module = caller.f_globals["__name__"]
                self.sites.add(f"{module}:{enclosing_function(caller.f_code.co_qualname)}")
            return await enqueue(port, *args, **kwargs)

        return recording_enqueue


COMPREHENSION_SCOPES = ("<listcomp>", "<setcomp>", "<dictcomp>", "<genexpr>")


def enclosing_function(qualname: str) -> str:
    """A call inside a comprehension (its own frame on Python 3.11) belongs to the function
    that holds it, as the static scan (`_collect`) sees it: `f.<locals>.<listcomp>` -> `f`."""
    parts = qualname.split(".")
    while len(parts) > 2 and parts[-1] in COMPREHENSION_SCOPES and parts[-2] == "<locals>":
        parts = parts[:-2]
    return ".".join(parts)


def coverage_problems(executed_tasks: set[str], hit_sites: set[str]) -> list[str]:
    """Sentences naming each job and each enqueue site no scenario reached."""
    problems = [
        f"job {name!r} is registered but no scenario ran it"
        for name in sorted(set(JOBS) - executed_tasks)
    ]
    problems += [
        f"enqueue call site {site} is reached by no scenario"
        for site in sorted(static_enqueue_sites() - hit_sites)
    ]
    return problems
