"""Years mode starts in the stationary regime for any law (``start="steady"``); ``start="new"`` answers the
other question, the years after commissioning.

Two independent units (a crew each, a witness that never fails) alternate up and down; each one's
stationary unavailability is MDT/(MTTF+MDT) whatever the laws (alternating renewal theorem) and the pair's
structural unavailability is its square. Replications shorter than a few cycles show the difference: with
aging (Weibull shape > 1) or heavy-tailed laws, brand-new components fail later than stationary ones.
"""

from __future__ import annotations

import random
import statistics
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from sim.story import scenario as S
from sim.story.scenario import parse_scenario
from sim.years.engine import YEAR, Years, run_replication
from sim.years.laws import (
    down_phase,
    draw_residual,
    mean_down,
    mean_residual,
    second_moment,
    up_probability,
)

RARE1 = Path(__file__).parent.parent / "scenarios" / "rare-overlap.yaml"
HOUR = 3600.0


def _pair(fail: dict[str, Any], repair: dict[str, Any]) -> S.Scenario:
    """rare1 (two sites, a crew each, perfect witness, fast timings) with other laws for both sites."""
    d = yaml.safe_load(RARE1.read_text())
    for site in ("A", "B"):
        d["topology"]["components"][site] = {"fail": fail, "repair": repair}
    return parse_scenario(yaml.safe_dump(d), "pair")


def _structural_u(sc: S.Scenario, years: float, n: int, start: str) -> tuple[float, float, float]:
    """Mean and 95 % interval of the structural unavailability over ``n`` replications."""
    xs = np.array(
        [
            run_replication(
                sc, years, np.random.SeedSequence(11, spawn_key=(i,)), start=start
            ).structural_downtime_s
            for i in range(n)
        ]
    ) / (years * YEAR)
    half = 1.96 * float(xs.std(ddof=1)) / n**0.5
    return float(xs.mean()), float(xs.mean()) - half, float(xs.mean()) + half


def _exact(sc: S.Scenario) -> float:
    fail, repair = sc.topology.components["A"].fail, sc.topology.components["A"].repair
    assert fail is not None and repair is not None
    u = 1.0 - up_probability(fail, repair, sc.monitoring_interval)
    return u * u


@pytest.mark.parametrize(
    "law",
    [
        S.Law(kind="exponential", mean=10.0),
        S.Law(kind="weibull", mean=10.0, shape=1.5),
        S.Law(kind="weibull", mean=10.0, shape=0.5),
        S.Law(kind="lognormal", mean=10.0, shape=1.0),
        S.Law(kind="fixed", mean=10.0),
    ],
    ids=lambda law: f"{law.kind}-{law.shape:g}",
)
def test_equilibrium_residual_has_mean_second_moment_over_twice_the_mean(law: S.Law) -> None:
    """The residual life drawn at a random time has mean E[X^2] / (2 E[X]) for every kind of law."""
    rng = random.Random(5)
    xs = [draw_residual(law, rng) for _ in range(60_000)]
    m, sd = statistics.fmean(xs), statistics.stdev(xs)
    assert abs(m - mean_residual(law)) < 4 * sd / len(xs) ** 0.5
    assert mean_residual(law) == pytest.approx(second_moment(law) / (2 * law.mean))


def test_down_phase_age_and_residual_have_the_equilibrium_mean() -> None:
    """A down phase (probe delay + repair) seen at a random time: age and residual share the mean
    E[D^2] / (2 E[D]) of the equilibrium law of the whole down time D."""
    repair, m = S.Law(kind="lognormal", mean=10.0, shape=1.0), 4.0
    rng = random.Random(3)
    pairs = [down_phase(repair, m, rng) for _ in range(60_000)]
    # D = U(0, m) + X, independent: E[D] = m/2 + E[X], E[D^2] = m^2/3 + m E[X] + E[X^2]
    ed = mean_down(repair, m)
    want = (m * m / 3 + m * repair.mean + second_moment(repair)) / (2 * ed)
    for xs in ([a for a, _ in pairs], [r for _, r in pairs]):
        assert abs(statistics.fmean(xs) - want) < 4 * statistics.stdev(xs) / len(xs) ** 0.5


@pytest.mark.parametrize(
    ("fail", "repair"),
    [
        (
            {"kind": "weibull", "mean": 200 * HOUR, "shape": 1.5},
            {"kind": "lognormal", "mean": 24 * HOUR, "shape": 1.0},
        ),
        (
            {"kind": "lognormal", "mean": 200 * HOUR, "shape": 1.2},
            {"kind": "weibull", "mean": 24 * HOUR, "shape": 0.8},
        ),
    ],
    ids=["weibull-lognormal", "lognormal-weibull"],
)
def test_steady_start_covers_the_closed_form_and_new_start_does_not(
    fail: dict[str, Any], repair: dict[str, Any]
) -> None:
    """Short replications (0.05 years, about two cycles): the stationary start's interval covers
    (MDT/(MTTF+MDT))^2 with non-exponential laws; brand-new components (today's start before this change,
    kept as ``start="new"``) give an interval that excludes it: the commissioning question, not the
    steady state."""
    sc = _pair(fail, repair)
    exact = _exact(sc)
    m, lo, hi = _structural_u(sc, 0.05, 1500, "steady")
    assert lo <= exact <= hi, (m, lo, hi, exact)
    m, lo, hi = _structural_u(sc, 0.05, 1500, "new")
    assert not lo <= exact <= hi, (m, lo, hi, exact)


def test_components_down_at_start_count_only_after_zero() -> None:
    """A stationary start with a site down: its episode began before t=0, and every figure of the
    replication counts only what falls in [0, horizon] (downtime never exceeds the horizon)."""
    sc = _pair(
        {"kind": "exponential", "mean": 10 * HOUR}, {"kind": "lognormal", "mean": 40 * HOUR, "shape": 1.0}
    )
    seen_down = 0
    for i in range(40):
        y = Years(sc, 0.001, np.random.SeedSequence(2, spawn_key=(i,)))
        seen_down += bool(
            y._initial_states() and any(s == "down" for s, _r, _a in y._initial_states().values())
        )
        r = y.replication()
        assert 0.0 <= r.downtime_s <= r.horizon_s + 1e-6
        assert 0.0 <= r.structural_downtime_s <= r.horizon_s + 1e-6
        assert all(d >= 0 for d in r.outage_durations_s) and all(t >= 0 for t in r.outage_starts_s)
    assert seen_down > 10  # u = 0.8: most replications start with a site down


def test_start_is_checked() -> None:
    """An unknown start is refused, naming the value."""
    with pytest.raises(ValueError, match="'old'"):
        Years(
            _pair({"kind": "exponential", "mean": 1e6}, {"kind": "fixed", "mean": 10.0}), 1.0, 0, start="old"
        )
