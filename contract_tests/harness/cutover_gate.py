"""The cutover gate: arq may leave only when streaq matches every arq recording.

`python -m harness.cutover_gate` (`make cutover-gate`) reads the per-scenario results the
last full run of each backend left in `report/`, writes a parity report (Markdown and a
static HTML page), and fails when arq is gone from `backend/pyproject.toml` (or
`worker.py` is deleted) while any scenario lacks an arq recording, the snapshot digest
does not match the provenance, or the streaq run does not match. `--strict` fails on
those problems even while arq is still there (CI uses it, so parity never drifts).
"""

from __future__ import annotations

import argparse
import html
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from harness.parity_results import REPORT_DIR, BackendRun, read_results
from harness.provenance import CONTRACT_ROOT, PROVENANCE_FILE, digest_problem, snapshots_digest

REPO_ROOT = CONTRACT_ROOT.parent
WORKER_MODULE = Path("backend/src/mus/infrastructure/jobs/worker.py")
BACKENDS = ("arq", "streaq")
SNAPSHOT_NAME = re.compile(r"^# name: (?P<test>\S+)$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class ParityRow:
    """One scenario: each backend's outcome, and the diff where one failed."""

    scenario: str
    recorded: bool
    outcomes: dict[str, str]
    details: dict[str, str]


@dataclass(slots=True)
class Verdict:
    arq_removed: bool
    problems: list[str] = field(default_factory=list)
    rows: list[ParityRow] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def parity(self) -> bool:
        return not self.problems

    def fails(self, strict: bool) -> bool:
        return bool(self.problems) and (self.arq_removed or strict)


def arq_removed(repo_root: Path = REPO_ROOT) -> bool:
    """arq is gone from the backend's dependencies, or its worker module is deleted."""
    project = tomllib.loads((repo_root / "backend" / "pyproject.toml").read_text())
    requirements = project.get("project", {}).get("dependencies", [])
    named = {
        re.split(r"[\s<>=!~\[;]", requirement, maxsplit=1)[0].lower()
        for requirement in requirements
    }
    return "arq" not in named or not (repo_root / WORKER_MODULE).exists()


def recorded_scenarios(contract_root: Path = CONTRACT_ROOT) -> set[str]:
    """Node ids of every scenario the arq baseline has a snapshot for."""
    found: set[str] = set()
    for snapshot in sorted((contract_root / "scenarios" / "__snapshots__").glob("*.ambr")):
        module = f"scenarios/{snapshot.stem}.py"
        found.update(
            f"{module}::{match['test']}" for match in SNAPSHOT_NAME.finditer(snapshot.read_text())
        )
    return found


def evaluate(
    repo_root: Path = REPO_ROOT,
    contract_root: Path = CONTRACT_ROOT,
    report_dir: Path = REPORT_DIR,
) -> Verdict:
    verdict = Verdict(arq_removed=arq_removed(repo_root))
    digest = digest_problem(contract_root, contract_root / PROVENANCE_FILE.name)
    if digest is not None:
        verdict.problems.append(digest)
    current_digest = snapshots_digest(contract_root)
    runs: dict[str, BackendRun] = {}
    for backend in BACKENDS:
        run = read_results(backend, report_dir)
        if run is None:
            verdict.problems.append(
                f"no full {backend} run found ({report_dir}/results-{backend}.json)"
            )
            continue
        if run.snapshots_digest != current_digest:
            verdict.problems.append(
                f"the {backend} run was made against other snapshots; run it again"
            )
        runs[backend] = run
        verdict.versions[backend] = run.backend_version
    recorded = recorded_scenarios(contract_root)
    outcomes = {backend: {r.scenario: r for r in run.results} for backend, run in runs.items()}
    scenarios = sorted(recorded.union(*(set(by_id) for by_id in outcomes.values())))
    for scenario in scenarios:
        row = ParityRow(
            scenario=scenario,
            recorded=scenario in recorded,
            outcomes={
                b: outcomes[b][scenario].outcome if scenario in outcomes.get(b, {}) else "not run"
                for b in BACKENDS
            },
            details={
                b: outcomes[b][scenario].detail
                for b in BACKENDS
                if scenario in outcomes.get(b, {}) and outcomes[b][scenario].detail
            },
        )
        verdict.rows.append(row)
        if not row.recorded:
            verdict.problems.append(f"{scenario} has no arq recording")
        if row.outcomes["arq"] != "passed" and "arq" in runs:
            verdict.problems.append(
                f"{scenario}: the arq baseline does not pass ({row.outcomes['arq']})"
            )
        if row.outcomes["streaq"] != "passed" and "streaq" in runs:
            verdict.problems.append(
                f"{scenario}: streaq does not match the arq recording ({row.outcomes['streaq']})"
            )
    return verdict


def markdown(verdict: Verdict) -> str:
    state = "arq removed" if verdict.arq_removed else "arq still a dependency"
    headline = "PARITY: streaq matches every arq recording" if verdict.parity else "NO PARITY"
    lines = [
        "# mus cutover parity report",
        "",
        f"**{headline}** ({state}).",
        "",
        "Backends: "
        + ", ".join(f"{name} {version}" for name, version in sorted(verdict.versions.items())),
        "",
        "| scenario | arq recording | arq | streaq |",
        "| --- | --- | --- | --- |",
    ]
    for row in verdict.rows:
        lines.append(
            f"| `{row.scenario}` | {'yes' if row.recorded else '**missing**'} | "
            f"{row.outcomes['arq']} | {row.outcomes['streaq']} |"
        )
    if verdict.problems:
        lines += ["", "## Problems", ""] + [f"- {problem}" for problem in verdict.problems]
    diffs = [
        (row.scenario, backend, text)
        for row in verdict.rows
        for backend, text in row.details.items()
    ]
    if diffs:
        lines += ["", "## Diffs (- arq recording, + this backend)", ""]
        for scenario, backend, text in diffs:
            lines += [f"### `{scenario}` on {backend}", "", "```diff", text.strip(), "```", ""]
    return "\n".join(lines) + "\n"


def html_page(verdict: Verdict) -> str:
    def cell(outcome: str) -> str:
        colour = "#1a7f37" if outcome == "passed" else "#cf222e"
        return f'<td style="color:{colour}">{html.escape(outcome)}</td>'

    rows = "\n".join(
        f"<tr><td><code>{html.escape(row.scenario)}</code></td>"
        f"<td>{'yes' if row.recorded else '<b>missing</b>'}</td>"
        f"{cell(row.outcomes['arq'])}{cell(row.outcomes['streaq'])}</tr>"
        for row in verdict.rows
    )
    problems = "".join(f"<li>{html.escape(problem)}</li>" for problem in verdict.problems)
    diffs = "".join(
        f"<h3><code>{html.escape(row.scenario)}</code> on {html.escape(backend)}</h3>"
        f"<pre>{html.escape(text)}</pre>"
        for row in verdict.rows
        for backend, text in row.details.items()
    )
    headline = "PARITY: streaq matches every arq recording" if verdict.parity else "NO PARITY"
    return (
        "<!doctype html><html lang=en><meta charset=utf-8><title>mus cutover parity</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:.2em .8em;"
        "border-bottom:1px solid #ddd}pre{background:#f6f8fa;padding:1em;overflow:auto}</style>"
        f"<h1>mus cutover parity report</h1><p><b>{headline}</b> "
        f"({'arq removed' if verdict.arq_removed else 'arq still a dependency'})</p>"
        "<table><tr><th>scenario</th><th>arq recording</th><th>arq</th><th>streaq</th></tr>"
        f"{rows}</table>"
        + (f"<h2>Problems</h2><ul>{problems}</ul>" if problems else "")
        + (f"<h2>Diffs (- arq recording, + this backend)</h2>{diffs}" if diffs else "")
        + "</html>\n"
    )


def write_report(verdict: Verdict, report_dir: Path = REPORT_DIR) -> tuple[Path, Path]:
    report_dir.mkdir(parents=True, exist_ok=True)
    md_path, html_path = report_dir / "parity.md", report_dir / "parity.html"
    md_path.write_text(markdown(verdict))
    html_path.write_text(html_page(verdict))
    return md_path, html_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--strict", action="store_true", help="fail on any parity problem")
    parser.add_argument(
        "--repo-root", type=Path, default=REPO_ROOT, help="repository state to judge"
    )
    parser.add_argument(
        "--report-dir", type=Path, default=REPORT_DIR, help="results-*.json in, parity.* out"
    )
    args = parser.parse_args(argv)
    verdict = evaluate(args.repo_root, CONTRACT_ROOT, args.report_dir)
    md_path, html_path = write_report(verdict, args.report_dir)
    for problem in verdict.problems:
        print(f"cutover gate: {problem}")
    matched = sum(1 for row in verdict.rows if row.outcomes["streaq"] == "passed")
    print(
        f"cutover gate: {matched}/{len(verdict.rows)} scenarios match on streaq; "
        f"report: {md_path} and {html_path}"
    )
    if verdict.fails(args.strict):
        reason = "arq is removed" if verdict.arq_removed else "--strict"
        print(f"cutover gate: FAILED ({reason} and parity is not proven)")
        return 1
    print("cutover gate: passed" if verdict.parity else "cutover gate: not ready (arq stays)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
