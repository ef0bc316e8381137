"""Every scenario of the library passes its own expectations (``quorum sim run FILE --check``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.story.report import check_expect
from sim.story.runner import run_scenario
from sim.story.scenario import load_scenario

SCENARIOS = sorted((Path(__file__).parent.parent / "scenarios").glob("*.yaml"))


def test_library_is_large_enough() -> None:
    """The issue asks for at least 14 named scenarios, including the reference design."""
    assert len(SCENARIOS) >= 14
    assert any(p.name == "reference.yaml" for p in SCENARIOS)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_expectations_hold(path: Path) -> None:
    """Each scenario has an expect block and every expectation passes."""
    sc = load_scenario(path)
    r = run_scenario(sc, seed=0)
    results = check_expect(r)
    assert results, f"{path.name} has no expectations"
    failed = [x for x in results if not x["pass"]]
    assert not failed, failed
