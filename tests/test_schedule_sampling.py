"""The same fault schedules for several policies: ``sample_schedules`` and ``faults_from_schedule``."""

from __future__ import annotations

from pathlib import Path

from quorum.core import QuorumConfig
from quorum.testing import Schedule, sample_schedules
from quorum.testing import schedule as sch
from sim.story import scenario as S

BASE = S.load_scenario(Path(__file__).parent.parent / "scenarios" / "site-crash.yaml")


def test_sample_schedules_is_reproducible() -> None:
    """The same seed gives the same schedules; another seed gives others."""
    a = sample_schedules(QuorumConfig(), 8, seed=5)
    assert len(a) == 8
    assert a == sample_schedules(QuorumConfig(), 8, seed=5)
    assert a != sample_schedules(QuorumConfig(), 8, seed=6)


def test_operator_steps_can_be_left_out() -> None:
    """operator=False draws no switchover or forced takeover."""
    for s in sample_schedules(QuorumConfig(), 30, seed=1, operator=False):
        assert not any(isinstance(x, sch.TakeoverStep | sch.SwitchoverStep) for x in s.steps)


def test_faults_from_schedule_maps_each_step() -> None:
    """A checker step becomes the scenario fault that means the same thing, on the link between its ends."""
    steps = (
        sch.Cut(at=1.0, src="B", dst="A", oneway=True),
        sch.Isolate(at=2.0, node="W"),
        sch.Unhealthy(at=3.0, site="A", duration=5.0),
        sch.MaintenanceStep(at=4.0, duration=9.0),
        sch.Crash(at=5.0, node="A"),
    )
    faults = S.faults_from_schedule(BASE, Schedule(seed=0, steps=steps))
    assert faults[0] == S.Cut(at=1.0, do="cut", link="ab", src="B")
    assert faults[1] == S.Isolate(at=2.0, do="isolate", node="W")
    assert faults[2] == S.Unhealthy(at=3.0, do="unhealthy", site="A", duration=5.0)
    assert faults[3] == S.MaintenanceMode(at=4.0, do="maintenance_mode", duration=9.0)
    assert faults[4] == S.Crash(at=5.0, do="crash", node="A")
    assert S.scenario_steps(BASE.model_copy(update={"faults": faults})) == list(steps)  # and back
