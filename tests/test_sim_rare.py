"""Rare overlaps: the importance estimator covers exact answers as failures get rarer, its relative error
stays bounded where the plain estimator's grows, and no estimator claims precision that no observed
event carries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from quorum.core.config import Consistency, QuorumConfig
from sim.availability import importance as imp
from sim.availability.ctmc import exact
from sim.availability.estimate import estimate
from sim.availability.prior import events_needed, prior
from sim.story import scenario as S
from sim.story.scenario import load_scenario

RARE = Path(__file__).parent.parent / "scenarios" / "rare-overlap.yaml"
RARE_EXACT = (86400.0005 / (3.6e7 + 86400.0005)) ** 2  # (MDT / (MTTF + MDT))^2, Weibull / lognormal laws


def _pair(fail_mean: float, repair_mean: float = 1e5) -> S.Scenario:
    """Two sites with exponential laws, a crew each, a witness that never fails."""
    laws = S.ComponentLaws(
        fail=S.Law(kind="exponential", mean=fail_mean), repair=S.Law(kind="exponential", mean=repair_mean)
    )
    return S.Scenario(
        name="pair",
        quorum=QuorumConfig(consistency=Consistency.BOUNDED_LOSS),
        topology=S.Topology(components={"A": laws, "B": laws}),
        crews=2,
        monitoring_interval=0.001,
    )


def _structural(sc: S.Scenario, seed: int, episodes: int | None = None) -> tuple[float, float, float, float]:
    """Importance estimate of the structural unavailability: (mean, low, high, relative half-width)."""
    if episodes is None:
        res, _reached, _rel = imp.run(sc, seed=seed, precision=0.1, confidence=0.95)
    else:
        res, _reached, _rel = imp.run(
            sc, seed=seed, precision=1e-9, confidence=0.95, max_episodes=episodes, min_episodes=episodes
        )
    m, lo, hi = res.ratio(np.asarray(res.struct), 0.95)
    assert lo is not None and hi is not None
    return m, lo, hi, (hi - m) / m


@pytest.mark.parametrize("fail_mean", [3.16e7, 3.16e8, 3.16e9], ids=["U~1e-5", "U~1e-7", "U~1e-9"])
def test_importance_covers_the_exact_ctmc_value_as_failures_get_rarer(fail_mean: float) -> None:
    """Exponential laws (the exact CTMC exists): 10 seeds, 95 % intervals at +-10 %: at least 8 contain
    the exact structural unavailability, from U ~ 1e-5 down to U ~ 1e-9."""
    sc = _pair(fail_mean)
    want = exact(sc).unavailability
    hits = sum(lo <= want <= hi for _m, lo, hi, _r in (_structural(sc, seed) for seed in range(10)))
    assert hits >= 8, (want, hits)


def test_importance_covers_the_closed_form_with_weibull_and_lognormal_laws() -> None:
    """Weibull failures and lognormal repairs (no exact CTMC): the closed form of independent units,
    10 seeds, at least 8 intervals contain it; and a deliberately wrong model is caught: dropping the
    likelihood ratios (weight 1 for every biased path) gives intervals that exclude it."""
    sc = load_scenario(RARE)
    hits = wrong_hits = 0
    for seed in range(10):
        res, _reached, _rel = imp.run(sc, seed=seed, precision=0.1, confidence=0.95)
        _m, lo, hi = res.ratio(np.asarray(res.struct), 0.95)
        assert lo is not None and hi is not None
        hits += lo <= RARE_EXACT <= hi
        res.w = [1.0] * res.n  # the wrong model: biased paths counted as if they were the true ones
        _m, lo, hi = res.ratio(np.asarray(res.struct), 0.95)
        assert lo is not None and hi is not None
        wrong_hits += lo <= RARE_EXACT <= hi
    assert hits >= 8
    assert wrong_hits == 0


def test_relative_error_stays_bounded_for_importance_and_grows_for_plain() -> None:
    """At a fixed budget (4,000 episodes; 2,000 simulated years for plain), every failure rate divided by
    10, 100, 1000: importance's relative half-width stays within a factor 2 of its first value while the
    plain estimator sees ever fewer overlaps and ends with none (no precision claimed, a bound)."""
    imp_rel = []
    plain_seen = []
    for scale in (1, 10, 100, 1000):
        sc = _pair(3.16e6 * scale)
        imp_rel.append(_structural(sc, 1, episodes=4000)[3])
        rep = estimate(
            sc,
            seed=1,
            estimator="plain",
            max_years=2000,
            min_replications=2000,
            precision=1e-9,
            start="steady",
        )
        assert rep.events is not None
        plain_seen.append(rep.events["observed"])
        assert not rep.precision_reached
    assert max(imp_rel) < 2 * min(imp_rel), imp_rel
    assert plain_seen[0] > 100 and plain_seen[-1] == 0, plain_seen
    assert plain_seen == sorted(plain_seen, reverse=True)


def test_plain_does_not_claim_precision_without_the_overlaps_that_carry_it() -> None:
    """rare-overlap (exact U 5.73e-6, Weibull/lognormal laws) with 3,000 simulated years: the plain
    estimator used to stop at +-10 % around 1.5e-8 (380 times too low) because replications without an
    overlap vary little; now it sees how few overlaps it has, says precision is not reached, and its
    one-sided bound is above the truth."""
    sc = load_scenario(RARE)
    rep = estimate(sc, seed=3, estimator="plain", max_years=3000)
    assert not rep.precision_reached
    ev = rep.events
    assert ev is not None and ev["observed"] < ev["needed_for_precision"] == events_needed(0.1, 0.95)
    u = rep.figures["unavailability"]
    assert u.high is not None and u.high > RARE_EXACT
    assert any("precision not claimed" in n for n in rep.notes)
    # every structural outage of two sites is an overlap of the one minimal cut A+B, counted as such
    assert ev["by_minimal_cut"] == {"A+B": ev["observed"]}
    (cls,) = ev["classes"]
    assert (cls["cut"], cls["needed"], cls["observed"]) == ("A+B", 385, ev["observed"])
    assert cls["prior_unavailability"] == pytest.approx(RARE_EXACT, rel=1e-9)


def _two_classes() -> S.Scenario:
    """Four minimal cuts of equal prior U: A+B, A+W, B+W (frequent, short overlaps: the sites fail every
    100 h) and W+ab (the witness and the inter-site link fail every 100,000 h, for 5,000 h: rare, long)."""
    h = 3600.0
    site = S.ComponentLaws(
        fail=S.Law(kind="weibull", mean=100 * h, shape=1.5), repair=S.Law(kind="lognormal", mean=5 * h)
    )
    rare = S.ComponentLaws(
        fail=S.Law(kind="weibull", mean=1e5 * h, shape=1.5), repair=S.Law(kind="lognormal", mean=5000 * h)
    )
    return S.Scenario(
        name="two-classes",
        quorum=QuorumConfig(consistency=Consistency.BOUNDED_LOSS),
        topology=S.Topology(
            links=(
                S.LinkSpec(name="ab", between=("A", "B"), fail=rare.fail, repair=rare.repair),
                S.LinkSpec(name="aw", between=("A", "W")),
                S.LinkSpec(name="bw", between=("B", "W")),
            ),
            components={"A": site, "B": site, "W": rare},
        ),
        crews=4,
        monitoring_interval=1,
    )


def test_every_material_class_of_outage_must_be_seen() -> None:
    """The rule is per minimal cut: thousands of short overlaps of the sites' cuts cannot stand for the
    rare long overlap of the witness and the link, which carries a quarter of U a priori (the old rule
    counted all structural outages together: 5,225 >= 385, precision claimed with a quarter of U never
    seen). Cuts whose prior U adds up to less than half the precision are not asked for."""
    from sim.availability.prior import MIN_CLASS_EVENTS, requirements

    p = prior(_two_classes())
    assert p is not None
    names = [c.name for c in p.cuts]
    assert sorted(names) == ["A+B", "A+W", "B+W", "W+ab#0"]
    assert p.classify(frozenset({"A", "B", "W"})) in {"A+B", "A+W", "B+W"}
    assert p.classify(frozenset({"ab#0", "W"})) == "W+ab#0"
    assert p.classify(frozenset({"A"})) == "other"
    u = p.structural_unavailability
    seen = {"A+B": 2625, "A+W": 1296, "B+W": 1304}
    reqs = requirements(p, u, 0.1, 0.95, seen)
    assert sum(seen.values()) >= events_needed(0.1, 0.95)
    short = [q.cut for q in reqs if q.observed < q.needed]
    assert short == ["W+ab#0"]
    assert all(q.needed == max(MIN_CLASS_EVENTS, 97) for q in reqs)  # 385 x a quarter each
    assert not [q for q in requirements(p, u, 0.1, 0.95, {**seen, "W+ab#0": 97}) if q.observed < q.needed]
    # an estimate 100 times the prior: every cut together moves it by 1 %, below half the precision
    assert requirements(p, 100 * u, 0.1, 0.95, {}) == []


def test_auto_picks_importance_where_overlaps_are_too_rare_and_says_so() -> None:
    """auto: importance on rare-overlap (the overlaps plain would need take ~1e5 years), with a note; the
    exact value is inside its interval and the report says how many overlap episodes carried it."""
    rep = estimate(load_scenario(RARE), seed=2)
    assert rep.estimator == "importance"
    assert any(n.startswith("auto: importance") for n in rep.notes)
    u = rep.figures["unavailability"]
    assert u.low is not None and u.high is not None and u.low <= RARE_EXACT * 1.03 and u.high >= RARE_EXACT
    assert rep.events is not None and rep.events["overlap_episodes_with_downtime"] > 100


def test_prior_is_exact_for_independent_units() -> None:
    """The prior's structural unavailability is the closed form for two independent units, any laws."""
    p = prior(load_scenario(RARE))
    assert p is not None and p.structural_unavailability == pytest.approx(RARE_EXACT, rel=1e-9)


def test_importance_refuses_calendar_events() -> None:
    """Maintenance windows follow the calendar, not a failure law: importance says so in one line."""
    sc = load_scenario(Path(__file__).parent.parent / "scenarios" / "patch-calendar.yaml")
    with pytest.raises(imp.NotSupportedError, match="maintenance windows"):
        imp.design(sc)
