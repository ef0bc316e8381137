"""Beta-factor common causes in years mode, against the closed form of two repairable units."""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import pytest

from sim.story.scenario import ScenarioError, load_scenario, parse_scenario
from sim.years.engine import run_years

BETA = Path(__file__).parent.parent / "scenarios" / "common-cause-beta.yaml"
T95_9 = 2.262  # Student t, 95 % two-sided, 9 degrees of freedom


def two_units_unavailability(lam: float, mu: float, beta: float) -> float:
    """Both of two units down, beta-factor model, one repair crew per unit (a 3-state Markov chain).

    States 2, 1, 0 units up. 2->1 at 2(1-beta)lam, 2->0 at beta lam, 1->0 at lam (the survivor's own
    failures plus the common cause), 1->2 at mu, 0->1 at 2 mu. Cuts {2}|{1,0} and {2,1}|{0} give
    p1 = p2 (2(1-beta)lam + beta lam)/mu and p0 = (p2 beta lam + p1 lam)/(2 mu).
    """
    p2 = 1.0
    p1 = p2 * (2 * (1 - beta) * lam + beta * lam) / mu
    p0 = (p2 * beta * lam + p1 * lam) / (2 * mu)
    return p0 / (p2 + p1 + p0)


def test_beta_factor_matches_the_closed_form() -> None:
    """Ten independent 100-year replications of two units (fail mean 100 days, repair 1 day, beta
    0.05, a crew each, bounded-loss so the pair serves whenever one unit is up): the closed form lies
    in the Student-t 95 % interval of the unavailability; the interval is tight enough to tell beta
    0.05 from beta 0.1; the old list form (every failure common) is more than 10 times worse."""
    sc = load_scenario(BETA)
    lam, mu = 1 / 8.64e6, 1 / 86400
    us = [1 - run_years(sc, 100, seed=s)["availability"] for s in range(10)]
    mean, half = statistics.mean(us), T95_9 * statistics.stdev(us) / math.sqrt(len(us))
    exact = two_units_unavailability(lam, mu, 0.05)
    assert mean - half <= exact <= mean + half, (mean, half, exact)
    assert mean + half < two_units_unavailability(lam, mu, 0.1)
    legacy = sc.model_copy(update={"common_cause": (("A", "B"),)})
    assert 1 - run_years(legacy, 20, seed=0)["availability"] > 10 * exact


def test_beta_scales_the_independent_failures() -> None:
    """A member's declared law is its total: independent part at (1-beta) lambda, one shock at beta lambda."""
    from sim.years.engine import Years

    y = Years(load_scenario(BETA), 1, 0)
    assert y.laws["A"][0].mean == pytest.approx(8.64e6 / 0.95)
    ((_name, law, members),) = y.shocks
    assert members == {"A", "B"} and law.mean == pytest.approx(8.64e6 / 0.05)


@pytest.mark.parametrize(
    ("block", "field", "line"),
    [
        ("  - {members: [A, B], beta: 1.5}", "common_cause.0.beta", 3),
        ("  - {members: [A, nope], beta: 0.1}", "common_cause.0", None),
        ("  - {members: [A], beta: 0.1, gamma: 2}", "common_cause.0.gamma", 3),
    ],
)
def test_bad_group_is_one_clear_error(block: str, field: str, line: int | None) -> None:
    text = f"name: x\ncommon_cause:\n{block}\n"
    with pytest.raises(ScenarioError) as e:
        parse_scenario(text, "f.yaml")
    msg = str(e.value)
    assert msg.startswith("f.yaml") and "\n" not in msg
    assert field.split(".")[0] in msg, msg
    if line is not None:
        assert msg.startswith(f"f.yaml:{line}:"), msg


def test_exact_model_agrees_with_the_closed_form() -> None:
    """The CTMC of sim.availability.ctmc (beta shocks from sim.years.commoncause) gives the same unavailability as the
    closed form, up to the 0.5 s mean detection delay it adds to each 1-day repair."""
    from sim.availability.ctmc import exact

    sc = load_scenario(BETA)
    closed = two_units_unavailability(1 / 8.64e6, 1 / 86400, 0.05)
    assert exact(sc).unavailability == pytest.approx(closed, rel=1e-4)
    legacy = exact(sc.model_copy(update={"common_cause": (("A", "B"),)})).unavailability
    assert legacy > 10 * closed
