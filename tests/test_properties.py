"""Property-based tests: every safe policy keeps S1-S3 on every schedule, L1 after faults stop,
L2 under loss below the timeout; the unsafe baseline and a too-weak lease are caught."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hseed

from quorum.core import Policy, QuorumConfig
from quorum.testing import benign_schedules, explore, run_schedule, schedules
from quorum.testing.schedule import Schedule

SAFE = [p for p in Policy if p is not Policy.BOTH_CONTINUE]
CONFIGS = {
    **{p.value: QuorumConfig(policy=p) for p in SAFE},
    "witness-preferred+pre-election": QuorumConfig(pre_election=True),
    "witness-race+pre-election": QuorumConfig(policy="witness-race", pre_election=True),
    "majority+keep-active-partition": QuorumConfig(policy="majority", keep_active_partition=True),
    "witness-preferred+auto-failback": QuorumConfig(auto_failback=True),
    "witness-preferred+bounded-loss": QuorumConfig(consistency="bounded-loss"),
    "last-man-standing+short-window": QuorumConfig(policy="last-man-standing", last_man_window=5),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_safe_policies_hold_every_property(name: str) -> None:
    """S1, S2, S3 on every schedule; L1 wherever the policy promises it."""
    config = CONFIGS[name]

    @given(schedules(config))
    def check(schedule: Schedule) -> None:
        result = run_schedule(config, schedule, trace=False)
        assert not result.violations, run_schedule(config, schedule).timeline()

    check()


@pytest.mark.parametrize("policy", SAFE, ids=lambda p: p.value)
def test_no_false_failover_below_the_detection_timeout(policy: Policy) -> None:
    """L2: short loss bursts, duplication and reordering change no role."""
    config = QuorumConfig(policy=policy)

    @given(benign_schedules(config))
    def check(schedule: Schedule) -> None:
        result = run_schedule(config, schedule, expect_no_role_change=True)
        assert not result.violations, result.timeline()

    check()


def test_the_l2_check_can_fail() -> None:
    """A cut longer than the detection timeout does change roles, and L2 reports it."""
    from quorum.testing.schedule import Cut, Heal

    config = QuorumConfig()
    long_cut = Schedule(
        steps=(
            Cut(at=2, src="A", dst="B"),
            Heal(at=2 + config.detection_timeout + 1, src="A", dst="B"),
        )
    )
    result = run_schedule(config, long_cut, expect_no_role_change=True)
    assert [v.property for v in result.violations][:1] == ["L2"]


def test_unsafe_baseline_counterexample_is_found_and_short() -> None:
    """both-continue splits the brain; hypothesis finds it and shrinks it to at most 6 steps."""
    report = explore(QuorumConfig(policy="both-continue"), schedules=200, seed=0)
    ce = report.counterexample
    assert ce is not None
    assert ce.violations[0].property == "S1"
    assert 1 <= len(ce.schedule.steps) <= 6
    assert "both serve alone" in ce.violations[0].detail


def test_drift_beyond_the_bound_breaks_lease_safety() -> None:
    """With the margin exactly at lease*ρ, clocks drifting beyond ρ let two sites serve alone:
    the drift bound is real. (The same config is safe with drift within the bound.)"""
    tight = QuorumConfig(policy="witness-race", max_clock_drift=0.01, lease_margin=0.1, lease_duration=10)
    found: list[Schedule] = []

    @hseed(7)
    @settings(max_examples=3000, phases=[Phase.generate], database=None, deadline=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(schedules(tight, drift="beyond", operator=False, max_steps=6))
    def hunt(schedule: Schedule) -> None:
        result = run_schedule(tight, schedule, trace=False)
        if any(v.property == "S1" for v in result.violations):
            found.append(schedule)
            raise AssertionError("S1")

    with pytest.raises(AssertionError):
        hunt()
    assert found
    assert any(s.fault == "drift" for s in found[-1].steps)

    @given(schedules(tight, drift="within"))
    def within(schedule: Schedule) -> None:
        assert not run_schedule(tight, schedule, trace=False).safety_violations

    within()


def test_a_witness_that_forgets_its_epoch_breaks_s3() -> None:
    """S3 can fail: a witness whose store loses the epoch on restart hands out an old epoch."""
    from quorum.testing.schedule import Crash, Cut, Restart

    config = QuorumConfig()
    sched = Schedule(steps=(Cut(at=1, src="A", dst="B"), Crash(at=20, node="W"), Restart(at=21, node="W"),
                            Crash(at=22, node="A")))  # fmt: skip
    assert not run_schedule(config, sched).violations
    forgetful = run_schedule(config, sched, witness_forgets=True)
    assert "S3" in {v.property for v in forgetful.violations}


def test_a_witness_ignoring_data_currency_breaks_s2(monkeypatch: pytest.MonkeyPatch) -> None:
    """S2 can fail: a witness that treats every copy as current promotes a stale one."""
    from quorum.core import witness as witness_module
    from quorum.testing.schedule import Crash, Restart

    original = witness_module.WitnessMachine._persist

    def careless(self: witness_module.WitnessMachine, new: object, acts: list[object]) -> None:
        original(self, witness_module.replace(new, current=witness_module.BOTH), acts)  # type: ignore[type-var]

    monkeypatch.setattr(witness_module.WitnessMachine, "_persist", careless)
    sched = Schedule(steps=(Crash(at=1, node="B"), Restart(at=30, node="B"), Crash(at=30.5, node="A")))
    result = run_schedule(QuorumConfig(), sched)
    assert "S2" in {v.property for v in result.violations}


@pytest.mark.deep
@pytest.mark.parametrize("name", list(CONFIGS))
def test_deep_exploration(name: str) -> None:
    """make deep-test: 20,000 schedules per configuration, no violation."""
    report = explore(CONFIGS[name], schedules=20_000, seed=11)
    assert report.counterexample is None, report.counterexample.timeline() if report.counterexample else ""
