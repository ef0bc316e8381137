"""Intervals (issue 25 item 5): one quantile rule for every interval, no lower bound below zero for a
figure that cannot be negative, and no JSON field that is constant by construction."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from sim.availability.estimate import estimate, mean_interval, t_quantile
from sim.availability.replicate import interval
from sim.years.tiers import single_site

ROOT = Path(__file__).resolve().parent.parent


def test_replicate_interval_is_the_estimators_interval() -> None:
    """sim.availability.replicate's interval is mean_interval's: the same Student t quantile, the same width."""
    xs = [3.0, 5.0, 4.0, 9.0, 1.0]
    a = interval(xs, "test", 0.0, math.inf)
    b = mean_interval(np.array(xs), 0.95, "test", bounds=(0.0, math.inf))
    assert (a.mean, a.low, a.high) == pytest.approx((b.mean, b.low, b.high))
    half = t_quantile(0.95, len(xs) - 1) * float(np.std(xs, ddof=1)) / math.sqrt(len(xs))
    assert a.high - a.mean == pytest.approx(half)


def test_one_quantile_helper_in_the_simulator() -> None:
    """No module of sim/ takes a quantile of its own (stats.t.ppf, a normal 1.96, NormalDist().inv_cdf)
    for an interval: every interval goes through quantile.t_quantile. (prior.py plans a budget, not an
    interval: its normal quantile sizes the number of events needed and is the one exception.)"""
    own = re.compile(r"stats\.t\.ppf|stats\.norm\.ppf|\b1\.96\b|\.inv_cdf\(")
    found = []
    for path in sorted((ROOT / "sim").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if own.search(line) and not line.lstrip().startswith("#"):
                found.append(f"{rel}:{n}: {line.strip()}")
    allowed = {"sim/availability/quantile.py", "sim/availability/prior.py"}
    assert [f for f in found if f.split(":")[0] not in allowed] == []


def test_downtime_interval_never_below_zero() -> None:
    """Tier IV alone over 20 one-year replications: few outages, a wide interval; its low end is clipped
    at 0 s of downtime (it was about -5000 s), and the availability's high end at 100 %."""
    d = estimate(single_site("IV"), precision=0.5, max_years=20, seed=0, estimator="plain").to_dict()
    down, av, un = d["downtime_per_year_s"], d["availability"], d["unavailability"]
    assert down["low"] is not None and down["low"] >= 0.0
    assert un["low"] >= 0.0 and av["high"] <= 1.0
    assert down["low"] <= down["mean"] <= down["high"]


def test_comparison_has_no_field_constant_by_construction() -> None:
    """share_of_difference_from_detection_and_failover was 1.0 by construction (under the control variate
    the Monte Carlo minus exact difference is the detection-and-failover gap itself): it is gone, and the
    comparison's difference is that gap."""
    from sim.story.scenario import load_scenario

    d = estimate(load_scenario(ROOT / "scenarios" / "two-of-three.yaml"), precision=0.3, seed=0, exact=True)
    c = d.to_dict()["comparison"]
    assert "share_of_difference_from_detection_and_failover" not in c
    assert c["difference"] == pytest.approx(c["detection_and_failover_unavailability"])


def test_no_month_below_the_sla_is_a_one_sided_bound_not_zero_width() -> None:
    """A design that never drops a month below the SLA in the months simulated: the months-below-SLA
    figures are 0 with a one-sided bound from the months observed (-ln(1-c)/M), never the [0, 0] a
    Student interval over identical zeros gives (before: '0 [0, 0]', a precision no event carried)."""
    d = estimate(single_site("IV"), precision=0.5, max_years=20, seed=0, estimator="plain", sla=0.5).to_dict()
    frac = d["months_below_sla_fraction"]
    per_year = d["months_below_sla_per_year"]
    assert frac["mean"] == 0.0 and frac["low"] == 0.0 and frac["high"] > 0.0, frac
    assert per_year["high"] == pytest.approx(12.0 * frac["high"])
    assert "one-sided bound" in frac["method"]


def test_identical_replications_give_no_zero_width_interval() -> None:
    """A figure every replication gave the same value for (no data lost, no split-brain in any of them)
    has no interval from the replications: before, '0 [0, 0]', a precision no event carried. A figure at
    its lower bound keeps that bound, its upper end is unknown; the Monte Carlo structural unavailability
    (non-negative) never has a lower end below zero."""
    flat = mean_interval(np.zeros(20), 0.95, "test", bounds=(0.0, math.inf))
    assert (flat.mean, flat.low, flat.high) == (0.0, 0.0, None)
    assert "no interval" in flat.method
    d = estimate(single_site("IV"), precision=0.5, max_years=20, seed=0, estimator="plain").to_dict()
    for name in ("data_lost_bytes_per_year", "split_brain_s_per_year"):
        assert d[name]["mean"] == 0.0 and d[name]["high"] is None, d[name]
    assert d["structural_unavailability_mc"]["low"] is None or d["structural_unavailability_mc"]["low"] >= 0.0
