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
ENGINE = ["--max-years", "2", "--precision", "0.5", "--workers", "1", "--out", "{tmp}"]
RUNS = [
    ["check", "--policy", "witness-preferred", "--schedules", "60", "--seed", "1"],
    ["sim", "run", "scenarios/rare-overlap.yaml", "--years", "3", "--seed", "1"],
    ["sim", "availability", "scenarios/two-of-three.yaml", "--max-years", "40", "--workers", "1"],
    ["sim", "compare", "scenarios/two-of-three.yaml", "--designs", "single-site,no-witness", *ENGINE],
    ["sim", "sweep", "scenarios/two-of-three.yaml", "--vary", "quorum.heartbeat_interval=0.5,1", *ENGINE],
    ["figures", "{tmp}/tiny.ipynb"],  # notebooks/run.py, what `make figures` runs
]


def _command(argv: list[str], tmp: Path) -> list[str]:
    """The command line of a run: ``quorum ...``, or notebooks/run.py on a two-cell notebook in ``tmp``."""
    argv = [a.replace("{tmp}", str(tmp)) for a in argv]
    if argv[0] != "figures":
        return [*QUORUM, *argv]
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import time\ntime.sleep(0.5)"), nbformat.v4.new_code_cell("1")]
    nbformat.write(nb, argv[1])
    return [sys.executable, str(ROOT / "notebooks" / "run.py"), argv[1]]


@pytest.mark.parametrize("argv", RUNS, ids=lambda a: " ".join(a[:2]))
def test_piped_runs_print_nothing_on_stderr(argv: list[str], tmp_path: Path) -> None:
    """Piped (as in CI or a script), a long run writes no bar: stderr stays empty."""
    p = subprocess.run(_command(argv, tmp_path), capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert p.returncode in (0, 1), p.stderr
    assert p.stdout and p.stderr == ""


@pytest.mark.parametrize("argv", RUNS, ids=lambda a: " ".join(a[:2]))
def test_a_terminal_sees_a_bar(argv: list[str], tmp_path: Path) -> None:
    """On a terminal (a pseudo-terminal here) stderr carries tqdm's bar (its '|' gauge or 'it/s'-style
    rate), and stdout still gets the result."""
    master, slave = pty.openpty()
    try:
        p = subprocess.run(
            _command(argv, tmp_path), stdout=subprocess.PIPE, stderr=slave, cwd=ROOT, timeout=300,
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


def test_quiet_check_draws_nothing_even_on_a_terminal() -> None:
    """``quorum check --quiet`` on a terminal: no bar at all (not even tqdm's first 0 % line)."""
    master, slave = pty.openpty()
    try:
        argv = ["check", "--policy", "witness-preferred", "--schedules", "20", "--seed", "1", "--quiet"]
        p = subprocess.run([*QUORUM, *argv], stdout=subprocess.PIPE, stderr=slave, cwd=ROOT, timeout=300)
        os.close(slave)
        os.set_blocking(master, False)
        try:
            err = os.read(master, 65536)
        except (BlockingIOError, OSError):
            err = b""
    finally:
        os.close(master)
    assert p.returncode == 0 and p.stdout
    assert err == b""
