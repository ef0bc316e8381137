"""``make bench``: figures, not tests. Prints schedules checked per second for the default policy.

Run: ``python -m quorum.bench [--schedules N]``. The figure depends on the machine; compare runs on
one machine, and read the ratio lines (measured in the same run) rather than absolute numbers.
"""

from __future__ import annotations

import argparse
import time

from quorum.core import QuorumConfig
from quorum.testing import explore, run_schedule
from quorum.testing.schedule import Cut, Schedule


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m quorum.bench")
    parser.add_argument("--schedules", type=int, default=1000)
    args = parser.parse_args()
    config = QuorumConfig()

    t0 = time.perf_counter()
    report = explore(config, args.schedules, seed=1)
    dt = time.perf_counter() - t0
    print(
        f"quorum check --policy witness-preferred: {report.schedules} schedules in {dt:.2f}s"
        f" = {report.schedules / dt:.1f} schedules/s (hypothesis generation included)"
    )

    # the bare driver: one fixed schedule, many times (no hypothesis)
    sched = Schedule(seed=1, steps=(Cut(at=5, src="A", dst="B"),))
    n = 200
    t0 = time.perf_counter()
    for _ in range(n):
        result = run_schedule(config, sched, trace=False)
    dt2 = time.perf_counter() - t0
    sim_seconds = result.end_time
    print(
        f"driver alone: {n / dt2:.1f} runs/s of {sim_seconds:.0f} simulated seconds"
        f" = {n * sim_seconds / dt2:,.0f} simulated seconds per wall second"
    )
    print(f"ratio exploration/driver-alone runs per second: {(report.schedules / dt) / (n / dt2):.2f}")

    # the same world and runs on SimPy's Environment instead of the checker's heap (issue 15: the
    # checker keeps the heap when SimPy costs it more than a fifth of its runs per second)
    import simpy

    from quorum.testing import Driver

    t0 = time.perf_counter()
    for _ in range(n):
        d = Driver(config, sched, trace=False, simpy_env=simpy.Environment()).run()
        assert not d.checker.violations
    dt3 = time.perf_counter() - t0
    print(
        f"driver alone on SimPy's Environment: {n / dt3:.1f} runs/s = {dt2 / dt3:.0%} of the heap's"
        f" ({'heap kept' if dt2 / dt3 < 0.8 else 'SimPy would do'}: the threshold is 80 %)"
    )


if __name__ == "__main__":
    main()
