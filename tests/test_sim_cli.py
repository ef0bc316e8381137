"""The ``quorum sim`` command line: schema, validate, run, JSON, --check, errors without tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from quorum.cli import main

REF = str(Path(__file__).parent.parent / "scenarios" / "site-crash.yaml")


def test_schema_is_json(capsys: pytest.CaptureFixture[str]) -> None:
    """`quorum sim schema` prints a JSON Schema naming the scenario fields."""
    assert main(["sim", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "faults" in schema["properties"]


def test_validate_ok(capsys: pytest.CaptureFixture[str]) -> None:
    """A good file validates."""
    assert main(["sim", "validate", REF]) == 0
    assert "ok" in capsys.readouterr().out


def test_run_json_has_metrics(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """--json prints one object with the promised metrics; the plot is written."""
    png = tmp_path / "t.png"
    assert main(["sim", "run", REF, "--json", "--check", "--plot", str(png)]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in (
        "availability",
        "downtime_s",
        "failovers",
        "split_brain_s",
        "data_lost_bytes",
        "resync_s",
        "disconnections",
        "expect",
    ):
        assert key in out
    assert all(x["pass"] for x in out["expect"])
    assert png.stat().st_size > 1000


def test_check_fails_on_failed_expectation(tmp_path: Path) -> None:
    """--check exits 1 when an expectation fails."""
    f = tmp_path / "bad.yaml"
    f.write_text(
        "name: x\nduration: 100\nfaults:\n  - {at: 10, do: crash, node: A}\nexpect:\n  failovers: 0\n"
    )
    assert main(["sim", "run", str(f), "--check", "--plot", str(tmp_path / "p.png")]) == 1


def test_same_seed_same_result(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A run is reproducible from its seed."""
    outs = []
    for _ in range(2):
        main(["sim", "run", REF, "--json", "--seed", "7", "--plot", str(tmp_path / "p.png")])
        outs.append(capsys.readouterr().out)
    assert outs[0] == outs[1]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("name: x\nduration: abc\n", ":2: field 'duration'"),
        ("name: x\nbogus: 1\n", ":2: field 'bogus'"),
        ("name: x\nfaults:\n  - {at: 5, do: cut, link: nope}\n", ":3: field 'faults.0.link'"),
        ("name: x\nfaults:\n  - {at: -5, do: crash, node: A}\n", ":3: field 'faults.0.at'"),
        ("name: x\nfaults:\n  - {at: 5, do: crash, node: Q}\n", ":3: field 'faults.0.node'"),
        ("name: [x\n", "not valid YAML"),
        ("- 1\n", "expected a mapping"),
    ],
)
def test_bad_scenario_one_line_error(
    text: str, needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A malformed scenario gets one clear line naming file, line and field; exit 2, no traceback."""
    f = tmp_path / "s.yaml"
    f.write_text(text)
    assert main(["sim", "validate", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("quorum: error: ") and str(f) in err
    assert needle in err, err
    assert "Traceback" not in err and err.count("\n") == 1
