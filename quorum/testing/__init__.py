"""Public property-testing kit: fault-schedule strategies, an in-memory driver, invariant checkers.

Users property-test their own configurations with exactly what our own tests use::

    from hypothesis import given
    from quorum.core import QuorumConfig
    from quorum.testing import run_schedule, schedules

    CONFIG = QuorumConfig(policy="witness-race")

    @given(schedules(CONFIG))
    def test_never_split(schedule):
        result = run_schedule(CONFIG, schedule)
        assert not result.violations, result.timeline()
"""

from quorum.testing.driver import Driver, TraceEntry
from quorum.testing.explore import CheckReport, explore, replay, sample_schedules
from quorum.testing.invariants import PROPERTIES, SAFETY, Checker, Violation, liveness_promise
from quorum.testing.run import RunResult, run_schedule
from quorum.testing.schedule import Schedule, Step, describe_step
from quorum.testing.stateful import make_state_machine
from quorum.testing.strategies import benign_schedules, fault_steps, lie_steps, schedules

__all__ = [
    "PROPERTIES",
    "SAFETY",
    "CheckReport",
    "Checker",
    "Driver",
    "RunResult",
    "Schedule",
    "Step",
    "TraceEntry",
    "Violation",
    "benign_schedules",
    "describe_step",
    "explore",
    "fault_steps",
    "lie_steps",
    "liveness_promise",
    "make_state_machine",
    "replay",
    "run_schedule",
    "sample_schedules",
    "schedules",
]
