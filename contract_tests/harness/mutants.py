"""`make contract-mutants`: realistic mistakes, one at a time in a copy; the suite must catch each.

Each mutation is a text replacement in mus or in the harness (the streaq adapter is part of
what the proof relies on), applied to a temporary copy of the repository. The scenarios that
should notice run on the streaq leg there; a mutation is caught when at least one of them
fails its comparison with the arq recording. Before any mutation the same scenarios run
unmutated and must pass, so a catch is the mutation's doing. Exit 1 if any mutation survives.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from harness.mutation_list import MUTATIONS, Mutation
from harness.parity_results import REPORT_DIR
from harness.provenance import CONTRACT_ROOT

REPO_ROOT = CONTRACT_ROOT.parent
FAILED = re.compile(r"^FAILED (?P<test>scenarios/\S+::test_scenario\[(?P<name>[^\]]+)\])", re.M)
RUN_SECONDS = 600


@dataclass(frozen=True, slots=True)
class Verdict:
    mutation: Mutation
    caught_by: list[str]
    seconds: float
    output: str

    @property
    def caught(self) -> bool:
        return bool(self.caught_by)


def copy_repository(target: Path) -> None:
    """The product package and the contract suite: what a contract run imports and reads."""
    shutil.copytree(
        REPO_ROOT / "backend" / "src",
        target / "backend" / "src",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copytree(
        CONTRACT_ROOT,
        target / "contract_tests",
        ignore=shutil.ignore_patterns("__pycache__", "report"),
    )


def apply(mutation: Mutation, root: Path) -> None:
    path = root / mutation.path
    text = path.read_text()
    count = text.count(mutation.old)
    if count != 1:
        raise SystemExit(
            f"contract-mutants: mutation {mutation.name!r} no longer applies: its text is found "
            f"{count} times in {mutation.path} (expected once); update harness/mutation_list.py"
        )
    path.write_text(text.replace(mutation.old, mutation.new))


def run_scenarios(root: Path, scenarios: tuple[str, ...], report_dir: Path) -> tuple[int, str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(root / "backend" / "src"), str(root / "contract_tests")]
        ),
        "MUS_CONTRACT_REPORT_DIR": str(report_dir),
    }
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "--queue-backend=streaq", "-q", "-p", "no:warnings",
         "-o", "verbosity_assertions=0", *scenarios],
        cwd=root / "contract_tests", env=env, capture_output=True, text=True,
        timeout=RUN_SECONDS, check=False,
    )  # fmt: skip
    return completed.returncode, completed.stdout + completed.stderr


def judge(mutation: Mutation, workdir: Path) -> Verdict:
    root = workdir / mutation.name
    copy_repository(root)
    apply(mutation, root)
    started = time.monotonic()
    status, output = run_scenarios(root, mutation.scenarios, workdir / f"{mutation.name}-report")
    caught = sorted({m["name"] for m in FAILED.finditer(output)}) if status == 1 else []
    return Verdict(mutation, caught, time.monotonic() - started, output)


def table(verdicts: list[Verdict]) -> str:
    lines = [
        "| mutation | what it breaks | caught by | seconds |",
        "| --- | --- | --- | --- |",
    ]
    for verdict in verdicts:
        caught = ", ".join(f"`{name}`" for name in verdict.caught_by) or "**SURVIVED**"
        lines.append(
            f"| `{verdict.mutation.name}` | {verdict.mutation.what} | {caught} | "
            f"{verdict.seconds:.0f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", action="append", default=[], help="run these mutations only")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTATIONS if not args.only or m.name in args.only]
    with tempfile.TemporaryDirectory(prefix="mus-mutants-") as folder:
        workdir = Path(folder)
        control = workdir / "control"
        copy_repository(control)
        selections = tuple(sorted({s for m in chosen for s in m.scenarios}))
        status, output = run_scenarios(control, selections, workdir / "control-report")
        if status != 0:
            print(output)
            print("contract-mutants: the unmutated scenarios fail; fix that first")
            return 1
        verdicts = []
        for mutation in chosen:
            verdict = judge(mutation, workdir)
            state = "caught by " + ", ".join(verdict.caught_by) if verdict.caught else "SURVIVED"
            print(f"contract-mutants: {mutation.name}: {state} ({verdict.seconds:.0f}s)")
            if not verdict.caught:
                print(verdict.output[-3000:])
            verdicts.append(verdict)
    report = table(verdicts)
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / "mutants.md").write_text("# contract-mutants\n\n" + report)
    print(report)
    survived = [v.mutation.name for v in verdicts if not v.caught]
    if survived:
        print(f"contract-mutants: FAILED, not caught: {', '.join(survived)}")
        return 1
    print(f"contract-mutants: all {len(verdicts)} mutations caught")
    return 0


if __name__ == "__main__":
    sys.exit(main())
