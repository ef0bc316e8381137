"""Rare overlaps by importance sampling: episodes from the all-up state with balanced failure biasing.

Theory. Cut time into *cycles*: an all-up period, then an *episode* from the first failure to the next
instant everything is up again. By the cycle formula (renewal-reward for regenerative processes, Palm
calculus for stationary ones) the steady-state unavailability is

    U = E_pi[D] / (E[all-up period] + E_pi[L]),

``D`` the downtime an episode causes (the quorum's: detection, failover, waiting, the recovery window),
``L`` its length, ``pi`` the law of the system at an episode's start. With every failure law exponential
the all-up state is a regeneration point whatever the crews and common causes: ``E[all-up] = 1/Λ`` with
``Λ`` the sum of the failure rates, the starter is unit ``i`` with probability ``λ_i/Λ`` and the other
units' remaining lives are exponential: the formula is exact. With other laws and independent components
(a crew each, no common cause) the law at an episode's start is still explicit and exact: the starter
``i`` has probability ``(1/MTTF_i) / Σ_j 1/MTTF_j``, every other component is up with an independent
*equilibrium* residual life (density ``S(x)/MTTF``) and ``E[all-up] = 1 / Σ_j 1/MTTF_j`` (both from the
product-form stationary law of independent alternating renewal processes). With shared crews or
common-cause groups and non-exponential failure laws the same start is an approximation (the method
string says so).

The episode is simulated event by event (probe delays, FIFO crews, common-cause groups and shocks as in
:mod:`sim.years.engine`) and its downtime is the engine's own accounting of the episode's intervals
(:meth:`sim.years.engine.Years.replay`: the message-level runner decides each new episode shape once,
the cache answers the rest). The outage that matters is a second failure during the first repair: an
event of probability about ``MTTR/MTTF``. *Balanced failure biasing* (Shahabuddin 1994; Nicola,
Shahabuddin and Nakayama 2001) makes it frequent: whenever something is down and the episode would end
at ``H`` without another failure, each up unit whose fate before ``H`` is still open and whose failure
brings the structure closer to an outage *within the episode's budget* (a minimal cut's order of unit
failures: a failure that leaves every cut out of reach is not pushed) fails in ``[a, H]`` with
probability ``min(0.9, p (H - a) / T) / n`` (``n`` such units, ``p`` = :data:`BIAS`, ``T`` the longest mean
down time of what is down: the proposal grows with the horizon as the true probability does, so a
path's weight hardly depends on the horizon), at a uniform point, and survives to ``H`` otherwise; the
other units keep their true probability. Two more proposals. The starter: in the first batch half by
its true probability and half uniformly among the units that begin a minimal cut; from then on
adapted (:func:`adapted_start_q`): a quarter of that, three quarters in proportion to ``p_k sqrt(M_k)``,
``M_k`` the mean square of the weighted residuals of the episodes unit ``k`` began so far (the
allocation that minimises the estimator's second moment; a proposal depends only on earlier batches,
so the estimate stays unbiased: adaptive importance sampling, Oh and Berger 1992). The starter's
repair: a third from its law, a third from the length-biased law ``x f(x) / E[X]`` and a third from
``x^2 f(x) / E[X^2]`` (an overlap's weighted downtime grows like the square of that repair: a second
failure is as likely as the repair is long, and the overlap as long; the mixture's weight, at most 3,
cancels that square).
The path's likelihood ratio multiplies, for each decision, the true conditional probability (a failure
at ``x``: ``f(x)/S(a)``; survival: ``S(H)/S(a)``, with ``S`` the equilibrium survival for a life under way
at the episode's start and the failure law's for one begun by a repair during it; the starter's and its
repair's true over proposed probabilities) by the inverse of the proposal's. The weights keep
``E[W D] = E[D]`` exactly, and since every overlap of a minimal cut's order is reached with a probability
bounded away from 0 while its weight shrinks like its true probability, the relative error at a fixed
number of episodes stays bounded as failures get rarer (bounded relative error), where a plain
simulation's grows like ``1/sqrt(U)``. Overlaps of a higher order than the minimal cuts are sampled with
their true probability (unbiased, not accelerated): where they carry a share of U the interval widens
and the precision rule waits.

Why this estimator (measured, see ``bench/rare.py``): splitting needs levels and clones every path that
crosses one, and helps least when the last step to an outage is one jump (here a single second failure
is the whole story); conditional Monte Carlo needs the distribution of what the quorum does given a
partial history, which only the episode replay knows; failure biasing on episodes needs only the laws'
survival functions, reuses the episode cache unchanged, and handles cuts of any order.

The interval is the delta method on the ratio (``n`` i.i.d. episodes; numerator and denominator from
the same weighted episodes), Student quantile with ``n - 1`` degrees of freedom. Precision is declared only
when the weighted contributions that carry the numerator are many: their effective sample size
``(Σ W D)^2 / Σ (W D)^2`` is at least :data:`MIN_ESS` (a few heavy weights cannot pass for precision).
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.availability.quantile import t_quantile
from sim.story import scenario as S
from sim.years.engine import Years, YearsResult
from sim.years.laws import (
    density,
    draw,
    draw_moment_biased,
    eq_density,
    eq_survival,
    mean_down,
    second_moment,
    survival,
)

__all__ = ["density", "eq_density", "eq_survival", "survival"]  # the laws' functions, from sim.years.laws
from sim.years.structure import rule

BIAS = 0.5  # total probability of a biased failure over a horizon of one reference down time
BIAS_CAP = 0.9  # the most a long horizon may raise that total probability to
ADAPT_KEEP = 0.25  # share of the default starter proposal kept in an adapted one (weights at most 4x)
MIN_ESS = 30.0  # effective number of weighted contributions before precision may be declared
BATCH = 500  # episodes per batch between stopping checks
MIN_EPISODES = 2000  # episodes before the first stopping check
DEFAULT_MAX_EPISODES = 4_000_000


class NotSupportedError(ValueError):
    """The design has something the episode estimator does not model (named in the message)."""


# ---- the units of a design ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Unit:
    """Something that fails: a component (``repair`` set) or a common-cause shock (``repair`` None)."""

    name: str
    fail: S.Law
    repair: S.Law | None
    takes: frozenset[str]  # what one failure takes down


@dataclass(frozen=True, slots=True)
class Design:
    sc: S.Scenario
    units: tuple[Unit, ...]
    repair: dict[str, S.Law]
    rate: float  # Λ: failures per second from the all-up state
    start_p: tuple[float, ...]  # probability that each unit starts an episode
    exact_start: bool  # the start law is exact (exponential failures, or independent components)
    why_approx: str
    settle: Callable[[frozenset[str], frozenset[str]], tuple[bool, frozenset[str]]]
    order: int  # failures in the smallest set of unit failures that stops the structure (at most 3)
    mdt: dict[str, float] = field(default_factory=dict)  # mean down time of each component (probe + repair)
    starters: tuple[int, ...] = ()  # units whose failure begins a minimal cut (all units if none does)


def design(sc: S.Scenario) -> Design:
    """The units of ``sc`` as the years engine runs them (laws, list groups, beta-factor shocks).
    Raises :class:`NotSupportedError` for calendar-driven events (maintenance windows, backups)."""
    if sc.maintenance:
        raise NotSupportedError(
            "--estimator importance: maintenance windows follow the calendar, not failure laws; use plain"
        )
    if getattr(sc, "backups", None) is not None or getattr(sc, "corruption", None) is not None:
        raise NotSupportedError(
            "--estimator importance: backups and corruption follow the calendar; use plain"
        )
    y = Years(sc, 1.0, 0)
    units: list[Unit] = []
    repair: dict[str, S.Law] = {}
    for comp in sorted(y.laws):
        fail, rep = y.laws[comp]
        repair[comp] = rep
        units.append(Unit(comp, fail, rep, frozenset({comp} | y.groups.get(comp, set()))))
    for name, law, members in y.shocks:
        units.append(Unit(name, law, None, frozenset(members)))
    if not units:
        raise NotSupportedError("--estimator importance: nothing in the design fails")
    rates = [1.0 / u.fail.mean for u in units]
    total = sum(rates)
    exponential = all(u.fail.kind == "exponential" for u in units)
    independent = not y.groups and not y.shocks and sc.crews >= len(repair)
    why = ""
    if not exponential and not independent:
        why = (
            "approximate start: non-exponential failure laws with "
            + ("shared crews" if sc.crews < len(repair) else "common-cause groups")
            + " (the residual lives at an episode's start are taken independent)"
        )
    settle = rule(sc)
    order = _cut_order(units, settle)
    both = frozenset({"A", "B"})
    starters = tuple(
        i
        for i, u in enumerate(units)
        if any(
            not settle(u.takes.union(*(v.takes for v in combo)), both)[0]
            for combo in itertools.combinations(units, order - 1)
        )
    )
    return Design(
        sc,
        tuple(units),
        repair,
        total,
        tuple(r / total for r in rates),
        not why,
        why,
        settle,
        order,
        {c: mean_down(rep, sc.monitoring_interval) for c, rep in repair.items()},
        starters or tuple(range(len(units))),
    )


_DIST: dict[tuple[int, frozenset[str], frozenset[str]], int] = {}


def _distance(d: Design, down: frozenset[str], current: frozenset[str]) -> int:
    """Fewest further unit failures that stop the structure from ``down`` (0, 1, 2, or 3 meaning more)."""
    key = (id(d), down, current)
    got = _DIST.get(key)
    if got is not None:
        return got
    from itertools import combinations

    out = 3
    if not d.settle(down, current)[0]:
        out = 0
    else:
        for k in (1, 2):
            if any(
                not d.settle(down.union(*(u.takes for u in combo)), current)[0]
                for combo in combinations(d.units, k)
            ):
                out = k
                break
    if len(_DIST) > 100_000:
        _DIST.clear()
    _DIST[key] = out
    return out


def _cut_order(units: list[Unit], settle: Callable[..., tuple[bool, frozenset[str]]]) -> int:
    """The fewest unit failures that leave no site able to serve (searched up to 3; 3 if none)."""
    from itertools import combinations

    both = frozenset({"A", "B"})
    for k in (1, 2):
        for combo in combinations(units, k):
            down = frozenset().union(*(u.takes for u in combo))
            if not settle(down, both)[0]:
                return k
    return 3


# ---- one episode ------------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Life:
    unit: Unit
    born: float  # time origin of a fresh life (a repair's end); the episode's start for an equilibrium life
    equilibrium: bool  # under way at the episode's start: equilibrium residual law
    decided: float  # survives at least until here
    at: float | None = None  # committed failure time

    def surv(self, t: float) -> float:
        x = t - self.born
        return eq_survival(self.unit.fail, x) if self.equilibrium else survival(self.unit.fail, x)

    def dens(self, t: float) -> float:
        x = t - self.born
        return eq_density(self.unit.fail, x) if self.equilibrium else density(self.unit.fail, x)


@dataclass(slots=True)
class Episode:
    intervals: list[tuple[frozenset[str], float]]
    weight: float
    length: float
    failures: int  # failures in the episode (1: a lone failure; more: an overlap)
    starter: int = 0  # index of the unit that began it
    start_ratio: float = 1.0  # the starter's true over proposed probability (a factor of ``weight``)


def default_start_q(d: Design, bias: float = BIAS) -> tuple[float, ...]:
    """The starter proposal before anything is known: half the true probability, half uniform among the
    units that begin a minimal cut (the true law when ``bias`` is 0)."""
    mix = 0.5 if bias > 0.0 else 0.0
    useful = d.starters
    return tuple(
        (1.0 - mix) * p + (mix / len(useful) if k in useful else 0.0) for k, p in enumerate(d.start_p)
    )


def simulate_episode(
    d: Design, rng: random.Random, bias: float = BIAS, start_q: tuple[float, ...] | None = None
) -> Episode:
    """One episode from the all-up state under balanced failure biasing (``bias=0``: the true law,
    weight 1). ``start_q``: the probability of proposing each unit as the starter (default
    :func:`default_start_q`); the weight carries the true over the proposed probability."""
    sc = d.sc
    m = sc.monitoring_interval
    weight = 1.0
    if start_q is None:
        # the starter: half the time by its true probability, half uniformly among the units that begin a
        # minimal cut (a rarely failing unit, a site, often starts the episodes that matter; a unit that
        # cannot begin one within d.order failures starts only its own, true, share)
        mix = 0.5 if bias > 0.0 else 0.0
        useful = d.starters
        k = useful[rng.randrange(len(useful))] if rng.random() < mix else None
        if k is None:
            k = _pick(d.start_p, rng.random())
        q_k = (1.0 - mix) * d.start_p[k] + (mix / len(useful) if k in useful else 0.0)
    else:
        k = _pick(start_q, rng.random())
        q_k = start_q[k]
    starter = d.units[k]
    start_ratio = d.start_p[k] / q_k  # weight = true / proposed
    weight *= start_ratio
    lives: dict[str, _Life] = {
        unit.name: _Life(unit, 0.0, True, 0.0)
        for unit in d.units
        if unit.name != starter.name or unit.repair is None
    }
    if starter.repair is None:  # a shock starts the episode: its next shock is a fresh life
        lives[starter.name] = _Life(starter, 0.0, False, 0.0)
    down: set[str] = set()
    events: list[tuple[float, int, str, str]] = []  # (time, seq, kind, component)
    seq = 0
    crews_free = sc.crews
    queue: list[tuple[str, float]] = []  # (component, repair seconds) waiting for a crew, FIFO
    pending: dict[str, float] = {}  # component -> its repair seconds, drawn at its failure
    changes: list[tuple[float, frozenset[str]]] = []
    failures = 0
    current = frozenset({"A", "B"})  # the structure's current copies (synchronous consistency)
    # biased until the structure first stops serving in this episode, and for at most the failures a
    # minimal cut needs: then the true law (an overlap of higher order is not the rare event sought)
    biased = bias > 0.0

    def fail(unit: Unit, t: float) -> None:
        nonlocal seq, failures, weight
        newly = sorted(unit.takes - down)
        if not newly:
            return
        first = failures == 0
        failures += 1
        for c in newly:
            down.add(c)
            lives.pop(c, None)
            delay = rng.uniform(0.0, m)
            law = d.repair.get(c)
            if law is None:
                pending[c] = m
            elif first and biased and law.kind != "fixed":
                # the starter's repair from the defensive mixture (f + x f / E[X] + x^2 f / E[X^2]) / 3:
                # an overlap's weight x downtime grows like the square of that repair (a second failure
                # is as likely as the repair is long, and the overlap is as long), so the long repairs
                # are drawn in proportion to that square; weight f / mixture
                # = 1 / (1/3 + x / 3 E[X] + x^2 / 3 E[X^2]) <= 3, and weight x x^2 stays bounded
                u = rng.random()
                kth = 0 if u < 1.0 / 3.0 else (1 if u < 2.0 / 3.0 else 2)
                x = draw(law, rng) if kth == 0 else draw_moment_biased(law, kth, rng)
                weight /= (1.0 + x / law.mean + x * x / second_moment(law)) / 3.0
                pending[c] = x
            else:
                pending[c] = draw(law, rng)
            seq += 1
            heapq.heappush(events, (t + delay, seq, "notice", c))
        changes.append((t, frozenset(down)))

    def settle() -> None:
        nonlocal current, biased
        serving, current = d.settle(frozenset(down), current)
        biased = biased and serving and failures < d.order

    def horizon(now: float) -> float:
        """When the episode ends if nothing else fails: the crews' FIFO schedule of what is known."""
        busy = sorted(t for t, _s, kind, _c in events if kind == "done")
        free = [now] * crews_free + busy
        notices = sorted((t, c) for t, _s, kind, c in events if kind == "notice")
        waiting = [(now, c) for c, _r in queue] + notices
        end = max(busy, default=now)
        heapq.heapify(free)
        for t_ready, c in waiting:
            start = max(heapq.heappop(free), t_ready)
            fin = start + pending[c]
            heapq.heappush(free, fin)
            end = max(end, fin)
        return end

    fail(starter, 0.0)
    settle()
    now = 0.0
    while down:
        h = horizon(now)
        open_lives = [lf for lf in lives.values() if lf.at is None and lf.decided < h]
        # failure-distance biasing: only the units whose failure brings the structure closer to an
        # outage are pushed (balanced among them); the others keep their true probability
        # that can still complete a minimal cut within the episode's budget of d.order failures (a unit
        # whose failure leaves a cut out of reach is not pushed: its overlap is not the rare event sought)
        if biased:
            here = _distance(d, frozenset(down), current)
            closer = []
            for lf in open_lives:
                after = _distance(d, frozenset(down) | lf.unit.takes, current)
                if after < here and failures + 1 + after <= d.order:
                    closer.append(lf)
        else:
            closer = []
        n = len(closer)
        # the horizon's scale: the longest mean down time of what is down (the proposal's total failure
        # probability grows with the horizon like the true one, so a path's weight hardly depends on it)
        scale = max((d.mdt.get(c, m) for c in down), default=m) or 1.0
        for lf in open_lives:
            a = max(lf.decided, now)
            s_a = lf.surv(a)
            if not lf.equilibrium and lf.unit.fail.kind == "fixed":  # deterministic: nothing to bias
                due = lf.born + lf.unit.fail.mean
                if due <= h:
                    lf.at = due
                else:
                    lf.decided = h
                continue
            if s_a <= 0.0:
                lf.at = a
                continue
            # biased towards a failure until the structure first stops serving; from then on the true
            # probability of a failure before h (only its place in [a, h] is sampled uniformly)
            if lf in closer:
                q = min(BIAS_CAP, bias * (h - a) / scale) / n
            else:
                q = 1.0 - lf.surv(h) / s_a
            if q <= 0.0:
                lf.decided = h
                continue
            if rng.random() < q:
                x = rng.uniform(a, h)
                weight *= lf.dens(x) / s_a * (h - a) / q
                lf.at = x
            else:
                weight *= lf.surv(h) / s_a / (1.0 - q)
                lf.decided = h
        t_fail, who = math.inf, None
        for lf in lives.values():
            if lf.at is not None and lf.at < t_fail:
                t_fail, who = lf.at, lf
        t_ev = events[0][0] if events else math.inf
        if who is not None and t_fail < t_ev:
            now = t_fail
            unit = who.unit
            if unit.repair is None:
                lives[unit.name] = _Life(unit, now, False, now)  # the shock's next life
            else:
                lives.pop(unit.name, None)
            fail(unit, now)
            settle()
            continue
        now, _s, kind, c = heapq.heappop(events)
        if kind == "notice":
            queue.append((c, pending[c]))
        else:
            crews_free += 1
            down.discard(c)
            del pending[c]
            changes.append((now, frozenset(down)))
            unit_of = next(un for un in d.units if un.name == c)
            lives[c] = _Life(unit_of, now, False, now)
            settle()
        while queue and crews_free > 0:
            comp, secs = queue.pop(0)
            crews_free -= 1
            seq += 1
            heapq.heappush(events, (now + secs, seq, "done", comp))
    intervals: list[tuple[frozenset[str], float]] = []
    for (t0, ds), (t1, _n) in itertools.pairwise(changes):
        if t1 > t0 and ds:
            if intervals and intervals[-1][0] == ds:
                intervals[-1] = (ds, intervals[-1][1] + t1 - t0)
            else:
                intervals.append((ds, t1 - t0))
    return Episode(intervals, weight, now, failures, k, start_ratio)


def _pick(probs: tuple[float, ...], u: float) -> int:
    """The index ``u`` (uniform in [0, 1)) falls on in the cumulative ``probs``."""
    acc = 0.0
    for i, p in enumerate(probs):
        acc += p
        if u < acc:
            return i
    return len(probs) - 1


# ---- the estimator ----------------------------------------------------------------------------------------
@dataclass
class ImportanceResult:
    """Sums over weighted episodes (what the report needs), kept as per-episode arrays."""

    design: Design
    n: int = 0
    w: list[float] = field(default_factory=list)
    down: list[float] = field(default_factory=list)  # D (quorum downtime) per episode
    struct: list[float] = field(default_factory=list)  # structural downtime per episode
    length: list[float] = field(default_factory=list)
    overlaps: int = 0  # episodes with more than one failure (the rare ones, made frequent)
    overlaps_with_downtime: int = 0
    causes: dict[str, list[float]] = field(default_factory=dict)
    split_brain_bytes: list[float] = field(default_factory=list)
    violations: int = 0
    starter: list[int] = field(default_factory=list)  # the unit that began each episode
    start_ratio: list[float] = field(default_factory=list)  # its true over proposed probability
    shapes_decided: int = 0  # episode shapes the message-level runner decided in this run

    def ratio(self, num: np.ndarray, confidence: float) -> tuple[float, float | None, float | None]:
        """``E[W num] / (1/Λ + E[W L])`` with its delta-method interval."""
        w = np.asarray(self.w)
        y = w * num
        x = w * np.asarray(self.length)
        den = 1.0 / self.design.rate + float(x.mean())
        est = float(y.mean()) / den
        if self.n < 2:
            return est, None, None
        resid = y - est * x
        se = float(resid.std(ddof=1)) / math.sqrt(self.n) / den
        tq = t_quantile(confidence, self.n - 1)
        return est, max(0.0, est - tq * se), est + tq * se

    def ess(self, num: np.ndarray) -> float:
        y = np.asarray(self.w) * num
        s2 = float((y * y).sum())
        return float(y.sum()) ** 2 / s2 if s2 > 0 else 0.0


class _Accountant:
    """The engine's accounting of one episode (cache shared by every episode of the process)."""

    def __init__(self, sc: S.Scenario) -> None:
        self.sc = sc
        self.years = Years(sc, 1.0, 0)
        self.settle = rule(sc)

    def account(self, intervals: list[tuple[frozenset[str], float]]) -> YearsResult:
        y = self.years
        y.r = YearsResult(self.sc.name, y.seed, 0.0)
        y.outages = []
        return y.replay(intervals)

    def structural(self, intervals: list[tuple[frozenset[str], float]]) -> float:
        current = frozenset({"A", "B"})
        out = 0.0
        for ds, secs in intervals:
            serving, current = self.settle(ds, current)
            if not serving:
                out += secs
        return out


def adapted_start_q(
    d: Design, q0: tuple[float, ...], starters: np.ndarray, resid: np.ndarray, ratios: np.ndarray
) -> tuple[float, ...]:
    """The starter proposal for the next batch, from the episodes so far: the defensive mixture
    ``ADAPT_KEEP q0 + (1 - ADAPT_KEEP) q*`` with ``q*_k`` proportional to ``p_k sqrt(M_k)``, ``M_k`` the mean
    square of the episodes begun by unit ``k`` with their starter factor taken out (their ratio residual
    ``W D - U W L`` over ``p_k / q_k``). ``q*`` minimises the second moment ``sum_k p_k^2 M_k / q_k``
    of the weighted residuals (Neyman's allocation, here over starters); the ``q0`` share keeps every
    starter's weight within ``1/ADAPT_KEEP`` of the default proposal's, so a unit whose episodes have
    shown no downtime yet is still proposed."""
    z = resid / ratios
    n = np.bincount(starters, minlength=len(d.units)).astype(float)
    m2 = np.bincount(starters, weights=z * z, minlength=len(d.units))
    root = np.where(n > 0, np.sqrt(np.divide(m2, n, out=np.zeros_like(m2), where=n > 0)), 0.0)
    opt = np.asarray(d.start_p) * root
    total = float(opt.sum())
    if not total > 0.0 or not math.isfinite(total):
        return q0
    return tuple(ADAPT_KEEP * q + (1.0 - ADAPT_KEEP) * float(o) / total for q, o in zip(q0, opt, strict=True))


def run(
    sc: S.Scenario,
    *,
    seed: int,
    precision: float,
    confidence: float,
    max_episodes: int = DEFAULT_MAX_EPISODES,
    bias: float = BIAS,
    progress: Callable[[int, float | None], None] | None = None,
    min_episodes: int = MIN_EPISODES,
    executor: Any = None,
    adapt: bool = True,
    store: Any = None,
) -> tuple[ImportanceResult, bool, float | None]:
    """Episodes in batches of :data:`BATCH` (batch ``i`` from its own stream
    ``SeedSequence(seed, spawn_key=(i,))``) until the unavailability's relative half-width is at most
    ``precision`` with at least :data:`MIN_ESS` effective contributions (checked from ``min_episodes`` on),
    or ``max_episodes`` are spent.

    ``adapt``: from the second batch on, the starter proposal of batch ``i`` is
    :func:`adapted_start_q` of batches ``0 .. i-1`` (adaptive importance sampling, Oh and Berger 1992:
    each episode's weight is its own proposal's likelihood ratio, and a proposal depends only on earlier
    batches, so every weighted episode has the true mean given the past and the estimate stays
    unbiased; the defensive share keeps the weights bounded). ``executor``: the episode shapes a batch
    meets for the first time are decided there (:meth:`sim.years.engine.Years.prefetch`) before the
    batch is accounted; the figures do not depend on it.
    Returns the result, whether the precision was reached, and the last relative half-width."""
    d = design(sc)
    acct = _Accountant(sc)
    if store is not None:
        store.attach(acct.years)
    res = ImportanceResult(d)
    q0 = default_start_q(d, bias)
    start_q: tuple[float, ...] | None = None  # None: the default proposal, drawn as it always was
    batch = 0
    rel: float | None = None
    reached = False
    while res.n < max_episodes:
        state = np.random.SeedSequence(seed, spawn_key=(batch,)).generate_state(2)
        rng = random.Random(int(state[0]) << 32 | int(state[1]))
        eps = [simulate_episode(d, rng, bias, start_q) for _ in range(min(BATCH, max_episodes - res.n))]
        acct.years.prefetch([ep.intervals for ep in eps], executor)
        for ep in eps:
            r = acct.account(ep.intervals) if ep.intervals else None
            res.n += 1
            res.w.append(ep.weight)
            res.starter.append(ep.starter)
            res.start_ratio.append(ep.start_ratio)
            res.length.append(ep.length)
            res.down.append(r.downtime_s if r is not None else 0.0)
            res.struct.append(acct.structural(ep.intervals))
            by_cause = r.downtime_by_cause_s if r is not None else {}
            if by_cause.keys() - res.causes.keys():
                for k in by_cause.keys() - res.causes.keys():
                    res.causes[k] = [0.0] * (res.n - 1)
            for k, xs in res.causes.items():
                xs.append(float(by_cause.get(k, 0.0)))
            res.split_brain_bytes.append(r.split_brain_bytes if r is not None else 0.0)
            if r is not None and r.violation_episodes:
                res.violations += 1
            if ep.failures > 1:
                res.overlaps += 1
                if res.down[-1] > 0:
                    res.overlaps_with_downtime += 1
        batch += 1
        down = np.asarray(res.down)
        est, _lo, hi = res.ratio(down, confidence)
        rel = (hi - est) / est if hi is not None and est > 0 else None
        ess = res.ess(down)
        if progress is not None:
            progress(res.n, rel)
        if res.n >= min_episodes and rel is not None and rel <= precision and ess >= MIN_ESS:
            reached = True
            break
        if adapt and bias > 0.0:
            w = np.asarray(res.w)
            resid = w * down - est * w * np.asarray(res.length)
            start_q = adapted_start_q(
                d, q0, np.asarray(res.starter, dtype=np.intp), resid, np.asarray(res.start_ratio)
            )
    res.shapes_decided = acct.years.shapes_decided
    if store is not None:
        store.save()
    return res, reached, rel


def mean_down_times(sc: S.Scenario) -> dict[str, float]:
    """Mean down time of each component (probe delay plus repair, no crew waiting)."""
    y = Years(sc, 1.0, 0)
    return {c: mean_down(rep, sc.monitoring_interval) for c, (_f, rep) in y.laws.items()}


def describe(d: Design) -> str:
    """The method string of the importance estimator."""
    base = (
        f"importance: episodes from the all-up state with balanced failure biasing (p = {BIAS:g}),"
        " adapted starter proposal,"
        " likelihood ratios of the laws' (equilibrium) survival functions; U = E[W D] / (1/Λ + E[W L]),"
        " delta-method interval, Student t"
    )
    if not d.exact_start:
        return f"{base} ({d.why_approx})"
    exponential = all(u.fail.kind == "exponential" for u in d.units)
    why = (
        "exponential failure laws: all-up is a regeneration point"
        if exponential
        else ("independent components: equilibrium residual lives")
    )
    return f"{base} (exact start law: {why})"
