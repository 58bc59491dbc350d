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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.baseline_changes import BaselineComparison, compare_with_baseline
from harness.code_identity import code_tree_hash, current_commit
from harness.parity_results import REPORT_DIR, BackendRun, read_results
from harness.provenance import (
    CONTRACT_ROOT,
    PROVENANCE_FILE,
    Provenance,
    digest_problem,
    read_provenance,
    snapshots_digest,
)
from harness.scenario_catalogue import scenario_descriptions

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
    differences: dict[str, list[list[Any]]] = field(default_factory=dict)
    covers: str = ""


@dataclass(slots=True)
class Verdict:
    arq_removed: bool
    problems: list[str] = field(default_factory=list)
    rows: list[ParityRow] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    runs: dict[str, BackendRun] = field(default_factory=dict)
    provenance: Provenance | None = None
    code_tree_hash: str = ""
    commit: str = ""
    judged_at: str = ""
    baseline: BaselineComparison | None = None

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
    verdict = Verdict(
        arq_removed=arq_removed(repo_root),
        provenance=read_provenance(contract_root / PROVENANCE_FILE.name),
        code_tree_hash=code_tree_hash(contract_root.parent),
        commit=current_commit(contract_root.parent),
        judged_at=datetime.now(UTC).isoformat(timespec="seconds"),
        baseline=compare_with_baseline(contract_root),
    )
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
        if run.code_tree_hash != verdict.code_tree_hash:
            verdict.problems.append(
                f"results-{backend}.json came from other code (tree "
                f"{run.code_tree_hash[:12] or 'not recorded'}, commit {run.commit or '?'}) than "
                f"this checkout (tree {verdict.code_tree_hash[:12]}): refused; run the "
                f"{backend} leg again (`make cutover-gate` runs both)"
            )
        runs[backend] = run
        verdict.versions[backend] = run.backend_version
    verdict.runs = runs
    recorded = recorded_scenarios(contract_root)
    descriptions = scenario_descriptions(contract_root)
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
            differences={
                b: outcomes[b][scenario].differences
                for b in BACKENDS
                if scenario in outcomes.get(b, {}) and outcomes[b][scenario].differences
            },
            covers=descriptions.get(scenario, ""),
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


HEADLINE_PASS = "PARITY: streaq matches every arq recording"
HEADLINE_FAIL = "NO PARITY"


def headline(verdict: Verdict) -> str:
    return HEADLINE_PASS if verdict.parity else HEADLINE_FAIL


def facts(verdict: Verdict) -> list[tuple[str, str]]:
    """What a release manager signs besides the verdict: who ran what, on which code."""
    provenance = verdict.provenance
    rows = [
        ("arq", "removed from mus" if verdict.arq_removed else "still a dependency"),
        ("judged", f"{verdict.judged_at} on commit {verdict.commit}"),
        ("code tree", verdict.code_tree_hash[:16]),
    ]
    for name, run in sorted(verdict.runs.items()):
        rows.append(
            (
                f"{name} run",
                f"{name} {run.backend_version} on {run.broker or 'broker not recorded'}, "
                f"finished {run.finished_at or '?'}",
            )
        )
    if provenance is not None:
        rows += [
            (
                "snapshots recorded",
                f"by {provenance.backend} {provenance.backend_version} on {provenance.broker}, "
                f"{provenance.recorded_at}, commit {provenance.commit}",
            ),
            (
                "recording",
                f"{sum(o == 'passed' for o in provenance.recording_results.values())}/"
                f"{len(provenance.recording_results)} scenarios passed while recording; "
                f"code tree {provenance.code_tree_hash[:16]}; snapshots digest "
                f"{provenance.snapshots_digest[:16]}",
            ),
            ("ffmpeg", provenance.ffmpeg),
        ]
    return rows


def baseline_summary(verdict: Verdict) -> tuple[str, list[str], list[str]]:
    """One sentence, then one line per commit that changed recordings, then one per scenario."""
    baseline = verdict.baseline
    if baseline is None:
        return "", [], []
    if baseline.problem is not None:
        return f"Changes since the cutover baseline: not known ({baseline.problem}).", [], []
    if not baseline.changes:
        return f"No recording changed since the cutover baseline ({baseline.ref[:12]}).", [], []
    by_commit: dict[str, int] = {}
    for change in baseline.changes:
        for commit in change.commits:
            by_commit[commit] = by_commit.get(commit, 0) + 1
    sentence = (
        f"{len(baseline.changes)} scenarios re-recorded or added since the cutover baseline "
        f"({baseline.ref[:12]}), by {len(by_commit)} commits:"
    )
    commits = [f"{commit} ({count} scenarios)" for commit, count in by_commit.items()]
    scenarios = [f"{change.scenario} ({change.change})" for change in baseline.changes]
    return sentence, commits, scenarios


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def baseline_markdown(verdict: Verdict) -> list[str]:
    sentence, commits, scenarios = baseline_summary(verdict)
    lines = [sentence, "", *[f"- {commit}" for commit in commits]]
    if scenarios:
        lines += ["", "Scenarios:", "", *[f"- `{scenario}`" for scenario in scenarios]]
    return lines


def markdown(verdict: Verdict) -> str:
    lines = [
        "# mus cutover parity report",
        "",
        f"**{headline(verdict)}**",
        "",
        *[f"- {name}: {value}" for name, value in facts(verdict)],
        "",
        "## Since the cutover baseline",
        "",
        *baseline_markdown(verdict),
        "",
        "## Scenarios",
        "",
        "| scenario | covers | arq recording | arq | streaq |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in verdict.rows:
        lines.append(
            f"| `{row.scenario}` | {row.covers} | {'yes' if row.recorded else '**missing**'} | "
            f"{row.outcomes['arq']} | {row.outcomes['streaq']} |"
        )
    if verdict.problems:
        lines += ["", "## Problems", ""] + [f"- {problem}" for problem in verdict.problems]
    failed = [row for row in verdict.rows if row.differences or row.details]
    if failed:
        lines += ["", "## What differs (field: arq recording -> this backend)", ""]
        for row in failed:
            for backend in BACKENDS:
                differences = row.differences.get(backend)
                if differences:
                    lines += [f"### `{row.scenario}` on {backend}", ""]
                    lines += [f"- `{p}`: {short(a)} -> {short(b)}" for p, a, b in differences]
                    lines.append("")
                elif backend in row.details:
                    lines += [f"### `{row.scenario}` on {backend}", "", "```"]
                    lines += [row.details[backend].strip(), "```", ""]
    return "\n".join(lines) + "\n"


PAGE_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:80em;color:#1f2328}"
    "table{border-collapse:collapse}td,th{padding:.3em .8em;border-bottom:1px solid #d0d7de;"
    "text-align:left;vertical-align:top}"
    ".verdict{font-size:1.6em;font-weight:700;padding:.6em 1em;border-radius:.4em;color:#fff}"
    ".pass{background:#1a7f37}.fail{background:#cf222e}.ok{color:#1a7f37}.bad{color:#cf222e}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em}dt{font-weight:600}"
    "code{font-size:.85em;word-break:break-all}td:first-child{max-width:28em}pre{background:#f6f8fa;padding:1em;overflow:auto}"
)


def html_page(verdict: Verdict) -> str:
    escape = html.escape

    def cell(outcome: str) -> str:
        css = "ok" if outcome == "passed" else "bad"
        return f'<td class="{css}">{escape(outcome)}</td>'

    rows = "\n".join(
        f"<tr><td><code>{escape(row.scenario.removeprefix('scenarios/'))}</code></td>"
        f"<td>{escape(row.covers)}</td>"
        f"<td>{'yes' if row.recorded else '<b>missing</b>'}</td>"
        f"{cell(row.outcomes['arq'])}{cell(row.outcomes['streaq'])}</tr>"
        for row in verdict.rows
    )
    fact_list = "".join(f"<dt>{escape(n)}</dt><dd>{escape(v)}</dd>" for n, v in facts(verdict))
    sentence, commits, scenarios = baseline_summary(verdict)
    baseline_html = (
        f'<p id="baseline">{escape(sentence)}</p>'
        + ("<ul>" + "".join(f"<li>{escape(c)}</li>" for c in commits) + "</ul>" if commits else "")
        + (
            f"<details><summary>the {len(scenarios)} scenarios</summary><ul>"
            + "".join(f"<li><code>{escape(s)}</code></li>" for s in scenarios)
            + "</ul></details>"
            if scenarios
            else ""
        )
    )
    problems = "".join(f"<li>{escape(problem)}</li>" for problem in verdict.problems)
    diffs = ""
    for row in verdict.rows:
        for backend in BACKENDS:
            differences = row.differences.get(backend)
            if differences:
                body = "".join(
                    f"<tr><td><code>{escape(p)}</code></td><td>{escape(short(a))}</td>"
                    f"<td>{escape(short(b))}</td></tr>"
                    for p, a, b in differences
                )
                diffs += (
                    f"<h3><code>{escape(row.scenario)}</code> on {escape(backend)}</h3>"
                    f'<table class="diff"><tr><th>field</th><th>arq recording</th>'
                    f"<th>{escape(backend)}</th></tr>{body}</table>"
                )
            elif backend in row.details:
                diffs += (
                    f"<h3><code>{escape(row.scenario)}</code> on {escape(backend)}</h3>"
                    f"<pre>{escape(row.details[backend])}</pre>"
                )
    css = "pass" if verdict.parity else "fail"
    return (
        '<!doctype html><html lang="en"><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>mus cutover parity: {escape(headline(verdict))}</title>"
        f"<style>{PAGE_STYLE}</style>"
        "<h1>mus cutover parity report</h1>"
        f'<p class="verdict {css}" id="verdict">{escape(headline(verdict))}</p>'
        f'<dl id="facts">{fact_list}</dl>'
        + (f'<h2>Problems</h2><ul id="problems">{problems}</ul>' if problems else "")
        + (f'<h2>What differs</h2><div id="differences">{diffs}</div>' if diffs else "")
        + f"<h2>Since the cutover baseline</h2>{baseline_html}"
        + '<h2>Scenarios</h2><table id="scenarios"><tr><th>scenario</th><th>covers</th>'
        "<th>arq recording</th><th>arq</th><th>streaq</th></tr>"
        f"{rows}</table></html>\n"
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
