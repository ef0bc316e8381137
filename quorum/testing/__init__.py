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

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from quorum.testing.driver import Driver, TraceEntry
from quorum.testing.explore import CheckReport, explore, replay, sample_schedules
from quorum.testing.invariants import PROPERTIES, SAFETY, Checker, Violation, liveness_promise
from quorum.testing.run import RunResult, run_schedule
from quorum.testing.schedule import Schedule, Step, describe_step

if TYPE_CHECKING:
    from quorum.testing.stateful import make_state_machine
    from quorum.testing.strategies import benign_schedules, fault_steps, lie_steps, schedules

# the names whose modules import hypothesis, imported at first use: the simulator's runner and the live
# agent use this package's world and checkers, and importing hypothesis cost them 0.1 s of start-up
# (``explore`` imports it inside its functions: a lazy name may not be its module's name, which the
# import system binds on the package once the module is imported)
_LAZY = {
    "make_state_machine": "stateful",
    "benign_schedules": "strategies",
    "fault_steps": "strategies",
    "lie_steps": "strategies",
    "schedules": "strategies",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'quorum.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"quorum.testing.{module}"), name)
    globals()[name] = value
    return value


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
