"""One design's figures with intervals, for ``compare`` and ``sweep``: the availability engine.

:func:`sim.availability.estimate` runs independent replications until the unavailability's interval
reaches ``precision`` (or ``max_years`` are spent) and gives every figure with its interval and method.
This keeps the figures ``compare`` and ``sweep`` show: ``availability`` (its method is the
unavailability's), ``downtime_per_year_s`` and ``months_below_sla_per_year``, each clipped to its range
(a Student-t interval may cross 100 % or 0 s; the method then says so), plus ``engine`` and the
downtime by cause. ``compare`` and ``sweep`` share one shape, said here once: :func:`evaluate_each` runs
a list of labelled designs in order with a progress callback, :func:`columns` gives a design's figures
as tidy columns (each figure's mean, low, high and method, then the engine's line).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sim.availability.estimate import estimate
from sim.availability.executors import Executor
from sim.story import scenario as S

FIGURES = ("availability", "downtime_per_year_s", "months_below_sla_per_year")
K = TypeVar("K")


def evaluate(
    sc: S.Scenario,
    *,
    precision: float = 0.1,
    max_years: float | None = None,
    seed: int = 0,
    sla: float = 0.98,
    executor: Executor | None = None,
) -> dict[str, Any]:
    """The figures of one design (see the module docstring), each with its interval and method."""
    rep = estimate(sc, precision=precision, max_years=max_years, seed=seed, sla=sla, executor=executor)
    d = rep.to_dict()
    missing = {"mean": None, "low": None, "high": None, "method": f"not estimated by {d['estimator']}"}
    out: dict[str, Any] = {k: dict(d.get(k) or missing) for k in FIGURES}
    out["availability"]["method"] = f"1 - unavailability ({d['unavailability']['method']})"
    out = {k: _clip(k, v) for k, v in out.items()}
    out["downtime_by_cause_per_year_s"] = {
        k: _clip(k, dict(v)) for k, v in (d.get("downtime_by_cause_per_year_s") or {}).items()
    }
    reached = "" if d["precision_reached"] else f", precision {precision:g} NOT reached"
    out["engine"] = (
        f"sim.availability importance: {d['replications']} episodes{reached}"
        if d["estimator"] == "importance"
        else f"sim.availability {d['estimator']}: {d['replications']} x {d['replication_years']:g} y{reached}"
    )
    return out


def _clip(name: str, fig: dict[str, Any]) -> dict[str, Any]:
    """A Student-t interval may cross the figure's range (availability above 1, negative downtime):
    clipped to it, and said so in the method."""
    top = 1.0 if name == "availability" else None
    lo, hi = fig.get("low"), fig.get("high")
    clipped = False
    if lo is not None and lo < 0.0:
        fig["low"], clipped = 0.0, True
    if hi is not None and top is not None and hi > top:
        fig["high"], clipped = top, True
    if clipped:
        fig["method"] = f"{fig['method']} (clipped to the figure's range)"
    return fig


def evaluate_each(
    cases: Sequence[tuple[K, S.Scenario]],
    *,
    progress: Callable[[int, int], None] | None = None,
    **kw: Any,
) -> list[tuple[K, S.Scenario, dict[str, Any]]]:
    """Every ``(label, scenario)`` of ``cases`` through :func:`evaluate` with the same options (and the
    same seed: common random numbers), in order; ``progress(done, total)`` after each."""
    out = []
    for i, (label, sc) in enumerate(cases):
        out.append((label, sc, evaluate(sc, **kw)))
        if progress is not None:
            progress(i + 1, len(cases))
    return out


def columns(figs: dict[str, Any]) -> dict[str, Any]:
    """A design's figures as tidy columns: ``<figure>_mean``, ``_low``, ``_high``, ``_method`` for each
    of :data:`FIGURES`, then ``engine``."""
    row = {f"{f}_{part}": figs[f][part] for f in FIGURES for part in ("mean", "low", "high", "method")}
    row["engine"] = figs["engine"]
    return row
