"""``make bench``: figures, not tests. Prints schedules checked per second for the default policy.

Run: ``python -m quorum.bench [--schedules N]``. The figure depends on the machine; compare runs on
one machine, and read the ratio lines (measured in the same run) rather than absolute numbers.
"""

from __future__ import annotations

import argparse
import heapq
import time
from collections.abc import Callable
from typing import Any

from quorum.core import QuorumConfig
from quorum.testing import Driver, explore, run_schedule
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

    # the issue-15 rule: the checker may keep a lighter scheduler than SimPy only if SimPy costs it more
    # than a fifth of its runs per second. The same runs on a bare heap behind the same interface, in
    # CPU time, 5 alternating rounds each; best against best (noise only slows a round down)
    def rate(heap: bool) -> float:
        c0 = time.process_time()
        for _ in range(n // 2):
            d = Driver(config, sched, trace=False, scheduler=HeapScheduler() if heap else None).run()
            assert not d.checker.violations
        return (n // 2) / (time.process_time() - c0)

    simpy_r: list[float] = []
    heap_r: list[float] = []
    for i in range(5):
        for heap in (i % 2 == 0, i % 2 == 1):
            (heap_r if heap else simpy_r).append(rate(heap))
    ratio = max(simpy_r) / max(heap_r)
    print(
        f"driver alone, CPU time, best of 5 alternating rounds: SimPy {max(simpy_r):.1f} runs/s, bare heap"
        f" {max(heap_r):.1f} runs/s: SimPy at {ratio:.0%} of the heap's speed"
        f" ({'SimPy kept' if ratio >= 0.8 else 'the heap would do'}: the threshold is 80 %)"
    )


class HeapScheduler:
    """A bare heap of ``(t, seq, fn, args)`` with the driver's scheduler interface (``now``, ``at``,
    ``run_through``): the lightest loop the checker could have, measured beside SimPy above."""

    def __init__(self) -> None:
        self.now = 0.0
        self.heap: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self._seq = 0

    def at(self, t: float, fn: Callable[..., None], *args: Any) -> None:
        self._seq += 1
        heapq.heappush(self.heap, (t, self._seq, fn, args))

    def run_through(self, until: float, stop: Callable[[], bool]) -> None:
        heap = self.heap
        while heap and heap[0][0] <= until:
            t, _, fn, args = heapq.heappop(heap)
            self.now = t
            fn(*args)
            if stop():
                return
        self.now = max(self.now, until)


if __name__ == "__main__":
    main()
