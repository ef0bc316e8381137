"""Tier presets: calibrated so one site alone reproduces the Uptime Institute figures."""

from __future__ import annotations

import json
import random

import pytest

from quorum.cli import main
from sim.availability.replicate import replicate
from sim.story import scenario as S
from sim.years.laws import draw
from sim.years.structure import failing_components
from sim.years.tiers import TIERS, single_site


@pytest.mark.parametrize("tier", list(TIERS))
def test_one_site_alone_reproduces_its_tier(tier: str) -> None:
    """A single-site design per Tier (10 replications, ~1,500 site outages in all): the Tier figure is
    inside the 95 % interval of the availability, and the interval is narrow enough to exclude the
    neighbouring Tier's figure (so a wrong preset fails)."""
    t = TIERS[tier]
    fig = replicate(single_site(tier), 1500 / t.outages_per_year / 10, 10, seed=1)["availability"]
    assert fig.low <= t.availability <= fig.high, (tier, fig)
    names = list(TIERS)
    for other in names[max(0, names.index(tier) - 1) : names.index(tier) + 2]:
        if other != tier:
            assert not fig.low <= TIERS[other].availability <= fig.high, (tier, other, fig)


def test_restoration_time_includes_detection() -> None:
    """Detection (uniform within the probe period) plus the preset's repair law average the Tier MTTR."""
    t = TIERS["III"]
    _fail, repair = t.laws(monitoring_interval=600.0)
    rng = random.Random("tier-mttr")
    n = 40000
    mean = sum(rng.uniform(0, 600.0) + draw(repair, rng) for _ in range(n)) / n
    assert mean == pytest.approx(t.mttr_h * 3600, rel=0.03)


def _sc(data: dict[str, object]) -> S.Scenario:
    return S.Scenario.model_validate({"name": "t", **data})


def test_explicit_laws_override_and_tiers_mix() -> None:
    law = {"fail": {"mean": 1e6}, "repair": {"mean": 100}}
    sc = _sc(
        {
            "topology": {
                "sites": {"A": {"tier": "I"}, "B": {"tier": "IV"}},
                "witness_tier": "III",
                "components": {"A": law},
            }
        }
    )
    laws = failing_components(sc)
    assert laws["A"][0].mean == 1e6  # explicit beats the preset
    assert laws["B"] == TIERS["IV"].laws(sc.monitoring_interval)
    assert laws["W"] == TIERS["III"].laws(sc.monitoring_interval)
    assert "A" not in failing_components(_sc({}))  # no tier: no infrastructure failures


def test_tiers_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "tiers"]) == 0
    out = capsys.readouterr().out
    assert "99.995%" in out and "99.671%" in out and "source" in out
    assert main(["sim", "tiers", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["tier"] for r in rows] == ["I", "II", "III", "IV"]
    assert rows[0]["downtime_h_per_year"] == pytest.approx(28.8, abs=0.1)
    assert rows[3]["downtime_h_per_year"] == pytest.approx(0.44, abs=0.01)


def test_bad_tier_is_one_clear_error() -> None:
    with pytest.raises(S.ScenarioError) as e:
        S.parse_scenario("name: x\ntopology:\n  sites:\n    A: {tier: V}\n", "f.yaml")
    assert str(e.value).startswith("f.yaml:4: field 'topology.sites.A.tier'"), str(e.value)
