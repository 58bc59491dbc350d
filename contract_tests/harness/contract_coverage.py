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


def static_enqueue_sites(package_root: Path = PACKAGE_ROOT) -> set[str]:
    """`module:qualname` of every function in `mus` that calls `<something>.enqueue(...)`.

    An `enqueue` method calling another (the api's StreaqConnection handing over to its
    StreaqJobQueue) is the port itself, not a place where the app decides to queue a job.
    """
    sites: set[str] = set()
    for path in sorted(package_root.rglob("*.py")):
        module = "mus." + ".".join(path.relative_to(package_root).with_suffix("").parts)
        module = module.removesuffix(".__init__")
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
            and isinstance(child.func, ast.Attribute)
            and child.func.attr == "enqueue"
            and scope
            and scope[-1] != "enqueue"  # a port delegating to its backend, not a caller
        ):
            sites.add(f"{module}:{'.'.join(scope)}")
        _collect(child, module, scope, sites)


class EnqueueSiteRecorder:
    """Wraps a JobQueue class's `enqueue` to note which function called it (observing only)."""

    def __init__(self) -> None:
        self.sites: set[str] = set()

    def wrap(self, enqueue: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(enqueue)
        async def recording_enqueue(port: Any, *args: Any, **kwargs: Any) -> Any:
            # The nearest caller in `mus` (an adapter may wrap the port too).
            caller: FrameType | None = sys._getframe(1)
            while caller is not None and not caller.f_globals.get("__name__", "").startswith(
                "mus."
            ):
                caller = caller.f_back
            if caller is not None:
                module = caller.f_globals["__name__"]
                self.sites.add(f"{module}:{caller.f_code.co_qualname}")
            return await enqueue(port, *args, **kwargs)

        return recording_enqueue


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
