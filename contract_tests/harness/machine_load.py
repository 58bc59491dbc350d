"""Load a machine as a busy CI runner would: K processes spinning on the CPU and, as a second
mode, the backend's own test suite (`make test`) running over and over beside the work.

`python -m harness.machine_load --busy 2 [--make-test] -- COMMAND ...` runs COMMAND under
that load and exits with its status (CI's determinism job uses it).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from harness.provenance import CONTRACT_ROOT

REPO_ROOT = CONTRACT_ROOT.parent
SPIN = "while True:\n    pass\n"
# `make test` again and again until stopped, its output kept apart.
MAKE_TEST_LOOP = 'while true; do make test >> "$0" 2>&1 || echo "make test exited $?" >> "$0"; done'


def _start(argv: list[str], log: Path | None = None) -> subprocess.Popen[bytes]:
    output = log.open("ab") if log is not None else subprocess.DEVNULL
    try:
        return subprocess.Popen(
            argv,
            cwd=REPO_ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # stopped with its whole group
        )
    finally:
        if log is not None and not isinstance(output, int):
            output.close()


@contextlib.contextmanager
def machine_load(busy: int, make_test_log: Path | None = None) -> Iterator[list[int]]:
    """`busy` CPU spinners, and `make test` in a loop when a log is given; all stopped after."""
    processes = [_start([sys.executable, "-c", SPIN]) for _ in range(busy)]
    if make_test_log is not None:
        make_test_log.parent.mkdir(parents=True, exist_ok=True)
        processes.append(_start(["bash", "-c", MAKE_TEST_LOOP, str(make_test_log)]))
    try:
        yield [process.pid for process in processes]
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--busy", type=int, default=2, help="CPU spinners (default 2)")
    parser.add_argument(
        "--make-test", type=Path, default=None, metavar="LOG", help="also `make test` in a loop"
    )
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run under load after --")
    with machine_load(args.busy, args.make_test):
        print(f"machine_load: {args.busy} busy, running {' '.join(command)}", flush=True)
        return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
