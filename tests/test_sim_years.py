"""Years mode: failure/repair laws, crews, common causes; episodes decided by the core."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from sim.scenario import Law, load_scenario
from sim.years import run_years

REF = Path(__file__).parent.parent / "scenarios" / "reference.yaml"


@pytest.mark.parametrize("kind", ["exponential", "weibull", "lognormal", "fixed"])
def test_laws_have_their_mean(kind: str) -> None:
    """Every law's sample mean is close to its declared mean."""
    law = Law(kind=kind, mean=100.0, shape=1.5 if kind != "lognormal" else 0.5)  # type: ignore[arg-type]
    from sim.years import draw

    rng = random.Random(f"1:{kind}")
    mean = sum(draw(law, rng) for _ in range(20000)) / 20000
    assert abs(mean - 100.0) < 5.0


def test_years_reproducible_and_safe() -> None:
    """Ten years of the reference design: same seed, same result; no split-brain; failures happen."""
    sc = load_scenario(REF)
    a = run_years(sc, 10, seed=3)
    b = run_years(sc, 10, seed=3)
    assert a == b
    assert a["failures"] > 0 and a["episodes"] > 0
    assert a["split_brain_s"] == 0
    assert 0.99 < a["availability"] <= 1.0


def test_years_both_continue_shows_split_brain() -> None:
    """Both paths in one trench (a common-cause group): the unsafe baseline accrues split-brain."""
    from quorum.core.config import Policy

    sc = load_scenario(REF)
    q = sc.quorum.model_copy(update={"policy": Policy.BOTH_CONTINUE})
    sc = sc.model_copy(update={"quorum": q, "common_cause": (("ab",),)})
    out = run_years(sc, 20, seed=1)
    assert out["split_brain_s"] > 0
