"""Downtime by cause: every second of downtime has one cause, and a split-brain's bytes are reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.availability.estimate import estimate
from sim.story.scenario import load_scenario
from sim.years.engine import Years, run_years

SCEN = Path(__file__).parent.parent / "scenarios"


@pytest.mark.parametrize(
    ("name", "years"),
    [
        ("reference", 200),
        ("patch-calendar", 5),
        ("backups-corruption", 5),
        ("two-of-three", 20),
        ("rolling-disaster", 50),
    ],
)
def test_causes_add_up_to_the_downtime(name: str, years: float) -> None:
    """The causes of a years run add up to its downtime, each cause one of the documented names."""
    r = run_years(load_scenario(SCEN / f"{name}.yaml"), years, 1)
    causes = r["downtime_by_cause_s"]
    assert sum(causes.values()) == pytest.approx(r["downtime_s"], rel=1e-9, abs=1e-6)
    fixed = {
        "patch_windows",
        "corruption_restores",
        "detection_and_failover",
        "waiting_for_operator",
        "resync",
    }
    assert all(c in fixed or c.startswith("infrastructure:") for c in causes), causes


def test_corruption_restores_and_overlaps_have_their_own_cause() -> None:
    """A corruption restore is counted as such; two-of-three's outages are infrastructure of a named
    component; detection seconds are detection_and_failover."""
    r = run_years(load_scenario(SCEN / "backups-corruption.yaml"), 5, 1)
    assert r["downtime_by_cause_s"].get("corruption_restores", 0) == pytest.approx(r["corruption_downtime_s"])
    r = run_years(load_scenario(SCEN / "two-of-three.yaml"), 20, 1)
    assert any(c.startswith("infrastructure:") for c in r["downtime_by_cause_s"])
    assert r["downtime_by_cause_s"].get("detection_and_failover", 0) > 0


def test_split_brain_reports_the_bytes_at_risk() -> None:
    """both-continue and a cut inter-site link (both paths) for 237 s: both sides accept writes, and the
    bytes written meanwhile are data at risk (it used to show only 'data lost 0 B')."""
    sc = load_scenario(SCEN / "both-continue.yaml")
    r = Years(sc, 1.0).replay([(frozenset({"ab#0", "ab#1"}), 237.0)])
    rate = sum(v.write_rate for v in sc.volumes)
    assert r.split_brain_s > 200
    assert r.split_brain_bytes == pytest.approx(rate * r.split_brain_s)
    safe = load_scenario(SCEN / "link-cut-preferred.yaml")
    assert Years(safe, 1.0).replay([(frozenset({"ab#0"}), 237.0)]).split_brain_bytes == 0


def test_the_report_gives_each_cause_with_its_interval() -> None:
    """`--json` carries downtime_by_cause_per_year_s (mean, interval, method) and the data at risk."""
    d = estimate(load_scenario(SCEN / "two-of-three.yaml"), seed=1, max_years=40).to_dict()
    assert d["downtime_by_cause_per_year_s"]
    for fig in d["downtime_by_cause_per_year_s"].values():
        assert set(fig) == {"mean", "low", "high", "method"} and fig["low"] >= 0
    assert set(d["data_at_risk_split_brain_bytes_per_year"]) == {"mean", "low", "high", "method"}
