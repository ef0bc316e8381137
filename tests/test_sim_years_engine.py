"""The years engine's bulk histories: numpy laws, the crew queue, reproducibility by seed.

The component histories come from numpy streams drawn in bulk and an event loop over the change points
of the down set (sim/years/engine.py). These tests check the draws' laws, that the shared crews are a
FIFO queue (the structural unavailability of three units sharing one crew is the exact CTMC's, and not
that of a crew each), and that a seed gives one result.
"""

from __future__ import annotations

import numpy as np
import pytest

from quorum.core.config import Consistency, QuorumConfig
from sim.availability.ctmc import exact
from sim.story import scenario as S
from sim.years.engine import YEAR, run_replication
from sim.years.laws import (
    draw_many,
    draw_residual_many,
    mean_residual,
    stationary_state,
    up_probability,
)

LAWS = [
    S.Law(kind="exponential", mean=10.0),
    S.Law(kind="weibull", mean=10.0, shape=1.5),
    S.Law(kind="weibull", mean=10.0, shape=0.5),
    S.Law(kind="lognormal", mean=10.0, shape=1.0),
    S.Law(kind="fixed", mean=10.0),
]


@pytest.mark.parametrize("law", LAWS, ids=lambda law: f"{law.kind}-{law.shape:g}")
def test_bulk_draws_have_the_mean_and_the_equilibrium_residual(law: S.Law) -> None:
    """numpy bulk draws: mean E[X], residual life mean E[X^2] / (2 E[X]) (4 standard errors)."""
    gen = np.random.default_rng(7)
    xs = draw_many(law, 200_000, gen)
    assert abs(xs.mean() - law.mean) <= 4 * xs.std() / len(xs) ** 0.5 + 1e-12
    rs = draw_residual_many(law, 200_000, gen)
    assert abs(rs.mean() - mean_residual(law)) <= 4 * rs.std() / len(rs) ** 0.5


def test_stationary_state_is_up_with_probability_mttf_over_mttf_plus_mdt() -> None:
    fail, repair = S.Law(kind="weibull", mean=30.0, shape=1.5), S.Law(kind="lognormal", mean=10.0, shape=1.0)
    gen = np.random.default_rng(3)
    n = 40_000
    up = sum(stationary_state(fail, repair, 4.0, gen)[0] == "up" for _ in range(n))
    p = up_probability(fail, repair, 4.0)
    assert abs(up / n - p) <= 4 * (p * (1 - p) / n) ** 0.5


def _three_units(crews: int) -> S.Scenario:
    """A, B and W (witness-preferred: down when two of the three are down), exponential laws with
    rho = 0.05, noticed at once (the CTMC has no probe delay)."""
    laws = S.ComponentLaws(
        fail=S.Law(kind="exponential", mean=1000 * 3600.0), repair=S.Law(kind="exponential", mean=50 * 3600.0)
    )
    return S.Scenario(
        name="three-units",
        quorum=QuorumConfig(consistency=Consistency.BOUNDED_LOSS),
        topology=S.Topology(components={"A": laws, "B": laws, "W": laws}),
        crews=crews,
        monitoring_interval=1e-3,
    )


def test_one_shared_crew_is_a_fifo_queue_as_in_the_exact_model() -> None:
    """Three units, one crew: the structural unavailability over 24 replications of 40 years covers the
    CTMC's value and excludes the value with a crew each (the wrong model is caught)."""
    sc = _three_units(crews=1)
    right = exact(sc).unavailability
    wrong = exact(_three_units(crews=3)).unavailability
    assert right > 1.3 * wrong  # the queue matters at rho = 0.05
    xs = np.array(
        [
            run_replication(sc, 40, np.random.SeedSequence(5, spawn_key=(i,))).structural_downtime_s
            for i in range(24)
        ]
    ) / (40 * YEAR)
    half = 2.07 * xs.std(ddof=1) / len(xs) ** 0.5  # Student, 23 degrees of freedom
    assert xs.mean() - half <= right <= xs.mean() + half, (xs.mean(), half, right)
    assert not xs.mean() - half <= wrong <= xs.mean() + half, (xs.mean(), half, wrong)


def test_a_seed_gives_one_result_and_another_seed_another() -> None:
    """Same seed (int or SeedSequence), same replication; a different seed, different draws."""
    sc = _three_units(crews=1)
    a = run_replication(sc, 5, np.random.SeedSequence(9)).to_dict()
    assert a == run_replication(sc, 5, np.random.SeedSequence(9)).to_dict()
    assert run_replication(sc, 5, 9).to_dict() == {**a, "seed": "9"}
    assert run_replication(sc, 5, 10).to_dict()["outage_starts_s"] != a["outage_starts_s"]
