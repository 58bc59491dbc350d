"""`make contract-soak RUNS=N LOAD=K`: both legs N times on a loaded machine, then the gate.

Each run starts the arq leg and the streaq leg side by side (as `make contract-legs` does),
each on a Redis database of its own, while K processes spin on the CPU (and, with
`--make-test`, the backend's tests run over and over beside them). Every run keeps its
per-scenario results and logs in `report/soak/run-<i>/`, and the cutover gate judges each run.
The report (`report/soak/soak.md`, also printed) counts per scenario the runs that matched on
each backend and lists every differing field with the runs it differed in: on every run a
regression, on some a race. Any difference, or any gate that failed, fails the soak: nothing
is retried.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from harness.machine_load import REPO_ROOT, machine_load
from harness.parity_results import REPORT_DIR_ENV, BackendRun, read_results
from harness.provenance import CONTRACT_ROOT
from harness.soak_verdict import BACKENDS, judge, render

SOAK_DIR = CONTRACT_ROOT / "report" / "soak"


def leg(backend: str, redis_url: str, run_dir: Path) -> subprocess.Popen[bytes]:
    """One full leg (every scenario) as `make contract` runs it, its results in `run_dir`."""
    log = (run_dir / f"{backend}.log").open("wb")
    try:
        return subprocess.Popen(
            ["make", "contract", f"QUEUE_BACKEND={backend}", "CONTRACT_PATHS=scenarios"],
            cwd=REPO_ROOT,
            env={
                **os.environ,
                "MUS_CONTRACT_REDIS_URL": redis_url,
                REPORT_DIR_ENV: str(run_dir),
            },
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    finally:
        log.close()


GATE = (sys.executable, "-m", "harness.cutover_gate", "--strict", "--report-dir")


def gate(run_dir: Path) -> int:
    """The cutover gate (--strict) on one run's results; its parity report stays beside them."""
    with (run_dir / "gate.log").open("wb") as log:
        return subprocess.run(
            [*GATE, str(run_dir)],
            cwd=CONTRACT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        ).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--load", type=int, default=2, help="busy processes beside the legs")
    parser.add_argument("--make-test", action="store_true", help="also `make test` beside them")
    parser.add_argument("--arq-redis-url", required=True)
    parser.add_argument("--streaq-redis-url", required=True)
    parser.add_argument("--out", type=Path, default=SOAK_DIR)
    args = parser.parse_args(argv)
    if args.arq_redis_url == args.streaq_redis_url:
        parser.error("the legs run at once: give them two Redis databases")
    urls = {"arq": args.arq_redis_url, "streaq": args.streaq_redis_url}
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    results: dict[int, dict[str, BackendRun | None]] = {}
    exits: dict[int, dict[str, int]] = {}
    gates: dict[int, int] = {}
    make_test_log = out / "make-test.log" if args.make_test else None
    mode = f"{args.load} busy process(es)" + (" and make test" if args.make_test else "")
    print(f"contract soak: {args.runs} run(s) of both legs beside {mode}", flush=True)
    with machine_load(args.load, make_test_log):
        for index in range(1, args.runs + 1):
            run_dir = out / f"run-{index}"
            run_dir.mkdir(parents=True, exist_ok=True)
            for stale in run_dir.glob("results-*.json"):
                stale.unlink()
            run_started = time.monotonic()
            legs = {backend: leg(backend, urls[backend], run_dir) for backend in BACKENDS}
            exits[index] = {backend: process.wait() for backend, process in legs.items()}
            results[index] = {backend: read_results(backend, run_dir) for backend in BACKENDS}
            gates[index] = gate(run_dir)
            print(
                f"run {index}/{args.runs}: arq exit {exits[index]['arq']}, streaq exit "
                f"{exits[index]['streaq']}, gate exit {gates[index]} "
                f"({time.monotonic() - run_started:.0f}s; logs in {run_dir})",
                flush=True,
            )
    verdict = judge(results, exits)
    for index, status in sorted(gates.items()):
        if status != 0:
            verdict.problems.append(
                f"run {index}: the cutover gate failed (exit {status}; {out}/run-{index}/gate.log)"
            )
    report = render(verdict) + f"wall time: {time.monotonic() - started:.0f}s, {mode}\n"
    (out / "soak.md").write_text(report)
    print(report, end="")
    return 0 if verdict.passed else 1


if __name__ == "__main__":
    sys.exit(main())
