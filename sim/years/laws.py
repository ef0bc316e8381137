"""Failure and repair laws: drawing one duration from a scenario's :class:`sim.story.scenario.Law`.

Every kind is parametrised by its mean (``mean``) and, for Weibull and lognormal, a shape (``shape``:
the Weibull shape ``k``; the lognormal ``sigma`` of ``ln X``).
"""

from __future__ import annotations

import math
import random

from sim.story import scenario as S


def draw(law: S.Law, rng: random.Random) -> float:
    """One duration (seconds) from ``law``; ``mean`` is the law's mean for every kind."""
    if law.kind == "fixed":
        return law.mean
    if law.kind == "exponential":
        return rng.expovariate(1.0 / law.mean)
    if law.kind == "weibull":
        k = law.shape
        scale = law.mean / math.gamma(1.0 + 1.0 / k)
        return rng.weibullvariate(scale, k)
    sigma = law.shape  # lognormal with the given mean
    mu = math.log(law.mean) - sigma * sigma / 2.0
    return rng.lognormvariate(mu, sigma)
