"""The checker's driver: one schedule through :class:`quorum.testing.world.World` on SimPy.

The world (clocks, processes, links, storage, the performance of the core's actions) is the
simulator's too; this driver adds only the checker's workload (each site tries one write every
``write_interval``, A and B half an interval apart, every write sized 0 bytes: a resync takes
``resync_time``) and the loop, which stops at the first safety violation. Invariants S1-S3 are
checked as the run unfolds by ``quorum.testing.invariants``; L1 at the end.
"""

from __future__ import annotations

from typing import Any

from quorum.core.config import QuorumConfig
from quorum.testing.schedule import Schedule, Step
from quorum.testing.world import NODES, SITES, Event, SimPyScheduler, World, step_end

TraceEntry = Event  # one line of a run's timeline (the name the checker's users know)

__all__ = ["NODES", "SITES", "Driver", "TraceEntry"]


class Driver(World):
    """Runs one schedule. Construct, then ``run()``; read ``trace``, ``checker`` afterwards.

    ``witness_forgets`` makes the witness lose its durable state on restart (a deliberately broken
    store, to show that property S3 can fail). ``trace`` records the timeline (violations always).
    """

    def __init__(
        self,
        config: QuorumConfig,
        schedule: Schedule,
        *,
        write_interval: float = 1.0,
        resync_time: float = 2.0,
        witness_forgets: bool = False,
        trace: bool = True,
        expect_no_role_change: bool = False,
        scheduler: Any = None,
    ) -> None:
        # SimPy's Environment (``scheduler``: another with ``now``, ``at`` and ``run_through``, as the
        # bench's bare heap, python -m quorum.bench)
        self.env = SimPyScheduler() if scheduler is None else scheduler
        super().__init__(
            config,
            self.env,
            seed=schedule.seed,
            resync_time=resync_time,
            witness_forgets=witness_forgets,
            tracing=trace,
            expect_no_role_change=expect_no_role_change,
        )
        self.schedule = schedule
        self.write_interval = write_interval
        self.end_time = 0.0
        for step in schedule.sorted_steps():
            self.sched.at(step.at, self.apply, step)
            self.last_fault_at = max(self.last_fault_at, step_end(step))
        for i, s in enumerate(SITES):
            self.sched.at(write_interval * (0.25 + 0.5 * i), self.writes, s, write_interval)
        for n in NODES:
            self._arm(n)

    def run(self, until: float | None = None) -> Driver:
        """Run to ``until`` (default: last fault + the liveness bound + one lease), then check L1.

        A ``crash_after_persist`` fires when the node next persists, maybe after the last scheduled
        fault: the last fault then moves to that crash and, by default, the run goes on with it.
        """
        explicit = until is not None
        if until is None:
            until = self.last_fault_at + self.cfg.liveness_bound() + self.cfg.lease_duration
        self.checker.liveness_check_at = self.last_fault_at + self.cfg.liveness_bound()
        self.sched.at(self.checker.liveness_check_at, self._liveness)
        self.advance(until)
        while not explicit and not self.checker.stop and not self.checker.liveness_checked:
            self.advance(self.last_fault_at + self.cfg.liveness_bound() + self.cfg.lease_duration)
        if not self.checker.stop:
            self.checker.at_end()
        return self

    def _liveness(self) -> None:
        due = self.last_fault_at + self.cfg.liveness_bound()
        if self.now < due - 1e-9:  # a crash after a persist came after the schedule's last step
            self.checker.liveness_check_at = due
            self.sched.at(due, self._liveness)
            return
        self.checker.check_liveness()

    def advance(self, until: float) -> None:
        """Process every event up to true time ``until`` (stops early on a safety violation)."""
        self.end_time = max(self.end_time, until)
        self.env.run_through(until, self._stopped)

    def _stopped(self) -> bool:
        return self.checker.stop

    def inject(self, step: Step) -> None:
        """Apply a fault step now (used by the stateful test, where faults arrive as rules)."""
        self.apply(step)
        self.last_fault_at = max(self.last_fault_at, self.now + step_end(step) - step.at)
