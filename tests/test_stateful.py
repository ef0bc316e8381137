"""Stateful hypothesis tests (RuleBasedStateMachine): faults arrive one rule at a time, S1-S3 are
invariants after every step, L1 is checked once every fault is repaired."""

from __future__ import annotations

from hypothesis import settings

from quorum.core import QuorumConfig
from quorum.testing import make_state_machine

_short = settings(stateful_step_count=25, max_examples=25)

TestWitnessPreferred = make_state_machine(QuorumConfig()).TestCase
TestWitnessPreferred.settings = _short
TestWitnessRace = make_state_machine(QuorumConfig(policy="witness-race")).TestCase
TestWitnessRace.settings = _short
TestMajorityPreElection = make_state_machine(QuorumConfig(policy="majority", pre_election=True)).TestCase
TestMajorityPreElection.settings = _short
TestLastManStanding = make_state_machine(QuorumConfig(policy="last-man-standing", last_man_window=5)).TestCase
TestLastManStanding.settings = _short
TestStaticPreferred = make_state_machine(QuorumConfig(policy="static-preferred")).TestCase
TestStaticPreferred.settings = _short


def test_the_state_machine_catches_the_unsafe_baseline() -> None:
    """The stateful test is not vacuous: on both-continue it fails."""
    import pytest

    Broken = make_state_machine(QuorumConfig(policy="both-continue")).TestCase
    Broken.settings = settings(
        stateful_step_count=20, max_examples=200, database=None, report_multiple_bugs=False
    )
    with pytest.raises(AssertionError, match="S1"):
        Broken().runTest()
