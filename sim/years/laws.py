"""Failure and repair laws: drawing one duration from a scenario's :class:`sim.story.scenario.Law`.

Every kind is parametrised by its mean (``mean``) and, for Weibull and lognormal, a shape (``shape``:
the Weibull shape ``k``; the lognormal ``sigma`` of ``ln X``).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

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


# ---- the stationary regime -------------------------------------------------------------------------
# A component observed at a random time long after commissioning is up with probability
# MTTF / (MTTF + MDT) (alternating renewal theorem, any laws). Given that it is in a phase whose
# durations have law X, the whole phase it is in has the length-biased law (density x f(x) / E[X]) and
# the time left is R = V L with V uniform on (0, 1): the equilibrium residual life, density
# (1 - F(x)) / E[X], mean E[X^2] / (2 E[X]). Length-biased laws: exponential(m) -> Gamma(2, m);
# Weibull(k, s) -> s G^(1/k) with G ~ Gamma(1 + 1/k, 1); lognormal(mu, sigma) -> lognormal(mu + sigma^2,
# sigma); fixed d -> d.


def second_moment(law: S.Law) -> float:
    """``E[X^2]`` of ``law`` (seconds squared)."""
    m = law.mean
    if law.kind == "fixed":
        return m * m
    if law.kind == "exponential":
        return 2.0 * m * m
    if law.kind == "weibull":
        k = law.shape
        scale = m / math.gamma(1.0 + 1.0 / k)
        return scale * scale * math.gamma(1.0 + 2.0 / k)
    return m * m * math.exp(law.shape * law.shape)  # lognormal: E[X^2] = E[X]^2 exp(sigma^2)


def mean_residual(law: S.Law) -> float:
    """Mean of the equilibrium residual life: ``E[X^2] / (2 E[X])``."""
    return second_moment(law) / (2.0 * law.mean)


def draw_length_biased(law: S.Law, rng: random.Random) -> float:
    """One draw from the length-biased law of ``law`` (density ``x f(x) / E[X]``)."""
    if law.kind == "fixed":
        return law.mean
    if law.kind == "exponential":
        return rng.gammavariate(2.0, law.mean)
    if law.kind == "weibull":
        k = law.shape
        scale = law.mean / math.gamma(1.0 + 1.0 / k)
        return float(scale * rng.gammavariate(1.0 + 1.0 / k, 1.0) ** (1.0 / k))
    sigma = law.shape
    mu = math.log(law.mean) - sigma * sigma / 2.0
    return rng.lognormvariate(mu + sigma * sigma, sigma)


def draw_moment_biased(law: S.Law, k: int, rng: random.Random) -> float:
    """One draw from the ``k``-th moment-biased law of ``law`` (density ``x^k f(x) / E[X^k]``; ``k = 1``:
    the length-biased law): exponential -> Gamma(k + 1, mean); Weibull (scale s, shape c) ->
    ``s G^(1/c)``, G ~ Gamma(1 + k/c); lognormal (mu, sigma) -> lognormal(mu + k sigma^2, sigma)."""
    if law.kind == "fixed":
        return law.mean
    if law.kind == "exponential":
        return rng.gammavariate(k + 1.0, law.mean)
    if law.kind == "weibull":
        c = law.shape
        scale = law.mean / math.gamma(1.0 + 1.0 / c)
        return float(scale * rng.gammavariate(1.0 + k / c, 1.0) ** (1.0 / c))
    sigma = law.shape
    mu = math.log(law.mean) - sigma * sigma / 2.0
    return rng.lognormvariate(mu + k * sigma * sigma, sigma)


def draw_residual(law: S.Law, rng: random.Random) -> float:
    """One draw from the equilibrium residual life of ``law`` (the time left in a phase of law ``law``
    observed at a random time)."""
    return rng.random() * draw_length_biased(law, rng)


def down_phase(law: S.Law, monitoring_interval: float, rng: random.Random) -> tuple[float, float]:
    """``(age, residual)`` of a down phase observed at a random time, when a down phase is the probe's
    delay (uniform on ``[0, monitoring_interval]``) plus a repair of law ``law`` (crews not waited for):
    the length-biased law of the sum picks the delay's length-biased law (``m sqrt(U)``) with probability
    ``(m / 2) / (m / 2 + E[X])`` and the repair's otherwise, the other part unbiased; the phase is cut at
    a uniform point."""
    m = monitoring_interval
    if rng.random() * (m / 2.0 + law.mean) < m / 2.0:
        length = m * math.sqrt(rng.random()) + draw(law, rng)
    else:
        length = rng.uniform(0.0, m) + draw_length_biased(law, rng)
    v = rng.random()
    return (1.0 - v) * length, v * length


def mean_down(law: S.Law, monitoring_interval: float) -> float:
    """Mean down time of one failure: half a probe period, then the repair (no waiting for a crew)."""
    return monitoring_interval / 2.0 + law.mean


def up_probability(fail: S.Law, repair: S.Law, monitoring_interval: float) -> float:
    """Stationary probability that a component is up: ``MTTF / (MTTF + MDT)``."""
    mdt = mean_down(repair, monitoring_interval)
    return fail.mean / (fail.mean + mdt)


# ---- bulk draws (numpy) ----------------------------------------------------------------------------
# Years mode draws each component's durations from its own numpy Generator, many at a time: one array
# call costs about what one Python-level draw does, so a component's whole history costs a few calls.


def draw_many(law: S.Law, n: int, gen: np.random.Generator) -> npt.NDArray[np.float64]:
    """``n`` independent durations (seconds) of ``law``; ``mean`` is the law's mean for every kind."""
    if law.kind == "fixed":
        return np.full(n, law.mean)
    if law.kind == "exponential":
        return gen.exponential(law.mean, n)
    if law.kind == "weibull":
        k = law.shape
        return (law.mean / math.gamma(1.0 + 1.0 / k)) * gen.weibull(k, n)
    sigma = law.shape
    return gen.lognormal(math.log(law.mean) - sigma * sigma / 2.0, sigma, n)


def uniform_many(high: float, n: int, gen: np.random.Generator) -> npt.NDArray[np.float64]:
    """``n`` draws uniform on ``[0, high]`` (a probe's delay in noticing a failure)."""
    return gen.uniform(0.0, high, n)


def draw_length_biased_many(law: S.Law, n: int, gen: np.random.Generator) -> npt.NDArray[np.float64]:
    """``n`` draws from the length-biased law of ``law`` (density ``x f(x) / E[X]``), as
    :func:`draw_length_biased`."""
    if law.kind == "fixed":
        return np.full(n, law.mean)
    if law.kind == "exponential":
        return gen.gamma(2.0, law.mean, n)
    if law.kind == "weibull":
        k = law.shape
        scale = law.mean / math.gamma(1.0 + 1.0 / k)
        return scale * gen.gamma(1.0 + 1.0 / k, 1.0, n) ** (1.0 / k)
    sigma = law.shape
    mu = math.log(law.mean) - sigma * sigma / 2.0
    return gen.lognormal(mu + sigma * sigma, sigma, n)


def draw_residual_many(law: S.Law, n: int, gen: np.random.Generator) -> npt.NDArray[np.float64]:
    """``n`` draws from the equilibrium residual life of ``law``: ``V L``, ``L`` length-biased, ``V``
    uniform on (0, 1)."""
    return gen.random(n) * draw_length_biased_many(law, n, gen)


def stationary_state(
    fail: S.Law, repair: S.Law, monitoring_interval: float, gen: np.random.Generator
) -> tuple[str, float, float]:
    """``(state, residual, age)`` of a component observed at a random time long after commissioning
    (its own alternating renewal process, no crew waited for): ``("up", residual up time, 0)`` with
    probability ``MTTF / (MTTF + MDT)``, else ``("down", residual, age)`` of its down phase (probe delay
    uniform on ``[0, monitoring_interval]`` plus a repair), as :func:`down_phase`."""
    if gen.random() < up_probability(fail, repair, monitoring_interval):
        return "up", float(draw_residual_many(fail, 1, gen)[0]), 0.0
    m = monitoring_interval
    if gen.random() * (m / 2.0 + repair.mean) < m / 2.0:
        length = m * math.sqrt(gen.random()) + float(draw_many(repair, 1, gen)[0])
    else:
        length = gen.uniform(0.0, m) + float(draw_length_biased_many(repair, 1, gen)[0])
    v = gen.random()
    return "down", v * length, (1.0 - v) * length


class Stream:
    """Successive durations from one numpy stream, drawn ``chunk`` at a time by ``fill(n)``; the values
    do not depend on when they are asked for, only on the stream and their rank."""

    __slots__ = ("_buf", "_chunk", "_fill", "_i")

    def __init__(self, fill: Callable[[int], npt.NDArray[np.float64]], chunk: int) -> None:
        self._fill = fill
        self._chunk = max(1, chunk)
        self._buf: list[float] = []
        self._i = 0

    def next(self) -> float:
        i = self._i
        if i == len(self._buf):
            self._buf = self._fill(self._chunk).tolist()
            i = 0
        self._i = i + 1
        return self._buf[i]
