"""Counterexamples found by 20,000-schedule explorations (``make deep-test``), kept as fixed schedules.

Each ran into a violation before the rule named in its test was added to the core or the checker;
each must now run clean (no safety violation, and L1 where the policy promises it).
"""

from __future__ import annotations

import pytest

from quorum.core import QuorumConfig, Role
from quorum.testing import run_schedule
from quorum.testing.schedule import (
    Crash,
    Cut,
    Degrade,
    Flap,
    Heal,
    HealAll,
    Restart,
    Schedule,
    Step,
    SwitchoverStep,
    TakeoverStep,
)

CASES: dict[str, tuple[QuorumConfig, tuple[Step, ...], str]] = {
    # A heard B only one way after the split; without a witness, A resumes alone instead of waiting
    # forever for a resynchronisation B can never acknowledge
    "static-preferred: one-way heal, preferred site restarted": (
        QuorumConfig(policy="static-preferred"),
        (
            Cut(at=0, src="A", dst="B"),
            Heal(at=3.1, src="B", dst="A", oneway=True),
            Crash(at=4.1, node="A"),
            Restart(at=4.1, node="A"),
        ),
        "resume alone",
    ),
    # B, fenced by the witness's denial (operator declared it fenced) but holding the only current copy,
    # resynchronises A once the witness is gone and the pending takeover with it
    "witness-race+pre-election: fenced holder of the latest copy recovers the pair": (
        QuorumConfig(policy="witness-race", pre_election=True),
        (
            Cut(at=0, src="A", dst="B"),
            Flap(at=2.1, src="A", dst="B", period=0.9, count=1),
            TakeoverStep(at=5.1, to="A", fence=True),
            Restart(at=5.2, node="B"),
            Crash(at=5.5, node="W"),
        ),
        "peer resynchronised",
    ),
    # W's grant to A never reached it (W->A cut); B restarted and still knows A holds epoch 2 (the
    # holder is persisted), so A resynchronises B and the pair mirrors at epoch 2
    "majority+keep-active-partition: lost grant, restarted peer": (
        QuorumConfig(policy="majority", keep_active_partition=True),
        (
            Cut(at=0, src="A", dst="B"),
            Cut(at=0, src="W", dst="A", oneway=True),
            Flap(at=6.8, src="A", dst="B", period=0.1, count=2),
            Crash(at=10.1, node="B"),
            Restart(at=14, node="B"),
        ),
        "peer resynchronised",
    ),
    "witness-preferred+auto-failback: lost grant, restarted peer": (
        QuorumConfig(auto_failback=True),
        (
            Cut(at=0, src="A", dst="B"),
            Cut(at=0, src="W", dst="A", oneway=True),
            Flap(at=2.1, src="A", dst="B", period=0.9, count=1),
            Crash(at=4.5, node="B"),
            Restart(at=4.5, node="B"),
        ),
        "peer resynchronised",
    ),
    # a switchover grant to B crossed B's commitment to A's pre-election; A, the pre-elected winner,
    # minted the same epoch itself: the witness adopts A as its holder (before: B later took the grant
    # on a stale copy, S2)
    "witness-preferred+pre-election: switchover grant crosses a pre-election": (
        QuorumConfig(pre_election=True),
        (
            Cut(at=5.1, src="A", dst="W"),
            SwitchoverStep(at=9.4, to="B"),
            Cut(at=11.1, src="A", dst="B"),
            HealAll(at=15.1),
        ),
        "adopted epoch 2 reported by A",
    ),
    # the preferred site flaps between solo and frozen on a link that stays lossy: faults have not
    # stopped, so L1 is not promised at one instant (an availability loss, not a violation)
    "static-preferred+pre-promote-check: link lossy to the end": (
        QuorumConfig(policy="static-preferred", pre_promote_check=True, pre_promote_retry=5),
        (Degrade(at=0.2, src="A", dst="B", loss=0.7),),
        "",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_counterexample_now_runs_clean(name: str) -> None:
    config, steps, expected = CASES[name]
    result = run_schedule(config, Schedule(seed=0, steps=steps))
    assert not result.violations, result.timeline()
    assert expected in result.timeline()


def test_switchover_crossing_a_pre_election_leaves_one_holder() -> None:
    config, steps, _ = CASES["witness-preferred+pre-election: switchover grant crosses a pre-election"]
    result = run_schedule(config, Schedule(seed=0, steps=steps))
    solo = [e for e in result.trace if e.kind == "role" and f"-> {Role.SOLO.value} epoch 2" in e.text]
    assert [e.node for e in solo] == ["A"]
