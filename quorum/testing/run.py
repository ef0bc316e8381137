"""Run one schedule through the in-memory driver and summarise the result."""

from __future__ import annotations

from dataclasses import dataclass

from quorum.core.config import QuorumConfig
from quorum.testing.driver import Driver, TraceEntry
from quorum.testing.invariants import SAFETY, Violation
from quorum.testing.schedule import Schedule


@dataclass(frozen=True)
class RunResult:
    """What one run produced: violations (first safety violation stops the run), the timeline."""

    config: QuorumConfig
    schedule: Schedule
    violations: tuple[Violation, ...]
    availability_loss: str | None
    trace: tuple[TraceEntry, ...]
    acknowledged_writes: int
    lost_writes: int
    role_changes: int
    end_time: float

    @property
    def safety_violations(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.property in SAFETY)

    @property
    def ok(self) -> bool:
        return not self.violations

    def timeline(self) -> str:
        """A readable timeline: faults, role changes, witness decisions, violations."""
        lines = []
        for e in self.trace:
            lines.append(f"  t={e.t:9.3f}s  {e.kind:<9} {e.node:<2} {e.text}")
        return "\n".join(lines)


def run_schedule(
    config: QuorumConfig,
    schedule: Schedule,
    *,
    trace: bool = True,
    witness_forgets: bool = False,
    expect_no_role_change: bool = False,
    write_interval: float = 1.0,
    resync_time: float = 2.0,
) -> RunResult:
    """Run ``schedule`` against ``config`` in the deterministic in-memory driver."""
    d = Driver(
        config,
        schedule,
        trace=trace,
        witness_forgets=witness_forgets,
        expect_no_role_change=expect_no_role_change,
        write_interval=write_interval,
        resync_time=resync_time,
    ).run()
    return RunResult(
        config=config,
        schedule=schedule,
        violations=tuple(d.checker.violations),
        availability_loss=d.checker.availability_loss,
        trace=tuple(d.trace),
        acknowledged_writes=len(d.acked),
        lost_writes=len(d.lost),
        role_changes=d.role_changes,
        end_time=d.now,
    )
