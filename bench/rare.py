"""Relative error at a fixed budget as failures get rarer: importance vs plain (figures, not a test).

Two sites with exponential laws (the exact CTMC gives the truth), every failure rate divided by 1, 10,
100, 1000: the importance estimator (4,000 episodes) and the plain one (2,000 one-year replications), each
with its relative half-width, the exact value, and whether the interval holds it. Run with
``python bench/rare.py`` (or ``make bench``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from test_sim_rare import _pair

from sim.availability import importance as imp
from sim.availability.ctmc import exact
from sim.availability.estimate import estimate


def main() -> None:
    print(f"{'rates /':>8} {'exact U':>10} | {'importance (4,000 episodes)':<40} | plain (2,000 years)")
    for scale in (1, 10, 100, 1000):
        sc = _pair(3.16e6 * scale)
        want = exact(sc).unavailability
        t0 = time.perf_counter()
        res, _r, _rel = imp.run(
            sc, seed=1, precision=1e-9, confidence=0.95, max_episodes=4000, min_episodes=4000
        )
        m, lo, hi = res.ratio(np.asarray(res.struct), 0.95)
        ti = time.perf_counter() - t0
        assert lo is not None and hi is not None
        t0 = time.perf_counter()
        rep = estimate(sc, seed=1, estimator="plain", max_years=2000, min_replications=2000, precision=1e-9)
        tp = time.perf_counter() - t0
        x = np.array([r.structural_downtime_s for r in rep.reps]) / (365.25 * 86400)
        pm = float(x.mean())
        ph = 1.96 * float(x.std(ddof=1)) / len(x) ** 0.5
        seen = rep.events["observed"] if rep.events else 0
        imp_txt = f"{m:.3e} +-{(hi - m) / m:6.1%} {'holds' if lo <= want <= hi else 'MISSES'} {ti:4.1f} s"
        plain_txt = (
            f"{pm:.3e} +-{ph / pm:6.1%} ({seen} overlaps) {tp:4.1f} s"
            if pm > 0
            else f"no overlap seen {tp:4.1f} s"
        )
        print(f"{scale:>8} {want:10.3e} | {imp_txt:<40} | {plain_txt}")


if __name__ == "__main__":
    main()
