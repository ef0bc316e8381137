"""Independent replications of years mode and their Student-t intervals.

Theory. ``k`` replications with independent seeds give ``k`` i.i.d. estimates of each figure (availability,
downtime per year, months below the SLA per year); their mean with the Student-t interval
``mean ± t(0.975, k-1) s / sqrt(k)`` is a 95 % confidence interval whatever the law of one replication
(by the central limit theorem over replications of many years each). This is the plain method the
design tools here fall back on; :mod:`sim.availability.estimate` (when present) adds variance reduction and
stopping rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sim.story import scenario as S

YEAR = 365.25 * 86400.0


@dataclass(frozen=True, slots=True)
class Figure:
    mean: float
    low: float
    high: float
    method: str

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, "low": self.low, "high": self.high, "method": self.method}


def interval(values: list[float], what: str, lo: float = 0.0, hi: float = math.inf) -> Figure:
    """Student-t 95 % interval of the mean, clipped to the figure's range ``[lo, hi]``: the interval of
    :func:`sim.availability.estimate.mean_interval` (the one rule of every interval); a single value has
    no interval (the whole range)."""
    import numpy as np

    from sim.availability.estimate import mean_interval

    k = len(values)
    f = mean_interval(np.asarray(values, dtype=float), 0.95, what, bounds=(lo, hi))
    assert f.mean is not None
    return Figure(
        f.mean,
        lo if f.low is None else f.low,
        hi if f.high is None else f.high,
        f"Student t 95% over {k} independent replications of {what} (clipped to [{lo:g}, {hi:g}])",
    )


def replicate(
    sc: S.Scenario, years: float, replications: int = 10, seed: int = 0, sla: float = 0.98
) -> dict[str, Figure]:
    """Each figure over ``replications`` independent runs of ``years`` years (seeds seed, seed+1, ...)."""
    from sim.years.engine import run_replication

    if replications < 2:
        raise ValueError(f"replications must be at least 2 for an interval (got {replications})")
    av: list[float] = []
    down: list[float] = []
    below: list[float] = []
    lost: list[float] = []
    for i in range(replications):
        r = run_replication(sc, years, seed + i)
        av.append(r.availability)
        down.append(r.downtime_s / r.horizon_s * YEAR)
        months = [d / n for d, n in zip(r.month_downtime_s, r.month_length_s, strict=True) if n > 0]
        below.append(sum(1 for m in months if 1.0 - m < sla) / r.horizon_s * YEAR)
        lost.append(r.data_lost_bytes / r.horizon_s * YEAR)
    what = f"{years:g} years"
    return {
        "availability": interval(av, what, 0.0, 1.0),
        "downtime_per_year_s": interval(down, what),
        "months_below_sla_per_year": interval(below, what),
        "data_lost_bytes_per_year": interval(lost, what),
    }
