"""tools/run-together.sh: every command's log printed whole, in order, and failures named."""

from __future__ import annotations

import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[3] / "tools" / "run-together.sh"


def run_together(tmp_path: Path, *specs: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), str(tmp_path / "logs"), *specs],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_outputs_stay_whole_and_in_the_order_given(tmp_path: Path) -> None:
    # The first command finishes last: its lines still come first, not interleaved.
    done = run_together(
        tmp_path,
        "slow=echo slow-1; sleep 0.5; echo slow-2",
        "quick=echo quick-1; echo quick-2",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith(("slow-", "quick-"))]
    assert lines == ["slow-1", "slow-2", "quick-1", "quick-2"]
    assert (tmp_path / "logs" / "quick.log").read_text() == "quick-1\nquick-2\n"


def test_they_run_at_the_same_time(tmp_path: Path) -> None:
    # Each waits for the other's file: run one after the other, both would time out.
    def waits_for(other: str) -> str:
        return f"timeout 10 bash -c 'until [ -e {tmp_path}/{other} ]; do sleep 0.05; done'"

    done = run_together(
        tmp_path,
        f"a=touch {tmp_path}/a; {waits_for('b')}",
        f"b=touch {tmp_path}/b; {waits_for('a')}",
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_failure_fails_the_whole_and_is_named_after_all_finished(tmp_path: Path) -> None:
    done = run_together(tmp_path, "broken=echo oops; exit 3", "fine=sleep 0.3; echo fine-done")
    assert done.returncode == 1
    assert "================ broken (exit 3) ================" in done.stdout
    assert "fine-done" in done.stdout
    assert done.stderr.strip() == "run-together: failed: broken"
