"""Years mode: failure/repair laws, crews, common causes; episodes decided by the core."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from sim.story.scenario import Law, load_scenario
from sim.years.engine import run_years

REF = Path(__file__).parent.parent / "scenarios" / "reference.yaml"


@pytest.mark.parametrize("kind", ["exponential", "weibull", "lognormal", "fixed"])
def test_laws_have_their_mean(kind: str) -> None:
    """Every law's sample mean is close to its declared mean."""
    law = Law(kind=kind, mean=100.0, shape=1.5 if kind != "lognormal" else 0.5)  # type: ignore[arg-type]
    from sim.years.laws import draw

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


@pytest.mark.parametrize("policy", ["witness-preferred", "static-preferred", "both-continue"])
def test_stopping_a_steady_recovery_window_changes_no_figure(policy: str) -> None:
    """The recovery window after an episode ends once the runner is steady: the totals are the same
    as when every window runs to its end (only heartbeats would have followed)."""
    from quorum.core.config import Policy
    from sim.years.engine import Years

    sc = load_scenario(REF)
    q = sc.quorum.model_copy(update={"policy": Policy(policy)})
    sc = sc.model_copy(update={"quorum": q})
    fast = Years(sc, 60, seed=5).run()
    full = Years(sc, 60, seed=5, stop_when_steady=False).run()
    assert fast == full
    assert fast["episodes"] > 0


def test_runner_is_steady_only_when_nothing_is_pending() -> None:
    from sim.story.runner import Runner

    sc = load_scenario(REF)
    r = Runner(
        sc.model_copy(
            update={"duration": 30.0, "faults": (), "expect": sc.expect.model_copy(update={"serving": ()})}
        )
    )
    r.run()
    assert r.steady()
    r2 = Runner(
        sc.model_copy(update={"duration": 200.0, "expect": sc.expect.model_copy(update={"serving": ()})})
    )
    r2.run()  # the reference story: A crashed at 180 s and is still down at 200 s
    assert not r2.steady()
