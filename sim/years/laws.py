"""Failure and repair laws: drawing one duration from a scenario's :class:`sim.story.scenario.Law`.

Every kind is parametrised by its mean (``mean``) and, for Weibull and lognormal, a shape (``shape``:
the Weibull shape ``k``; the lognormal ``sigma`` of ``ln X``).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from sim.story import scenario as S

_PHI = NormalDist()


def _params(law: S.Law) -> tuple[float, float]:
    """Weibull: (scale, shape k); lognormal: (mu, sigma) of ln X; others: (mean, 1). Every kind is
    parametrised by its mean, so these are derived once here for every function of this module."""
    if law.kind == "weibull":
        return law.mean / math.gamma(1.0 + 1.0 / law.shape), law.shape
    if law.kind == "lognormal":
        return math.log(law.mean) - law.shape * law.shape / 2.0, law.shape
    return law.mean, 1.0


def draw(law: S.Law, rng: random.Random) -> float:
    """One duration (seconds) from ``law``; ``mean`` is the law's mean for every kind."""
    if law.kind == "fixed":
        return law.mean
    if law.kind == "exponential":
        return rng.expovariate(1.0 / law.mean)
    if law.kind == "weibull":
        scale, k = _params(law)
        return rng.weibullvariate(scale, k)
    mu, sigma = _params(law)  # lognormal with the given mean
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
        scale, k = _params(law)
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
        scale, k = _params(law)
        return float(scale * rng.gammavariate(1.0 + 1.0 / k, 1.0) ** (1.0 / k))
    mu, sigma = _params(law)
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
        scale, c = _params(law)
        return float(scale * rng.gammavariate(1.0 + k / c, 1.0) ** (1.0 / c))
    mu, sigma = _params(law)
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
        scale, k = _params(law)
        return scale * gen.weibull(k, n)
    mu, sigma = _params(law)
    return gen.lognormal(mu, sigma, n)


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
        scale, k = _params(law)
        return scale * gen.gamma(1.0 + 1.0 / k, 1.0, n) ** (1.0 / k)
    mu, sigma = _params(law)
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


# ---- survival functions and densities (the importance estimator's likelihood ratios) ------------------
def survival(law: S.Law, x: float) -> float:
    """``P(X > x)`` for a fresh life of law ``law``."""
    if x <= 0:
        return 1.0
    if law.kind == "exponential":
        return math.exp(-x / law.mean)
    if law.kind == "weibull":
        s, k = _params(law)
        return math.exp(-((x / s) ** k))
    if law.kind == "lognormal":
        mu, sigma = _params(law)
        return 1.0 - _PHI.cdf((math.log(x) - mu) / sigma)
    return 1.0 if x < law.mean else 0.0


def density(law: S.Law, x: float) -> float:
    """Density of a fresh life at ``x`` (a fixed law has none: callers never bias it)."""
    if x <= 0:
        return 0.0 if law.kind != "exponential" else 1.0 / law.mean
    if law.kind == "exponential":
        return math.exp(-x / law.mean) / law.mean
    if law.kind == "weibull":
        s, k = _params(law)
        return float((k / s) * (x / s) ** (k - 1.0) * math.exp(-((x / s) ** k)))
    if law.kind == "lognormal":
        mu, sigma = _params(law)
        z = (math.log(x) - mu) / sigma
        return math.exp(-0.5 * z * z) / (x * sigma * math.sqrt(2.0 * math.pi))
    raise ValueError("a fixed law has no density")


def eq_survival(law: S.Law, x: float) -> float:
    """``P(R > x)`` for the equilibrium residual life ``R`` (density ``S(x)/mean``)."""
    if x <= 0:
        return 1.0
    if law.kind == "exponential":
        return math.exp(-x / law.mean)
    if law.kind == "weibull":
        s, k = _params(law)
        return float(_gammaincc(1.0 / k, (x / s) ** k))
    if law.kind == "lognormal":
        mu, sigma = _params(law)
        tail = law.mean * (1.0 - _PHI.cdf((math.log(x) - mu - sigma * sigma) / sigma))
        return max(0.0, (tail - x * survival(law, x)) / law.mean)
    return max(0.0, 1.0 - x / law.mean)


def eq_density(law: S.Law, x: float) -> float:
    return survival(law, x) / law.mean


def _gammaincc(a: float, x: float) -> float:
    """The regularized upper incomplete gamma function (``scipy.special``, imported when first needed)."""
    from scipy import special

    return float(special.gammaincc(a, x))
