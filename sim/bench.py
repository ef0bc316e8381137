"""Figures, not tests: simulated years per second of the reference design next to a bare SimPy loop.

Run with ``python -m sim.bench`` (or from ``make bench``). Both figures are measured in the same run,
so the ratio says how much of SimPy's raw speed the years mode keeps.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path
from typing import Any

import simpy

from sim.scenario import load_scenario
from sim.years import run_years

REFERENCE = Path(__file__).resolve().parent.parent / "scenarios" / "reference.yaml"


def bare_simpy_events_per_second(events: int = 200_000) -> float:
    """Events per second of a SimPy loop doing nothing but ``yield env.timeout(1)``."""
    env = simpy.Environment()

    def loop() -> Any:
        for _ in range(events):
            yield env.timeout(1.0)

    env.process(loop())
    t0 = time.perf_counter()
    env.run()
    return events / (time.perf_counter() - t0)


def years_per_second(
    years: float = 1000.0, seed: int = 0, path: Path = REFERENCE
) -> tuple[float, dict[str, Any]]:
    sc = load_scenario(path)
    t0 = time.perf_counter()
    out = run_years(sc, years, seed)
    return years / (time.perf_counter() - t0), out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    years = float(args[0]) if args else 1000.0
    ev = bare_simpy_events_per_second()
    yps, out = years_per_second(years)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"bare SimPy loop:        {ev:12,.0f} events/s")
    print(
        f"years mode (reference): {yps:12,.1f} simulated years/s"
        f" ({years:g} years, {out['failures']} failures, {out['episodes']} episodes,"
        f" {out['episodes_simulated_message_level']} simulated at message level)"
    )
    print(f"availability {out['availability']:.7f}, downtime {out['downtime_s']:.0f} s")
    print(f"peak memory (max RSS):  {peak_mb:12,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
