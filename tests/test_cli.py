"""The `quorum check` command: outcomes, JSON shape, save/replay, and clear errors on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from quorum.cli import main


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "quorum.cli", *args], capture_output=True, text=True, timeout=300
    )


def test_both_continue_json_reports_a_short_split_brain_counterexample() -> None:
    p = run("check", "--policy", "both-continue", "--schedules", "100", "--json")
    assert p.returncode == 1, p.stderr
    doc = json.loads(p.stdout)
    assert doc["policy"] == "both-continue"
    assert doc["schedules"] >= 1
    assert doc["violations"] and doc["violations"][0]["property"] == "S1"
    ce = doc["counterexample"]
    assert 1 <= len(ce["steps"]) <= 6
    assert ce["violation"]["property"] == "S1"
    assert ce["steps"][0]["fault"] in {"cut", "isolate", "crash", "flap", "degrade", "pause"}


def test_safe_policy_reports_no_violation(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "--policy", "witness-preferred", "--schedules", "40", "--seed", "3", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert "no violation in 40 schedules" in out


def test_json_for_a_clean_policy_has_a_null_counterexample(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--policy", "majority", "--schedules", "20", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["counterexample"] is None and doc["violations"] == [] and doc["schedules"] == 20


def test_save_then_replay_reproduces_the_violation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "ce.json"
    assert main(["check", "--policy", "both-continue", "--schedules", "50", "--save", str(f)]) == 1
    out = capsys.readouterr().out
    assert "S1 (no split-brain) VIOLATED" in out and f.exists()
    assert main(["check", "--replay", str(f)]) == 1
    out = capsys.readouterr().out
    assert "VIOLATION S1" in out
    # the same schedule against a safe policy: no violation
    assert main(["check", "--replay", str(f), "--policy", "witness-preferred"]) == 0


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("{not json", "not valid JSON"),
        ('{"config": {"lease_duration": -1}, "schedule": {}}', "field 'lease_duration'"),
        ('{"config": {}, "schedule": {"steps": [{"at": 1, "fault": "explode"}]}}', "steps.0"),
        ('{"config": {}, "schedule": {"steps": [{"at": 1, "fault": "cut", "src": "A", "dst": "Q"}]}}', "dst"),
        ('{"confg": {}}', "unknown field 'confg'"),
        ("[1, 2]", "expected a JSON object"),
    ],
)
def test_bad_replay_file_gets_one_clear_error(tmp_path: Path, content: str, needle: str) -> None:
    f = tmp_path / "bad.json"
    f.write_text(content)
    p = run("check", "--replay", str(f))
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    assert needle in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


def test_bad_config_file_names_field_and_value(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("policy: witness-preferred\nlease_margin: 20\n")
    p = run("check", "--config", str(f), "--schedules", "5")
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "lease_margin=20" in p.stderr
    f.write_text("miss_threshold: lots\n")
    p = run("check", "--config", str(f))
    assert p.returncode == 2 and "miss_threshold" in p.stderr and '"lots"' in p.stderr


def test_unknown_policy_and_missing_file_exit_2_without_traceback(tmp_path: Path) -> None:
    p = run("check", "--policy", "coin-flip")
    assert p.returncode == 2 and "invalid choice" in p.stderr and "Traceback" not in p.stderr
    p = run("check", "--replay", str(tmp_path / "nope.json"))
    assert p.returncode == 2 and "cannot read" in p.stderr and "Traceback" not in p.stderr
    p = run("check", "--schedules", "0")
    assert p.returncode == 2 and "--schedules" in p.stderr
    p = run("check", "--max-steps", "-1")
    assert p.returncode == 2 and "--max-steps" in p.stderr and "Traceback" not in p.stderr
    p = run("check", "--save", str(tmp_path / "no" / "such" / "dir.json"))
    assert p.returncode == 2 and "--save" in p.stderr and "Traceback" not in p.stderr
