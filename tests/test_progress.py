"""Long runs show one progress bar (tqdm) on a terminal and print nothing to stderr when piped."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
QUORUM = [sys.executable, "-c", "import sys; from quorum.cli import main; sys.exit(main())"]
RUNS = [
    ["check", "--policy", "witness-preferred", "--schedules", "60", "--seed", "1"],
    ["sim", "run", "scenarios/rare-overlap.yaml", "--years", "3", "--seed", "1"],
    ["sim", "availability", "scenarios/two-of-three.yaml", "--max-years", "40", "--workers", "1"],
]


@pytest.mark.parametrize("argv", RUNS, ids=lambda a: " ".join(a[:2]))
def test_piped_runs_print_nothing_on_stderr(argv: list[str]) -> None:
    """Piped (as in CI or a script), a long run writes no bar: stderr stays empty."""
    p = subprocess.run([*QUORUM, *argv], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert p.returncode in (0, 1), p.stderr
    assert p.stderr == ""


@pytest.mark.parametrize("argv", RUNS, ids=lambda a: " ".join(a[:2]))
def test_a_terminal_sees_a_bar(argv: list[str]) -> None:
    """On a terminal (a pseudo-terminal here) stderr carries tqdm's bar (its '|' gauge or 'it/s'-style
    rate), and stdout still gets the result."""
    master, slave = pty.openpty()
    try:
        p = subprocess.run(
            [*QUORUM, *argv], stdout=subprocess.PIPE, stderr=slave, cwd=ROOT, timeout=300,
            env={**os.environ, "COLUMNS": "100"},
        )  # fmt: skip
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    err = b"".join(chunks).decode(errors="replace")
    assert p.returncode in (0, 1)
    assert p.stdout
    assert "\r" in err and ("/s" in err or "|" in err), err[:300]
