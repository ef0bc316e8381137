"""Hostile input never gives a traceback or a hang: one `quorum: error:` line and exit status 2 (issue 16).

Each file case below failed on the code before issue 16 (a traceback, a hang, or a silent exit 0);
the fuzzers that found them run here with a few examples each (deterministic) and longer in `make fuzz`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from quorum.cli import main
from quorum.fuzz import FUZZERS, Tally, run_cli

BOMB = "\n".join(
    ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    + ["name: *a8", ""]
)


# The time bound only tells a hang from an answer: generous, so a loaded CI machine never trips it
# (a case answers in about a second; `make fuzz` keeps its own tighter bound).
HANG_BOUND = 120.0


def _one_line(argv: list[str], capsys: pytest.CaptureFixture[str], bound: float = HANG_BOUND) -> str:
    outcome, detail = run_cli(argv, bound)
    assert outcome == "ok", detail
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("quorum: error: "), err
    assert len(lines[0]) < 400, "echoed values are truncated"
    return lines[0]


FILES: dict[str, bytes] = {
    "binary": b"\xff\xfe\x00\x81 binary \x00" * 10,
    "deep-flow": ("name: " + "[" * 20000 + "]" * 20000 + "\n").encode(),
    "deep-json": ('{"config": ' + "[" * 20000 + "]" * 20000 + "}").encode(),
    "alias-bomb": BOMB.encode(),
    "recursive-alias": b"name: &a [*a]\n",
}


@pytest.mark.parametrize("kind", sorted(FILES))
@pytest.mark.parametrize("command", ["sim validate", "check --config", "check --replay"])
def test_unreadable_files_are_one_line(
    kind: str, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Binary, deeply nested and alias-bomb files: one line naming the file, exit 2, quickly."""
    f = tmp_path / f"{kind}.yaml"
    f.write_bytes(FILES[kind])
    line = _one_line([*command.split(), str(f)], capsys)
    assert str(f) in line


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("topology:\n  components:\n    A: {fail: {mean: .inf}, repair: {mean: 10}}\n", "finite"),
        (
            "topology:\n  components:\n    A: {fail: {kind: weibull, mean: 1000, shape: 1e-6}, repair: {mean: 10}}\n",
            "shape",
        ),
        ("quorum: {heartbeat_interval: 1e-300}\n", "heartbeat_interval=1e-300 is too short"),
        ("duration: 1000000\nquorum: {heartbeat_interval: 0.001, lease_duration: 10}\n", "heartbeats"),
        ("quorum: {miss_threshold: true}\n", "quorum.miss_threshold"),
        ("quorum: {pre_election: 1}\n", "quorum.pre_election"),
        ("faults:\n  - {at: .nan, do: crash, node: A}\n", "faults.0.at"),
        ("expect:\n  serving:\n    - {at: 500, sites: [A]}\n", "after the end of the run"),
    ],
)
def test_unbounded_or_non_finite_scenarios_are_refused(
    text: str, needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Infinite laws, degenerate shapes, heartbeat ratios, lax booleans, late checks: refused by name."""
    f = tmp_path / "s.yaml"
    f.write_text("name: x\nduration: 100\n" + text if not text.startswith("duration") else "name: x\n" + text)
    line = _one_line(["sim", "validate", str(f)], capsys)
    assert needle in line, line


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e12", "100000", "0", "-1"])
def test_years_must_be_finite_and_bounded(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--years nan|inf|1e12 used to hang or print nonsense; now one line naming the flag."""
    ref = str(Path(__file__).parent.parent / "scenarios" / "reference.yaml")
    line = _one_line(["sim", "run", ref, "--json", f"--years={value}"], capsys)
    assert "--years" in line


def test_a_flag_given_the_separator_as_its_value_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """`--max-steps=--` became an empty list and a TypeError traceback (found by `make fuzz`)."""
    assert "--max-steps" in _one_line(["check", "--max-steps=--", "--schedules=1", "--quiet"], capsys)


def test_a_years_run_that_would_not_end_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A failure law of one second over a year: about 16 million failures, refused before running."""
    f = tmp_path / "s.yaml"
    f.write_text("name: x\ntopology:\n  components:\n    A: {fail: {mean: 1}, repair: {mean: 1}}\n")
    assert "failures" in _one_line(["sim", "run", str(f), "--years", "1"], capsys)


def test_plot_path_is_checked_before_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--plot x.txt used to fail with a traceback after the whole run; now before it starts."""
    f = tmp_path / "s.yaml"
    f.write_text("name: x\nduration: 1e6\nfaults:\n  - {at: 5, do: crash, node: A}\n")
    assert "--plot" in _one_line(["sim", "run", str(f), "--plot", str(tmp_path / "x.txt")], capsys, 5.0)
    (tmp_path / "file").write_text("")
    assert "--plot" in _one_line(
        ["sim", "run", str(f), "--plot", str(tmp_path / "file" / "p.png")], capsys, 5.0
    )


def test_years_check_without_years_expectations_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """`--years --check` used to ignore every expectation and exit 0; now it checks years_expect or refuses."""
    ref = str(Path(__file__).parent.parent / "scenarios" / "site-crash.yaml")
    assert "years_expect" in _one_line(["sim", "run", ref, "--years", "1", "--check"], capsys)


def test_output_piped_to_a_closed_reader_keeps_the_exit_status(tmp_path: Path) -> None:
    """`quorum ... | head`: the reader leaves; a command that passed still exits 0, with no traceback."""
    r, w = os.pipe()
    os.close(r)  # the reader is gone before the command writes a byte
    proc = subprocess.run(
        [sys.executable, "-m", "quorum.cli", "sim", "schema"],
        stdout=w,
        stderr=subprocess.PIPE,
        timeout=60,
        check=False,
    )
    os.close(w)
    assert proc.returncode == 0, proc.stderr
    assert b"Traceback" not in proc.stderr and b"BrokenPipe" not in proc.stderr


@pytest.mark.parametrize(("name", "examples"), [("scenarios", 12), ("flags", 30), ("witness", 20)])
def test_fuzzers_find_no_traceback_hang_or_500(name: str, examples: int) -> None:
    """The fuzzers of `make fuzz` (hypothesis over the scenario schema, flags and the witness's HTTP
    bodies, each case under a time bound), a few deterministic examples each."""
    tally = Tally()
    FUZZERS[name](tally, examples, HANG_BOUND, 0)
    assert sum(tally.counts.values()) >= examples // 2
    assert tally.bad == 0, tally.examples


# ---- issue 22, item 3: what a second attack still broke ------------------------------------------------
HOSTILE_22 = {
    "nul": b"name: x\x00y\nduration: 30\n",
    "bel": b"name: x\nduration: 30\x07\n",
    "big-list": b"name: x\nfaults:\n" + b"- 1\n" * 110_000,  # no alias, past the node bound
    "huge": b"name: x\nfaults:\n" + b"- 1\n" * 1_048_576,  # a plain 4 MB list, past the size bound
}
NEEDLES_22 = {
    "nul": "U+0000",
    "bel": "U+0007",
    "big-list": "more than 100,000 YAML nodes",
    "huge": "larger than 2,097,152 characters",
    "fifo": "FIFO",
}
FILE_COMMANDS_22 = [
    "sim validate FILE",
    "sim run FILE --no-plot",
    "sim availability FILE --workers 1",
    "check --config FILE",
    "witness serve --config FILE",
    "agent run --config FILE",
]


# the node bound is the same code for every command: two commands suffice for it
CASES_22 = [
    (kind, command)
    for command in FILE_COMMANDS_22
    for kind in sorted(NEEDLES_22)
    if kind != "big-list" or command in ("sim validate FILE", "check --config FILE")
]


@pytest.mark.parametrize(("kind", "command"), CASES_22)
def test_control_characters_fifos_and_big_documents_are_one_line(
    kind: str, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """NUL/BEL in a YAML file (a traceback), a FIFO (a hang), a plain list of 110,000 items or of 4 MB
    (43 s, 1.5 GB, then "alias bomb"): one line naming the file and what is wrong, in six commands."""
    f = tmp_path / f"{kind}.yaml"
    if kind == "fifo":
        os.mkfifo(f)
    else:
        f.write_bytes(HOSTILE_22[kind])
    line = _one_line([str(f) if w == "FILE" else w for w in command.split()], capsys)
    assert str(f) in line and NEEDLES_22[kind] in line, line
    assert "alias bomb" not in line


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["sim", "availability", "scenarios/reference.yaml", "--precision", "1e-300"], "--precision"),
        (["sim", "availability", "scenarios/reference.yaml", "--workers", "1000000000"], "--workers"),
        (["sim", "compare", "scenarios/reference.yaml", "--workers", "40000"], "--workers"),
        (["check", "--schedules", "99999999999999999999"], "100,000"),
        (["check", "--schedules", "nan"], "--schedules"),
        (["check", "--seed", "x"], "--seed"),
        (["sim", "run", "scenarios/reference.yaml", "--seed", "x"], "--seed"),
        (["check", "--no-such-flag"], "--no-such-flag"),
        (["sim"], "required"),
    ],
)
def test_bad_flags_are_one_line_and_bounded(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--precision 1e-300 (OverflowError), --workers unbounded, --schedules 10^20 (ran until killed), and
    argparse's own errors (its usage block and `quorum check: error:`, five lines): one line each."""
    monkeypatch.chdir(Path(__file__).parent.parent)
    assert needle in _one_line(argv, capsys, 30.0)


def test_the_help_states_the_bounds(capsys: pytest.CaptureFixture[str]) -> None:
    """The bounds refused above are the ones `--help` states."""
    from quorum.cli import MAX_SCHEDULES
    from sim.availability.executors import max_workers

    for argv, needles in (
        (["check", "--help"], [f"1 to {MAX_SCHEDULES:,}"]),
        (["sim", "availability", "--help"], ["from 1e-09 to 1", f"({max_workers()} here"]),
        (["sim", "compare", "--help"], ["from 1e-09 to 1", f"({max_workers()} here"]),
    ):
        with pytest.raises(SystemExit):
            main(argv)
        out = " ".join(capsys.readouterr().out.split())
        assert all(n in out for n in needles), (argv, out)


def test_the_fuzzer_counts_argparse_usage_blocks_as_failures() -> None:
    """`make fuzz` used to take argparse's SystemExit(2) (usage block, five lines) as a good answer."""
    import argparse

    from quorum import fuzz

    def usage_block(argv: list[str]) -> int:
        argparse.ArgumentParser(prog="quorum").parse_args(argv)
        return 0

    orig = sys.modules["quorum.cli"].main
    sys.modules["quorum.cli"].main = usage_block  # type: ignore[attr-defined]
    try:
        outcome, _ = fuzz.run_cli(["--bogus"], 10.0)
    finally:
        sys.modules["quorum.cli"].main = orig  # type: ignore[attr-defined]
    assert outcome == "traceback"
