"""Availability with confidence: independent replications, intervals on every figure, a stopping rule.

Theory. Replication ``i`` runs ``replication_years`` of years mode (:func:`sim.years.engine.run_replication`)
with its own seed stream ``SeedSequence(seed, spawn_key=(i,))`` (the ``i``-th child of
``SeedSequence(seed).spawn``: no two replications share a stream). Replications run in batches on an
executor (:mod:`sim.availability.executors`) and are aggregated in replication order; the batch sizes depend only on the
results so far, never on the executor or its worker count, so a seed gives the same figures everywhere.

After each batch the unavailability's interval is computed; the run stops once its half-width relative to
the estimate is at most ``precision`` (and at least ``min_replications`` replications ran), or when
``max_years`` simulated years are spent (default 1,000,000), saying the precision was not reached; a design
with no downtime at all in 10,000 years stops there (a relative precision does not exist).

Estimators of the unavailability ``U`` (``estimator``):

* ``plain``: the mean of the replications' downtime ``Y_i`` over the horizon ``h``; Student-t interval.
* ``control``: ``Z_i = Y_i - X_i + U_s h`` where ``X_i`` is the structural downtime of the *same* sampled
  history (:mod:`sim.years.structure`) and ``U_s`` the exact steady-state structural unavailability (CTMC,
  :mod:`sim.availability.ctmc`). The quorum changes the downtime by the seconds of detection and failover, so ``Y``
  and ``X`` are almost perfectly correlated and ``Var Z << Var Y``; the reported variance reduction factor
  is ``Var Y / Var Z`` (sample variances). ``Z`` estimates the *steady-state* unavailability: the start-up
  transient (every run starts with everything up) is the same in ``Y`` and ``X`` and cancels, while the
  plain mean sits below the steady state by about ``U x MTTR / h`` (0.2 % for the two-of-three model).
* ``auto``: ``control`` when every law is exponential (the exact model exists), else ``plain``.

Other figures: rates per year (outages, failovers, data lost, split-brain seconds, months below the SLA)
have Student-t intervals over replications; percentiles (yearly downtime, outage durations) have
distribution-free order-statistic intervals (binomial); the mean time between outages inverts the outage
rate's interval. A bound that does not exist (too few samples, a rate whose interval reaches 0) is
``None`` (JSON ``null``), never infinity or NaN.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.availability.executors import Executor, LocalExecutor
from sim.availability.prior import Prior, Requirement
from sim.availability.quantile import t_quantile
from sim.story import scenario as S
from sim.years.engine import YEAR, Years

ESTIMATORS = ("auto", "plain", "control", "importance")
STARTS = ("steady", "new")
DEFAULT_MAX_YEARS = 1_000_000.0
# the finest relative half-width asked for (a precision that fine runs to ``max_years``: the tests and
# notebooks ask 1e-9 for exactly that); 1e-300 overflowed the stopping rule's arithmetic (a traceback)
MIN_PRECISION = 1e-9
NO_DOWNTIME_YEARS = 10_000.0  # no downtime at all in this many years: stop (no relative precision exists)
FULL_MONTH_S = 28 * 86400.0
AUTO_IMPORTANCE_YEARS = 2_000.0  # auto: importance when plain would need more years than this
SMALL_BATCH = 32  # replications run in the caller's process on the local executor


class RequestError(ValueError):
    """A malformed request (one line naming the option and the value)."""


@dataclass(frozen=True, slots=True)
class Figure:
    """A figure with its interval (``None``: no bound exists) and the method that gave it."""

    mean: float | None
    low: float | None
    high: float | None
    method: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean": _num(self.mean),
            "low": _num(self.low),
            "high": _num(self.high),
            "method": self.method,
        }


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


@dataclass(frozen=True, slots=True)
class Rep:
    """What the estimator keeps of one replication."""

    index: int
    years: float
    downtime_s: float
    structural_downtime_s: float
    outages: int
    outage_durations_s: tuple[float, ...]
    structural_outages: int
    outages_by_cut: dict[str, int]  # structural outages by the minimal cut they fell into (prior.classify)
    downtime_by_cause_s: dict[str, float]
    split_brain_bytes: float
    failovers: int
    data_lost_bytes: float
    split_brain_s: float
    months: int
    months_below_sla: int

    def row(self) -> dict[str, Any]:
        return {
            "replication": self.index,
            "years": self.years,
            "downtime_s": self.downtime_s,
            "structural_downtime_s": self.structural_downtime_s,
            "outages": self.outages,
            "failovers": self.failovers,
            "data_lost_bytes": self.data_lost_bytes,
            "split_brain_s": self.split_brain_s,
            "months": self.months,
            "months_below_sla": self.months_below_sla,
        }


@dataclass(frozen=True, slots=True)
class _Task:
    sc: S.Scenario
    years: float
    seed: int
    start: int
    count: int
    sla: float
    regime: str = "steady"  # how each replication starts: "steady" (stationary) or "new"
    prior: Prior | None = None  # classifies the structural outages by minimal cut


class _Classifying(Years):
    """A years replication that also classifies each structural outage (the structure going from serving
    to not) by the minimal cut its down set contains (:meth:`sim.availability.prior.Prior.classify`),
    through the engine's public per-outage callback ``on_outage``; the figures are the engine's own."""

    def __init__(self, task: _Task, seed: np.random.SeedSequence) -> None:
        super().__init__(task.sc, task.years, seed, start=task.regime)
        self.classes = task.prior
        self.by_cut: dict[str, int] = {}
        if self.classes is not None:
            self.on_outage = self._classify

    def _classify(self, _at: float, down: frozenset[str]) -> None:
        assert self.classes is not None
        key = self.classes.classify(down)
        self.by_cut[key] = self.by_cut.get(key, 0) + 1


def replicate(task: _Task) -> list[Rep]:
    """Run replications ``start .. start+count-1`` (a module-level function: executors pickle it)."""
    out = []
    for i in range(task.start, task.start + task.count):
        y = _Classifying(task, np.random.SeedSequence(task.seed, spawn_key=(i,)))
        r = y.replication()
        full = [
            (d, n) for d, n in zip(r.month_downtime_s, r.month_length_s, strict=True) if n >= FULL_MONTH_S
        ]
        out.append(
            Rep(
                index=i,
                years=task.years,
                downtime_s=r.downtime_s,
                structural_downtime_s=r.structural_downtime_s,
                outages=len(r.outage_durations_s),
                outage_durations_s=tuple(r.outage_durations_s),
                structural_outages=r.structural_outages,
                outages_by_cut=y.by_cut,
                downtime_by_cause_s=dict(r.downtime_by_cause_s),
                split_brain_bytes=r.split_brain_bytes,
                failovers=r.failovers,
                data_lost_bytes=r.data_lost_bytes,
                split_brain_s=r.split_brain_s,
                months=len(full),
                months_below_sla=sum(1 for d, n in full if 1.0 - d / n < task.sla),
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class Progress:
    replications: int
    years: float
    relative_half_width: float | None
    precision: float
    elapsed_s: float
    eta_s: float | None


@dataclass
class AvailabilityReport:
    scenario: str
    seed: int
    confidence: float
    precision: float
    precision_reached: bool
    estimator: str
    replications: int
    replication_years: float
    simulated_years: float
    figures: dict[str, Figure]
    variance_reduction_factor: float | None = None
    exact: dict[str, Any] | None = None
    comparison: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    reps: list[Rep] = field(default_factory=list, repr=False)
    elapsed_s: float = 0.0
    workers: int = 1
    events: dict[str, Any] | None = None  # the observed events that carry the estimate
    by_cause: dict[str, Figure] = field(default_factory=dict)  # downtime per year by cause

    def to_dict(self) -> dict[str, Any]:
        """JSON-able (no infinity or NaN); ``run`` holds what depends on the machine (time, workers)."""
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "confidence": self.confidence,
            "precision": self.precision,
            "precision_reached": self.precision_reached,
            "estimator": self.estimator,
            "variance_reduction_factor": _num(self.variance_reduction_factor),
            "replications": self.replications,
            "replication_years": self.replication_years,
            "simulated_years": self.simulated_years,
            **{k: f.to_dict() for k, f in self.figures.items()},
            "exact": self.exact,
            "comparison": self.comparison,
            "downtime_by_cause_per_year_s": {k: f.to_dict() for k, f in sorted(self.by_cause.items())},
            "events": self.events,
            "notes": list(self.notes),
            "run": {"elapsed_s": self.elapsed_s, "workers": self.workers},
        }


# ---- statistics -------------------------------------------------------------------------------------
def binomial_cdf(n: int, q: float) -> np.ndarray:
    """``P(Bin(n, q) <= k)`` for ``k = 0..n`` (``scipy.stats.binom``, imported when first needed)."""
    from scipy import stats

    out: np.ndarray = stats.binom.cdf(np.arange(n + 1), n, q)
    return out


def mean_interval(
    xs: np.ndarray,
    confidence: float,
    method: str,
    scale: float = 1.0,
    bounds: tuple[float, float] | None = None,
) -> Figure:
    """Mean with a Student-t interval; ``bounds``: the quantity's range (the interval is clipped to it)."""
    n = len(xs)
    m = float(xs.mean()) * scale
    if n < 2:
        return Figure(m, None, None, method)
    if float(xs.max()) == float(xs.min()):
        # every replication gave the same value (typically none of the events the figure counts): the
        # replications carry no interval, and [m, m] would claim a precision no event supports. A
        # quantity at its lower bound keeps that bound; the upper end is unknown.
        low = m if bounds is not None and m <= bounds[0] else None
        return Figure(
            m, low, None, f"{method}; every one of {n} replications gave {m:.6g}: no interval from them"
        )
    half = t_quantile(confidence, n - 1) * float(xs.std(ddof=1)) / math.sqrt(n) * abs(scale)
    lo, hi = m - half, m + half
    if bounds is not None:
        lo, hi = max(bounds[0], lo), min(bounds[1], hi)
    return Figure(m, lo, hi, method)


def quantile_interval(xs: np.ndarray, q: float, confidence: float, what: str) -> Figure:
    """Sample quantile with a distribution-free interval from order statistics (binomial)."""
    n = len(xs)
    if n == 0:
        return Figure(None, None, None, f"{what}: no samples")
    s = np.sort(xs)
    point = float(np.quantile(s, q))
    alpha = 1.0 - confidence
    cdf = binomial_cdf(n, q)  # P(Bin(n, q) <= k)
    low_k = np.nonzero(cdf <= alpha / 2)[0]
    high_k = np.nonzero(cdf >= 1 - alpha / 2)[0]
    low = float(s[low_k[-1]]) if len(low_k) else None  # order statistic X_(k+1), 0-based s[k]
    high = float(s[high_k[0]]) if len(high_k) and high_k[0] < n else None
    return Figure(point, low, high, f"{what}: sample quantile, order-statistic interval (binomial)")


# ---- the engine -------------------------------------------------------------------------------------
def _check(precision: float, confidence: float, max_years: float | None, sla: float, estimator: str) -> None:
    if not (math.isfinite(precision) and MIN_PRECISION <= precision <= 1):
        raise RequestError(
            f"--precision must be a relative half-width from {MIN_PRECISION:g} to 1 (got {precision:g})"
        )
    if not (math.isfinite(confidence) and 0 < confidence < 1):
        raise RequestError(f"--confidence must be in (0, 1) (got {confidence})")
    if max_years is not None and not (math.isfinite(max_years) and max_years > 0):
        raise RequestError(f"--max-years must be a positive number of years (got {max_years})")
    if not (math.isfinite(sla) and 0 < sla < 1):
        raise RequestError(f"--sla must be a fraction in (0, 1), e.g. 0.98 (got {sla})")
    if estimator not in ESTIMATORS:
        raise RequestError(f"--estimator must be one of {', '.join(ESTIMATORS)} (got {estimator!r})")


def _batches(executor: Executor, task: _Task) -> Iterator[Rep]:
    """The replications of ``task``, in order, spread over the executor in chunks. A small batch on local
    processes runs in this process: forking workers whose episode caches start empty costs more than it
    saves (the figures do not depend on where a replication runs)."""
    if isinstance(executor, LocalExecutor) and task.count <= SMALL_BATCH:
        yield from replicate(task)
        return
    chunk = max(1, math.ceil(task.count / (4 * max(1, executor.workers))))
    tasks = [
        _Task(
            task.sc,
            task.years,
            task.seed,
            s,
            min(chunk, task.start + task.count - s),
            task.sla,
            task.regime,
            task.prior,
        )
        for s in range(task.start, task.start + task.count, chunk)
    ]
    for reps in executor.map(replicate, tasks):
        yield from reps


def estimate(
    sc: S.Scenario,
    *,
    precision: float = 0.1,
    confidence: float = 0.95,
    max_years: float | None = None,
    seed: int = 0,
    executor: Executor | None = None,
    estimator: str = "auto",
    sla: float = 0.98,
    progress: Callable[[Progress], None] | None = None,
    replication_years: float = 1.0,
    min_replications: int = 20,
    exact: bool = False,
    start: str = "steady",
    shape_cache: str | None = None,
) -> AvailabilityReport:
    """Estimate the availability of ``sc`` to ``precision`` (relative half-width of the unavailability's
    interval) at ``confidence``. ``exact``: also solve the exact model and compare (raises
    :class:`sim.availability.ctmc.NotExactError` when the scenario has none). ``start``: replications
    start in the stationary regime (``steady``) or with brand-new components (``new``: the years after
    commissioning). ``shape_cache``: a directory where the importance estimator keeps the episode shapes
    the message-level runner decided (:class:`sim.years.shapes.ShapeStore`; same figures, fewer shapes to
    decide again). Raises :class:`RequestError` for a malformed request.

    Precision is declared only when the estimate rests on observed events that carry it: where the prior
    (:mod:`sim.availability.prior`) says structural outages (overlaps) could carry a material share of U,
    the replications must have seen at least :func:`sim.availability.prior.events_needed` of them; with
    none seen the report gives a one-sided bound instead of an interval."""
    from sim.availability.ctmc import ExactResult, NotExactError
    from sim.availability.ctmc import exact as solve
    from sim.availability.importance import NotSupportedError, design
    from sim.availability.prior import events_needed, prior, requirements

    _check(precision, confidence, max_years, sla, estimator)
    if start not in STARTS:
        raise RequestError(f"--start must be one of {', '.join(STARTS)} (got {start!r})")
    if not (math.isfinite(replication_years) and replication_years > 0):
        raise RequestError(f"replication_years must be positive (got {replication_years})")
    cap_years = DEFAULT_MAX_YEARS if max_years is None else max_years
    notes: list[str] = []
    pr = prior(sc)
    need = events_needed(precision, confidence)
    if estimator == "importance" and start == "new":
        raise RequestError("--estimator importance estimates the steady state: it has no --start new")
    if estimator == "auto" and start == "steady" and pr is not None and pr.structural_unavailability > 0:
        expected = pr.outage_rate_per_s * cap_years * YEAR
        try:
            design(sc)
            supported = True
        except NotSupportedError:
            supported = False
        years_needed = need / (pr.outage_rate_per_s * YEAR) if pr.outage_rate_per_s > 0 else math.inf
        if supported and years_needed > AUTO_IMPORTANCE_YEARS:
            estimator = "importance"
            notes.append(
                f"auto: importance sampling, since the {need} structural outages +-{precision:g} needs would"
                f" take about {years_needed:.3g} simulated years of plain replications"
                f" (about {expected:.3g} expected within {cap_years:g})"
            )
    if estimator == "importance":
        return _estimate_importance(
            sc, precision, confidence, seed, progress, pr, need, notes, exact, executor, shape_cache
        )
    rep_years = min(replication_years, cap_years / min_replications)
    max_reps = max(2, math.floor(cap_years / rep_years + 1e-9))
    ex: ExactResult | None = None
    if exact or estimator in ("auto", "control"):
        try:
            ex = solve(sc)
        except NotExactError as e:
            if exact or estimator == "control":
                raise
            notes.append(f"plain estimator: no exact model ({e})")
    use_control = ex is not None and estimator in ("auto", "control")
    # the structural outages must be seen where they could carry U (the control variate knows their mean),
    # class by class: each minimal cut whose prior U could move the estimate (prior.requirements)
    classes = pr if (pr is not None and not use_control and pr.structural_unavailability > 0) else None
    reqs: list[Requirement] = []
    by_cut: dict[str, int] = {}
    own = executor is None
    ex_ = executor if executor is not None else LocalExecutor()
    reps: list[Rep] = []
    t0 = time.perf_counter()
    h = rep_years * YEAR
    mu_x = ex.unavailability * h if ex is not None else 0.0  # steady state: the start-up transient cancels
    rel: float | None = None
    seen = 0
    try:
        target = min(min_replications, max_reps)
        while True:
            task = _Task(sc, rep_years, seed, len(reps), target - len(reps), sla, start, pr)
            reps.extend(_batches(ex_, task))
            z = _observations(reps, use_control, mu_x)
            fig = mean_interval(z, confidence, "", 1.0 / h)
            seen = sum(r.structural_outages for r in reps)
            by_cut = {}
            for r in reps:
                for k, v in r.outages_by_cut.items():
                    by_cut[k] = by_cut.get(k, 0) + v
            rel = None
            if fig.mean and fig.high is not None and fig.mean > 0:
                rel = (fig.high - fig.mean) / fig.mean
            reqs = (
                requirements(classes, fig.mean or 0.0, precision, confidence, by_cut)
                if classes is not None
                else []
            )
            short = [q for q in reqs if q.observed < q.needed]
            carried = not short
            done = rel is not None and rel <= precision and carried
            n = len(reps)
            nxt = max_reps
            if rel is not None:
                nxt = min(max_reps, max(n + 1, min(4 * n, math.ceil(n * (rel / precision) ** 2 * 1.1))))
            else:
                nxt = min(max_reps, 4 * n)
            if not carried:
                lag = max(q.needed / max(q.observed, 1) for q in short)
                nxt = min(max_reps, max(nxt, min(4 * n, math.ceil(n * lag * 1.1))))
            elapsed = time.perf_counter() - t0
            if progress is not None:
                eta = None if done or n >= max_reps else elapsed / n * (nxt - n)
                progress(Progress(n, n * rep_years, rel, precision, elapsed, eta))
            if done or n >= max_reps or (not np.any(z) and n * rep_years >= NO_DOWNTIME_YEARS):
                break
            target = nxt
    finally:
        if own:
            ex_.close()
    rep = _report(sc, reps, seed, confidence, precision, rel, rep_years, use_control, ex, mu_x, sla, exact)
    rep.notes[:0] = notes
    years = len(reps) * rep_years
    short = [q for q in reqs if q.observed < q.needed]
    rep.events = {
        "kind": "structural outages (overlaps that stop every site)",
        "observed": seen,
        "needed_for_precision": sum(q.needed for q in reqs),
        "by_minimal_cut": by_cut,
        "classes": [q.to_dict() for q in reqs],
        "prior": pr.to_dict() if pr is not None else None,
    }
    if start == "new":
        rep.notes.append("start new: brand-new components at t=0 (the years after commissioning)")
    if short:
        assert pr is not None
        rep.precision_reached = False
        rep.notes.append(
            f"precision not claimed: in {years:g} simulated years "
            + "; ".join(f"{q.observed} outage(s) of the cut {q.cut} seen, {q.needed} needed" for q in short)
            + f" for +-{precision:g} (the prior puts U_structural near {pr.structural_unavailability:.3g});"
            " try --estimator importance"
        )
    unseen = [q for q in short if q.observed == 0]
    if unseen:
        assert pr is not None
        u = rep.figures["unavailability"]
        rate_bound = -math.log(1.0 - confidence) / (years * YEAR)  # rule of three at 95 %
        bound = (u.high or u.mean or 0.0) + len(unseen) * rate_bound * pr.longest_mean_down_s
        names = ", ".join(q.cut for q in unseen)
        rep.figures["unavailability"] = Figure(
            u.mean,
            u.low,
            bound,
            f"one-sided bound: no overlap of {names} in {years:g} years, so the rate of each is below"
            f" {rate_bound * YEAR:.3g}/year ({100 * confidence:g} %, rule of three); with a mean overlap no"
            f" longer than the longest mean down time ({pr.longest_mean_down_s:.3g} s): U < {bound:.3g}"
            " (the interval's upper end plus that bound for each)",
        )
        a = rep.figures["availability"]
        rep.figures["availability"] = Figure(a.mean, 1.0 - bound, a.high, "1 - unavailability (one-sided)")
        d = rep.figures["downtime_per_year_s"]
        rep.figures["downtime_per_year_s"] = Figure(d.mean, d.low, bound * YEAR, "unavailability x one year")
    if not rep.precision_reached and not any(r.downtime_s for r in reps):
        rep.notes.append(f"no downtime in {years:g} simulated years: no relative precision exists")
    elif not rep.precision_reached:
        rep.notes.append(
            f"precision {precision:g} not reached within {cap_years:g} simulated years"
            + ("" if max_years is not None else " (the default --max-years)")
        )
    rep.elapsed_s = time.perf_counter() - t0
    rep.workers = ex_.workers
    return rep


def _estimate_importance(
    sc: S.Scenario,
    precision: float,
    confidence: float,
    seed: int,
    progress: Callable[[Progress], None] | None,
    pr: Any,
    need: int,
    notes: list[str],
    with_exact: bool,
    executor: Executor | None = None,
    shape_cache: str | None = None,
) -> AvailabilityReport:
    """``--estimator importance``: :mod:`sim.availability.importance`; the episodes in this process, the
    episode shapes they meet for the first time on ``executor`` (default: here)."""
    from sim.availability import importance as imp
    from sim.years.shapes import ShapeStore

    store = ShapeStore(shape_cache) if shape_cache is not None else None
    t0 = time.perf_counter()

    def tick(n: int, rel: float | None) -> None:
        if progress is not None:
            progress(Progress(n, 0.0, rel, precision, time.perf_counter() - t0, None))

    try:
        res, reached, rel = imp.run(
            sc,
            seed=seed,
            precision=precision,
            confidence=confidence,
            progress=tick,
            executor=executor,
            store=store,
        )
    except imp.NotSupportedError as e:
        raise RequestError(str(e)) from None
    method = imp.describe(res.design)
    down = np.asarray(res.down)
    est, lo, hi = res.ratio(down, confidence)
    figs: dict[str, Figure] = {"unavailability": Figure(est, lo, hi, method)}
    figs["availability"] = Figure(
        1.0 - est, None if hi is None else 1.0 - hi, None if lo is None else 1.0 - lo, "1 - unavailability"
    )
    figs["downtime_per_year_s"] = Figure(
        est * YEAR,
        None if lo is None else lo * YEAR,
        None if hi is None else hi * YEAR,
        "unavailability x one year",
    )
    s, slo, shi = res.ratio(np.asarray(res.struct), confidence)
    figs["structural_unavailability"] = Figure(
        s, slo, shi, "structural rule on the same weighted episodes (no detection or failover time)"
    )
    by_cause: dict[str, Figure] = {}
    for cause, xs in sorted(res.causes.items()):
        c, clo, chi = res.ratio(np.asarray(xs), confidence)
        by_cause[cause] = Figure(
            c * YEAR,
            None if clo is None else clo * YEAR,
            None if chi is None else chi * YEAR,
            f"downtime per year due to {cause}: same weighted episodes, delta method",
        )
    sb, sblo, sbhi = res.ratio(np.asarray(res.split_brain_bytes), confidence)
    figs["data_at_risk_split_brain_bytes_per_year"] = Figure(
        sb * YEAR, None if sblo is None else sblo * YEAR, None if sbhi is None else sbhi * YEAR, method
    )
    ess = res.ess(down)
    rep = AvailabilityReport(
        scenario=sc.name,
        seed=seed,
        confidence=confidence,
        precision=precision,
        precision_reached=reached,
        estimator="importance",
        replications=res.n,
        replication_years=0.0,
        simulated_years=0.0,
        figures=figs,
        by_cause=by_cause,
    )
    rep.events = {
        "kind": "episodes from the all-up state (overlaps made frequent by failure biasing)",
        "episodes": res.n,
        "overlap_episodes": res.overlaps,
        "overlap_episodes_with_downtime": res.overlaps_with_downtime,
        "effective_contributions": ess,
        "needed_effective_contributions": imp.MIN_ESS,
        "episode_shapes_decided": res.shapes_decided,
        "prior": pr.to_dict() if pr is not None else None,
    }
    rep.notes.extend(notes)
    rep.notes.append(
        f"{res.n} episodes, {res.overlaps} with an overlap ({res.overlaps_with_downtime} with downtime);"
        f" effective number of weighted contributions {ess:.0f}"
    )
    if store is not None:
        rep.notes.append(
            f"episode shapes: {store.loaded} read from {store.dir}, {res.shapes_decided} decided by the"
            " message-level runner in this run (and saved there)"
        )
    if res.violations:
        rep.notes.append(f"{res.violations} episode(s) broke a property of quorum.testing (S1-S3, L1)")
    if not reached:
        why = (
            f"only {ess:.0f} effective contributions (at least {imp.MIN_ESS:g} needed)"
            if ess < imp.MIN_ESS
            else f"relative half-width {rel:.3g} after {res.n} episodes"
            if rel is not None
            else "no downtime seen"
        )
        rep.notes.append(f"precision {precision:g} not reached: {why}")
    if with_exact:
        from sim.availability.ctmc import exact as solve

        ex = solve(sc)
        rep.exact = ex.to_dict()
    rep.elapsed_s = time.perf_counter() - t0
    return rep


def _observations(reps: list[Rep], control: bool, mu_x: float) -> np.ndarray:
    y = np.array([r.downtime_s for r in reps])
    if not control:
        return y
    return y - (np.array([r.structural_downtime_s for r in reps]) - mu_x)


def _report(
    sc: S.Scenario,
    reps: list[Rep],
    seed: int,
    conf: float,
    precision: float,
    rel: float | None,
    rep_years: float,
    control: bool,
    ex: Any,
    mu_x: float,
    sla: float,
    with_exact: bool,
) -> AvailabilityReport:
    h = rep_years * YEAR
    n = len(reps)
    y = np.array([r.downtime_s for r in reps])
    x = np.array([r.structural_downtime_s for r in reps])
    z = _observations(reps, control, mu_x)
    method = (
        "control variate: replication downtime minus the structural downtime of the same history plus its"
        " exact mean (CTMC), Student t"
        if control
        else "plain: mean of replication downtimes, Student t"
    )
    if control and ex is not None and ex.approximation:
        method += f" (exact mean with {ex.approximation})"
    # an unavailability lies in [0, 1]: its interval is clipped there, so the downtime a year derived from
    # it never has a lower bound below zero, nor the availability an upper bound above one
    u = mean_interval(z, conf, method + " (clipped to [0, 1])", 1.0 / h, bounds=(0.0, 1.0))
    assert u.mean is not None
    figs: dict[str, Figure] = {"unavailability": u}
    figs["availability"] = Figure(
        1.0 - u.mean,
        None if u.high is None else 1.0 - u.high,
        None if u.low is None else 1.0 - u.low,
        "1 - unavailability",
    )
    figs["downtime_per_year_s"] = Figure(
        u.mean * YEAR,
        None if u.low is None else u.low * YEAR,
        None if u.high is None else u.high * YEAR,
        "unavailability x one year",
    )
    per_year = y / rep_years
    for q in (50, 95, 99):
        figs[f"yearly_downtime_p{q}_s"] = quantile_interval(
            per_year, q / 100, conf, f"downtime of each {rep_years:g}-year replication, per year"
        )
    outages = np.array([r.outages for r in reps], dtype=float) / rep_years
    pos = (0.0, math.inf)
    rate = mean_interval(outages, conf, "outages per year: replication means, Student t", bounds=pos)
    figs["outages_per_year"] = rate
    mtbo_lo = YEAR / rate.high if rate.high and rate.high > 0 else None
    mtbo_hi = YEAR / rate.low if rate.low and rate.low > 0 else None
    figs["mean_time_between_outages_s"] = Figure(
        YEAR / rate.mean if rate.mean else None,
        mtbo_lo,
        mtbo_hi,
        "one year / outages per year (interval inverted)",
    )
    durations = np.array([d for r in reps for d in r.outage_durations_s])
    for q in (50, 95, 99):
        figs[f"outage_duration_p{q}_s"] = quantile_interval(
            durations, q / 100, conf, "all outages pooled (treated as independent)"
        )
    tmeth = "replication means, Student t (clipped at 0)"
    figs["failovers_per_year"] = mean_interval(
        np.array([r.failovers for r in reps], dtype=float) / rep_years, conf, tmeth, bounds=pos
    )
    figs["data_lost_bytes_per_year"] = mean_interval(
        np.array([r.data_lost_bytes for r in reps]) / rep_years, conf, tmeth, bounds=pos
    )
    figs["split_brain_s_per_year"] = mean_interval(
        np.array([r.split_brain_s for r in reps]) / rep_years, conf, tmeth, bounds=pos
    )
    months = np.array([r.months_below_sla / r.months if r.months else 0.0 for r in reps])
    observed = sum(r.months for r in reps)
    if observed > 0 and not any(r.months_below_sla for r in reps):
        # no month below the SLA seen: a one-sided bound from the months observed, never [0, 0]
        bound = -math.log(1.0 - conf) / observed
        none = f"no full calendar month below {sla:g} in {observed} observed: one-sided bound -ln(1-{conf:g})/{observed}"
        figs["months_below_sla_fraction"] = Figure(0.0, 0.0, min(1.0, bound), none)
        figs["months_below_sla_per_year"] = Figure(0.0, 0.0, 12.0 * bound, none + " x 12 months")
    else:
        figs["months_below_sla_fraction"] = mean_interval(
            months,
            conf,
            f"fraction of full calendar months with availability below {sla:g}: replication means,"
            " Student t (clipped to [0, 1])",
            bounds=(0.0, 1.0),
        )
        figs["months_below_sla_per_year"] = mean_interval(
            np.array([r.months_below_sla for r in reps], dtype=float) / rep_years,
            conf,
            f"full calendar months with availability below {sla:g}, per year: {tmeth}",
            bounds=pos,
        )
    figs["structural_unavailability_mc"] = mean_interval(
        x,
        conf,
        "structural rule on the sampled histories (no detection or failover time): Student t (clipped to"
        " [0, 1])",
        1.0 / h,
        bounds=(0.0, 1.0),
    )
    vrf = None
    if control and n > 1 and float(z.var(ddof=1)) > 0:
        vrf = float(y.var(ddof=1) / z.var(ddof=1))
    exact_d = comparison = None
    if ex is not None and with_exact:
        exact_d = ex.to_dict()
        gap = mean_interval(
            y - x,
            conf,
            "quorum minus structural downtime on the same histories, per year: Student t",
            YEAR / h,
        )
        diff = u.mean - ex.unavailability
        comparison = {
            "monte_carlo_unavailability": u.mean,
            "exact_structural_unavailability": ex.unavailability,
            "difference": diff,
            "detection_and_failover_per_year_s": gap.to_dict(),
            "detection_and_failover_unavailability": (gap.mean or 0.0) / YEAR,
        }
    figs["data_at_risk_split_brain_bytes_per_year"] = mean_interval(
        np.array([r.split_brain_bytes for r in reps]) / rep_years,
        conf,
        "bytes written while both sides accepted writes (to be reconciled), per year: " + tmeth,
        bounds=pos,
    )
    causes = sorted({c for r in reps for c in r.downtime_by_cause_s})
    by_cause = {
        c: mean_interval(
            np.array([r.downtime_by_cause_s.get(c, 0.0) for r in reps]) / rep_years,
            conf,
            f"downtime per year due to {c}: {tmeth}",
            bounds=pos,
        )
        for c in causes
    }
    reached = rel is not None and rel <= precision
    return AvailabilityReport(
        by_cause=by_cause,
        scenario=sc.name,
        seed=seed,
        confidence=conf,
        precision=precision,
        precision_reached=reached,
        estimator="control" if control else "plain",
        replications=n,
        replication_years=rep_years,
        simulated_years=n * rep_years,
        figures=figs,
        variance_reduction_factor=vrf,
        exact=exact_d,
        comparison=comparison,
        reps=reps,
    )
