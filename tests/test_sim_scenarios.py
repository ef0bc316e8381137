"""The scenario library: every file runs and meets its expectations (``quorum sim run --check``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sim.report import check_expectations
from sim.runner import Simulation
from sim.scenario import ScenarioError, load_scenario, parse_scenario

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
SCENARIOS = sorted(SCENARIO_DIR.glob("*.yaml"))


def test_the_library_has_the_named_scenarios() -> None:
    names = {p.stem for p in SCENARIOS}
    assert len(names) >= 14
    assert {"reference", "site-crash", "rolling-disaster", "both-continue-split"} <= names


@pytest.mark.parametrize("path", SCENARIOS + sorted(SCENARIO_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_scenario_meets_its_expectations(path: Path) -> None:
    from sim.from_check import scenario_from_check

    sc = scenario_from_check(path) if path.suffix == ".json" else load_scenario(path)
    sim = Simulation(sc).run()
    checks = check_expectations(sim)
    assert checks, "a scenario without expectations proves nothing"
    failed = [c.as_dict() for c in checks if not c.ok]
    assert not failed, failed


def test_same_seed_same_run_and_expectations_can_fail() -> None:
    sc = load_scenario(SCENARIOS[0].parent / "link-cut-witness-preferred.yaml")
    assert Simulation(sc).run().events == Simulation(sc).run().events
    wrong = sc.model_copy(update={"expect": sc.expect.model_copy(update={"failovers": 5})})
    assert any(not c.ok for c in check_expectations(Simulation(wrong).run()))


def test_split_brain_is_measured_under_both_continue() -> None:
    sim = Simulation(load_scenario(SCENARIOS[0].parent / "both-continue-split.yaml")).run()
    assert sim.metrics.split_brain_s > 60
    assert sim.metrics.data_lost_bytes > 0


def test_redundant_path_keeps_the_sites_connected() -> None:
    sc = parse_scenario("name: t\nfaults: [{at: 1, action: cut, target: ab, path: 0}]\n")
    sim = Simulation(sc)
    sim.run(until=5)
    assert sim.reachable("A", "B") and sim.reachable("B", "A")
    assert sim.metrics.failovers == 0


def test_cli_run_json_and_check(tmp_path: Path) -> None:
    plot = tmp_path / "p.png"
    p = subprocess.run(
        [sys.executable, "-m", "quorum.cli", "sim", "run", str(SCENARIOS[0].parent / "site-crash.yaml"),
         "--json", "--check", "--plot", str(plot)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    for key in ("availability", "downtime_s", "failovers", "split_brain_s", "data_lost_bytes", "resync_s",
                "disconnections", "expect"):  # fmt: skip
        assert key in doc
    assert all(c["pass"] for c in doc["expect"])
    assert plot.exists() and plot.stat().st_size > 1000


def test_cli_check_exits_1_when_an_expectation_fails(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text("name: t\nduration: 30\nexpect: {failovers: 3}\n")
    p = subprocess.run([sys.executable, "-m", "quorum.cli", "sim", "run", str(f), "--check", "--no-plot"],
                       capture_output=True, text=True, timeout=60)  # fmt: skip
    assert p.returncode == 1 and "FAIL" in p.stdout


def test_schema_is_json_schema() -> None:
    p = subprocess.run(
        [sys.executable, "-m", "quorum.cli", "sim", "schema"], capture_output=True, text=True, timeout=60
    )
    doc = json.loads(p.stdout)
    assert doc["title"] == "Scenario" and "faults" in doc["properties"]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("name: t\nduration: -5\n", ":2: field 'duration'"),
        ("name: t\nfaults:\n  - {at: 1, action: crash, target: C}\n", ":3: field 'faults.0.target'"),
        ("name: t\nfaults:\n  - {at: 1, action: cut, target: zz}\n", "unknown link 'zz'"),
        ("name: t\ncolour: blue\n", ":2: field 'colour': Extra inputs are not permitted"),
        ("name: t\nfaults:\n  - {at: -1, action: crash, target: A}\n", ":3: field 'faults.0.at'"),
        ("name: t\nquorum: {miss_threshold: many}\n", ":2: field 'quorum.miss_threshold'"),
        ("name: [unclosed\n", "not valid YAML"),
        ("- just\n- a list\n", "expected a mapping"),
    ],
)
def test_malformed_scenarios_get_one_clear_error(tmp_path: Path, text: str, needle: str) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(ScenarioError, match=None) as info:
        load_scenario(f)
    assert needle in str(info.value)
    p = subprocess.run([sys.executable, "-m", "quorum.cli", "sim", "validate", str(f)],
                       capture_output=True, text=True, timeout=60)  # fmt: skip
    assert p.returncode == 2 and "Traceback" not in p.stderr and str(f) in p.stderr


def test_a_saved_counterexample_replays_as_a_scenario(tmp_path: Path) -> None:
    """`quorum check --save` output runs in the simulator, which measures the split-brain."""
    saved = tmp_path / "ce.json"
    p = subprocess.run([sys.executable, "-m", "quorum.cli", "check", "--policy", "both-continue", "--schedules", "50",
                        "--save", str(saved), "--quiet"], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert p.returncode == 1 and saved.exists()
    p = subprocess.run([sys.executable, "-m", "quorum.cli", "sim", "run", str(saved), "--json", "--no-plot"],
                       capture_output=True, text=True, timeout=120)  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["split_brain_s"] > 0
