"""Figures, not tests: simulated years per second of the reference design next to a bare SimPy loop.

Run with ``python bench/years_speed.py [YEARS] [--repeat N]`` (or from ``make bench``). Both figures are measured
in the same run, each the best of ``N`` runs (default 3; the median is printed too), so the ratio says how
much of SimPy's raw speed the years mode keeps. Every run of the years mode must give the same result.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path
from typing import Any

import simpy

from sim.story.scenario import load_scenario
from sim.years.engine import run_years

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
    import argparse

    ap = argparse.ArgumentParser(prog="bench/years_speed.py", description=__doc__.split("\n")[0])
    ap.add_argument("years", nargs="?", type=float, default=1000.0, help="simulated years per run (1000)")
    ap.add_argument(
        "--repeat", type=int, default=3, help="runs of each measurement; best and median shown (3)"
    )
    args = ap.parse_args(sys.argv[1:] if argv is None else argv)
    if args.years <= 0 or args.repeat < 1:
        ap.error("years must be > 0 and --repeat >= 1")
    # best of N (as timeit does): other load on the machine only ever slows a run down
    ev = sorted(bare_simpy_events_per_second() for _ in range(args.repeat))
    runs = [years_per_second(args.years) for _ in range(args.repeat)]
    yps = sorted(r[0] for r in runs)
    out = runs[0][1]
    assert all(r[1] == out for r in runs), "years mode is not reproducible"
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    med = args.repeat // 2
    print(f"bare SimPy loop:        {ev[-1]:12,.0f} events/s (best of {args.repeat}; median {ev[med]:,.0f})")
    print(
        f"years mode (reference): {yps[-1]:12,.1f} simulated years/s (best of {args.repeat};"
        f" median {yps[med]:,.1f}; {args.years:g} years, {out['failures']} failures,"
        f" {out['episodes']} episodes, {out['episodes_simulated_message_level']} simulated at message level)"
    )
    print(f"ratio: {yps[-1] / ev[-1] * 1e6:.1f} simulated years per million bare SimPy events/s")
    print(f"availability {out['availability']:.7f}, downtime {out['downtime_s']:.0f} s")
    print(f"peak memory (max RSS):  {peak_mb:12,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
