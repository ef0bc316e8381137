"""Scenarios with a ``years_expect`` block show those figures in years mode (``sim.years.check``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.story.scenario import load_scenario
from sim.years.check import check_years

SCENARIOS = sorted((Path(__file__).parent.parent / "scenarios").glob("*.yaml"))
WITH_YEARS = [p for p in SCENARIOS if load_scenario(p).years_expect is not None]


def test_years_blocks_exist() -> None:
    assert any(p.stem == "common-cause-beta" for p in WITH_YEARS)


@pytest.mark.parametrize("path", WITH_YEARS, ids=[p.stem for p in WITH_YEARS])
def test_years_expectations_hold(path: Path) -> None:
    results = check_years(load_scenario(path))
    assert results, f"{path.name}: empty years_expect"
    failed = [x for x in results if not x["pass"]]
    assert not failed, failed


def test_unknown_figure_fails_and_names_it() -> None:
    sc = load_scenario(WITH_YEARS[0])
    assert sc.years_expect is not None
    bad = sc.model_copy(
        update={"years_expect": sc.years_expect.model_copy(update={"min": {"nope": 1.0}, "max": {}})}
    )
    (res,) = check_years(bad, {"availability": 1.0})
    assert not res["pass"] and "nope" in res["check"]
