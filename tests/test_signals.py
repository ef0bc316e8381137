"""Clean edges (issue 25 item 4): every long-running process (witness, agent, lab) stops on SIGTERM and
SIGINT with exit 0 and no traceback; `quorum --version`; `quorum check --expect violated`. Real
processes on 127.0.0.1; each test stops by itself (bounded waits)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from quorum.live.lab import TOLERANT_TIMINGS, Lab

CLI = [sys.executable, "-m", "quorum.cli"]


def _stop(p: subprocess.Popen[bytes], sig: int) -> int:
    p.send_signal(sig)
    try:
        return p.wait(20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(5)
        raise AssertionError(f"still running 20 s after signal {sig}") from None


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_witness_and_agents_stop_cleanly(tmp_path: Path, sig: int) -> None:
    """A lab's witness and both agents, each stopped by the signal: exit 0, no 'Traceback' in its log."""
    lab = Lab(tmp_path / "lab", quorum=TOLERANT_TIMINGS)
    try:
        lab.start(timeout=60)
        for name in ("A", "B", "W"):
            assert _stop(lab.procs[name], sig) == 0, (lab.dir / f"{name}.log").read_text()
    finally:
        lab.cleanup()
    for name in ("A", "B", "W"):
        log = (lab.dir / f"{name}.log").read_text()
        assert "Traceback" not in log and "CancelledError" not in log, f"{name}:\n{log[-3000:]}"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_lab_stops_cleanly(tmp_path: Path, sig: int) -> None:
    """`quorum lab` stopped while its pair starts: one line, exit 0, no traceback."""
    p = subprocess.Popen(
        [*CLI, "lab", "--fault", "kill-serving", "--workdir", str(tmp_path / "lab")],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # signalled once the lab has begun (it writes its directory after its handlers are installed)
    deadline = time.monotonic() + 60
    while not any(tmp_path.iterdir()) and time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.1)
    time.sleep(1)
    code = _stop(p, sig)
    out, err = p.communicate(timeout=10)
    text = err.decode() + out.decode()
    assert code == 0, text
    assert "Traceback" not in text, text


def test_version_from_package_metadata() -> None:
    from importlib.metadata import version

    r = subprocess.run([sys.executable, "-m", "quorum.cli", "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == f"quorum {version('quorum')}"


def test_check_expect_violated_exits_0_on_the_unsafe_baseline() -> None:
    """make demo's second half: both-continue's counterexample is the expected outcome (exit 0), and a
    safe policy under --expect violated exits 1."""
    from quorum.cli import main

    args = ["check", "--schedules", "50", "--seed", "1", "--quiet", "--expect", "violated"]
    assert main([*args, "--policy", "both-continue"]) == 0
    assert main([*args, "--policy", "witness-preferred"]) == 1


def test_bad_scheduler_address_is_one_line_and_nothing_after() -> None:
    """`--scheduler notanaddress`: the one-line error, exit 2, and no Client.__del__ traceback after it."""
    r = subprocess.run(
        [
            *CLI,
            "sim",
            "compare",
            "scenarios/tiers-mixed.yaml",
            "--executor",
            "dask",
            "--scheduler",
            "notanaddress",
            "--max-years",
            "5",
        ],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        timeout=60,
    )
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        "quorum: error: cannot reach the Dask scheduler at 'notanaddress': missing port number in address"
        " 'notanaddress'"
    ]
