"""The exact model: closed forms derived here, a clear error for non-exponential laws."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from quorum.core.config import Consistency, Policy, QuorumConfig
from sim.availability.ctmc import NotExactError, exact
from sim.story import scenario as S
from sim.story.scenario import load_scenario

ROOT = Path(__file__).parent.parent


def _laws(mttf: float, mttr: float) -> S.ComponentLaws:
    return S.ComponentLaws(
        fail=S.Law(kind="exponential", mean=mttf), repair=S.Law(kind="exponential", mean=mttr)
    )


def _scenario(comps: dict[str, S.ComponentLaws], crews: int, cc: Any = (), **q: Any) -> S.Scenario:
    cfg = QuorumConfig(consistency=Consistency.BOUNDED_LOSS, **q)
    return S.Scenario(
        name="t",
        quorum=cfg,
        topology=S.Topology(components=comps),  # type: ignore[arg-type]
        crews=crews,
        monitoring_interval=1e-3,  # noticed at once: the closed forms have no monitoring delay
        common_cause=cc,
    )


RHO = 0.01  # lambda / mu
TWO = {"A": _laws(1000.0, 10.0), "B": _laws(1000.0, 10.0)}  # the witness never fails: A or B serves


def test_two_units_one_crew() -> None:
    """Birth-death with one crew: U = 2 rho^2 / (1 + 2 rho + 2 rho^2)."""
    r = RHO
    assert exact(_scenario(TWO, 1)).unavailability == pytest.approx(
        2 * r * r / (1 + 2 * r + 2 * r * r), rel=2e-3
    )


def test_two_units_two_crews() -> None:
    """Independent units: U = (rho / (1 + rho))^2; the answer is exact (no approximation noted)."""
    e = exact(_scenario(TWO, 2))
    assert e.unavailability == pytest.approx((RHO / (1 + RHO)) ** 2, rel=2e-3)
    assert e.approximation == ""


def test_every_failure_common_cause_group() -> None:
    """A plain group [A, B]: every failure takes both down; two crews.
    Balance: x rho = y (each single-down state), 2 z = 2 rho x + 2 rho y -> U = (rho+rho^2)/(1+3rho+rho^2)."""
    r = RHO
    u = exact(_scenario(TWO, 2, cc=(("A", "B"),))).unavailability
    assert u == pytest.approx((r + r * r) / (1 + 3 * r + r * r), rel=2e-3)


@pytest.mark.parametrize("beta", [0.1, 0.5])
def test_beta_factor_common_cause(beta: float) -> None:
    """Beta-factor group (textbook): independent (1-beta) lambda each, a shock beta lambda; two crews.
    UU: x lambda (2-beta) = 2 mu y; DD: 2 mu z = beta lambda x + 2 lambda y."""
    r = RHO
    x = 1.0
    y = x * r * (2 - beta) / 2
    z = (beta * r * x + 2 * r * y) / 2
    group = SimpleNamespace(members=("A", "B"), beta=beta)  # the shape of a {members, beta} group
    sc = _scenario(TWO, 2).model_copy(update={"common_cause": (group,)})
    u = exact(sc).unavailability
    assert u == pytest.approx(z / (x + 2 * y + z), rel=2e-3)


def test_two_of_three_sites_and_witness() -> None:
    """witness-preferred over A, B, W with own crews: down iff at least two of the three are down."""
    comps = {"A": _laws(1000.0, 10.0), "B": _laws(1000.0, 20.0), "W": _laws(2000.0, 50.0)}
    p = [10 / 1010, 20 / 1020, 50 / 2050]
    pa, pb, pw = p
    want = pa * pb + pa * pw + pb * pw - 2 * pa * pb * pw
    assert exact(_scenario(comps, 3, policy=Policy.WITNESS_PREFERRED)).unavailability == pytest.approx(
        want, rel=2e-3
    )


def test_data_currency_doubles_the_two_unit_unavailability_roughly() -> None:
    """Synchronous: a copy that missed its peer's solo writes cannot serve alone, so after both fail
    the first one back waits for the other when it is the stale one: U rises (here by ~1.5-2x)."""
    sync = _scenario(TWO, 2).model_copy(update={"quorum": QuorumConfig(consistency=Consistency.SYNCHRONOUS)})
    u_sync = exact(sync).unavailability
    u_free = exact(_scenario(TWO, 2)).unavailability
    assert 1.4 * u_free < u_sync < 2.1 * u_free


def test_non_exponential_law_names_its_field() -> None:
    with pytest.raises(NotExactError, match=r"topology\.components\.A\.repair\.kind: lognormal"):
        exact(load_scenario(ROOT / "scenarios" / "reference.yaml"))
