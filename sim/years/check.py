"""Check a scenario's ``years_expect`` block: run it in years mode and compare each named figure.

Every figure is a key of the years result (``quorum sim run FILE --years N --json``); a name that is
not one is reported as a failed check naming it, never ignored.
"""

from __future__ import annotations

from typing import Any

from sim.story import scenario as S


def check_years(sc: S.Scenario, result: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """One entry per bound: ``{"check", "value", "pass"}``; runs years mode unless ``result`` is given."""
    ye = sc.years_expect
    if ye is None:
        return []
    if result is None:
        from sim.years.engine import run_years

        result = run_years(sc, ye.years, ye.seed)
    out: list[dict[str, Any]] = []
    for side, bounds in (("min", ye.min), ("max", ye.max)):
        for key, bound in sorted(bounds.items()):
            value = result.get(key)
            if not isinstance(value, int | float):
                out.append(
                    {"check": f"{side} {key}", "value": None, "pass": False, "error": "no such figure"}
                )
                continue
            ok = value >= bound if side == "min" else value <= bound
            out.append(
                {"check": f"{key} {'>=' if side == 'min' else '<='} {bound}", "value": value, "pass": ok}
            )
    return out
