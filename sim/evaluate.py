"""One design's figures with intervals, for ``compare`` and ``sweep``.

Uses the availability engine (:func:`sim.availability.estimate`: replications until the unavailability's
interval reaches ``precision``, every figure with its interval and method) when it is present, else
:func:`sim.replicate.replicate` (a fixed number of independent replications, Student t). Either way the
result is a dict ``figure -> {"mean", "low", "high", "method"}`` with at least ``availability``,
``downtime_per_year_s`` and ``months_below_sla_per_year``, plus ``engine``.
"""

from __future__ import annotations

from typing import Any

from sim import scenario as S

FIGURES = ("availability", "downtime_per_year_s", "months_below_sla_per_year")


def evaluate(
    sc: S.Scenario,
    *,
    precision: float = 0.1,
    max_years: float | None = None,
    seed: int = 0,
    sla: float = 0.98,
    executor: Any = None,
    years: float = 20.0,
    replications: int = 10,
) -> dict[str, Any]:
    import importlib
    import importlib.util

    if importlib.util.find_spec("sim.availability") is not None:
        estimate: Any = importlib.import_module("sim.availability").estimate
        rep = estimate(sc, precision=precision, max_years=max_years, seed=seed, sla=sla, executor=executor)
        d = rep.to_dict()
        out = {k: d[k] for k in FIGURES if k in d}
        out["engine"] = f"sim.availability ({d.get('estimator')}, {d.get('simulated_years'):g} years)"
        return out
    from sim.replicate import replicate

    figs = replicate(sc, years, replications, seed=seed, sla=sla)
    out = {k: figs[k].to_dict() for k in FIGURES}
    out["engine"] = f"sim.replicate ({replications} x {years:g} years)"
    return out
